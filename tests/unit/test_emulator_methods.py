"""The emulator's media, content and payment methods, called by a real aiogram Bot: every
answer must parse as aiogram's types."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
)

from hookgram.sandbox import BotAPIEmulator
from tests.sandbox_client import tiny_png

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(tokens=[TOKEN]) as running:
        yield running


@pytest.fixture
async def bot(emulator: BotAPIEmulator) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    yield Bot(TOKEN, session=session)
    await (await session.create_session()).close()


class TestFiles:
    async def test_upload_get_file_and_download(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """An uploaded document is described by getFile and downloaded from its file_path."""
        sent = await bot.send_document(1, BufferedInputFile(b"%PDF-1.4", filename="report.pdf"))
        assert sent.document is not None

        info = await bot.get_file(sent.document.file_id)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{emulator.base_url}/file/bot{TOKEN}/{info.file_path}") as response,
        ):
            content = await response.read()

        assert sent.document.mime_type == "application/pdf"
        assert info.file_size == 8
        assert content == b"%PDF-1.4"

    async def test_file_id_is_reused(self, bot: Bot) -> None:
        """Sending a file_id again names the same file, with its size and name."""
        first = await bot.send_photo(1, BufferedInputFile(tiny_png(), filename="a.png"))
        assert first.photo is not None

        again = await bot.send_photo(2, first.photo[-1].file_id)

        assert again.photo is not None
        assert again.photo[-1].file_id == first.photo[-1].file_id
        assert again.photo[-1].file_size == len(tiny_png())
        assert (await bot.get_file(first.photo[0].file_id)).file_size == len(tiny_png())

    async def test_unknown_file_is_a_400(self, bot: Bot) -> None:
        """getFile of an id the emulator never stored is Telegram's 400."""
        with pytest.raises(TelegramBadRequest, match="wrong file_id"):
            await bot.get_file("nope")

    async def test_download_of_unknown_path_is_404(self, emulator: BotAPIEmulator) -> None:
        """A download of a path that was never given out is a 404."""
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{emulator.base_url}/file/bot{TOKEN}/photos/nope.jpg") as response,
        ):
            assert response.status == 404

    async def test_every_media_kind_parses(self, bot: Bot) -> None:
        """Voice, audio, video, animation and sticker answers parse as aiogram Messages."""

        def upload(name: str) -> BufferedInputFile:
            return BufferedInputFile(b"\x00" * 10, filename=name)

        voice = await bot.send_voice(1, upload("v.ogg"), duration=3)
        audio = await bot.send_audio(1, upload("a.mp3"), title="Song", performer="Band")
        video = await bot.send_video(1, upload("v.mp4"), width=640, height=360)
        animation = await bot.send_animation(
            1, upload("a.gif"), caption="*fun*", parse_mode="MarkdownV2"
        )
        sticker = await bot.send_sticker(1, upload("s.webp"), emoji="🙂")

        assert voice.voice is not None and voice.voice.duration == 3  # noqa: PT018
        assert audio.audio is not None and audio.audio.title == "Song"  # noqa: PT018
        assert video.video is not None and video.video.width == 640  # noqa: PT018
        assert animation.animation is not None and animation.document is not None  # noqa: PT018
        assert animation.caption == "fun"
        assert sticker.sticker is not None and sticker.sticker.emoji == "🙂"  # noqa: PT018


class TestContent:
    async def test_location_contact_dice_poll(self, bot: Bot) -> None:
        """Structured content answers parse as aiogram Messages with the values sent."""
        location = await bot.send_location(1, latitude=51.5, longitude=-0.12)
        contact = await bot.send_contact(1, phone_number="+100", first_name="Ann")
        dice = await bot.send_dice(1, emoji="🎯")
        poll = await bot.send_poll(1, "Tea?", options=["Yes", "No"], is_anonymous=False)

        assert location.location is not None and location.location.latitude == 51.5  # noqa: PT018
        assert contact.contact is not None and contact.contact.first_name == "Ann"  # noqa: PT018
        assert dice.dice is not None and 1 <= dice.dice.value <= 6  # noqa: PT018
        assert poll.poll is not None
        assert [option.text for option in poll.poll.options] == ["Yes", "No"]
        assert poll.poll.is_anonymous is False

    async def test_bad_content_is_refused(self, bot: Bot) -> None:
        """Out-of-range content is a 400 worded like Telegram's."""
        with pytest.raises(TelegramBadRequest, match="wrong emoji specified"):
            await bot.send_dice(1, emoji="🍕")
        with pytest.raises(TelegramBadRequest, match="poll must have at least 2 option"):
            await bot.send_poll(1, "Q", options=["only"])
        with pytest.raises(TelegramBadRequest, match="latitude is invalid"):
            await bot.send_location(1, latitude=91, longitude=0)


class TestEdits:
    async def test_reply_markup_is_replaced_then_removed(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """editMessageReplyMarkup swaps the keyboard; without one it removes it."""
        button = InlineKeyboardButton(text="A", callback_data="a")
        sent = await bot.send_message(
            1, "pick", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
        )
        other = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="B", callback_data="b")]]
        )

        edited = await bot.edit_message_reply_markup(
            chat_id=1, message_id=sent.message_id, reply_markup=other
        )
        cleared = await bot.edit_message_reply_markup(chat_id=1, message_id=sent.message_id)

        assert isinstance(edited, Message)
        assert edited.reply_markup is not None
        assert edited.reply_markup.inline_keyboard[0][0].text == "B"
        assert isinstance(cleared, Message)
        assert cleared.reply_markup is None
        assert "reply_markup" not in emulator.messages(1)[0]


class TestInvoices:
    async def test_stars_invoice_parses(self, bot: Bot) -> None:
        """A Telegram Stars invoice answers a Message with its Invoice."""
        message = await bot.send_invoice(
            1,
            title="Tea",
            description="A cup",
            payload="tea",
            currency="XTR",
            prices=[LabeledPrice(label="Tea", amount=5)],
        )

        assert message.invoice is not None
        assert (message.invoice.currency, message.invoice.total_amount) == ("XTR", 5)

    async def test_stars_invoice_has_one_price(self, bot: Bot) -> None:
        """An XTR invoice with two prices is refused as Telegram does."""
        prices = [LabeledPrice(label="a", amount=1), LabeledPrice(label="b", amount=2)]
        with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
            await bot.send_invoice(
                1, title="T", description="D", payload="p", currency="XTR", prices=prices
            )

    async def test_unknown_pre_checkout_query_is_refused(self, bot: Bot) -> None:
        """Answering a pre-checkout query that is not pending is Telegram's 400."""
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_pre_checkout_query("123", ok=True)
