"""A real `hookgram run` process: its log shows refused requests, and never a token or secret."""

from __future__ import annotations

import signal
from pathlib import Path

import aiohttp

from hookgram.config import load_settings
from hookgram.sandbox import BotAPIEmulator
from hookgram.sources.telegram import SECRET_HEADER
from tests.conftest import TOKEN
from tests.factories import body, message_update
from tests.process import HookgramProcess, free_port

SECRET = "configured-secret-1234"
PREVIOUS = "previous-secret-5678"
GUESS = "attacker-guess-9012"


class TestLogs:
    async def test_no_token_or_secret_in_the_log(
        self, emulator: BotAPIEmulator, tmp_path: Path
    ) -> None:
        """A DEBUG run refusing a wrong secret logs the refusal, and no token or secret at all."""
        port = free_port()
        process = HookgramProcess(
            ["run", "--log-level", "DEBUG"],
            {
                "BOT_TOKEN": TOKEN,
                "HOOKGRAM_PUBLIC_URL": "https://bot.example.com",
                "HOOKGRAM_HOST": "127.0.0.1",
                "HOOKGRAM_PORT": str(port),
                "HOOKGRAM_API_URL": emulator.base_url,
                "HOOKGRAM_DATABASE_URL": f"sqlite:///{tmp_path / 'inbox.db'}",
                "HOOKGRAM_ALLOWED_IPS": "127.0.0.1/32",
                "HOOKGRAM_SECRET_TOKEN": SECRET,
                "HOOKGRAM_PREVIOUS_SECRET_TOKEN": PREVIOUS,
            },
            tmp_path,
        )
        try:
            await process.start()
            await process.wait_for("webhook set")
            statuses = {}
            async with aiohttp.ClientSession() as http:
                for secret in (GUESS, PREVIOUS, SECRET):
                    headers = {SECRET_HEADER: secret, "Content-Type": "application/json"}
                    url = f"http://127.0.0.1:{port}/webhook"
                    payload = body(message_update(secret[:8]))
                    async with http.post(url, data=payload, headers=headers) as response:
                        statuses[secret] = response.status
            assert statuses == {GUESS: 401, PREVIOUS: 200, SECRET: 200}
            await emulator.wait_for_calls("sendMessage", 2)
            process.signal(signal.SIGTERM)
            assert await process.wait() == 0
        finally:
            await process.close()
        log = process.output
        assert "telegram refused a request from 127.0.0.1: missing or wrong" in log
        derived = load_settings(bot_token=TOKEN).webhook_secret()
        for secret in (TOKEN, TOKEN.split(":")[1], SECRET, PREVIOUS, GUESS, derived):
            assert secret not in log
