"""``hookgram doctor``: check a deployment without starting it, one line per check."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from hookgram.cli.botapi import ATTEMPTS, TIMEOUT_SECONDS, WEBHOOK_FLAGS, Console, quiet_logging
from hookgram.cli.options import reports_errors, run_async, setting_options, settings_from


@click.command()
@click.argument("app", required=False)
@setting_options(*WEBHOOK_FLAGS, "database_url")
@reports_errors
def doctor(app: str | None, config_file: Path | None, **flags: Any) -> None:
    """Check token, URL, TLS, secret, database, APP and webhook; exit 1 when one fails."""
    from hookgram.doctor import Bounds, run_checks

    settings = settings_from(config_file, **flags)
    quiet_logging(settings)
    console = Console(settings)

    async def main() -> bool:
        all_ok = True
        async for result in run_checks(settings, app, Bounds(ATTEMPTS, TIMEOUT_SECONDS)):
            console.line(result.line())
            all_ok = all_ok and result.ok
        return all_ok

    sys.exit(0 if run_async(main()) else 1)
