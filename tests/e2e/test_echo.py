"""The echo bot end to end: updates posted over HTTP, replies seen at the Bot API emulator."""

from __future__ import annotations

from hookgram.inbox.models import Status
from hookgram.sandbox import BotAPIEmulator
from tests.conftest import StartServer, WorkerFor
from tests.factories import body, message_update, user


class TestEchoBot:
    async def test_start_greets_in_bold(
        self, start_server: StartServer, emulator: BotAPIEmulator
    ) -> None:
        """/start answers Hello, <b>FULL NAME</b>! in HTML, the name escaped."""
        server = await start_server()
        sender = user(7, first_name="<Tom>", last_name="& Jerry")
        status, _ = await server.post(body(message_update("/start", chat_id=7, sender=sender)))
        assert status == 200
        [call] = await emulator.wait_for_calls("sendMessage", 1)
        assert call.params["chat_id"] == 7
        assert call.params["text"] == "Hello, <b>&lt;Tom&gt; &amp; Jerry</b>!"
        assert call.params["parse_mode"] == "HTML"
        [shown] = emulator.messages(7)
        assert shown["text"] == "Hello, <Tom> & Jerry!"
        assert shown["entities"][0]["type"] == "bold"

    async def test_text_is_copied_back(
        self, start_server: StartServer, emulator: BotAPIEmulator
    ) -> None:
        """Any other message is copied back to its chat with send_copy."""
        server = await start_server()
        await server.post(body(message_update("echo me", chat_id=9, update_id=300)))
        [call] = await emulator.wait_for_calls("sendMessage", 1)
        assert call.params["chat_id"] == 9
        assert call.params["text"] == "echo me"

    async def test_uncopyable_message_gets_nice_try(
        self, start_server: StartServer, emulator: BotAPIEmulator
    ) -> None:
        """A message send_copy cannot copy (a service message) is answered with Nice try!."""
        server = await start_server()
        await server.post(body(message_update(None, chat_id=-100, new_chat_title="Renamed")))
        [call] = await emulator.wait_for_calls("sendMessage", 1)
        assert call.params["text"] == "Nice try!"

    async def test_row_marked_done(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """Once answered, the update's row is done with one attempt recorded."""
        server = await start_server(worker=False)
        await server.post(body(message_update("hi")))
        assert [e.status for e in await server.events()] == [Status.PENDING]
        await (await worker_for(server)).run_until_empty()
        [event] = await server.events()
        assert event.status is Status.DONE
        assert event.attempts == 1
        assert len(emulator.calls_of("sendMessage")) == 1
