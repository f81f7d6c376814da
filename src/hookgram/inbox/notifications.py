"""New-row notifications on PostgreSQL: a receiver's commit wakes every listening worker.

Receivers send ``NOTIFY hookgram_inbox`` in the transaction that stores rows (delivered only
when it commits); workers ``LISTEN`` on one pooled connection. A worker in another process
then starts on a new update at once instead of at its next poll. Polling stays as the
fallback: a lost notification or listening connection only delays work, never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

CHANNEL = "hookgram_inbox"
RECONNECT_DELAY = 2.0


class InboxListener:
    """Calls ``wake`` whenever any process commits new inbox rows; reconnects when cut off."""

    def __init__(self, engine: AsyncEngine, wake: Callable[[], None]) -> None:
        self._engine = engine
        self._wake = wake
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def __aenter__(self) -> InboxListener:
        self._task = asyncio.create_task(self._run(), name="hookgram-inbox-listener")
        # Wait for the first LISTEN, so a row committed after start-up is never missed; when
        # it cannot be set up the worker polls and the listener keeps trying.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._listening.wait()), RECONNECT_DELAY)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("cannot listen for new inbox rows (%s); polling meanwhile", exc)
            await asyncio.sleep(RECONNECT_DELAY)

    async def _listen(self) -> None:
        """LISTEN until the connection is lost."""
        lost = asyncio.Event()
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            driver.add_termination_listener(lambda _conn: lost.set())
            await driver.add_listener(CHANNEL, self._notified)
            self._listening.set()
            self._wake()  # rows committed while nobody listened
            try:
                await lost.wait()
                log.warning("lost the connection listening for new inbox rows; reconnecting")
            finally:
                self._listening.clear()
                if not driver.is_closed():
                    await driver.remove_listener(CHANNEL, self._notified)

    def _notified(self, *_args: object) -> None:
        self._wake()
