"""``hookgram webhook info|set|delete`` against the Bot API emulator."""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path

import pytest

from hookgram.sandbox import BotAPIEmulator
from tests.conftest import PUBLIC_URL, TOKEN, InvokeCli, StartServer
from tests.factories import message_update
from tests.process import HookgramProcess, free_port

WEBHOOK_URL = PUBLIC_URL + "/webhook"


def _registered(emulator: BotAPIEmulator, **fields: object) -> None:
    """Make Telegram's webhook the configured one, then apply ``fields``."""
    webhook = emulator.webhook
    webhook.url, webhook.max_connections = WEBHOOK_URL, 40
    for name, value in fields.items():
        setattr(webhook, name, value)


class TestInfo:
    async def test_shows_every_field(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator
    ) -> None:
        """Every getWebhookInfo field is shown, times as "N minutes ago" with the UTC date."""
        error_at = int(time.time()) - 180
        _registered(
            emulator,
            has_custom_certificate=True,
            pending_update_count=7,
            ip_address="203.0.113.9",
            allowed_updates=["message", "callback_query"],
            last_error_date=error_at,
            last_error_message="Connection refused",
            last_synchronization_error_date=int(time.time()) - 7200,
        )
        result = await hookgram_cli("webhook", "info")
        stamp = datetime.datetime.fromtimestamp(error_at, datetime.UTC).strftime("%Y-%m-%d %H:%M")
        lines = result.stdout.splitlines()
        assert f"  URL                 {WEBHOOK_URL}" in lines
        assert "  custom certificate  yes (uploaded)" in lines
        assert "  pending updates     7" in lines
        assert "  max connections     40" in lines
        assert "  IP address          203.0.113.9" in lines
        assert "  allowed updates     message, callback_query" in lines
        assert any(
            line.startswith("  last error          Connection refused (3 minutes ago, " + stamp)
            for line in lines
        )
        assert any(line.startswith("  last sync error     (2 hours ago") for line in lines)
        assert result.code == 1

    async def test_healthy_exits_0(self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator) -> None:
        """A webhook at the configured URL with no errors is healthy: exit 0."""
        _registered(emulator, pending_update_count=3)
        result = await hookgram_cli("webhook", "info")
        assert "✓ no problems found" in result.stdout
        assert result.code == 0

    async def test_json_is_the_raw_result(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator
    ) -> None:
        """--json prints getWebhookInfo's result as JSON, and the exit status still diagnoses."""
        _registered(emulator, last_error_date=int(time.time()), last_error_message="Read timeout")
        result = await hookgram_cli("webhook", "info", "--json")
        assert json.loads(result.stdout) == emulator.webhook.info()
        assert result.code == 1

    @pytest.mark.parametrize(
        ("fields", "expected"),
        [
            ({"url": ""}, "no webhook is registered"),
            (
                {"url": "https://old.example.com/hook"},
                "registered URL https://old.example.com/hook",
            ),
            ({"max_connections": 10}, "max_connections: Telegram has 10, configured 40"),
            ({"has_custom_certificate": True}, "CA-issued certificate (Let's Encrypt) stops"),
            ({"pending_update_count": 250}, "250 updates are pending"),
        ],
    )
    async def test_webhook_problems(
        self,
        hookgram_cli: InvokeCli,
        emulator: BotAPIEmulator,
        fields: dict[str, object],
        expected: str,
    ) -> None:
        """Each problem with the registration is explained, and makes the exit status 1."""
        _registered(emulator, **fields)
        result = await hookgram_cli("webhook", "info")
        assert expected in result.stdout
        assert "✗" in result.stdout
        assert result.code == 1

    @pytest.mark.parametrize(
        ("message", "explained"),
        [
            ("SSL error {error:0A000086:SSL routines::certificate verify failed}", "fullchain.pem"),
            ("Connection refused", "Nothing listens at the URL's host and port"),
            ("Connection timed out", "a firewall or security group drops them"),
            ("Read timeout expired", "no answer within 60 seconds"),
            ("Wrong response from the webhook: 401 Unauthorized", "--force-set-webhook"),
            ("Wrong response from the webhook: 403 Forbidden", "IP allow-list"),
            ("Wrong response from the webhook: 404 Not Found", "HOOKGRAM_WEBHOOK_PATH"),
            ("Wrong response from the webhook: 500 Internal Server Error", "never answers 500"),
            ("Wrong response from the webhook: 502 Bad Gateway", "could not reach hookgram"),
            ("Wrong response from the webhook: 503 Service Unavailable", "could not commit"),
            ("Wrong response from the webhook: 302 Found", "does not follow redirects"),
            ("Failed to resolve host: Name or service not known", "could not resolve"),
        ],
    )
    async def test_last_error_explained(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator, message: str, explained: str
    ) -> None:
        """A recent delivery error is a problem, explained in plain words with its age."""
        _registered(emulator, last_error_date=int(time.time()) - 120, last_error_message=message)
        result = await hookgram_cli("webhook", "info")
        assert f"✗ delivery failed 2 minutes ago: {message}" in result.stdout
        assert explained in result.stdout
        assert result.code == 1

    async def test_uploaded_certificate_ssl_error(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator
    ) -> None:
        """An SSL error with an uploaded certificate points at the upload, not the chain."""
        _registered(
            emulator,
            has_custom_certificate=True,
            last_error_date=int(time.time()),
            last_error_message="SSL error {certificate verify failed}",
        )
        result = await hookgram_cli("webhook", "info")
        assert "against the certificate uploaded with setWebhook" in result.stdout

    async def test_old_error_is_a_note(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator
    ) -> None:
        """An error from two days ago with nothing failing since is history: shown, exit 0."""
        _registered(
            emulator,
            last_error_date=int(time.time()) - 2 * 86400,
            last_error_message="Connection refused",
        )
        result = await hookgram_cli("webhook", "info")
        assert "• the last delivery error was 2 days ago: Connection refused" in result.stdout
        assert result.code == 0

    async def test_sync_error_is_a_note(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator
    ) -> None:
        """Telegram's own synchronisation error is reported as not this server's doing."""
        _registered(emulator, last_synchronization_error_date=int(time.time()) - 60)
        result = await hookgram_cli("webhook", "info")
        assert "• Telegram had a synchronisation error 1 minute ago" in result.stdout
        assert result.code == 0

    async def test_app_gives_the_update_types(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator
    ) -> None:
        """With APP, the registered allowed updates are compared with its handlers' types."""
        _registered(emulator, allowed_updates=["message", "edited_message"])
        result = await hookgram_cli("webhook", "info", "hookgram.bots.echo:create_router")
        assert "allowed_updates: Telegram has message, edited_message, configured message" in (
            result.stdout
        )
        assert result.code == 1

    async def test_without_public_url(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator
    ) -> None:
        """Without HOOKGRAM_PUBLIC_URL the info is shown and the comparison said to be skipped."""
        _registered(emulator, url="https://elsewhere.example.com/hook")
        result = await hookgram_cli("webhook", "info", HOOKGRAM_PUBLIC_URL=None)
        assert "the URL and settings were not compared" in result.stdout
        assert result.code == 0


