"""How many inbox rows each source has in each status, read at most every few seconds.

Counting scans the table, so metrics scrapes and inspector pages share one cached reading.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from hookgram.inbox.models import Status
from hookgram.inbox.store import InboxStore

log = logging.getLogger(__name__)

Counts = dict[tuple[str, Status], int]


class InboxCounts:
    """``store.counts()`` cached for ``ttl`` seconds; None while the database does not answer."""

    def __init__(
        self,
        store: InboxStore,
        *,
        ttl: float = 5.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._timeout = timeout
        self._clock = clock
        self._lock = asyncio.Lock()
        self._read_at: float | None = None
        self.latest: Counts | None = None

    async def refresh(self) -> Counts | None:
        """Read the counts again unless the last reading is younger than ``ttl``."""
        async with self._lock:
            now = self._clock()
            if self._read_at is not None and now - self._read_at < self._ttl:
                return self.latest
            try:
                async with asyncio.timeout(self._timeout):
                    self.latest = await self._store.counts()
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                # A hung or unreachable database must not hang every scrape behind the lock.
                log.warning("could not count inbox rows: %s", exc.__class__.__name__)
                self.latest = None
            self._read_at = now
            return self.latest

    def sources(self) -> list[str]:
        """The source names seen in the latest reading, sorted."""
        return sorted({source for source, _ in self.latest or {}})
