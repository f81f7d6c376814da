"""A test bot that answers after a short random pause and tracks how many handlers overlap."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field

from aiogram import Router
from aiogram.types import Message


@dataclass
class Tracker:
    """How many handlers ran at once, overall and per chat."""

    pause: float = 0.02
    running: Counter[int] = field(default_factory=Counter)
    most_at_once: int = 0
    most_in_one_chat: int = 0

    def enter(self, chat_id: int) -> None:
        self.running[chat_id] += 1
        self.most_at_once = max(self.most_at_once, sum(self.running.values()))
        self.most_in_one_chat = max(self.most_in_one_chat, self.running[chat_id])

    def leave(self, chat_id: int) -> None:
        self.running[chat_id] -= 1


TRACKER = Tracker()


def create_router() -> Router:
    """Echo the text after a random pause of up to TRACKER.pause seconds."""
    router = Router(name="slow")

    @router.message()
    async def answer(message: Message) -> None:
        TRACKER.enter(message.chat.id)
        try:
            await asyncio.sleep(random.uniform(0, TRACKER.pause))
            await message.answer(message.text or "")
        finally:
            TRACKER.leave(message.chat.id)

    return router