class TestSet:
    async def test_registers_what_run_registers(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator, start_server: StartServer
    ) -> None:
        """`webhook set` sends setWebhook exactly the parameters `run` sends."""
        await start_server(max_connections=17, webhook_ip_address="203.0.113.9")
        [by_run] = emulator.calls_of("setWebhook")
        emulator.webhook.remove()
        result = await hookgram_cli(
            "webhook",
            "set",
            HOOKGRAM_MAX_CONNECTIONS="17",
            HOOKGRAM_WEBHOOK_IP_ADDRESS="203.0.113.9",
        )
        assert result.code == 0
        by_set = emulator.calls_of("setWebhook")[1]
        assert by_set.params == by_run.params
        assert by_set.params["ip_address"] == "203.0.113.9"
        assert f"webhook set to {WEBHOOK_URL}" in result.stdout

    async def test_keeps_pending_updates(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator
    ) -> None:
        """Without --drop-pending-updates nothing Telegram holds is dropped."""
        for n in range(4):
            emulator.enqueue_update(message_update(f"m{n}"))
        result = await hookgram_cli("webhook", "set")
        assert result.code == 0
        [call] = emulator.calls_of("setWebhook")
        assert "drop_pending_updates" not in call.params
        assert emulator.webhook.pending_update_count == 4
        assert "4 pending updates kept" in result.stdout

    async def test_drop_needs_confirmation(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator
    ) -> None:
        """--drop-pending-updates with no answer on stdin changes nothing and exits 1."""
        emulator.enqueue_update(message_update("keep me"))
        result = await hookgram_cli("webhook", "set", "--drop-pending-updates")
        assert result.code == 1
        assert emulator.calls_of("setWebhook") == []
        assert emulator.webhook.pending_update_count == 1
        assert "nothing changed" in result.stderr

    async def test_drop_with_yes(self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator) -> None:
        """--drop-pending-updates --yes sets the webhook and drops what Telegram holds."""
        emulator.enqueue_update(message_update("drop me"))
        result = await hookgram_cli("webhook", "set", "--drop-pending-updates", "--yes")
        assert result.code == 0
        [call] = emulator.calls_of("setWebhook")
        assert call.params["drop_pending_updates"] is True
        assert emulator.webhook.pending_update_count == 0


