"""Shared fixtures: the Bot API emulator, a SQLite inbox, hookgram served in-process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import asyncpg
import pytest
from redis.asyncio import Redis

from hookgram.config import Settings, load_settings
from hookgram.inbox.engine import create_engine
from hookgram.inbox.models import Event, metadata
from hookgram.inbox.schema import upgrade as upgrade_schema
from hookgram.redaction import Redactor
from hookgram.sandbox import BotAPIEmulator
from hookgram.service import Running, serve, start_worker
from hookgram.sources.telegram import SECRET_HEADER
from hookgram.worker import Worker
from hookgram.worker_service import work
from tests.services import postgres_server, redis_server

if TYPE_CHECKING:
    from hookgram.sandbox_service import SandboxRunning

TOKEN = "123456:TEST-TOKEN"
PUBLIC_URL = "https://bot.example.com"


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    """A Bot API emulator on a free loopback port."""
    async with BotAPIEmulator(tokens=[TOKEN]) as emu:
        yield emu


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A SQLite inbox file of this test's own."""
    return f"sqlite:///{tmp_path / 'hookgram.db'}"


@dataclass
class Server:
    """hookgram running in this event loop, with a client to post to it."""

    settings: Settings
    running: Running
    http: aiohttp.ClientSession

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.running.port}"

    @property
    def secret(self) -> str:
        """The secret token the server expects."""
        return self.settings.webhook_secret()

    async def post(
        self,
        body: bytes,
        *,
        secret: str | None = "",
        content_type: str = "application/json",
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """POST to the webhook; ``secret=""`` sends the right one, None sends none."""
        sent = {"Content-Type": content_type, **(headers or {})}
        if secret is not None:
            sent[SECRET_HEADER] = secret or self.secret
        url = self.base + (path or self.settings.webhook_path)
        async with self.http.post(url, data=body, headers=sent) as response:
            return response.status, await response.text()

    async def events(self) -> list[Event]:
        """Every inbox row, oldest first."""
        return sorted(await self.running.store.list(limit=100_000), key=lambda e: e.id)


StartServer = Callable[..., Awaitable[Server]]


@pytest.fixture
async def start_server(emulator: BotAPIEmulator, database_url: str) -> AsyncIterator[StartServer]:
    """Start hookgram in-process against the emulator; every server is stopped afterwards."""
    stops: list[tuple[asyncio.Event, asyncio.Task[None]]] = []
    async with aiohttp.ClientSession() as http:

        async def start(app: str | None = None, **overrides: Any) -> Server:
            settings = load_settings(
                None,
                **{
                    "bot_token": TOKEN,
                    "public_url": PUBLIC_URL,
                    "host": "127.0.0.1",
                    "port": 0,
                    "api_url": emulator.base_url,
                    "database_url": database_url,
                    "lease_seconds": 5.0,
                    "shutdown_timeout": 2.0,
                    # The tests reach the server from loopback, not from Telegram's ranges.
                    "allowed_ips": "127.0.0.1/32",
                    "migrate": True,
                    **overrides,
                },
            )
            ready: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
            stop = asyncio.Event()
            task = asyncio.create_task(serve(settings, app, stop, on_ready=ready.set_result))
            stops.append((stop, task))
            done, _ = await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                task.result()
                raise AssertionError("the server stopped before it was ready")
            return Server(settings=settings, running=ready.result(), http=http)

        yield start
        for stop, task in reversed(stops):
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 15)


WorkerFor = Callable[..., Awaitable[Worker]]


@pytest.fixture
async def worker_for() -> AsyncIterator[WorkerFor]:
    """Build a separate worker (the echo bot by default) over a server's store."""
    async with contextlib.AsyncExitStack() as stack:

        async def build(server: Server, app: str | None = None, **overrides: Any) -> Worker:
            settings = server.settings.model_copy(update=overrides)
            worker, _ = await start_worker(
                settings,
                app,
                server.running.store,
                Redactor(settings.secrets()),
                stack,
                metrics=server.running.metrics,
            )
            return worker

        yield build


@dataclass
class CliOutcome:
    """What a ``hookgram`` command printed and its exit status."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr together."""
        return self.stdout + self.stderr


InvokeCli = Callable[..., Awaitable[CliOutcome]]


