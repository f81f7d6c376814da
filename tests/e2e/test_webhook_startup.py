"""Start-up sets the webhook only when Telegram's differs, so replicas don't reset it in turn."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hookgram.sandbox import BotAPIEmulator
from tests.conftest import PUBLIC_URL, TOKEN, StartServer
from tests.factories import message_update
from tests.process import HookgramProcess, free_port


class TestIdempotentStartup:
    async def test_second_start_does_not_set_again(
        self, start_server: StartServer, emulator: BotAPIEmulator
    ) -> None:
        """Two starts in a row with the same settings call setWebhook once."""
        await start_server()
        await start_server()
        assert len(emulator.calls_of("getWebhookInfo")) == 2
        assert len(emulator.calls_of("setWebhook")) == 1

    async def test_changed_url_sets_again(
        self, start_server: StartServer, emulator: BotAPIEmulator, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A start with another public URL calls setWebhook again, and logs what differed."""
        caplog.set_level(logging.INFO, logger="hookgram.webhook")
        await start_server()
        await start_server(public_url="https://new.example.com")
        calls = emulator.calls_of("setWebhook")
        assert [call.params["url"] for call in calls] == [
            PUBLIC_URL + "/webhook",
            "https://new.example.com/webhook",
        ]
        assert (
            "webhook set to https://new.example.com/webhook (url: Telegram has "
            f"{PUBLIC_URL}/webhook, configured https://new.example.com/webhook)"
        ) in caplog.messages

    async def test_each_compared_setting_sets_again(
        self, start_server: StartServer, emulator: BotAPIEmulator
    ) -> None:
        """Max connections, allowed updates, IP address and the certificate are compared."""
        await start_server()
        await start_server(max_connections=12)
        await start_server(max_connections=12, allowed_updates=["message", "callback_query"])
        await start_server(
            max_connections=12,
            allowed_updates=["message", "callback_query"],
            webhook_ip_address="203.0.113.9",
        )
        emulator.webhook.has_custom_certificate = True
        await start_server(
            max_connections=12,
            allowed_updates=["callback_query", "message"],  # the same list, reordered
            webhook_ip_address="203.0.113.9",
        )
        assert len(emulator.calls_of("setWebhook")) == 5
        assert emulator.webhook.has_custom_certificate is False
        assert emulator.webhook.ip_address == "203.0.113.9"

    async def test_force_always_sets(
        self, start_server: StartServer, emulator: BotAPIEmulator
    ) -> None:
        """With force_set_webhook every start calls setWebhook, e.g. to send a changed secret."""
        await start_server()
        await start_server(secret_token="rotated-secret")
        assert len(emulator.calls_of("setWebhook")) == 1  # the secret cannot be compared
        await start_server(secret_token="rotated-secret", force_set_webhook=True)
        calls = emulator.calls_of("setWebhook")
        assert len(calls) == 2
        assert calls[1].params["secret_token"] == "rotated-secret"

    async def test_pending_updates_never_dropped_implicitly(
        self, start_server: StartServer, emulator: BotAPIEmulator
    ) -> None:
        """Re-setting a changed webhook keeps the updates Telegram holds."""
        emulator.webhook.url = "https://old.example.com/webhook"
        for n in range(5):
            emulator.enqueue_update(message_update(f"m{n}"))
        await start_server()
        [call] = emulator.calls_of("setWebhook")
        assert "drop_pending_updates" not in call.params
        assert emulator.webhook.pending_update_count == 5


class TestForceFlag:
    async def test_run_force_set_webhook(self, tmp_path: Path, emulator: BotAPIEmulator) -> None:
        """`hookgram run --force-set-webhook` re-sets a webhook that already matches."""
        webhook = emulator.webhook
        webhook.url, webhook.max_connections = PUBLIC_URL + "/webhook", 40
        webhook.allowed_updates = ["message"]
        env = {
            "BOT_TOKEN": TOKEN,
            "HOOKGRAM_PUBLIC_URL": PUBLIC_URL,
            "HOOKGRAM_HOST": "127.0.0.1",
            "HOOKGRAM_PORT": str(free_port()),
            "HOOKGRAM_API_URL": emulator.base_url,
            "HOOKGRAM_DATABASE_URL": f"sqlite:///{tmp_path / 'inbox.db'}",
        }
        process = HookgramProcess(["run", "--force-set-webhook"], env, tmp_path)
        try:
            await process.start(ready="webhook set")
            assert "(--force-set-webhook)" in process.output
            assert len(emulator.calls_of("setWebhook")) == 1
        finally:
            await process.close()