class TestSettings:
    async def test_same_sources_as_run(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator, tmp_path: Path
    ) -> None:
        """The commands read the TOML file, .env, the environment and flags, as `run` does."""
        (tmp_path / "hookgram.toml").write_text("max_connections = 9\n")
        (tmp_path / ".env").write_text("HOOKGRAM_PUBLIC_URL=https://from-dotenv.example.com\n")
        result = await hookgram_cli(
            "webhook", "set", "--webhook-path", "/from-flag", HOOKGRAM_PUBLIC_URL=None
        )
        assert result.code == 0
        [call] = emulator.calls_of("setWebhook")
        assert call.params["url"] == "https://from-dotenv.example.com/from-flag"
        assert call.params["max_connections"] == 9


class TestDelete:
    async def test_keeps_pending_updates(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator
    ) -> None:
        """Plain delete removes the webhook and keeps every pending update."""
        _registered(emulator)
        emulator.enqueue_update(message_update("keep me"))
        result = await hookgram_cli("webhook", "delete")
        assert result.code == 0
        [call] = emulator.calls_of("deleteWebhook")
        assert call.params.get("drop_pending_updates") in (None, False)
        assert emulator.webhook.url == ""
        assert emulator.webhook.pending_update_count == 1
        assert "1 pending updates kept" in result.stdout

    @pytest.mark.parametrize("answer", [None, "n\n", "\n"])
    async def test_drop_not_confirmed_does_nothing(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator, answer: str | None
    ) -> None:
        """Dropping without --yes, answered no (or not at all), leaves webhook and updates."""
        _registered(emulator)
        emulator.enqueue_update(message_update("keep me"))
        result = await hookgram_cli("webhook", "delete", "--drop-pending-updates", input=answer)
        assert result.code == 1
        assert emulator.calls_of("deleteWebhook") == []
        assert emulator.webhook.url == WEBHOOK_URL
        assert emulator.webhook.pending_update_count == 1
        assert emulator.webhook.drop_pending_updates_calls == 0

    async def test_drop_confirmed(self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator) -> None:
        """Answering yes drops; the question names how many updates go."""
        _registered(emulator)
        for n in range(3):
            emulator.enqueue_update(message_update(f"m{n}"))
        result = await hookgram_cli("webhook", "delete", "--drop-pending-updates", input="y\n")
        assert "Drop the 3 updates" in result.stdout
        assert result.code == 0
        assert emulator.webhook.pending_update_count == 0

    async def test_drop_with_yes(self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator) -> None:
        """--drop-pending-updates --yes drops without asking."""
        _registered(emulator)
        emulator.enqueue_update(message_update("drop me"))
        result = await hookgram_cli("webhook", "delete", "--drop-pending-updates", "--yes")
        assert result.code == 0
        [call] = emulator.calls_of("deleteWebhook")
        assert call.params["drop_pending_updates"] is True
        assert emulator.webhook.pending_update_count == 0
        assert emulator.webhook.url == ""


COMMANDS = [("webhook", "info"), ("webhook", "set"), ("webhook", "delete"), ("doctor",)]


