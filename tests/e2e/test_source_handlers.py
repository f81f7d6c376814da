"""Source events in the worker: the default notify handler, users' handlers, retries, dead ends."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from hookgram.errors import ConfigError
from hookgram.inbox.models import Event, Status
from hookgram.sandbox import BotAPIEmulator
from tests.conftest import Server, StartServer, WorkerFor
from tests.webhooks import TOKEN_SECRET, json_body

HANDLERS = "tests.bots.source_handlers"


def _source(**keys: Any) -> dict[str, Any]:
    return {
        "name": "shop",
        "verify": "token",
        "header": "X-Api-Key",
        "secret": TOKEN_SECRET,
        "notify": [42],
        **keys,
    }


async def _deliver(server: Server, body: bytes) -> None:
    status, text = await server.post(
        body, secret=None, path="/hooks/shop", headers={"X-Api-Key": TOKEN_SECRET}
    )
    assert status == 200, text


async def _only(server: Server) -> Event:
    [event] = await server.events()
    return event


class TestNotifyMessage:
    async def test_readable_message(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """The chat sees the source, event type and id, then the body as pretty JSON."""
        server = await start_server(worker=False, sources=[_source()])
        await _deliver(server, json_body(type="invoice.paid", id="evt_1", note="<b>&"))
        await (await worker_for(server)).run_until_empty()
        [message] = emulator.messages(42)
        head, pretty = message["text"].split("\n", 1)
        assert head == "shop · invoice.paid · evt_1"
        assert orjson.loads(pretty) == {"type": "invoice.paid", "id": "evt_1", "note": "<b>&"}
        assert '\n  "type": "invoice.paid",' in message["text"]
        assert [e["type"] for e in message["entities"]] == ["bold", "pre"]
        assert (await _only(server)).status is Status.DONE

    async def test_long_body_is_cut_to_telegrams_limit(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """A body longer than a message is cut, escaping and all, and still delivered."""
        server = await start_server(worker=False, sources=[_source()])
        await _deliver(server, json_body(type="big", blob="<&>" * 3000))
        await (await worker_for(server)).run_until_empty()
        [message] = emulator.messages(42)
        assert 4000 < len(message["text"]) <= 4096
        assert message["text"].endswith("…")
        assert "<&><&>" in message["text"]


class TestNotifyFailures:
    async def test_429_then_200(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """A 429 is retried no sooner than retry_after; the message arrives once."""
        server = await start_server(worker=False, sources=[_source()])
        emulator.fail_next("sendMessage", status=429, retry_after=1)
        await _deliver(server, json_body(type="t", id="1"))
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        refused, delivered = emulator.calls_of("sendMessage")
        assert delivered.at - refused.at >= 1.0
        assert len(emulator.messages(42)) == 1
        event = await _only(server)
        assert (event.status, event.attempts) == (Status.DONE, 2)
        first = (await server.running.store.attempts_of(event.id))[0]
        assert first.outcome is Status.PENDING
        assert "chat 42" in (first.error or "")

    @pytest.mark.parametrize(("fault", "reason"), [("block", "blocked"), ("forget", "not found")])
    async def test_refusing_chat_is_dead_at_once(
        self,
        start_server: StartServer,
        emulator: BotAPIEmulator,
        worker_for: WorkerFor,
        fault: str,
        reason: str,
    ) -> None:
        """A chat that blocked the bot (403) or does not exist (400): dead, with the reason."""
        server = await start_server(worker=False, sources=[_source()])
        (emulator.block_chat if fault == "block" else emulator.forget_chat)(42)
        await _deliver(server, json_body(type="t", id="1"))
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        event = await _only(server)
        assert (event.status, event.attempts) == (Status.DEAD, 1)
        assert "chat 42" in (event.last_error or "")
        assert reason in (event.last_error or "")

    async def test_server_errors_retry_then_dead(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """5xx answers are retried with backoff; after max_attempts the event is dead."""
        server = await start_server(worker=False, sources=[_source()], max_attempts=2)
        emulator.fail_next("sendMessage", status=502, times=5)
        await _deliver(server, json_body(type="t", id="1"))
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        event = await _only(server)
        assert event.status is Status.DEAD
        assert "gave up after 2 attempts" in (event.last_error or "")
        assert len(emulator.calls_of("sendMessage")) == 2

    async def test_network_error_is_retried(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """With the Bot API unreachable the event waits for a retry, then is delivered."""
        server = await start_server(worker=False, sources=[_source()])
        await _deliver(server, json_body(type="t", id="1"))
        port = int(emulator.base_url.rsplit(":", 1)[1])
        await emulator.stop()
        worker = await worker_for(server)
        await worker.run_until_empty()
        event = await _only(server)
        assert (event.status, event.attempts) == (Status.PENDING, 1)
        assert "chat 42: TelegramNetworkError" in (event.last_error or "")
        await emulator.start(port=port)
        await worker.run_until_empty(wait_for_scheduled=True)
        assert (await _only(server)).status is Status.DONE
        assert len(emulator.messages(42)) == 1


class TestSeveralChats:
    async def test_retry_skips_chats_already_reached(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """When one chat's send fails, the retry sends to it alone: each chat gets one message."""
        server = await start_server(worker=False, sources=[_source(notify=[1, 2, 3])])
        emulator.fail_next("sendMessage", status=502)
        await _deliver(server, json_body(type="t", id="1"))
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        assert [len(emulator.messages(chat)) for chat in (1, 2, 3)] == [1, 1, 1]
        assert len(emulator.calls_of("sendMessage")) == 4
        event = await _only(server)
        assert (event.status, event.attempts) == (Status.DONE, 2)

    async def test_one_blocked_chat_makes_it_dead_after_the_others(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """A blocked chat does not stop the others; the event is dead naming that chat."""
        server = await start_server(worker=False, sources=[_source(notify=[1, 2, 3])])
        emulator.block_chat(2)
        await _deliver(server, json_body(type="t", id="1"))
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        assert [len(emulator.messages(chat)) for chat in (1, 3)] == [1, 1]
        event = await _only(server)
        assert event.status is Status.DEAD
        assert "chat 2:" in (event.last_error or "")
        assert "chat 1" not in (event.last_error or "")


def _seen(database_url: str) -> list[dict[str, Any]]:
    path = Path(database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as db:
        exists = db.execute("SELECT name FROM sqlite_master WHERE name = 'seen'").fetchone()
        rows = db.execute("SELECT record FROM seen").fetchall() if exists else []
    return [orjson.loads(r[0]) for r in rows]


class TestSecrets:
    async def test_source_secret_never_logged(
        self,
        start_server: StartServer,
        emulator: BotAPIEmulator,
        worker_for: WorkerFor,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Neither a refused nor an accepted request, nor a failed send, logs the secret."""
        caplog.set_level("DEBUG")
        server = await start_server(worker=False, sources=[_source()], max_attempts=1)
        wrong = TOKEN_SECRET + "x"
        status, text = await server.post(
            b"{}", secret=None, path="/hooks/shop", headers={"X-Api-Key": wrong}
        )
        assert status == 401
        assert TOKEN_SECRET not in text
        emulator.block_chat(42)
        await _deliver(server, json_body(type="t", id="1"))
        await (await worker_for(server)).run_until_empty()
        assert "refused a request" in caplog.text
        assert "is dead" in caplog.text
        assert TOKEN_SECRET not in caplog.text


class TestUserHandler:
    async def test_arguments_injected_and_session_committed(
        self,
        start_server: StartServer,
        emulator: BotAPIEmulator,
        worker_for: WorkerFor,
        database_url: str,
    ) -> None:
        """event, bot, session and notify arrive by name; the session is committed after."""
        source = _source(handler=f"{HANDLERS}:record", notify=[7, 8])
        server = await start_server(worker=False, sources=[source])
        await _deliver(server, json_body(type="order.created", id="o1"))
        await (await worker_for(server)).run_until_empty()
        event = await _only(server)
        assert event.status is Status.DONE
        [seen] = _seen(database_url)
        assert seen["id"] == event.id
        assert seen["source"] == "shop"
        assert seen["body"] == {"type": "order.created", "id": "o1"}
        assert seen["received_at"] == pytest.approx(event.received_at)
        assert seen["attempt"] == 1
        assert seen["bot_id"] == 123456
        assert "x-api-key" not in {h.lower() for h in seen["headers"]}
        assert seen["headers"]["content-type"] == "application/json"
        assert [m["text"] for m in emulator.messages(7) + emulator.messages(8)] == [
            "got order.created",
            "got order.created",
        ]

    async def test_failure_rolls_back_and_retries(
        self, start_server: StartServer, worker_for: WorkerFor, database_url: str
    ) -> None:
        """A handler that raises leaves nothing written and is retried, then dead."""
        source = _source(handler=f"{HANDLERS}:fail_after_writing")
        server = await start_server(worker=False, sources=[source], max_attempts=2)
        await _deliver(server, json_body(type="t", id="1"))
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        event = await _only(server)
        assert (event.status, event.attempts) == (Status.DEAD, 2)
        assert "the handler broke after writing" in (event.last_error or "")
        assert _seen(database_url) == []

    async def test_keyword_catch_all(
        self, start_server: StartServer, worker_for: WorkerFor
    ) -> None:
        """A handler taking **kwargs is given everything."""
        source = _source(handler=f"{HANDLERS}:keyword_catch_all")
        server = await start_server(worker=False, sources=[source])
        await _deliver(server, json_body(type="t", id="1"))
        await (await worker_for(server)).run_until_empty()
        assert (await _only(server)).status is Status.DONE

    @pytest.mark.parametrize(
        ("handler", "message"),
        [
            ("wrong_parameter", 'parameter "state" is not something hookgram can pass'),
            ("not_a_coroutine", "must be an async function"),
            ("missing", "has no missing"),
        ],
    )
    async def test_bad_handler_stops_start_up(
        self, start_server: StartServer, handler: str, message: str
    ) -> None:
        """A handler hookgram cannot call is a ConfigError at start-up, naming the source."""
        with pytest.raises(ConfigError, match=f'source "shop": key "handler": .*{message}'):
            await start_server(sources=[_source(handler=f"{HANDLERS}:{handler}")])
