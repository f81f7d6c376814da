"""The default bot: aiogram's classic echo bot."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.enums import ParseMode
from aiogram.filters import CommandStart
from aiogram.types import Message


def create_router() -> Router:
    """``/start`` greets by name in bold; anything else is copied back, or "Nice try!"."""
    router = Router(name="echo")

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        name = message.from_user.full_name if message.from_user else "stranger"
        await message.answer(f"Hello, {html.bold(html.quote(name))}!", parse_mode=ParseMode.HTML)

    @router.message()
    async def echo(message: Message) -> None:
        try:
            await message.send_copy(chat_id=message.chat.id)
        except TypeError:
            await message.answer("Nice try!")

    return router
