"""hookgram: a durable webhook server for aiogram 3 Telegram bots."""

from __future__ import annotations

__version__ = "0.1.0"
