"""``hookgram db`` and the schema check of ``run`` and ``worker``, as real processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hookgram.sandbox import BotAPIEmulator
from tests.conftest import TOKEN
from tests.process import HookgramProcess, free_port

Hookgram = Callable[..., HookgramProcess]


@pytest.fixture
async def hookgram(
    emulator: BotAPIEmulator, empty_postgres_url: str, tmp_path: Path
) -> AsyncIterator[Hookgram]:
    """Build ``hookgram ARGS`` processes on an empty PostgreSQL database."""
    processes: list[HookgramProcess] = []

    def build(*args: str, **env: str) -> HookgramProcess:
        process = HookgramProcess(
            args,
            {
                "BOT_TOKEN": TOKEN,
                "HOOKGRAM_PUBLIC_URL": "https://bot.example.com",
                "HOOKGRAM_HOST": "127.0.0.1",
                "HOOKGRAM_PORT": str(free_port()),
                "HOOKGRAM_API_URL": emulator.base_url,
                "HOOKGRAM_DATABASE_URL": empty_postgres_url,
                **env,
            },
            tmp_path,
        )
        processes.append(process)
        return process

    yield build
    for process in processes:
        await process.close()


async def _finished(process: HookgramProcess) -> tuple[int, str]:
    await process.start(ready=None)
    code = await process.wait()
    return code, process.output


class TestDbCommand:
    async def test_upgrade_then_check(self, hookgram: Hookgram) -> None:
        """`db check` fails on an empty database until `db upgrade` ran; `db current` says where."""
        code, output = await _finished(hookgram("db", "check"))
        assert code == 1
        assert output.strip() == (
            "error: the inbox database is empty; the head is 0001: "
            "run `hookgram db upgrade` (or start with --migrate)"
        )
        code, output = await _finished(hookgram("db", "upgrade"))
        assert (code, output.strip()) == (0, "inbox schema at revision 0001 (head)")
        code, output = await _finished(hookgram("db", "check"))
        assert (code, output.strip()) == (0, "inbox schema at revision 0001 (head)")
        code, output = await _finished(hookgram("db", "current"))
        assert (code, output.strip()) == (0, "inbox schema at revision 0001 (head)")

    async def test_unreachable_database_is_one_line(self, hookgram: Hookgram) -> None:
        """A database that does not answer is one line and exit 1, the password not shown."""
        url = f"postgresql://hookgram:hunter22@127.0.0.1:{free_port()}/inbox"
        code, output = await _finished(hookgram("db", "upgrade", HOOKGRAM_DATABASE_URL=url))
        assert code == 1
        assert output.startswith("error: inbox database unreachable (check HOOKGRAM_DATABASE_URL)")
        assert len(output.strip().splitlines()) == 1
        assert "hunter22" not in output


class TestServersCheckTheSchema:
    @pytest.mark.parametrize("command", [("run",), ("run", "--no-worker"), ("worker",)])
    async def test_refuse_an_empty_database(
        self, hookgram: Hookgram, command: tuple[str, ...]
    ) -> None:
        """`run` and `worker` on an unmigrated PostgreSQL stop with one line naming the command."""
        code, output = await _finished(hookgram(*command))
        assert code == 1
        assert "error: the inbox database is empty" in output
        assert "run `hookgram db upgrade` (or start with --migrate)" in output
        assert "Traceback" not in output

    async def test_migrate_flag_upgrades_first(
        self, hookgram: Hookgram, emulator: BotAPIEmulator
    ) -> None:
        """`run --migrate` brings the schema to the head, then serves."""
        process = hookgram("run", "--migrate")
        await process.start()
        await process.wait_for("webhook set")
        assert "inbox schema at revision 0001 (head) (upgraded: the inbox database is empty" in (
            process.output
        )
        code, _ = await _finished(hookgram("db", "check"))
        assert code == 0
