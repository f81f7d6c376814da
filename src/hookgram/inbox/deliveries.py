"""Which chats a fanned-out notification already reached (the ``inbox_deliveries`` table)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from hookgram.inbox.models import deliveries


class DeliveryLog:
    """Progress of one event's sends, so a retry sends only to the chats still missing it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def delivered(self, event_id: int) -> set[int]:
        """The chats this event's notification has reached."""
        query = select(deliveries.c.chat_id).where(deliveries.c.event_id == event_id)
        async with self._engine.connect() as conn:
            return {int(chat) for chat in (await conn.execute(query)).scalars()}

    async def record(self, event_id: int, chat_id: int, message_id: int | None, now: float) -> None:
        """Note that this event's notification reached ``chat_id``."""
        statement = (
            self._insert(deliveries)
            .values(event_id=event_id, chat_id=chat_id, message_id=message_id, delivered_at=now)
            .on_conflict_do_nothing(index_elements=["event_id", "chat_id"])
        )
        async with self._engine.begin() as conn:
            await conn.execute(statement)
