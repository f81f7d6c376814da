"""aiogram's FSM in Redis (HOOKGRAM_REDIS_URL): isolation across workers, closing, refusals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from hookgram.config import Settings, load_settings
from hookgram.errors import HookgramError
from hookgram.sandbox import BotAPIEmulator
from hookgram.worker import Worker
from hookgram.worker_service import work
from tests.bots import form
from tests.conftest import TOKEN, StartServer, WorkerFor
from tests.factories import body, message_update, user

SLOW_FORM = "tests.bots.form:create_slow_router"
FORM_DISPATCHER = "tests.bots.form:create_dispatcher"


@pytest.fixture
def overlap() -> form.Overlap:
    """A fresh overlap counter for the slow form bot."""
    form.OVERLAP = form.Overlap()
    return form.OVERLAP


Task = asyncio.Task[None]


@pytest.fixture
async def worker_settings(emulator: BotAPIEmulator, database_url: str, redis_url: str) -> Settings:
    """Settings of a worker on this test's SQLite inbox, with FSM state in Redis."""
    return load_settings(
        bot_token=TOKEN, api_url=emulator.base_url, database_url=database_url, redis_url=redis_url
    )


@pytest.fixture
async def running_work() -> AsyncIterator[Callable[..., Any]]:
    """Start ``work()`` in this loop; stopped at the end unless the test stopped it."""
    started: list[tuple[asyncio.Event, Task]] = []

    async def start(settings: Settings, app: str | None) -> tuple[asyncio.Event, Task]:
        stop = asyncio.Event()
        ready: asyncio.Future[Worker] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(work(settings, app, stop, on_ready=ready.set_result))
        started.append((stop, task))
        await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()
        return stop, task

    yield start
    for stop, task in started:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def _other_clients(redis_url: str) -> int:
    client = Redis.from_url(redis_url)
    try:
        mine = await client.client_id()
        return len([c for c in await client.client_list() if int(c["id"]) != mine])
    finally:
        await client.aclose()


class TestEventIsolation:
    async def test_one_users_state_machine_never_runs_twice_at_once(
        self,
        start_server: StartServer,
        worker_for: WorkerFor,
        redis_url: str,
        overlap: form.Overlap,
    ) -> None:
        """A user's message and inline query, in two workers at once, take turns on the Redis lock.

        hookgram orders them apart (one by chat, one by user), so only the isolation keeps
        their state machine from running twice at once.
        """
        server = await start_server(worker=False)
        inline = {
            "update_id": 2,
            "inline_query": {"id": "q", "from": user(7), "query": "", "offset": ""},
        }
        for update in (message_update("hi", chat_id=7, update_id=1), inline):
            assert (await server.post(body(update)))[0] == 200
        redis = {"redis_url": SecretStr(redis_url), "worker_concurrency": 1}
        first = await worker_for(server, SLOW_FORM, **redis)
        second = await worker_for(server, SLOW_FORM, **redis)
        await asyncio.gather(first.run_until_empty(), second.run_until_empty())
        assert overlap.handled == 2
        assert overlap.most_at_once == 1


class TestLifecycle:
    async def test_redis_connections_closed_on_shutdown(
        self, worker_settings: Settings, running_work: Callable[..., Any], redis_url: str
    ) -> None:
        """A worker holds Redis connections while it runs and closes them when it stops."""
        stop, task = await running_work(worker_settings, "tests.bots.form:create_router")
        assert await _other_clients(redis_url) >= 1
        stop.set()
        await task
        assert await _other_clients(redis_url) == 0

    async def test_dispatcher_app_keeps_its_storage_and_is_warned(
        self,
        worker_settings: Settings,
        running_work: Callable[..., Any],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A Dispatcher APP with memory storage is warned that HOOKGRAM_REDIS_URL skips it."""
        with caplog.at_level(logging.WARNING, logger="hookgram.fsm"):
            await running_work(worker_settings, FORM_DISPATCHER)
        assert "APP is a Dispatcher with in-memory FSM storage" in caplog.text

    async def test_unreachable_redis_is_one_clear_error(
        self, worker_settings: Settings, running_work: Callable[..., Any]
    ) -> None:
        """A Redis that does not answer stops the worker naming the setting, hiding the password."""
        settings = worker_settings.model_copy(
            update={"redis_url": SecretStr("redis://:sesame-open@127.0.0.1:1/0")}
        )
        with pytest.raises(HookgramError, match="cannot reach Redis at HOOKGRAM_REDIS_URL") as err:
            await running_work(settings, None)
        assert "sesame-open" not in str(err.value)
