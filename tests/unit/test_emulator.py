"""The Bot API emulator, driven over real loopback HTTP by aiohttp and by aiogram."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BotCommand, BufferedInputFile, MessageId

from hookgram.sandbox import BotAPIEmulator

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def bot(emulator: BotAPIEmulator) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    yield Bot(TOKEN, session=session)
    # Closing the aiohttp session ourselves skips aiogram's 250 ms grace sleep for TLS sockets.
    await (await session.create_session()).close()


def url(emulator: BotAPIEmulator, method: str, token: str = TOKEN) -> str:
    return f"{emulator.base_url}/bot{token}/{method}"


async def post_json(
    http: aiohttp.ClientSession, emulator: BotAPIEmulator, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    async with http.post(url(emulator, method), json=params) as response:
        return response.status, await response.json()


class TestBodyEncodings:
    async def test_json_body_is_recorded_as_is(
        self, emulator: BotAPIEmulator, http: aiohttp.ClientSession
    ) -> None:
        """A JSON body's parameters are recorded unchanged under the canonical method name."""
        status, body = await post_json(http, emulator, "sendMessage", chat_id=42, text="hi")

        assert status == 200
        assert body["result"]["text"] == "hi"
        call = emulator.calls[-1]
        assert (call.method, call.token, call.params) == (
            "sendMessage",
            TOKEN,
            {"chat_id": 42, "text": "hi"},
        )

    async def test_urlencoded_values_are_json_decoded(
        self, emulator: BotAPIEmulator, http: aiohttp.ClientSession
    ) -> None:
        """Form values that parse as JSON are recorded decoded; texts keep their exact string."""
        form = {"chat_id": "42", "text": "123", "reply_markup": '{"inline_keyboard": []}'}
        async with http.post(url(emulator, "sendMessage"), data=form) as response:
            body = await response.json()

        assert body["result"]["text"] == "123"
        assert emulator.calls[-1].params == {
            "chat_id": 42,
            "text": 123,
            "reply_markup": {"inline_keyboard": []},
        }

    async def test_multipart_captures_files(
        self, emulator: BotAPIEmulator, http: aiohttp.ClientSession
    ) -> None:
        """Multipart file fields are captured with their filename and bytes."""
        form = aiohttp.FormData()
        form.add_field("chat_id", "7")
        form.add_field("document", b"%PDF-1", filename="report.pdf")
        async with http.post(url(emulator, "sendDocument"), data=form) as response:
            body = await response.json()

        assert body["result"]["document"]["file_name"] == "report.pdf"
        call = emulator.calls[-1]
        assert call.params == {"chat_id": 7}
        assert call.files == {"document": ("report.pdf", b"%PDF-1")}

    async def test_query_string_on_get(
        self, emulator: BotAPIEmulator, http: aiohttp.ClientSession
    ) -> None:
        """A GET with a query string is a call like any other."""
        query = {"chat_id": "-100", "text": "group"}
        async with http.get(url(emulator, "sendMessage"), params=query) as response:
            body = await response.json()

        assert body["result"]["chat"]["type"] == "supergroup"
        assert emulator.calls[-1].params == {"chat_id": -100, "text": "group"}

    async def test_method_names_are_case_insensitive(
        self, emulator: BotAPIEmulator, http: aiohttp.ClientSession
    ) -> None:
        """`SENDMESSAGE` is sendMessage and is recorded with Telegram's spelling."""
        status, _ = await post_json(http, emulator, "SENDMESSAGE", chat_id=1, text="x")

        assert status == 200
        assert emulator.counts["sendMessage"] == 1
        assert len(emulator.calls_of("sendmessage")) == 1


