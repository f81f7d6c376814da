"""A test bot with a two-step conversation (aiogram FSM): /start asks a name, the next greets."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from aiogram import Dispatcher, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineQuery, Message


class Form(StatesGroup):
    """The conversation's one state: waiting for the name."""

    name = State()


def create_router() -> Router:
    """/start → "What is your name?"; the next message → "Nice to meet you, NAME"."""
    router = Router(name="form")

    @router.message(Command("start"))
    async def start(message: Message, state: FSMContext) -> None:
        await state.set_state(Form.name)
        await message.answer("What is your name?")

    @router.message(Form.name, F.text)
    async def name(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(f"Nice to meet you, {message.text}")

    @router.message()
    async def other(message: Message) -> None:
        await message.answer("Say /start first")

    return router


@dataclass
class Overlap:
    """How many handlers of one user's state machine ran at once."""

    pause: float = 0.5
    running: Counter[int] = field(default_factory=Counter)
    most_at_once: int = 0
    handled: int = 0


OVERLAP = Overlap()


def create_slow_router() -> Router:
    """Messages and inline queries pause inside the user's state machine; OVERLAP counts."""
    router = Router(name="slow-form")

    async def slow(user: int, state: FSMContext) -> None:
        OVERLAP.running[user] += 1
        OVERLAP.most_at_once = max(OVERLAP.most_at_once, OVERLAP.running[user])
        try:
            await state.update_data(seen=True)
            await asyncio.sleep(OVERLAP.pause)
            OVERLAP.handled += 1
        finally:
            OVERLAP.running[user] -= 1

    @router.message()
    async def message(message: Message, state: FSMContext) -> None:
        await slow(message.chat.id, state)

    @router.inline_query()
    async def inline(query: InlineQuery, state: FSMContext) -> None:
        await slow(query.from_user.id, state)

    return router


def create_dispatcher() -> Dispatcher:
    """The form bot in a Dispatcher of its own, with aiogram's default (memory) storage."""
    dispatcher = Dispatcher()
    dispatcher.include_router(create_router())
    return dispatcher
