"""Feeds stored Telegram updates to an aiogram Dispatcher."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from pydantic import ValidationError

from hookgram.inbox.models import Event
from hookgram.retry import Unprocessable


class TelegramHandler:
    """Parses the raw body (here, not at the ack) and runs the dispatcher on it."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, **data: Any) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._data = data

    async def __call__(self, event: Event) -> None:
        """Process one update; a body this aiogram cannot parse raises Unprocessable."""
        try:
            update = Update.model_validate_json(event.body, context={"bot": self._bot})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3]
            )
            raise Unprocessable(f"aiogram cannot parse this update ({problems})") from exc
        result = await self._dispatcher.feed_update(self._bot, update, **self._data)
        if isinstance(result, TelegramMethod):
            # A handler may return a method instead of awaiting it, as in aiogram's webhook mode.
            await self._bot(result)
