"""``hookgram run`` as a real process: start-up, polling, SIGTERM, and recovery after SIGKILL."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from hookgram.config import load_settings
from hookgram.sandbox import BotAPIEmulator
from hookgram.sources.telegram import SECRET_HEADER
from tests.conftest import TOKEN
from tests.factories import body, message_update
from tests.process import HookgramProcess, free_port

Spawn = Callable[..., HookgramProcess]


@pytest.fixture
async def spawn(emulator: BotAPIEmulator, tmp_path: Path) -> AsyncIterator[Spawn]:
    """Build hookgram processes against the emulator, sharing one SQLite inbox."""
    processes: list[HookgramProcess] = []

    def build(*args: str, **env: str) -> HookgramProcess:
        process = HookgramProcess(
            ["run", *args],
            {
                "BOT_TOKEN": TOKEN,
                "HOOKGRAM_PUBLIC_URL": "https://bot.example.com",
                "HOOKGRAM_HOST": "127.0.0.1",
                "HOOKGRAM_API_URL": emulator.base_url,
                "HOOKGRAM_DATABASE_URL": f"sqlite:///{tmp_path / 'inbox.db'}",
                "HOOKGRAM_ALLOWED_IPS": "127.0.0.1/32",
                **env,
            },
            tmp_path,
        )
        processes.append(process)
        return process

    yield build
    for process in processes:
        await process.close()


async def _post_all(port: int, updates: list[bytes]) -> list[int]:
    secret = load_settings(bot_token=TOKEN).webhook_secret()
    headers = {SECRET_HEADER: secret, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:

        async def post(payload: bytes) -> int:
            url = f"http://127.0.0.1:{port}/webhook"
            async with http.post(url, data=payload, headers=headers) as response:
                return response.status

        return list(await asyncio.gather(*(post(p) for p in updates)))


def _answered(emulator: BotAPIEmulator) -> set[str]:
    return {call.params["text"] for call in emulator.calls_of("sendMessage")}


class TestStartup:
    async def test_sets_the_webhook(self, spawn: Spawn, emulator: BotAPIEmulator) -> None:
        """Start-up checks the token, then sets the webhook with the derived secret."""
        process = spawn(HOOKGRAM_PORT=str(free_port()))
        await process.start()
        await process.wait_for("webhook set")
        assert emulator.calls[0].method == "getMe"
        [call] = emulator.calls_of("setWebhook")
        assert call.params["url"] == "https://bot.example.com/webhook"
        assert call.params["secret_token"] == load_settings(bot_token=TOKEN).webhook_secret()
        assert call.params["allowed_updates"] == ["message"]
        assert call.params["max_connections"] == 40
        assert "drop_pending_updates" not in call.params
        process.signal(signal.SIGTERM)
        assert await process.wait() == 0
        assert emulator.calls_of("deleteWebhook") == []

    async def test_drop_pending_updates_only_when_asked(
        self, spawn: Spawn, emulator: BotAPIEmulator
    ) -> None:
        """--drop-pending-updates is passed on to setWebhook."""
        process = spawn(HOOKGRAM_PORT=str(free_port()))
        process.args.append("--drop-pending-updates")
        await process.start()
        await process.wait_for("webhook set")
        assert emulator.calls_of("setWebhook")[0].params["drop_pending_updates"] is True

    async def test_retries_while_bot_api_is_down(
        self, spawn: Spawn, emulator: BotAPIEmulator
    ) -> None:
        """An unreachable Bot API is retried with backoff and said so in the log."""
        emulator.fail_next("getMe", status=502, times=2)
        process = spawn(HOOKGRAM_PORT=str(free_port()))
        await process.start(ready="webhook set", timeout=30)
        assert process.output.count("getMe failed") == 2
        assert "retrying in" in process.output
        assert len(emulator.calls_of("getMe")) == 3

    async def test_rejected_token_is_one_clear_line(
        self, spawn: Spawn, emulator: BotAPIEmulator
    ) -> None:
        """A token the Bot API refuses stops start-up with one line, no traceback."""
        process = spawn(HOOKGRAM_PORT=str(free_port()), BOT_TOKEN="999:WRONG")
        await process.start(ready=None)
        assert await process.wait() == 1
        assert "rejected BOT_TOKEN" in process.output
        assert "Traceback" not in process.output
        assert "999:WRONG" not in process.output


class TestPolling:
    async def test_polling_feeds_the_inbox(self, spawn: Spawn, emulator: BotAPIEmulator) -> None:
        """--polling removes the webhook, keeps pending updates, and answers fetched updates."""
        emulator.webhook.url = "https://old.example.com/webhook"
        for n in range(3):
            emulator.enqueue_update(message_update(f"polled {n}", update_id=100 + n))
        process = spawn("--polling", HOOKGRAM_PORT=str(free_port()))
        process.env.pop("HOOKGRAM_PUBLIC_URL")
        await process.start()
        await emulator.wait_for_calls("sendMessage", 3)
        [delete] = emulator.calls_of("deleteWebhook")
        assert delete.params.get("drop_pending_updates") in (None, False)
        assert _answered(emulator) == {"polled 0", "polled 1", "polled 2"}
        emulator.enqueue_update(message_update("later", update_id=103))
        await emulator.wait_for_calls("sendMessage", 4)
        assert len(emulator.calls_of("sendMessage")) == 4


class TestShutdown:
    async def test_sigterm_finishes_in_flight_work(
        self, spawn: Spawn, emulator: BotAPIEmulator
    ) -> None:
        """SIGTERM lets the update in progress finish, then exits 0."""
        port = free_port()
        emulator.set_delay(1.0, "sendMessage")
        process = spawn(HOOKGRAM_PORT=str(port), HOOKGRAM_SHUTDOWN_TIMEOUT="10")
        await process.start()
        await process.wait_for("webhook set")
        assert await _post_all(port, [body(message_update("last words"))]) == [200]
        await emulator.wait_for_calls("sendMessage", 1)
        process.signal(signal.SIGTERM)
        assert await process.wait() == 0
        assert [m["text"] for m in emulator.messages(42)] == ["last words"]
        assert "Traceback" not in process.output

    async def test_sigkill_loses_nothing_acknowledged(
        self, spawn: Spawn, emulator: BotAPIEmulator
    ) -> None:
        """Killed with SIGKILL mid-work and restarted, every acknowledged update is answered."""
        port = free_port()
        emulator.set_delay(0.2, "sendMessage")
        env = {"HOOKGRAM_PORT": str(port), "HOOKGRAM_LEASE_SECONDS": "1"}
        first = spawn(**env)
        await first.start()
        await first.wait_for("webhook set")
        updates = [body(message_update(f"u{n}", chat_id=n % 5 + 1)) for n in range(40)]
        assert await _post_all(port, updates) == [200] * 40
        first.signal(signal.SIGKILL)
        await first.wait()
        assert len(_answered(emulator)) < 40
        emulator.set_delay(0, "sendMessage")
        second = spawn(**env)
        await second.start()
        await emulator.wait_for_calls("sendMessage", 40, timeout=30)
        async with asyncio.timeout(30):
            while len(_answered(emulator)) < 40:
                await asyncio.sleep(0.1)
        assert _answered(emulator) == {f"u{n}" for n in range(40)}
