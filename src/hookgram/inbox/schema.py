"""The inbox schema: its Alembic revision, the upgrade to the head, and what a database lacks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from hookgram.errors import SchemaError, StoreUnavailableError
from hookgram.inbox.models import metadata

log = logging.getLogger(__name__)

MIGRATIONS = "hookgram.inbox:migrations"
UPGRADE_COMMAND = "hookgram db upgrade"
# Any constant will do: concurrent upgrades on one PostgreSQL wait for each other on it.
UPGRADE_LOCK = 0x686F6F6B


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database stands against the migrations this hookgram ships."""

    current: tuple[str, ...]
    head: tuple[str, ...]
    unknown: tuple[str, ...]
    empty: bool

    @property
    def up_to_date(self) -> bool:
        """True when the database is at the head revision."""
        return set(self.current) == set(self.head)

    def describe(self) -> str:
        """One line for ``hookgram db current``."""
        head = ", ".join(self.head)
        if self.up_to_date:
            return f"inbox schema at revision {head} (head)"
        if self.current:
            return f"inbox schema at revision {', '.join(self.current)}; the head is {head}"
        if self.empty:
            return f"the inbox database is empty; the head is {head}"
        return f"the inbox tables have no schema revision; the head is {head}"

    def problem(self) -> str | None:
        """Why a server cannot start on this database, with the fix; None when it can."""
        if self.unknown:
            return (
                f"the inbox schema is at revision {', '.join(self.unknown)}, which this hookgram "
                "does not know: a newer hookgram migrated it; upgrade hookgram"
            )
        if self.up_to_date:
            return None
        return f"{self.describe()}: run `{UPGRADE_COMMAND}` (or start with --migrate)"


def alembic_config() -> Config:
    """The Alembic configuration of the migrations shipped in this package."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


async def schema_state(engine: AsyncEngine) -> SchemaState:
    """Read the database's revision; StoreUnavailableError when it cannot be reached."""
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read_schema_state)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailableError(
            f"inbox database unreachable (check HOOKGRAM_DATABASE_URL): {exc}"
        ) from exc


async def upgrade(engine: AsyncEngine) -> SchemaState:
    """Apply every pending migration in one transaction; returns the new state."""
    await schema_state(engine)  # an unreachable database is said so, not "upgrade failed"
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": UPGRADE_LOCK})
            await conn.run_sync(_upgrade)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailableError(f"inbox database upgrade failed: {exc}") from exc
    except CommandError as exc:
        raise SchemaError(f"inbox database upgrade failed: {exc}") from exc
    return await schema_state(engine)


async def prepare(engine: AsyncEngine, *, migrate: bool) -> None:
    """Make sure a server may use the database: upgrade when asked, else refuse a stale schema.

    A brand-new, empty SQLite database is migrated without being asked, so ``hookgram run``
    works with zero setup; PostgreSQL, shared by many processes, is migrated only on purpose.
    """
    state = await schema_state(engine)
    fresh_sqlite = state.empty and engine.dialect.name == "sqlite"
    problem = state.problem()
    if problem is None:
        return
    if state.unknown or not (migrate or fresh_sqlite):
        raise SchemaError(problem)
    after = await upgrade(engine)
    log.info("%s (upgraded: %s)", after.describe(), state.describe())


def read_schema_state(conn: Connection) -> SchemaState:
    """``schema_state`` on a synchronous connection (inside ``run_sync``)."""
    current = MigrationContext.configure(conn).get_current_heads()
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    return SchemaState(
        current=tuple(current),
        head=tuple(script.get_heads()),
        unknown=tuple(rev for rev in current if rev not in known),
        empty=not inspect(conn).get_table_names(),
    )


def _upgrade(conn: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def schema_problems(connection: Connection) -> list[str]:
    """What the database lacks of this hookgram's tables and columns (empty: current)."""
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    problems: list[str] = []
    for table in metadata.sorted_tables:
        if table.name not in existing:
            problems.append(f"table {table.name} missing")
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [column.name for column in table.columns if column.name not in present]
        if missing:
            problems.append(f"{table.name} lacks {', '.join(missing)}")
    return problems


def missing_sqlite_file(url: URL) -> bool:
    """True for a SQLite URL whose file does not exist (connecting would create it)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return False
    return not Path(str(url.database)).is_file()