class TestErrorShapes:
    async def test_unknown_token_is_401(
        self, emulator: BotAPIEmulator, http: aiohttp.ClientSession
    ) -> None:
        """A token the emulator does not serve gets Telegram's 401 body."""
        async with http.post(url(emulator, "getMe", token="999:NOPE")) as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }

    async def test_unknown_method_is_404(
        self, emulator: BotAPIEmulator, http: aiohttp.ClientSession
    ) -> None:
        """An unknown method gets Telegram's 404 body."""
        status, body = await post_json(http, emulator, "sendTelepathy")

        assert status == 404
        assert body == {"ok": False, "error_code": 404, "description": "Not Found"}

    @pytest.mark.parametrize(
        ("params", "description"),
        [
            ({"text": "hi"}, "Bad Request: chat_id is empty"),
            ({"chat_id": 1, "text": "  "}, "Bad Request: message text is empty"),
            ({"chat_id": 1, "text": "<p>x</p>", "parse_mode": "HTML"}, "Bad Request: can't parse"),
        ],
    )
    async def test_bad_parameters_are_400(
        self,
        emulator: BotAPIEmulator,
        http: aiohttp.ClientSession,
        params: dict[str, Any],
        description: str,
    ) -> None:
        """Bad parameters get a 400 worded like Telegram's."""
        status, body = await post_json(http, emulator, "sendMessage", **params)

        assert status == 400
        assert body["ok"] is False
        assert body["error_code"] == 400
        assert body["description"].startswith(description)

    async def test_forgotten_chat_is_not_found(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """Sends to a forgotten chat fail with "chat not found"."""
        emulator.forget_chat(5)

        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(5, "hello?")

    async def test_blocked_chat_is_forbidden(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """Sends to a chat whose user blocked the bot raise TelegramForbiddenError."""
        emulator.block_chat(5)

        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(5, "hello?")


class TestFaultInjection:
    async def test_429_is_retry_after_for_aiogram(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """An injected 429 reaches aiogram as TelegramRetryAfter with its retry_after."""
        emulator.fail_next("sendMessage", status=429, retry_after=7)

        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(1, "x")

        assert caught.value.retry_after == 7
        assert "Too Many Requests: retry after 7" in str(caught.value)
        assert (await bot.send_message(1, "x")).text == "x"

    async def test_500_is_server_error_for_aiogram(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """An injected 500 reaches aiogram as TelegramServerError."""
        emulator.fail_next(status=500)

        with pytest.raises(TelegramServerError):
            await bot.get_me()

    async def test_faults_are_consumed_in_order(
        self, emulator: BotAPIEmulator, http: aiohttp.ClientSession
    ) -> None:
        """Faults apply in the order given, `times` over, and only to their method."""
        emulator.fail_next("getMe", status=502, times=2)
        emulator.fail_next(None, status=400, description="Bad Request: nope")

        statuses = [(await post_json(http, emulator, name))[0] for name in ("getMe", "getMe")]
        statuses.append((await post_json(http, emulator, "getWebhookInfo"))[0])
        statuses.append((await post_json(http, emulator, "getMe"))[0])

        assert statuses == [502, 502, 400, 200]

    def test_429_needs_retry_after(self) -> None:
        """A 429 without retry_after is refused, since aiogram could not read it."""
        with pytest.raises(ValueError, match="retry_after"):
            BotAPIEmulator().fail_next(status=429)


class TestDelay:
    async def test_delay_applies_to_its_method_only(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """A delayed method answers after the delay; other methods answer at once."""
        emulator.set_delay(0.3, "getMe")

        started = time.monotonic()
        await bot.get_webhook_info()
        undelayed = time.monotonic() - started
        await bot.get_me()
        delayed = time.monotonic() - started - undelayed

        assert delayed >= 0.3
        assert undelayed < 0.3


class TestWebhook:
    @pytest.mark.parametrize(
        ("params", "description"),
        [
            ({"url": "http://example.com/hook"}, "An HTTPS URL must be provided for webhook"),
            ({"url": "https://example.com:8080/hook"}, "only on ports 80, 88, 443 or 8443"),
            ({"url": "https://example.com/", "secret_token": "a b"}, "unallowed characters"),
            ({"url": "https://example.com/", "max_connections": 101}, "max_connections"),
        ],
    )
    async def test_invalid_settings_are_refused(
        self,
        emulator: BotAPIEmulator,
        http: aiohttp.ClientSession,
        params: dict[str, Any],
        description: str,
    ) -> None:
        """setWebhook refuses what Telegram refuses and keeps no webhook."""
        status, body = await post_json(http, emulator, "setWebhook", **params)

        assert status == 400
        assert body["description"].startswith("Bad Request: ")
        assert description in body["description"]
        assert emulator.webhook.url == ""

    async def test_round_trip_through_aiogram(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """What setWebhook stores, getWebhookInfo reports in a shape aiogram parses."""
        emulator.enqueue_update({"message": {}})

        assert await bot.set_webhook(
            "https://example.com/hook",
            secret_token="s3cret_-",
            max_connections=10,
            allowed_updates=["message", "callback_query"],
            drop_pending_updates=True,
            certificate=BufferedInputFile(b"PEM", filename="cert.pem"),
        )
        info = await bot.get_webhook_info()

        assert info.url == "https://example.com/hook"
        assert info.max_connections == 10
        assert info.allowed_updates == ["message", "callback_query"]
        assert info.has_custom_certificate is True
        assert info.pending_update_count == 0
        assert emulator.webhook.secret_token == "s3cret_-"
        assert emulator.webhook.certificate == b"PEM"
        assert emulator.webhook.drop_pending_updates_calls == 1

    async def test_set_answers_with_telegram_description(
        self, emulator: BotAPIEmulator, http: aiohttp.ClientSession
    ) -> None:
        """setWebhook answers True with Telegram's "Webhook was set" description."""
        _, body = await post_json(http, emulator, "setWebhook", url="https://example.com/h")

        assert body == {"ok": True, "result": True, "description": "Webhook was set"}

    async def test_errors_set_by_tests_are_reported(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """Fields a test sets on `webhook` come back through getWebhookInfo."""
        await bot.set_webhook("https://example.com/hook")
        emulator.webhook.last_error_date = 1_700_000_000
        emulator.webhook.last_error_message = "Connection refused"

        info = await bot.get_webhook_info()

        assert info.last_error_message == "Connection refused"
        assert info.last_error_date is not None

    async def test_delete_removes_the_webhook(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """deleteWebhook leaves an empty url behind."""
        await bot.set_webhook("https://example.com/hook")

        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""

    async def test_http_allowed_on_request(self, http: aiohttp.ClientSession) -> None:
        """allow_http_webhook accepts a plain-http loopback URL on any port."""
        async with BotAPIEmulator(allow_http_webhook=True) as emulator:
            hook = "http://127.0.0.1:8080/hook"
            status, _ = await post_json(http, emulator, "setWebhook", url=hook)

            assert status == 200
            assert emulator.webhook.url == hook


class TestGetUpdates:
    async def test_offset_confirms_earlier_updates(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """Updates before the offset are gone; later ones stay, parsed by aiogram."""
        ids = [emulator.enqueue_update(_text_update(text)) for text in ("a", "b", "c")]

        first = await bot.get_updates()
        rest = await bot.get_updates(offset=ids[1])

        assert [update.message.text for update in first if update.message] == ["a", "b", "c"]
        assert [update.update_id for update in rest] == ids[1:]
        assert (await bot.get_webhook_info()).pending_update_count == 2

    async def test_long_poll_returns_when_an_update_arrives(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """A long poll answers as soon as an update is queued, not at its timeout."""
        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.05)
        emulator.enqueue_update(_text_update("now"))

        updates = await poll

        assert len(updates) == 1
        assert time.monotonic() - started < 1

    async def test_long_poll_times_out_empty(self, bot: Bot) -> None:
        """With nothing queued, a long poll answers an empty list after its timeout."""
        started = time.monotonic()

        assert await bot.get_updates(timeout=1) == []
        assert time.monotonic() - started >= 1

    async def test_conflict_while_webhook_is_set(self, bot: Bot) -> None:
        """getUpdates is a 409 while a webhook is set."""
        await bot.set_webhook("https://example.com/hook")

        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()


class TestSendMessage:
    async def test_html_becomes_entities(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """HTML tags become plain text plus entities with UTF-16 offsets."""
        html = (
            '😀<b>bold</b> <i>it</i> <code>x</code> &amp; <a href="https://e.x/">link</a>\n'
            '<pre><code class="language-python">pass</code></pre>'
        )

        message = await bot.send_message(42, html, parse_mode="HTML")

        assert message.text == "😀bold it x & link\npass"
        entities = [entity.model_dump(exclude_none=True) for entity in message.entities or []]
        assert entities == [
            {"type": "bold", "offset": 2, "length": 4},
            {"type": "italic", "offset": 7, "length": 2},
            {"type": "code", "offset": 10, "length": 1},
            {"type": "text_link", "offset": 14, "length": 4, "url": "https://e.x/"},
            {"type": "pre", "offset": 19, "length": 4, "language": "python"},
        ]

    async def test_messages_are_numbered_per_chat(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """Each chat numbers its messages from 1, and `messages` shows what the user saw."""
        ids = [(await bot.send_message(chat, "m")).message_id for chat in (1, 1, 2)]

        assert ids == [1, 2, 1]
        assert [message["text"] for message in emulator.messages(1)] == ["m", "m"]
        sent = await bot.send_message(1, "hi")
        assert sent.chat.type == "private"
        assert sent.from_user is not None
        assert sent.from_user.id == 123456

    async def test_markdown_v2_becomes_entities(self, bot: Bot) -> None:
        """MarkdownV2 markup becomes plain text plus entities, escapes becoming characters."""
        message = await bot.send_message(1, "*bold* 1\\.5", parse_mode="MarkdownV2")

        assert message.text == "bold 1.5"
        entities = [entity.model_dump(exclude_none=True) for entity in message.entities or []]
        assert entities == [{"type": "bold", "offset": 0, "length": 4}]


class TestOtherMethods:
    async def test_get_me(self, bot: Bot) -> None:
        """getMe describes the bot whose id is the token's digits."""
        me = await bot.get_me()

        assert (me.id, me.is_bot, me.username) == (123456, True, "hookgram_test_bot")

    async def test_copy_and_forward(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """copyMessage answers a MessageId; both land in the target chat with the content."""
        original = await bot.send_message(1, "original")

        copied = await bot.copy_message(2, from_chat_id=1, message_id=original.message_id)
        forwarded = await bot.forward_message(2, from_chat_id=1, message_id=original.message_id)

        assert isinstance(copied, MessageId)
        assert forwarded.forward_origin is not None
        assert [message["text"] for message in emulator.messages(2)] == ["original"] * 2

    async def test_uploads_and_file_ids(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """An uploaded photo gets a file_id that a later sendDocument can reuse."""
        photo = BufferedInputFile(b"\x89PNG", filename="cat.png")

        sent = await bot.send_photo(1, photo, caption="<b>cat</b>", parse_mode="HTML")
        assert sent.photo is not None
        again = await bot.send_document(1, sent.photo[-1].file_id)

        assert sent.caption == "cat"
        assert again.document is not None
        assert again.document.file_size == 4
        assert emulator.calls_of("sendPhoto")[0].upload("photo") == ("cat.png", b"\x89PNG")

    async def test_edit_and_delete(self, emulator: BotAPIEmulator, bot: Bot) -> None:
        """Edits change what the user sees, unchanged edits fail, deletes remove the message."""
        sent = await bot.send_message(1, "draft")

        edited = await bot.edit_message_text("final", chat_id=1, message_id=sent.message_id)
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text("final", chat_id=1, message_id=sent.message_id)
        assert await bot.delete_message(1, sent.message_id)

        assert not isinstance(edited, bool)
        assert edited.text == "final"
        assert emulator.messages(1) == []

    async def test_commands_and_trivial_methods(self, bot: Bot) -> None:
        """Commands round-trip; chat actions, callback answers, close and logOut answer True."""
        commands = [BotCommand(command="start", description="Start")]

        assert await bot.set_my_commands(commands)
        assert [command.model_dump() for command in await bot.get_my_commands()] == [
            command.model_dump() for command in commands
        ]
        assert await bot.send_chat_action(1, "typing")
        assert await bot.answer_callback_query("query-1")
        assert await bot.close()
        assert await bot.log_out()


class TestRecording:
    async def test_wait_for_calls_returns_arrived_calls(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """wait_for_calls returns once enough calls of the method arrived."""
        waiting = asyncio.create_task(emulator.wait_for_calls("sendmessage", 2, timeout=2))
        await bot.send_message(1, "a")
        await bot.send_message(1, "b")

        calls = await waiting

        assert [call.params["text"] for call in calls] == ["a", "b"]

    async def test_wait_for_calls_timeout_says_what_arrived(
        self, emulator: BotAPIEmulator, bot: Bot
    ) -> None:
        """A timed-out wait names the method, the count, and the calls that did arrive."""
        await bot.get_me()

        with pytest.raises(TimeoutError) as caught:
            await emulator.wait_for_calls("sendMessage", 1, timeout=0.05)

        assert str(caught.value) == (
            "waited 0.05s for 1 sendMessage call(s) but only 0 arrived; calls so far: getMe x1"
        )

    async def test_without_recording_only_counts_are_kept(self) -> None:
        """record=False keeps per-method counts but no calls or messages."""
        async with (
            BotAPIEmulator(record=False) as emulator,
            aiohttp.ClientSession() as http,
        ):
            await post_json(http, emulator, "sendMessage", chat_id=1, text="x")

            assert emulator.counts["sendMessage"] == 1
            assert emulator.calls == []
            assert emulator.messages(1) == []
            with pytest.raises(RuntimeError, match="record=True"):
                await emulator.wait_for_calls("sendMessage", 1)

    async def test_counts_are_served_over_http(self) -> None:
        """GET /_counts answers the per-method counts, for a benchmark in another process."""
        async with (
            BotAPIEmulator(record=False) as emulator,
            aiohttp.ClientSession() as http,
        ):
            await post_json(http, emulator, "sendMessage", chat_id=1, text="x")
            await post_json(http, emulator, "sendMessage", chat_id=2, text="y")
            async with http.get(f"{emulator.base_url}/_counts") as response:
                counts = await response.json()

        assert counts == {"sendMessage": 2}


class TestStandalone:
    async def test_serves_until_sigterm(self, http: aiohttp.ClientSession) -> None:
        """`python -m hookgram.sandbox` prints its URL, serves, and exits cleanly on SIGTERM."""
        process = subprocess.Popen(
            [sys.executable, "-m", "hookgram.sandbox", "--port", "0", "--token", "42:XYZ"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            base_url = await asyncio.to_thread(process.stdout.readline)
            async with http.get(f"{base_url.strip()}/bot42:XYZ/getMe") as response:
                me = await response.json()
        finally:
            process.send_signal(signal.SIGTERM)
            returncode = await asyncio.to_thread(process.wait, 5)

        assert me["result"]["id"] == 42
        assert returncode == 0


def _text_update(text: str) -> dict[str, Any]:
    return {
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": 1, "type": "private", "first_name": "User"},
            "from": {"id": 1, "is_bot": False, "first_name": "User"},
            "text": text,
        }
    }
