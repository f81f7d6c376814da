"""Split roles: a receiver that never loads aiogram, and workers woken by PostgreSQL NOTIFY."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import asyncpg
import pytest

from hookgram.sandbox import BotAPIEmulator
from tests.conftest import TOKEN, StartServer, StartWork
from tests.e2e.test_scaling import deliver_one
from tests.factories import body, message_update
from tests.process import HookgramProcess, free_port

AIOGRAM_IMPORT = re.compile(r"^import time:.*\|\s+aiogram(\.|$)", re.MULTILINE)


async def _imports_while_serving(emulator: BotAPIEmulator, tmp_path: Path, *args: str) -> str:
    """Run `hookgram run ARGS` with import tracing, answer one update, stop; its output."""
    port = free_port()
    process = HookgramProcess(
        ["run", *args],
        {
            "BOT_TOKEN": TOKEN,
            "HOOKGRAM_PUBLIC_URL": "https://bot.example.com",
            "HOOKGRAM_HOST": "127.0.0.1",
            "HOOKGRAM_PORT": str(port),
            "HOOKGRAM_API_URL": emulator.base_url,
            "HOOKGRAM_DATABASE_URL": f"sqlite:///{tmp_path / 'inbox.db'}",
            "HOOKGRAM_ALLOWED_IPS": "127.0.0.1/32",  # the test posts from loopback
            "PYTHONPROFILEIMPORTTIME": "1",
        },
        tmp_path,
    )
    try:
        await process.start(timeout=60)
        await process.wait_for("webhook set")
        await deliver_one(port, message_update("hi"))
        process.signal(signal.SIGTERM)
        assert await process.wait() == 0
        return process.output
    finally:
        await process.close()


class TestReceiverOnly:
    async def test_never_imports_aiogram(self, emulator: BotAPIEmulator, tmp_path: Path) -> None:
        """`run --no-worker` accepts updates and never imports aiogram; `run` does import it."""
        receiver = await _imports_while_serving(emulator, tmp_path, "--no-worker")
        assert "import time:" in receiver
        assert AIOGRAM_IMPORT.search(receiver) is None
        both = await _imports_while_serving(emulator, tmp_path)
        assert AIOGRAM_IMPORT.search(both) is not None


class TestNotifications:
    async def test_an_idle_worker_is_woken_by_a_receivers_commit(
        self,
        start_server: StartServer,
        start_work: StartWork,
        emulator: BotAPIEmulator,
        postgres_url: str,
    ) -> None:
        """A separate worker idling between polls (an hour apart here) starts on a new update."""
        server = await start_server(worker=False, database_url=postgres_url)
        await start_work(server.settings.model_copy(update={"worker_poll_interval": 3600.0}))
        await server.post(body(message_update("wake up", update_id=1)))
        await emulator.wait_for_calls("sendMessage", 1, timeout=20)

    async def test_listening_resumes_after_the_connection_is_cut(
        self,
        start_server: StartServer,
        start_work: StartWork,
        emulator: BotAPIEmulator,
        postgres_url: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """After PostgreSQL drops the listening connection, the worker catches up, listens again."""
        server = await start_server(worker=False, database_url=postgres_url)
        await start_work(server.settings.model_copy(update={"worker_poll_interval": 3600.0}))
        admin = await asyncpg.connect(postgres_url)
        try:
            cut = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert cut == 1
        await server.post(body(message_update("meanwhile", update_id=1)))
        await emulator.wait_for_calls("sendMessage", 1, timeout=20)
        await server.post(body(message_update("afterwards", update_id=2)))
        await emulator.wait_for_calls("sendMessage", 2, timeout=20)
        assert "lost the connection listening for new inbox rows" in caplog.text


class TestConnections:
    async def test_a_process_opens_at_most_the_pool_size(
        self, start_server: StartServer, postgres_url: str
    ) -> None:
        """However much a process asks at once, it holds at most HOOKGRAM_DATABASE_POOL_SIZE."""
        server = await start_server(database_url=postgres_url, database_pool_size=3)
        store = server.running.store
        admin = await asyncpg.connect(postgres_url)
        try:
            reads = [store.list(limit=10) for _ in range(30)]
            posts = [server.post(body(message_update(f"{n}", update_id=n))) for n in range(30)]
            await asyncio.gather(*reads, *posts)
            opened = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert 1 <= opened <= 3
