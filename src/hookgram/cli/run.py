"""``hookgram run``: serve a bot over a webhook (or polling) with the worker in-process."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import click

from hookgram.cli.options import (
    SERVER_FLAGS,
    configure_logging,
    reports_errors,
    run_until_signalled,
    setting_options,
    settings_from,
)
from hookgram.config import Settings


@click.command()
@click.argument("app", required=False)
@setting_options(*SERVER_FLAGS)
@click.option("--polling", is_flag=True, default=None, help="use getUpdates instead of a webhook")
@click.option("--no-worker", "no_worker", is_flag=True, help="only receive; run workers apart")
@click.option(
    "--drop-pending-updates", is_flag=True, default=None, help="drop what Telegram holds for us"
)
@click.option(
    "--force-set-webhook",
    is_flag=True,
    default=None,
    help="call setWebhook even when Telegram's webhook matches (after changing the secret)",
)
@click.option(
    "--migrate", is_flag=True, default=None, help=Settings.model_fields["migrate"].description
)
@reports_errors
def run(app: str | None, config_file: Path | None, no_worker: bool, **flags: Any) -> None:
    """Serve APP (module:attribute of an aiogram Router or Dispatcher; default: the echo bot)."""
    settings = settings_from(config_file, worker=False if no_worker else None, **flags)
    configure_logging(settings)
    from hookgram.service import serve

    run_until_signalled(functools.partial(serve, settings, app))
