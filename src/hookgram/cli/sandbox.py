"""``hookgram sandbox``: try and develop a bot locally, chatting with it on a web page."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hookgram.cli.options import (
    configure_logging,
    reports_errors,
    run_until_signalled,
    setting_options,
    settings_from,
)

if TYPE_CHECKING:
    from hookgram.sandbox_service import SandboxRunning


@click.command()
@click.argument("app", required=False)
@setting_options("database_url", "worker_concurrency", "log_level")
@click.option(
    "--host", "page_host", default="127.0.0.1", show_default=True, help="where the page listens"
)
@click.option(
    "--port",
    "page_port",
    type=int,
    default=8081,
    show_default=True,
    help="the chat page's port (0: any free port)",
)
@reports_errors
def sandbox(
    app: str | None,
    config_file: Path | None,
    page_host: str,
    page_port: int,
    database_url: str | None,
    **flags: Any,
) -> None:
    """Run APP (default: the echo bot) against a local Telegram stand-in and print a chat page.

    No token, domain, certificate or tunnel: the bot runs in real webhook mode (secret header,
    de-duplication, the inbox) against hookgram's Bot API emulator over loopback http. The
    inbox is a SQLite file in a temporary folder unless --database-url names one.
    """
    from hookgram.sandbox_service import run_sandbox, sandbox_credentials

    token, secret = sandbox_credentials()
    with tempfile.TemporaryDirectory(prefix="hookgram-sandbox-") as folder:
        settings = settings_from(
            config_file,
            **flags,
            bot_token=token,
            secret_token=secret,
            host="127.0.0.1",
            port=0,
            polling=False,
            worker=True,
            database_url=database_url or f"sqlite:///{Path(folder) / 'inbox.db'}",
        )
        configure_logging(settings)

        def announce(running: SandboxRunning) -> None:
            click.echo(f"hookgram sandbox: chat with your bot at {running.page_url}")
            click.echo("(Ctrl-C stops the bot, the emulator and the page)")

        run_until_signalled(
            functools.partial(
                run_sandbox, settings, app, host=page_host, port=page_port, on_ready=announce
            )
        )
