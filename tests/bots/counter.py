"""A test bot with an inline keyboard: a counter whose buttons edit the message in place."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message


def _keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="+1", callback_data="add"),
                InlineKeyboardButton(text="Reset", callback_data="reset"),
            ]
        ]
    )


def create_router() -> Router:
    """/start shows "Count: 0" with +1 and Reset buttons; a press edits the count."""
    router = Router(name="counter")

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Count: <b>0</b>", parse_mode="HTML", reply_markup=_keyboard())

    @router.callback_query(F.data.in_({"add", "reset"}))
    async def press(query: CallbackQuery) -> None:
        assert query.message is not None and query.message.text is not None  # noqa: PT018
        count = 0 if query.data == "reset" else int(query.message.text.split()[-1]) + 1
        await query.bot.edit_message_text(  # type: ignore[union-attr]
            f"Count: <b>{count}</b>",
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            parse_mode="HTML",
            reply_markup=_keyboard(),
        )
        await query.answer(f"Counted {count}")

    return router
