"""Group commit: concurrent requests share one inbox transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from hookgram.errors import StoreUnavailableError
from hookgram.inbox.models import NewEvent
from hookgram.inbox.store import InboxStore

log = logging.getLogger(__name__)

_Pending = tuple[NewEvent, "asyncio.Future[None]"]


class InboxWriter:
    """Queues events from many requests and commits whatever has gathered in one transaction.

    ``put`` returns only after the event is committed, so a caller may acknowledge it.
    """

    def __init__(
        self,
        store: InboxStore,
        *,
        max_batch: int = 500,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def put(self, event: NewEvent) -> None:
        """Commit ``event`` (or find it already stored); raises StoreUnavailableError."""
        if self._task is None or self._task.done():
            raise StoreUnavailableError("inbox writer is not running")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((event, future))
        await future

    async def start(self) -> None:
        """Start the committing task."""
        self._task = asyncio.create_task(self._run(), name="hookgram-inbox-writer")

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        batch = self._drain()
        if batch:
            await self._commit(batch)

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first, *self._drain(self._max_batch - 1)]
            await self._commit(batch)

    def _drain(self, limit: int | None = None) -> list[_Pending]:
        batch: list[_Pending] = []
        while not self._queue.empty() and (limit is None or len(batch) < limit):
            batch.append(self._queue.get_nowait())
        return batch

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            await self._store.put_many([event for event, _ in batch], time.time())
        except Exception as exc:
            # Nothing of this batch is stored: every caller answers 503 and the sender retries.
            log.exception("could not store %d request(s), answering 503", len(batch))
            error = (
                exc
                if isinstance(exc, StoreUnavailableError)
                else StoreUnavailableError(f"inbox commit failed: {exc.__class__.__name__}")
            )
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)
        if self._on_commit is not None:
            self._on_commit()
