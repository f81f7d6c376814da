"""``hookgram doctor`` against the emulator, a real SQLite file and real certificate files."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import sqlalchemy

from hookgram.config import load_settings
from hookgram.doctor import check_public_url, check_secret_token, check_source_secret
from hookgram.inbox.engine import create_engine
from hookgram.inbox.store import InboxStore
from hookgram.sandbox import BotAPIEmulator
from tests.certs import make_tls_files
from tests.conftest import PUBLIC_URL, TOKEN, InvokeCli
from tests.process import HookgramProcess

WEBHOOK_URL = PUBLIC_URL + "/webhook"


@pytest.fixture
async def healthy(emulator: BotAPIEmulator, database_url: str, tmp_path: Path) -> dict[str, str]:
    """A deployment every check passes: inbox created, TLS files, webhook registered."""
    engine = create_engine(load_settings(database_url=database_url).database_url)
    await InboxStore(engine).create_schema()
    await engine.dispose()
    cert, key = make_tls_files(tmp_path, "bot.example.com")
    webhook = emulator.webhook
    webhook.url, webhook.max_connections, webhook.allowed_updates = WEBHOOK_URL, 40, ["message"]
    webhook.has_custom_certificate = True  # the served certificate is self-signed: uploaded
    return {"HOOKGRAM_TLS_CERT": str(cert), "HOOKGRAM_TLS_KEY": str(key)}


def _line(output: str, name: str) -> str:
    [line] = [line for line in output.splitlines() if line[2:].startswith(name + ":")]
    return line


class TestDoctor:
    async def test_all_pass(self, hookgram_cli: InvokeCli, healthy: dict[str, str]) -> None:
        """A healthy deployment: one ✓ line per check, the bot's username shown, exit 0."""
        result = await hookgram_cli("doctor", **healthy)
        lines = result.stdout.splitlines()
        assert [line.split(":")[0] for line in lines] == [
            "✓ public URL",
            "✓ TLS",
            "✓ secret token",
            "✓ database",
            "✓ app",
            "✓ token",
            "✓ webhook",
            "✓ delivery",
        ]
        assert "@hookgram_test_bot" in _line(result.stdout, "token")
        assert "names bot.example.com" in _line(result.stdout, "TLS")
        assert result.code == 0

    async def test_sources_listed(
        self, hookgram_cli: InvokeCli, healthy: dict[str, str], tmp_path: Path
    ) -> None:
        """Each configured source that verifies with a secret gets a line of its own."""
        (tmp_path / "hookgram.toml").write_text(
            '[[sources]]\nname = "shop"\nverify = "hmac-sha256"\nheader = "X-Sig"\n'
            'secret = "env:SHOP_SECRET"\nnotify = [1]\n'
        )
        result = await hookgram_cli("doctor", SHOP_SECRET="s3cret-value", **healthy)
        assert "✓ source shop:" in result.stdout
        assert "s3cret-value" not in result.stdout + result.stderr

    async def test_webhook_elsewhere(
        self, hookgram_cli: InvokeCli, healthy: dict[str, str], emulator: BotAPIEmulator
    ) -> None:
        """A webhook registered at another URL fails its check with the command that fixes it."""
        emulator.webhook.url = "https://old.example.com/webhook"
        result = await hookgram_cli("doctor", **healthy)
        line = _line(result.stdout, "webhook")
        assert line.startswith("✗ webhook: url: Telegram has https://old.example.com/webhook")
        assert line.endswith("— fix: `hookgram webhook set`")
        assert result.code == 1

    async def test_settings_differ(
        self, hookgram_cli: InvokeCli, healthy: dict[str, str], emulator: BotAPIEmulator
    ) -> None:
        """Registered settings that differ (the handlers' update types) fail the check."""
        emulator.webhook.allowed_updates = ["message", "poll"]
        result = await hookgram_cli("doctor", **healthy)
        assert "allowed_updates: Telegram has message, poll" in _line(result.stdout, "webhook")
        assert result.code == 1

    async def test_delivery_failing(
        self, hookgram_cli: InvokeCli, healthy: dict[str, str], emulator: BotAPIEmulator
    ) -> None:
        """A recent delivery error fails the delivery check with its fix."""
        emulator.webhook.last_error_date = int(time.time()) - 30
        emulator.webhook.last_error_message = "Wrong response from the webhook: 401 Unauthorized"
        result = await hookgram_cli("doctor", **healthy)
        line = _line(result.stdout, "delivery")
        # The doctor runs its checks first: on a busy machine the error is a second older.
        assert re.match(r"✗ delivery: delivery failed 3[0-2] seconds ago", line)
        assert "--force-set-webhook" in line
        assert result.code == 1

    async def test_database_file_missing(
        self, hookgram_cli: InvokeCli, healthy: dict[str, str], tmp_path: Path
    ) -> None:
        """A SQLite file that does not exist is reported, and not created by the check."""
        missing = tmp_path / "nowhere.db"
        result = await hookgram_cli(
            "doctor", HOOKGRAM_DATABASE_URL=f"sqlite:///{missing}", **healthy
        )
        assert "the file does not exist" in _line(result.stdout, "database")
        assert not missing.exists()
        assert result.code == 1

    async def test_schema_not_current(
        self, hookgram_cli: InvokeCli, healthy: dict[str, str], tmp_path: Path
    ) -> None:
        """A database from another version (a column missing, a table missing) is not current."""
        old = tmp_path / "old.db"
        engine = sqlalchemy.create_engine(f"sqlite:///{old}")
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("CREATE TABLE inbox_events (id INTEGER)"))
        engine.dispose()
        result = await hookgram_cli("doctor", HOOKGRAM_DATABASE_URL=f"sqlite:///{old}", **healthy)
        line = _line(result.stdout, "database")
        assert "schema not current" in line
        assert "inbox_events lacks source" in line
        assert "table inbox_attempts missing" in line

    async def test_tls_problem(
        self, hookgram_cli: InvokeCli, healthy: dict[str, str], tmp_path: Path
    ) -> None:
        """Certificate files that do not name the public host fail the TLS check."""
        other = tmp_path / "other"
        other.mkdir()
        cert, key = make_tls_files(other, "elsewhere.example.com")
        result = await hookgram_cli(
            "doctor", HOOKGRAM_TLS_CERT=str(cert), HOOKGRAM_TLS_KEY=str(key)
        )
        assert "not for bot.example.com" in _line(result.stdout, "TLS")
        assert result.code == 1

    async def test_app_not_loading(self, hookgram_cli: InvokeCli, healthy: dict[str, str]) -> None:
        """An APP that cannot be imported fails its check and the webhook is still checked."""
        result = await hookgram_cli("doctor", "no_such_module:router", **healthy)
        assert "cannot import no_such_module" in _line(result.stdout, "app")
        assert _line(result.stdout, "webhook").startswith("✗ webhook: registered at")
        assert result.code == 1

    async def test_bad_token_as_process(
        self, tmp_path: Path, emulator: BotAPIEmulator, healthy: dict[str, str]
    ) -> None:
        """A refused token: the token line says so, exit 1, no traceback, no token shown."""
        env = {
            "BOT_TOKEN": "999:WRONG-TOKEN",
            "HOOKGRAM_PUBLIC_URL": PUBLIC_URL,
            "HOOKGRAM_API_URL": emulator.base_url,
            **healthy,
        }
        process = HookgramProcess(["doctor"], env, tmp_path)
        await process.start(ready=None)
        try:
            assert await process.wait() == 1
        finally:
            await process.close()
        assert "✗ token: getMe: the Bot API rejected BOT_TOKEN" in process.output
        assert "✗ webhook: not checked" in process.output
        assert "Traceback" not in process.output
        assert "WRONG-TOKEN" not in process.output


