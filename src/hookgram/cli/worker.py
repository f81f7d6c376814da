"""``hookgram worker``: process the inbox without receiving (receivers: ``run --no-worker``)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import click

from hookgram.cli.options import (
    configure_logging,
    reports_errors,
    run_until_signalled,
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

    run_until_signalled(functools.partial(work, settings, app))
