"""PostgreSQL for the workers scenario: the server, a fresh database per run, the start gate.

Without ``--database-url`` the benchmark starts a throwaway server (``tests/services.py``)
with durability on (``fsync``, ``synchronous_commit``, ``full_page_writes``): the inbox pays
for its commits as the SQLite runs pay for ``synchronous=FULL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from tests.services import postgres_server

from hookgram.inbox.models import events

DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
THROWAWAY = "a throwaway PostgreSQL server (fsync, synchronous_commit, full_page_writes on)"


def is_postgres(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL server (any driver)."""
    return make_url(url).get_backend_name() == "postgresql"


def shown(url: str) -> str:
    """``url`` without its password, for the results file."""
    return make_url(url).render_as_string(hide_password=True)


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    """``url`` as given, or (None) a throwaway durable server's URL while the block runs."""
    if url is not None:
        yield url
        return
    # Under /tmp: as root, PostgreSQL runs as its own user and must reach its data directory.
    with (
        tempfile.TemporaryDirectory(prefix="hookgram-bench-pg-") as folder,
        postgres_server(Path(folder), **DURABLE) as started,
    ):
        yield started


def database_url(server_url: str, name: str | None = None, *, driver: str = "") -> str:
    """The URL of database ``name`` (default: the URL's own), ``postgresql+driver://``."""
    url = make_url(server_url).set(drivername="postgresql" + (f"+{driver}" if driver else ""))
    if name is not None:
        url = url.set(database=name)
    return url.render_as_string(hide_password=False)


def version(server_url: str) -> str:
    """The server's version, for the results file."""
    return str(asyncio.run(_admin(server_url, "SHOW server_version")))


@contextlib.contextmanager
def fresh_database(server_url: str, name: str) -> Iterator[str]:
    """A new, empty database ``name``; dropped afterwards, whoever is still connected."""
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield database_url(server_url, name)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(server_url: str, statement: str) -> object:
    """One statement outside a transaction (CREATE DATABASE needs that); its first value."""
    engine = create_async_engine(
        database_url(server_url, driver="asyncpg"), isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


class StartGate:
    """Keeps the inbox table locked so that workers, once all are up, start claiming at once.

    EXCLUSIVE mode lets reads through (the workers' start-up checks) and makes every claim
    (``SELECT … FOR UPDATE``) wait, so a worker that finished importing early cannot drain
    part of the backlog while the others still start.
    """

    def __init__(self, url: str) -> None:
        self._runner = asyncio.Runner()
        self._engine = create_async_engine(database_url(url, driver="asyncpg"), pool_size=2)
        self._holder: AsyncConnection | None = None
        self._probe: AsyncConnection | None = None

    def __enter__(self) -> StartGate:
        self._holder = self._runner.run(self._engine.connect().start())
        self._probe = self._runner.run(self._engine.connect().start())
        lock = text(f"LOCK TABLE {events.name} IN EXCLUSIVE MODE")
        self._runner.run(self._holder.execute(lock))  # opens the transaction that holds it
        return self

    def waiting(self) -> int:
        """How many connections to this database wait for a lock (the gate)."""
        assert self._probe is not None
        query = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        count = self._runner.run(self._probe.scalar(query))
        # A new transaction per reading: pg_stat_activity is a snapshot per transaction.
        self._runner.run(self._probe.rollback())
        return int(count or 0)

    def open(self) -> None:
        """Release the lock: every waiting claim proceeds."""
        assert self._holder is not None
        self._runner.run(self._holder.commit())

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for connection in (self._holder, self._probe):
            if connection is not None:
                self._runner.run(connection.close())
        self._runner.run(self._engine.dispose())
        self._runner.close()