class TestChecks:
    def test_public_url_unset(self) -> None:
        """No public URL fails with an example, unless polling needs none."""
        result = check_public_url(load_settings(bot_token=TOKEN))
        assert not result.ok
        assert "https://bot.example.com" in result.fix
        assert check_public_url(load_settings(bot_token=TOKEN, polling=True)).ok

    def test_secret_token(self) -> None:
        """A configured or derived secret in Telegram's format passes, without being shown."""
        configured = check_secret_token(load_settings(bot_token=TOKEN, secret_token="abc_DEF-1"))
        assert configured.line() == "✓ secret token: HOOKGRAM_SECRET_TOKEN, 9 valid characters"
        derived = check_secret_token(load_settings(bot_token=TOKEN))
        assert derived.line() == "✓ secret token: derived from BOT_TOKEN, 64 valid characters"
        assert not check_secret_token(load_settings()).ok

    def test_source_secret(self) -> None:
        """A source without its secret fails, naming the setting to set."""
        assert check_source_secret("payments", "s3cret", "HOOKGRAM_SOURCE_PAYMENTS_SECRET").ok
        missing = check_source_secret("payments", None, "HOOKGRAM_SOURCE_PAYMENTS_SECRET")
        assert missing.line() == (
            "✗ source payments: HOOKGRAM_SOURCE_PAYMENTS_SECRET is not set, so its requests "
            "cannot be verified — fix: set HOOKGRAM_SOURCE_PAYMENTS_SECRET to the secret the "
            "sender signs with"
        )
