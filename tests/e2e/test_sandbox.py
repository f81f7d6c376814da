"""`hookgram sandbox` end to end through its HTTP API: sandbox → webhook → inbox → worker →
emulator → chat history, with the echo bot and two test bots."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from hookgram.inbox.models import Status
from hookgram.sandbox_service import SandboxRunning
from hookgram.sources.telegram import SECRET_HEADER
from tests.conftest import StartSandbox
from tests.process import HookgramProcess
from tests.sandbox_client import SandboxClient, tiny_png

ALICE = 100_001


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def client_for(
    start_sandbox: StartSandbox, http: aiohttp.ClientSession, app: str | None = None
) -> tuple[SandboxRunning, SandboxClient]:
    running = await start_sandbox(app)
    return running, SandboxClient(http, running.page_url)


class TestEchoThroughTheSandbox:
    async def test_start_is_greeted_in_bold(
        self, start_sandbox: StartSandbox, http: aiohttp.ClientSession
    ) -> None:
        """/start sent through the API comes back as the bold greeting in the chat history."""
        running, client = await client_for(start_sandbox, http)

        sent = await client.say(ALICE, "/start")
        [reply] = await client.bot_replies(ALICE, sent["message"])

        assert reply["text"] == "Hello, Alice!"
        assert reply["entities"] == [{"type": "bold", "offset": 7, "length": 5}]
        assert sent["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        assert await _statuses(running) == [Status.DONE]

    async def test_runs_in_real_webhook_mode(
        self, start_sandbox: StartSandbox, http: aiohttp.ClientSession
    ) -> None:
        """The bot set a loopback http webhook with a secret, and updates arrived through it."""
        running, client = await client_for(start_sandbox, http)
        sent = await client.say(ALICE, "ping")
        await client.bot_replies(ALICE, sent["message"])

        [call] = running.emulator.calls_of("setWebhook")
        url = f"http://127.0.0.1:{running.running.port}/webhook"
        assert call.params["url"] == url
        assert call.params["secret_token"]
        async with http.post(url, json={"update_id": 1}) as refused:
            assert refused.status == 401
        info = (await client.result("GET", "/bot"))["webhook"]
        assert info["url"] == url
        assert info["pending_update_count"] == 0
        async with http.post(url, json={"update_id": 1}, headers={SECRET_HEADER: "nope"}) as wrong:
            assert wrong.status == 401

    async def test_photo_is_echoed_with_the_same_file(
        self, start_sandbox: StartSandbox, http: aiohttp.ClientSession
    ) -> None:
        """A photo is copied back by file_id, and the page can fetch its bytes."""
        _, client = await client_for(start_sandbox, http)
        image = tiny_png()

        sent = await client.send_file(ALICE, "cat.png", image, caption="my cat")
        [reply] = await client.bot_replies(ALICE, sent["message"])

        assert reply["photo"][-1]["file_id"] == sent["message"]["photo"][-1]["file_id"]
        assert reply["caption"] == "my cat"
        file_id = reply["photo"][-1]["file_id"]
        async with http.get(client.base.replace("/api", f"/files/{file_id}")) as response:
            assert await response.read() == image

    async def test_group_messages_come_from_the_chosen_user(
        self, start_sandbox: StartSandbox, http: aiohttp.ClientSession
    ) -> None:
        """A new user writes in a new group; the bot answers in the group."""
        _, client = await client_for(start_sandbox, http)
        bob = await client.result("POST", "/users", json={"first_name": "Bob"})
        group = await client.result("POST", "/chats", json={"title": "Tea lovers"})

        sent = await client.say(group["id"], "/start", **{"from": bob["id"]})
        [reply] = await client.bot_replies(group["id"], sent["message"])

        assert group["type"] == "group"
        assert sent["message"]["from"]["first_name"] == "Bob"
        assert reply["text"] == "Hello, Bob!"
        assert reply["chat"]["title"] == "Tea lovers"


class TestButtons:
    async def test_press_edits_the_message_and_shows_the_answer(
        self, start_sandbox: StartSandbox, http: aiohttp.ClientSession
    ) -> None:
        """A press sends callback_query; the bot edits the message and answers the query."""
        _, client = await client_for(start_sandbox, http, "tests.bots.counter:create_router")
        sent = await client.say(ALICE, "/start")
        [counter] = await client.bot_replies(ALICE, sent["message"])

        pressed = await client.result(
            "POST",
            f"/chats/{ALICE}/messages/{counter['message_id']}/press",
            json={"callback_data": "add"},
        )
        view = await _after_answer(client, pressed["callback_query_id"])

        [edited] = [m for m in view["messages"] if m["message_id"] == counter["message_id"]]
        assert edited["text"] == "Count: 1"
        assert "edit_date" in edited
        assert view["callback_answers"][0]["text"] == "Counted 1"

    async def test_unknown_button_is_refused(
        self, start_sandbox: StartSandbox, http: aiohttp.ClientSession
    ) -> None:
        """Pressing a button the message does not have is a Telegram-shaped 400."""
        _, client = await client_for(start_sandbox, http, "tests.bots.counter:create_router")
        sent = await client.say(ALICE, "/start")
        [counter] = await client.bot_replies(ALICE, sent["message"])

        status, body = await client.call(
            "POST",
            f"/chats/{ALICE}/messages/{counter['message_id']}/press",
            json={"callback_data": "nope"},
        )

        assert status == 400
        assert body["ok"] is False
        assert body["description"].startswith("Bad Request: message")


class TestPayments:
    async def test_stars_payment_reaches_the_bot(
        self, start_sandbox: StartSandbox, http: aiohttp.ClientSession
    ) -> None:
        """Paying an invoice: pre_checkout_query, the bot's OK, successful_payment, the thanks."""
        running, client = await client_for(start_sandbox, http, "tests.bots.shop:create_router")
        sent = await client.say(ALICE, "/buy")
        [invoice] = await client.bot_replies(ALICE, sent["message"])

        outcome = await client.result(
            "POST", f"/chats/{ALICE}/messages/{invoice['message_id']}/pay", json={}
        )
        [thanks] = await client.bot_replies(ALICE, outcome["message"])

        assert invoice["invoice"]["total_amount"] == 5
        assert outcome["status"] == "paid"
        assert outcome["message"]["successful_payment"]["currency"] == "XTR"
        assert thanks["text"] == "Thanks for 5 stars!"
        [answer] = running.emulator.calls_of("answerPreCheckoutQuery")
        assert answer.params["ok"] is True

    async def test_declined_payment_says_why(
        self, start_sandbox: StartSandbox, http: aiohttp.ClientSession
    ) -> None:
        """A pre-checkout refused by the bot ends the payment with the bot's error message."""
        _, client = await client_for(start_sandbox, http, "tests.bots.shop:create_router")
        sent = await client.say(ALICE, "/nobuy")
        [invoice] = await client.bot_replies(ALICE, sent["message"])

        outcome = await client.result(
            "POST", f"/chats/{ALICE}/messages/{invoice['message_id']}/pay", json={}
        )

        assert outcome == {
            "status": "declined",
            "error_message": "Out of tea, sorry",
            "version": outcome["version"],
        }


