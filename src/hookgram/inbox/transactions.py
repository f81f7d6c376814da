"""Where the store's write transactions run: SQLite in one thread of its own, else async.

Through aiosqlite each statement, cursor and commit is a round trip between the event loop and
the driver's thread, and every round trip waits for a turn of the (busy) loop: a group commit
took a dozen turns. A file SQLite inbox is written instead by one dedicated thread with a plain
``sqlite3`` connection, the whole transaction in one hand-off; being the only writer in the
process, it also never sleeps in SQLite's busy handler, and it keeps its one connection open
(no pool check-out, and no reset ROLLBACK on check-in, per transaction). Other databases run
the same transaction through the async engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from hookgram.inbox.engine import sqlite_pragmas

T = TypeVar("T")
Work = Callable[[Connection], T]


class Transactions:
    """Runs a function in one transaction: ``await transactions.run(work)``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._thread: ThreadPoolExecutor | None = None
        self._sync: Engine | None = None
        self._connection: Connection | None = None  # the writer thread's, opened on first use
        database = engine.url.database
        if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
            self._sync = create_engine(engine.url.set(drivername="sqlite+pysqlite"))
            event.listen(self._sync, "connect", _connect)
            event.listen(self._sync, "begin", _begin_immediate)
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="hookgram-sqlite-writer")

    async def run(self, work: Work[T]) -> T:
        """``work(connection)`` inside BEGIN … COMMIT (rolled back if it raises)."""
        if self._thread is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._thread, self._in_thread, work)
        async with self._engine.begin() as conn:
            return await conn.run_sync(work)

    def _in_thread(self, work: Work[T]) -> T:
        assert self._sync is not None
        if self._connection is None:
            self._connection = self._sync.connect()
        try:
            with self._connection.begin():
                return work(self._connection)
        except BaseException:
            # Whatever went wrong (a full disk, a locked file), the next transaction starts
            # on a fresh connection.
            self._drop_connection()
            raise

    def _drop_connection(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    def close(self) -> None:
        """Stop the thread and close its connection (waits for a running transaction)."""
        if self._thread is not None:
            self._thread.submit(self._drop_connection).result()
            self._thread.shutdown(wait=True)
            self._thread = None
        if self._sync is not None:
            self._sync.dispose()


def _connect(dbapi_connection: Any, record: Any) -> None:
    sqlite_pragmas(dbapi_connection, record)
    # The driver's own implicit BEGIN is off, so that _begin_immediate decides how to begin.
    dbapi_connection.isolation_level = None


def _begin_immediate(conn: Connection) -> None:
    # Take the write lock at BEGIN: a claim reads candidates and then leases them, and another
    # process must not write in between (a deferred read lock could not be upgraded then).
    conn.exec_driver_sql("BEGIN IMMEDIATE")
