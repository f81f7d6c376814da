"""Database engines for the inbox: SQLite tuned for durable group commits, or PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# How long a write waits for another process's lock before the request is answered 503:
# short enough that Telegram (which waits 60 s) gets an answer and retries.
SQLITE_LOCK_WAIT = 5.0


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine for ``database_url`` (already normalised to an async driver).

    On PostgreSQL the process opens at most ``pool_size`` connections: a receiver's writer,
    a worker's loop and its LISTEN hold one each; the rest serve reads (health, inspector)
    and source handlers that ask for a ``session``.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_LOCK_WAIT}, hide_parameters=True
        )
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Set on every new SQLite connection (the async engine's and the writer thread's)."""
    # WAL lets readers (CLI, inspector) work while the server writes; FULL makes every
    # acknowledged commit survive a power cut, not only a process crash.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_LOCK_WAIT * 1000)}")
    cursor.close()
