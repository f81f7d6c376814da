"""The worker over real HTTP and SQLite: ordering, concurrency, retries, failures, leases."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import defaultdict
from pathlib import Path

import pytest

from hookgram.inbox.models import Event, Status
from hookgram.sandbox import BotAPIEmulator
from tests.bots import slow
from tests.conftest import Server, StartServer, WorkerFor
from tests.factories import body, message_update

SLOW_BOT = "tests.bots.slow:create_router"


@pytest.fixture
def tracker() -> slow.Tracker:
    """A fresh overlap tracker for the slow test bot."""
    slow.TRACKER = slow.Tracker()
    return slow.TRACKER


async def _post_chat(server: Server, chat_id: int, count: int) -> None:
    for n in range(count):
        status, _ = await server.post(body(message_update(f"{chat_id}:{n}", chat_id=chat_id)))
        assert status == 200


async def _event(server: Server) -> Event:
    [event] = await server.events()
    return event


class TestOrdering:
    async def test_one_chat_in_arrival_order(
        self, start_server: StartServer, emulator: BotAPIEmulator, tracker: slow.Tracker
    ) -> None:
        """Each chat's answers come in the order its updates arrived, whatever the pauses."""
        server = await start_server(SLOW_BOT, worker_concurrency=16)
        chats = [11, 12, 13, 14]
        await asyncio.gather(*(_post_chat(server, chat, 15) for chat in chats))
        calls = await emulator.wait_for_calls("sendMessage", 60, timeout=30)
        seen: dict[int, list[int]] = defaultdict(list)
        for call in calls:
            chat, n = call.params["text"].split(":")
            seen[int(chat)].append(int(n))
        assert {chat: seen[chat] for chat in chats} == {chat: list(range(15)) for chat in chats}
        assert tracker.most_in_one_chat == 1

    async def test_different_chats_concurrently(
        self, start_server: StartServer, emulator: BotAPIEmulator, tracker: slow.Tracker
    ) -> None:
        """Updates of different chats are handled at the same time."""
        tracker.pause = 0.5
        server = await start_server(SLOW_BOT, worker_concurrency=8)
        await asyncio.gather(*(_post_chat(server, chat, 1) for chat in range(1, 9)))
        await emulator.wait_for_calls("sendMessage", 8, timeout=30)
        assert tracker.most_at_once >= 4


class TestRetries:
    async def test_429_honours_retry_after(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """A 429 is retried no sooner than retry_after, and the message is delivered once."""
        server = await start_server(worker=False)
        emulator.fail_next("sendMessage", status=429, retry_after=1)
        await server.post(body(message_update("hi", chat_id=5)))
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        refused, delivered = emulator.calls_of("sendMessage")
        assert delivered.at - refused.at >= 1.0
        assert [m["text"] for m in emulator.messages(5)] == ["hi"]
        event = await _event(server)
        assert event.status is Status.DONE
        attempts = await server.running.store.attempts_of(event.id)
        assert [a.outcome for a in attempts] == [Status.PENDING, Status.DONE]
        assert "retry after 1" in (attempts[0].error or "").lower()

    async def test_server_error_is_retried(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """A 5xx from the Bot API is retried with backoff until it succeeds."""
        server = await start_server(worker=False)
        emulator.fail_next("sendMessage", status=502, times=2)
        await server.post(body(message_update("hi", chat_id=5)))
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        assert len(emulator.calls_of("sendMessage")) == 3
        event = await _event(server)
        assert event.status is Status.DONE
        assert event.attempts == 3

    async def test_gives_up_after_max_attempts(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """A failure that keeps coming back ends as dead, with the last error kept."""
        server = await start_server(worker=False, max_attempts=2)
        emulator.fail_next("sendMessage", status=500, times=5)
        await server.post(body(message_update("hi")))
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        event = await _event(server)
        assert event.status is Status.DEAD
        assert "gave up after 2 attempts" in event.last_error

    async def test_blocked_chat_is_dead_at_once(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """A 403 (the user blocked the bot) is not retried: the row is dead with the reason."""
        server = await start_server(worker=False)
        emulator.block_chat(42)
        await server.post(body(message_update("hi", chat_id=42)))
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        event = await _event(server)
        assert event.status is Status.DEAD
        assert event.attempts == 1
        assert "blocked" in event.last_error


class TestUnparseable:
    async def test_kept_as_failed_and_blocks_nothing(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """JSON aiogram cannot parse is kept as failed with the reason; the chat goes on."""
        server = await start_server(worker=False)
        broken = {"update_id": 500, "message": {"chat": {"id": 42, "type": "private"}}}
        assert (await server.post(body(broken)))[0] == 200
        await server.post(body(message_update("after", chat_id=42, update_id=501)))
        await (await worker_for(server)).run_until_empty()
        first, second = await server.events()
        assert first.status is Status.FAILED
        assert "cannot parse" in (first.last_error or "")
        assert first.body == body(broken)
        assert second.status is Status.DONE
        assert [m["text"] for m in emulator.messages(42)] == ["after"]


class TestLeases:
    async def test_crashed_workers_rows_are_taken_over(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """Rows held by a worker that vanished are processed by another once the lease ends."""
        server = await start_server(worker=False)
        await server.post(body(message_update("orphan", chat_id=3)))
        store = server.running.store
        [held] = await store.claim("vanished-worker", 10, time.time(), lease_seconds=1.0)
        assert held.status is Status.PROCESSING
        worker = await worker_for(server)
        await worker.run_until_empty()
        assert emulator.calls_of("sendMessage") == []
        await worker.run_until_empty(wait_for_scheduled=True)
        assert [m["text"] for m in emulator.messages(3)] == ["orphan"]
        assert (await _event(server)).status is Status.DONE


class TestShutdown:
    async def test_unfinished_work_is_released(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """Work still running when the shutdown timeout ends goes back to pending, not lost."""
        server = await start_server(worker=False)
        await server.post(body(message_update("slow", chat_id=8)))
        emulator.set_delay(2.0, "sendMessage")
        worker = await worker_for(server, shutdown_timeout=0.2)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        await emulator.wait_for_calls("sendMessage", 1)
        stop.set()
        await running
        event = await _event(server)
        assert event.status is Status.PENDING
        assert event.attempts == 0
        assert event.lease_owner is None
        emulator.set_delay(0, "sendMessage")
        await (await worker_for(server)).run_until_empty()
        assert (await _event(server)).status is Status.DONE


class TestStoreOutage:
    async def test_worker_survives_an_unreachable_inbox(
        self,
        start_server: StartServer,
        emulator: BotAPIEmulator,
        worker_for: WorkerFor,
        tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """While the inbox cannot be written the worker waits and retries, then carries on."""
        server = await start_server(worker=False)
        await server.post(body(message_update("patience", chat_id=6)))
        worker = await worker_for(server)
        blocker = sqlite3.connect(tmp_path / "hookgram.db", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        try:
            async with asyncio.timeout(30):
                while "inbox unavailable" not in caplog.text:
                    await asyncio.sleep(0.1)
            assert not running.done()
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        await emulator.wait_for_calls("sendMessage", 1, timeout=30)
        stop.set()
        await running
        assert [m["text"] for m in emulator.messages(6)] == ["patience"]
        assert (await _event(server)).status is Status.DONE
