"""``hookgram db``: the inbox schema (Alembic migrations shipped with hookgram)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from hookgram.cli.options import (
    configure_logging,
    reports_errors,
    run_async,
    setting_options,
    settings_from,
)
from hookgram.errors import SchemaError
from hookgram.inbox.engine import create_engine
from hookgram.inbox.schema import SchemaState, schema_state, upgrade

T = TypeVar("T")


@click.group()
def db() -> None:
    """Inspect and upgrade the inbox database schema."""


@db.command("upgrade")
@setting_options("database_url", "log_level")
@reports_errors
def upgrade_command(config_file: Path | None, **flags: Any) -> None:
    """Apply every pending migration (safe to run from several machines at once)."""
    state = _with_engine(config_file, flags, upgrade)
    click.echo(state.describe())


@db.command("current")
@setting_options("database_url", "log_level")
@reports_errors
def current_command(config_file: Path | None, **flags: Any) -> None:
    """Print the revision the database is at and this hookgram's head."""
    click.echo(_with_engine(config_file, flags, schema_state).describe())


@db.command("check")
@setting_options("database_url", "log_level")
@reports_errors
def check_command(config_file: Path | None, **flags: Any) -> None:
    """Exit 0 when the schema is at the head, 1 (saying what to run) when it is not."""
    state: SchemaState = _with_engine(config_file, flags, schema_state)
    problem = state.problem()
    if problem is not None:
        raise SchemaError(problem)
    click.echo(state.describe())


def _with_engine(
    config_file: Path | None,
    flags: dict[str, Any],
    action: Callable[[AsyncEngine], Awaitable[T]],
) -> T:
    settings = settings_from(config_file, **flags)
    configure_logging(settings)

    async def main() -> T:
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            return await action(engine)
        finally:
            await engine.dispose()

    return run_async(main())
