"""``hookgram worker``: process the inbox without receiving (receivers: ``run --no-worker``)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import click

from hookgram.cli.options import (
    configure_logging,
    reports_errors,
    run_async,
    setting_options,
    settings_from,
)
from hookgram.config import Settings

WORKER_FLAGS = ("database_url", "api_url", "worker_concurrency", "log_level")


@click.command()
@click.argument("app", required=False)
@setting_options(*WORKER_FLAGS)
@click.option(
    "--migrate", is_flag=True, default=None, help=Settings.model_fields["migrate"].description
)
@reports_errors
def worker(app: str | None, config_file: Path | None, **flags: Any) -> None:
    """Process stored updates with APP (module:attribute; default: the echo bot), only that."""
    settings = settings_from(config_file, **flags)
    configure_logging(settings)
    from hookgram.worker_service import work

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await work(settings, app, stop)

    run_async(main())
