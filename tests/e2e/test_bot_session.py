"""hookgram's lean Bot API session for aiogram, against the emulator over loopback HTTP."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import Response
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message

from hookgram.bot_session import LeanSession
from hookgram.sandbox import BotAPIEmulator
from tests.conftest import TOKEN

STRANGER = "999:NOT-A-TOKEN-THE-EMULATOR-KNOWS"  # a token the emulator refuses


@pytest.fixture
async def bot(emulator: BotAPIEmulator) -> AsyncIterator[Bot]:
    """An aiogram Bot on the lean session, HTML by default as in aiogram's examples."""
    session = LeanSession(api=TelegramAPIServer.from_base(emulator.base_url))
    yield Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    await (await session.create_session()).close()


class TestLeanSession:
    async def test_sends_json_with_defaults_and_markup(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """A send arrives as JSON with the bot's default parse mode and nested markup intact."""
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]]
        )
        sent = await bot.send_message(5, "<b>hi</b>", reply_markup=keyboard)

        [call] = emulator.calls_of("sendMessage")
        assert call.params["parse_mode"] == "HTML"
        assert call.params["reply_markup"] == {
            "inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]
        }
        assert isinstance(sent, Message)
        assert sent.text == "hi"
        assert sent.chat.id == 5

    async def test_uploads_still_go_as_forms(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """A call carrying a file falls back to aiogram's multipart upload."""
        await bot.send_document(5, BufferedInputFile(b"report", filename="r.txt"))

        [call] = emulator.calls_of("sendDocument")
        assert list(call.files.values()) == [("r.txt", b"report")]

    async def test_errors_are_aiogram_errors(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """429 and 403 answers raise aiogram's own exceptions, retry_after included."""
        emulator.fail_next("sendMessage", status=429, retry_after=7)
        with pytest.raises(TelegramRetryAfter) as retry:
            await bot.send_message(5, "x")
        emulator.block_chat(6)
        with pytest.raises(TelegramForbiddenError):
            await bot.send_message(6, "x")
        assert retry.value.retry_after == 7

    async def test_each_bot_on_one_session_calls_with_its_own_token(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """The session keeps each method's URL per bot: a second bot never borrows the first's."""
        await bot.send_message(5, "first")
        stranger = Bot(STRANGER, session=bot.session)
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.send_message(5, "second")
        await bot.send_message(5, "third", request_timeout=5)
        sent = [(call.token, call.params["text"]) for call in emulator.calls_of("sendMessage")]
        assert sent == [(TOKEN, "first"), (STRANGER, "second"), (TOKEN, "third")]

    async def test_false_and_unset_fields_are_left_out(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """As with aiogram's own session: no ``None`` or ``False`` fields, at any depth."""
        button = InlineKeyboardButton(text="Open", url="https://example.com")
        await bot.send_message(
            5,
            "x",
            disable_notification=False,
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
        )

        [call] = emulator.calls_of("sendMessage")
        assert call.params == {
            "chat_id": 5,
            "text": "x",
            "parse_mode": "HTML",
            "reply_markup": {"inline_keyboard": [[{"text": "Open", "url": "https://example.com"}]]},
        }

    async def test_response_type_survives_garbage_collection(self, bot: Bot) -> None:
        """The parsed response type is built once, not again after every garbage collection."""
        await bot.send_message(5, "one")
        built = weakref.ref(Response[Message])  # type: ignore[valid-type]
        gc.collect()
        assert built() is not None