class TestBadRequests:
    @pytest.mark.parametrize(
        ("path", "body", "status", "description"),
        [
            (f"/chats/{ALICE}/messages", {"text": " "}, 400, "Bad Request: message text is empty"),
            ("/chats/-999/messages", {"text": "hi"}, 404, "Not Found: no sandbox chat -999"),
            (f"/chats/{ALICE}/messages", {"text": "hi", "from": 5}, 404, "Not Found: no sandbox"),
            (f"/chats/{ALICE}/messages/99/pay", {}, 404, "Not Found: message 99"),
        ],
    )
    async def test_refusals_are_telegram_shaped(
        self,
        start_sandbox: StartSandbox,
        http: aiohttp.ClientSession,
        path: str,
        body: dict[str, object],
        status: int,
        description: str,
    ) -> None:
        """Bad sandbox API requests get a status and a Telegram-shaped description."""
        _, client = await client_for(start_sandbox, http)
        await client.result("GET", "/chats")

        got, answer = await client.call("POST", path, json=body)

        assert got == status
        assert answer["ok"] is False
        assert answer["description"].startswith(description)


class TestCommand:
    async def test_prints_the_page_and_stops_on_ctrl_c(
        self, tmp_path: Path, http: aiohttp.ClientSession
    ) -> None:
        """`hookgram sandbox` needs no token or URL, prints the page, and exits 0 on SIGINT."""
        process = HookgramProcess(["sandbox", "--port", "0"], env={}, cwd=tmp_path)
        try:
            await process.start(ready="chat with your bot at", timeout=60)
            await process.wait_for("\n", timeout=5)
            url = process.output.split("chat with your bot at ")[1].split()[0]
            async with http.get(url) as response:
                page = await response.text()
            process.signal(signal.SIGINT)
            code = await process.wait()
        finally:
            await process.close()

        assert "hookgram sandbox" in page
        assert code == 0
        assert "Traceback" not in process.output
        assert not list(tmp_path.iterdir())  # the inbox lived in a temporary folder


async def _after_answer(client: SandboxClient, query_id: str) -> dict[str, object]:
    for _ in range(10):
        view = await client.result("GET", f"/chats/{ALICE}")
        if any(a["callback_query_id"] == query_id for a in view["callback_answers"]):
            return view  # type: ignore[no-any-return]
        await client.result("GET", f"/chats/{ALICE}?version={view['version']}&wait=2")
    raise AssertionError("the bot never answered the callback query")


async def _statuses(running: SandboxRunning) -> list[Status]:
    """The inbox rows' statuses once none is pending or processing (5 s at most)."""
    for _ in range(100):
        statuses = [event.status for event in await running.running.store.list(limit=100)]
        if not {Status.PENDING, Status.PROCESSING} & set(statuses):
            break
        await asyncio.sleep(0.05)
    return statuses