class TestBotAPIErrors:
    @pytest.mark.parametrize("command", COMMANDS[:3])
    async def test_rejected_token(self, hookgram_cli: InvokeCli, command: tuple[str, ...]) -> None:
        """A token the Bot API refuses: one line saying so, exit 1, the token not shown."""
        result = await hookgram_cli(*command, BOT_TOKEN="999:WRONG-TOKEN")
        assert result.code == 1
        assert result.stdout == ""
        [line] = result.stderr.splitlines()
        assert "rejected BOT_TOKEN" in line
        assert "WRONG-TOKEN" not in line

    @pytest.mark.parametrize("command", COMMANDS[:3])
    async def test_unreachable(self, hookgram_cli: InvokeCli, command: tuple[str, ...]) -> None:
        """A Bot API nobody answers at: a few tries, then one line and exit 1."""
        api_url = f"http://127.0.0.1:{free_port()}"
        result = await hookgram_cli(*command, HOOKGRAM_API_URL=api_url)
        assert result.code == 1
        [line] = result.stderr.splitlines()
        assert f"Bot API at {api_url} unreachable" in line

    async def test_no_secret_in_any_output(
        self, hookgram_cli: InvokeCli, emulator: BotAPIEmulator
    ) -> None:
        """No command prints the token or the secret, even where Telegram's answer holds one."""
        secret = "configured-secret-0123456789"
        env = {"HOOKGRAM_SECRET_TOKEN": secret, "HOOKGRAM_LOG_LEVEL": "DEBUG"}
        outputs = [(await hookgram_cli("webhook", "set", **env)).output]
        emulator.webhook.url = f"https://old.example.com/{TOKEN}"
        emulator.webhook.last_error_message = f"Wrong response from the webhook: 401 {secret}"
        emulator.webhook.last_error_date = int(time.time())
        for command in [("webhook", "info"), ("webhook", "info", "--json"), ("doctor",)]:
            outputs.append((await hookgram_cli(*command, **env)).output)
        outputs.append((await hookgram_cli("webhook", "delete", "--yes", **env)).output)
        everything = "\n".join(outputs)
        assert "https://old.example.com/***" in everything
        for leaked in (TOKEN, TOKEN.split(":")[1], secret):
            assert leaked not in everything


class TestAsProcess:
    async def _run(self, tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
        process = HookgramProcess(args, {"HOOKGRAM_PUBLIC_URL": PUBLIC_URL, **env}, tmp_path)
        await process.start(ready=None)
        try:
            return await process.wait(), process.output
        finally:
            await process.close()

    async def test_bad_token_one_line(self, tmp_path: Path, emulator: BotAPIEmulator) -> None:
        """`hookgram webhook info` with a refused token: one line on the terminal, exit 1."""
        code, output = await self._run(
            tmp_path,
            "webhook",
            "info",
            BOT_TOKEN="999:WRONG-TOKEN",
            HOOKGRAM_API_URL=emulator.base_url,
        )
        assert code == 1
        assert output.splitlines() == [
            "error: getWebhookInfo: the Bot API rejected BOT_TOKEN (401 Unauthorized): "
            "check the token @BotFather gave you"
        ]

    async def test_unreachable_one_line(self, tmp_path: Path) -> None:
        """`hookgram webhook delete` with the Bot API down: one line, non-zero, no traceback."""
        code, output = await self._run(
            tmp_path,
            "webhook",
            "delete",
            BOT_TOKEN=TOKEN,
            HOOKGRAM_API_URL=f"http://127.0.0.1:{free_port()}",
        )
        assert code != 0
        [line] = output.splitlines()
        assert line.startswith("error: getWebhookInfo failed after 3 attempts")
        assert "Traceback" not in output

    async def test_healthy_info_exits_0(self, tmp_path: Path, emulator: BotAPIEmulator) -> None:
        """`hookgram webhook info` on a healthy webhook exits 0; with a problem, 1."""
        _registered(emulator)
        env = {"BOT_TOKEN": TOKEN, "HOOKGRAM_API_URL": emulator.base_url}
        assert (await self._run(tmp_path, "webhook", "info", **env))[0] == 0
        emulator.webhook.url = ""
        assert (await self._run(tmp_path, "webhook", "info", **env))[0] == 1
