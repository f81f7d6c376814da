"""``hookgram events`` as a real process over the SQLite file a server writes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hookgram.inbox.models import Status
from hookgram.sandbox import BotAPIEmulator
from tests.conftest import TOKEN, Server, StartServer, WorkerFor
from tests.factories import body, message_update
from tests.process import HookgramProcess
from tests.webhooks import TOKEN_SECRET, json_body

Cli = Callable[..., Awaitable[tuple[int, str]]]

SOURCE_TOML = """
[[sources]]
name = "shop"
verify = "{verify}"
{keys}
notify = [42]
"""


@pytest.fixture
def cli(tmp_path: Path, database_url: str, emulator: BotAPIEmulator) -> Cli:
    """Run ``hookgram events ARGS`` on the test's SQLite file; exit status and output."""

    async def run(*args: str, verify: str = "none", keys: str = "") -> tuple[int, str]:
        config = tmp_path / "cli.toml"
        config.write_text(SOURCE_TOML.format(verify=verify, keys=keys))
        env = {
            "HOOKGRAM_DATABASE_URL": database_url,
            "HOOKGRAM_CONFIG": str(config),
            "BOT_TOKEN": TOKEN,
            "HOOKGRAM_API_URL": emulator.base_url,
        }
        process = HookgramProcess(["events", *args], env, tmp_path)
        await process.start(ready=None)
        return await process.wait(), process.output

    return run


def _shop(**keys: Any) -> list[dict[str, Any]]:
    return [{"name": "shop", "verify": "none", "notify": [42], **keys}]


async def _deliver(server: Server, payload: bytes, headers: dict[str, str] | None = None) -> None:
    status, _ = await server.post(payload, secret=None, path="/hooks/shop", headers=headers)
    assert status == 200


class TestList:
    async def test_filters(self, start_server: StartServer, cli: Cli) -> None:
        """Newest first, Telegram updates included; --source, --status and --limit narrow it."""
        server = await start_server(worker=False, sources=_shop())
        await server.post(body(message_update("hello", chat_id=5)))
        for n in range(3):
            await _deliver(server, json_body(type="invoice.paid", id=f"evt_{n}"))
        code, output = await cli("list")
        assert code == 0, output
        lines = output.strip().splitlines()
        assert lines[0].split() == ["ID", "RECEIVED", "SOURCE", "STATUS", "TRIES", "SUMMARY"]
        assert [line.split()[-1] for line in lines[1:4]] == ["evt_2", "evt_1", "evt_0"]
        assert "telegram" in lines[4]
        assert "'hello'" in lines[4]
        code, output = await cli("list", "--source", "shop", "--limit", "2")
        assert [line.split()[-1] for line in output.strip().splitlines()[1:]] == ["evt_2", "evt_1"]
        code, output = await cli("list", "--status", "done")
        assert output.strip().splitlines()[1:] == []


class TestShow:
    async def test_redacted_headers_body_attempts(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor, cli: Cli
    ) -> None:
        """Secret headers are redacted; the body is pretty; attempts and last error are shown."""
        server = await start_server(worker=False, sources=_shop(), max_attempts=2)
        emulator.fail_next("sendMessage", status=502, times=2)
        await _deliver(server, json_body(type="t", id="e1"), headers={"X-Api-Key": TOKEN_SECRET})
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        [event] = await server.events()
        # The source now checks that header as its token: shown rows must hide it too.
        keys = f'header = "X-Api-Key"\nsecret = "{TOKEN_SECRET}"'
        code, output = await cli("show", str(event.id), verify="token", keys=keys)
        assert code == 0, output
        assert TOKEN_SECRET not in output
        assert "x-api-key: [redacted]" in output
        assert '  "type": "t",' in output
        assert "attempts (2)" in output
        assert output.count("Bad Gateway") >= 2
        assert "gave up after 2 attempts" in output
        code, output = await cli("show", str(event.id), "--json", verify="token", keys=keys)
        record = json.loads(output)
        assert record["headers"]["x-api-key"] == "[redacted]"
        assert [a["outcome"] for a in record["attempts"]] == ["pending", "dead"]

    async def test_unknown_id(self, start_server: StartServer, cli: Cli) -> None:
        """An id that does not exist is one line and exit status 1."""
        await start_server(worker=False)
        code, output = await cli("show", "999")
        assert (code, output.strip()) == (
            1,
            "error: there is no event 999 (hookgram events list shows them)",
        )


class TestReplay:
    async def test_running_worker_picks_it_up(
        self, start_server: StartServer, emulator: BotAPIEmulator, cli: Cli
    ) -> None:
        """A replayed event is handled again by the server's worker: every chat told again."""
        server = await start_server(sources=_shop())
        await _deliver(server, json_body(type="t", id="e1"))
        await emulator.wait_for_calls("sendMessage", 1, timeout=30)
        [event] = await server.events()
        code, output = await cli("replay", str(event.id))
        assert (code, output.strip()) == (
            0,
            f"event {event.id} queued again; a running worker will process it",
        )
        await emulator.wait_for_calls("sendMessage", 2, timeout=30)
        assert len(emulator.messages(42)) == 2

    async def test_now_without_a_server(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor, cli: Cli
    ) -> None:
        """--now processes the event in the command itself, with no server running."""
        server = await start_server(worker=False, sources=_shop())
        await _deliver(server, json_body(type="t", id="e1"))
        await (await worker_for(server)).run_until_empty()
        [event] = await server.events()
        code, output = await cli("replay", str(event.id), "--now")
        assert code == 0, output
        assert output.strip().endswith(f"event {event.id} processed here: done")
        assert len(emulator.messages(42)) == 2
        assert TOKEN not in output


class TestRetry:
    async def test_dead_events_delivered_after_retry(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor, cli: Cli
    ) -> None:
        """Dead events queued again by the CLI are delivered by the next worker run."""
        server = await start_server(worker=False, sources=_shop(), max_attempts=1)
        emulator.fail_next("sendMessage", status=500, times=2)
        await _deliver(server, json_body(type="t", id="a"))
        await _deliver(server, json_body(type="t", id="b"))
        await (await worker_for(server)).run_until_empty()
        assert [e.status for e in await server.events()] == [Status.DEAD, Status.DEAD]
        code, output = await cli("retry", "--dead", "--source", "shop")
        assert (code, output.strip()) == (
            0,
            "2 dead event(s) of source shop queued again; a worker will process them",
        )
        await (await worker_for(server)).run_until_empty()
        assert [e.status for e in await server.events()] == [Status.DONE, Status.DONE]
        assert len(emulator.messages(42)) == 2

    async def test_says_which(self, cli: Cli) -> None:
        """Without --dead or --failed the command says what it needs."""
        code, output = await cli("retry")
        assert code == 2
        assert "--dead" in output