@pytest.fixture
def hookgram_cli(
    emulator: BotAPIEmulator, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> InvokeCli:
    """Run a ``hookgram`` command in a thread (click's runner) against the emulator.

    ``input`` is what the user types (none: stdin is closed); keyword arguments set environment
    variables over the defaults (token, public URL, emulator, this test's database), None
    unsets one.
    """
    from click.testing import CliRunner

    from hookgram.cli import cli

    monkeypatch.chdir(tmp_path)  # no stray .env or hookgram.toml
    defaults = {
        "BOT_TOKEN": TOKEN,
        "HOOKGRAM_PUBLIC_URL": PUBLIC_URL,
        "HOOKGRAM_API_URL": emulator.base_url,
        "HOOKGRAM_DATABASE_URL": database_url,
    }

    async def invoke(*args: str, input: str | None = None, **env: str | None) -> CliOutcome:
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        try:
            result = await asyncio.to_thread(
                CliRunner().invoke, cli, list(args), input=input, env={**defaults, **env}
            )
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliOutcome(result.exit_code, result.stdout, result.stderr)

    return invoke


StartSandbox = Callable[..., Awaitable["SandboxRunning"]]


@pytest.fixture
async def start_sandbox(database_url: str) -> AsyncIterator[StartSandbox]:
    """Start ``hookgram sandbox`` in-process (emulator, page, bot in webhook mode)."""
    from hookgram.sandbox.delivery import DeliveryOptions
    from hookgram.sandbox_service import run_sandbox, sandbox_credentials

    stops: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(app: str | None = None) -> SandboxRunning:
        token, secret = sandbox_credentials()
        settings = load_settings(
            None,
            bot_token=token,
            secret_token=secret,
            host="127.0.0.1",
            port=0,
            polling=False,
            worker=True,
            database_url=database_url,
            lease_seconds=5.0,
            shutdown_timeout=2.0,
        )
        ready: asyncio.Future[SandboxRunning] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        delivery = DeliveryOptions(retry_delay=0.05, max_retry_delay=0.5)
        task = asyncio.create_task(
            run_sandbox(settings, app, stop, on_ready=ready.set_result, delivery=delivery)
        )
        stops.append((stop, task))
        done, _ = await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
            raise AssertionError("the sandbox stopped before it was ready")
        return ready.result()

    yield start
    for stop, task in reversed(stops):
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)


# PostgreSQL and Redis: one throwaway server each per test session (started on first use).
# Tests share one migrated database, emptied before each test (far faster than a new database
# each time); tests of the schema itself get new, empty databases. A server that cannot start
# fails the tests that need it: they are never skipped.

_database_numbers = itertools.count(1)
TEST_DATABASE = "hookgram_test"


@pytest.fixture(scope="session")
def services_dir() -> Iterator[Path]:
    """A directory under /tmp for the servers' data (reachable by the postgres user)."""
    path = Path(tempfile.mkdtemp(prefix="hookgram-services-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server_url(services_dir: Path) -> Iterator[str]:
    """The session's PostgreSQL server, with the shared test database at the head schema."""
    with postgres_server(services_dir) as url:
        asyncio.run(_create_test_database(url))
        yield url


async def _create_test_database(server_url: str) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"CREATE DATABASE {TEST_DATABASE}")
    finally:
        await admin.close()
    engine = create_engine(_database(server_url, TEST_DATABASE, driver=True))
    try:
        await upgrade_schema(engine)
    finally:
        await engine.dispose()


def _database(server_url: str, name: str, *, driver: bool = False) -> str:
    url = server_url.rsplit("/", 1)[0] + "/" + name
    return url.replace("postgresql://", "postgresql+asyncpg://") if driver else url


@pytest.fixture
async def postgres_url(postgres_server_url: str) -> str:
    """postgresql://… of the test database at the head schema, emptied for this test."""
    url = _database(postgres_server_url, TEST_DATABASE)
    conn = await asyncpg.connect(url)
    try:
        tables = ", ".join(table.name for table in metadata.sorted_tables)
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY")
    finally:
        await conn.close()
    return url


@pytest.fixture
async def empty_postgres_url(postgres_server_url: str) -> str:
    """postgresql://… of a new, empty database of this test's own (no tables)."""
    name = f"empty_{os.getpid()}_{next(_database_numbers)}"
    admin = await asyncpg.connect(postgres_server_url)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    finally:
        await admin.close()
    return _database(postgres_server_url, name)


@pytest.fixture(scope="session")
def redis_server_url(services_dir: Path) -> Iterator[str]:
    """The session's Redis server."""
    with redis_server(services_dir) as url:
        yield url


@pytest.fixture
async def redis_url(redis_server_url: str) -> str:
    """redis://… emptied for this test."""
    client = Redis.from_url(redis_server_url)
    try:
        await client.flushall()
    finally:
        await client.aclose()
    return redis_server_url


StartWork = Callable[..., Awaitable[Worker]]


@pytest.fixture
async def start_work() -> AsyncIterator[StartWork]:
    """Run the worker-only service (`hookgram worker`) in this loop; stopped afterwards."""
    started: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(settings: Settings, app: str | None = None) -> Worker:
        stop = asyncio.Event()
        ready: asyncio.Future[Worker] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(work(settings, app, stop, on_ready=ready.set_result))
        started.append((stop, task))
        await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()
            raise AssertionError("the worker stopped before it was ready")
        return ready.result()

    yield start
    for stop, task in reversed(started):
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)
