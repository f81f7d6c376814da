"""The emulator's webhook delivery, against a real aiohttp receiver on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramConflictError
from aiohttp import web

from hookgram.sandbox import BotAPIEmulator
from hookgram.sandbox.delivery import SECRET_HEADER, DeliveryOptions
from tests.process import free_port

TOKEN = "123456:TEST-TOKEN"
FAST = DeliveryOptions(retry_delay=0.05, max_retry_delay=0.2, timeout=5)


@dataclass
class Receiver:
    """A webhook endpoint that records what arrives and answers as told."""

    statuses: list[int] = field(default_factory=list)  # answers to give first, then 200
    received: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str | None] = field(default_factory=list)
    hold: asyncio.Event | None = None  # when set, requests wait for it
    running: int = 0
    most_at_once: int = 0
    overlapping_chats: int = 0
    url: str = ""
    times: list[float] = field(default_factory=list)
    _chats: list[int] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        update = json.loads(await request.read())
        self.times.append(time.monotonic())
        chat = update.get("message", {}).get("chat", {}).get("id")
        if chat in self._chats:
            self.overlapping_chats += 1
        self._chats.append(chat)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.hold is not None:
                await self.hold.wait()
            self.secrets.append(request.headers.get(SECRET_HEADER))
            status = self.statuses.pop(0) if self.statuses else 200
            if status == 200:
                self.received.append(update)
            return web.Response(status=status)
        finally:
            self.running -= 1
            self._chats.remove(chat)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield hook
    await runner.cleanup()


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(tokens=[TOKEN], allow_http_webhook=True, delivery=FAST) as emu:
        yield emu


@pytest.fixture
async def bot(emulator: BotAPIEmulator) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    yield Bot(TOKEN, session=session)
    await (await session.create_session()).close()


def text_update(text: str, chat_id: int = 1) -> dict[str, Any]:
    return {
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "User"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "User"},
            "text": text,
        }
    }


async def until(condition: Any, what: str) -> None:
    """Wait (5 s at most) until condition() holds."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"waited 5 s for {what}")


class TestDelivery:
    async def test_posts_updates_with_the_secret_header(
        self, emulator: BotAPIEmulator, bot: Bot, receiver: Receiver
    ) -> None:
        """After setWebhook, queued and new updates are POSTed with the secret token header."""
        emulator.enqueue_update(text_update("before"))
        await bot.set_webhook(receiver.url, secret_token="s3cret")
        emulator.enqueue_update(text_update("after"))

        await until(lambda: len(receiver.received) == 2, "two deliveries")

        assert [u["message"]["text"] for u in receiver.received] == ["before", "after"]
        assert receiver.secrets == ["s3cret", "s3cret"]
        assert (await bot.get_webhook_info()).pending_update_count == 0

    async def test_non_2xx_is_retried_and_reported(
        self, emulator: BotAPIEmulator, bot: Bot, receiver: Receiver
    ) -> None:
        """A 401 leaves the update pending with Telegram's error wording, then it is redelivered."""
        receiver.statuses = [401, 500]
        await bot.set_webhook(receiver.url)
        emulator.enqueue_update(text_update("x"))

        await until(lambda: receiver.received, "the redelivery")
        info = await bot.get_webhook_info()

        assert len(receiver.secrets) == 3
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert info.last_error_date is not None
        assert info.pending_update_count == 0

    async def test_redelivery_backs_off(self, bot: Bot, receiver: Receiver) -> None:
        """Each failed attempt doubles the wait before the next, up to the longest delay."""
        options = DeliveryOptions(retry_delay=0.1, max_retry_delay=0.2)
        receiver.statuses = [503, 503, 503]
        async with BotAPIEmulator(tokens=[TOKEN], allow_http_webhook=True, delivery=options) as emu:
            session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
            await Bot(TOKEN, session=session).set_webhook(receiver.url)
            await session.close()
            emu.enqueue_update(text_update("x"))
            await until(lambda: receiver.received, "the delivery")

        gaps = [
            later - earlier
            for earlier, later in zip(receiver.times, receiver.times[1:], strict=False)
        ]
        assert len(gaps) == 3
        assert gaps[0] >= 0.1
        assert gaps[1] >= 0.2
        assert gaps[2] >= 0.2

    async def test_undelivered_updates_stay_pending(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """With nobody listening, updates stay pending and the error is "Connection refused"."""
        await bot.set_webhook(f"http://127.0.0.1:{free_port()}/hook")
        emulator.enqueue_update(text_update("a"))
        emulator.enqueue_update(text_update("b", chat_id=2))

        await until(lambda: emulator.webhook.last_error_message, "a failed delivery")
        info = await bot.get_webhook_info()

        assert info.last_error_message == "Connection refused"
        assert info.pending_update_count == 2

    async def test_at_most_max_connections_at_once(
        self, emulator: BotAPIEmulator, bot: Bot, receiver: Receiver
    ) -> None:
        """Updates of many chats are delivered concurrently, but never more than max_connections."""
        receiver.hold = asyncio.Event()
        await bot.set_webhook(receiver.url, max_connections=3)
        for chat in range(1, 11):
            emulator.enqueue_update(text_update("hi", chat_id=chat))

        await until(lambda: receiver.running == 3, "three requests in flight")
        receiver.hold.set()
        await until(lambda: len(receiver.received) == 10, "every delivery")

        assert receiver.most_at_once == 3

    async def test_one_chat_in_order_even_after_a_failure(
        self, emulator: BotAPIEmulator, bot: Bot, receiver: Receiver
    ) -> None:
        """A chat's updates go one at a time, and a failed one is redelivered before the next."""
        receiver.statuses = [502]
        await bot.set_webhook(receiver.url)
        for n in range(5):
            emulator.enqueue_update(text_update(str(n)))

        await until(lambda: len(receiver.received) == 5, "every delivery")

        assert [u["message"]["text"] for u in receiver.received] == ["0", "1", "2", "3", "4"]
        assert receiver.overlapping_chats == 0

    async def test_only_loopback_by_default(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """A webhook on another host is not called (no traffic leaves the machine)."""
        await bot.set_webhook("https://bot.example.com/hook")
        emulator.enqueue_update(text_update("stay"))
        await asyncio.sleep(0.1)

        info = await bot.get_webhook_info()

        assert info.pending_update_count == 1
        assert info.last_error_message is None


class TestGetUpdates:
    async def test_allowed_updates_filter_what_is_queued(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """After getUpdates(allowed_updates=[...]), updates of other types are not kept."""
        await bot.get_updates(allowed_updates=["callback_query"])
        emulator.enqueue_update(text_update("not wanted"))
        query = {"id": "1", "from": {"id": 1, "is_bot": False, "first_name": "U"}}
        emulator.enqueue_update({"callback_query": {**query, "chat_instance": "c", "data": "d"}})

        updates = await bot.get_updates()

        assert [u.callback_query.data for u in updates if u.callback_query] == ["d"]
        assert len(updates) == 1

    async def test_limit_and_offset(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """limit caps the batch; the offset confirms the batch before it."""
        ids = [emulator.enqueue_update(text_update(str(n))) for n in range(5)]

        first = await bot.get_updates(limit=2)
        second = await bot.get_updates(offset=first[-1].update_id + 1, limit=2)

        assert [u.update_id for u in first] == ids[:2]
        assert [u.update_id for u in second] == ids[2:4]

    async def test_conflict_while_webhook_is_set(self, bot: Bot, receiver: Receiver) -> None:
        """getUpdates is a 409 while a webhook is set."""
        await bot.set_webhook(receiver.url)

        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
