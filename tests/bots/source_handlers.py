"""Source handlers for tests: what they are given, what they write, how they fail."""

from __future__ import annotations

from typing import Any

import orjson
from aiogram import Bot
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hookgram.handlers.event import SourceEvent

CREATE = "CREATE TABLE IF NOT EXISTS seen (event_id INTEGER PRIMARY KEY, record TEXT NOT NULL)"


async def record(
    event: SourceEvent, bot: Bot, session: AsyncSession, notify: tuple[int, ...]
) -> None:
    """Write what it was given (not committing: hookgram commits) and tell the notify chats."""
    await session.execute(text(CREATE))
    seen = {
        "id": event.id,
        "source": event.source,
        "body": event.body,
        "headers": dict(event.headers),
        "received_at": event.received_at.timestamp(),
        "attempt": event.attempt,
        "bot_id": bot.id,
    }
    await session.execute(
        text("INSERT INTO seen VALUES (:id, :record)"),
        {"id": event.id, "record": orjson.dumps(seen).decode()},
    )
    for chat in notify:
        await bot.send_message(chat, f"got {event.body['type']}")


async def fail_after_writing(event: SourceEvent, session: AsyncSession) -> None:
    """Write, then fail: the write must not be committed."""
    await session.execute(text(CREATE))
    await session.execute(text("INSERT INTO seen VALUES (:id, 'x')"), {"id": event.id})
    raise RuntimeError("the handler broke after writing")


async def keyword_catch_all(**data: Any) -> None:
    """Asks for everything through ``**data``."""
    assert set(data) == {"event", "bot", "session", "notify"}


async def wrong_parameter(event: SourceEvent, state: object) -> None:
    """Asks for something hookgram does not have."""


def not_a_coroutine(event: SourceEvent) -> None:
    """A plain function."""
