"""A loopback Telegram Bot API emulator for tests, benchmarks and the sandbox (aiohttp only)."""

from __future__ import annotations

from hookgram.sandbox.emulator import BotAPIEmulator
from hookgram.sandbox.state import RecordedCall, WebhookState

__all__ = ["BotAPIEmulator", "RecordedCall", "WebhookState"]
