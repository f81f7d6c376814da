"""The bot's pending updates: ids, confirmation by offset, long polling, and the delivery nudge."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any


class Updates:
    """The getUpdates queue: update ids, confirmation by offset and long polling."""

    def __init__(self) -> None:
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._next_id = 1
        self._arrived = asyncio.Event()
        self._closed = False
        self.nudge = asyncio.Event()
        """Set whenever webhook delivery may proceed: an update arrived or the webhook changed."""

    def __len__(self) -> int:
        return len(self._queue)

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update, giving it the next update_id unless it has one; wake long polls."""
        update_id = self.next_id(update)
        self._queue.append(update)
        self._wake()
        return update_id

    def pending(self) -> list[dict[str, Any]]:
        """The queued updates, oldest first."""
        return list(self._queue)

    def remove(self, update_id: int) -> bool:
        """Drop one update (delivered to the webhook); False if it was no longer queued."""
        for update in self._queue:
            if update["update_id"] == update_id:
                self._queue.remove(update)
                return True
        return False

    def next_id(self, update: dict[str, Any]) -> int:
        """Give `update` the next update_id unless it has one, without queueing it."""
        update_id = int(update.setdefault("update_id", self._next_id))
        self._next_id = max(self._next_id, update_id + 1)
        return update_id

    def confirm(self, offset: int) -> int:
        """Drop updates before `offset` (negative: keep only the last -offset); count them."""
        before = len(self._queue)
        if offset < 0:
            while len(self._queue) > -offset:
                self._queue.popleft()
        else:
            while self._queue and self._queue[0]["update_id"] < offset:
                self._queue.popleft()
        return before - len(self._queue)

    def clear(self) -> None:
        """Drop every pending update (drop_pending_updates)."""
        self._queue.clear()

    async def wait(self, limit: int, timeout: float) -> list[dict[str, Any]]:
        """Up to `limit` updates, waiting at most `timeout` seconds for the first to arrive."""
        deadline = time.monotonic() + timeout
        while not self._queue and not self._closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                break
        return [self._queue[index] for index in range(min(limit, len(self._queue)))]

    def reopen(self) -> None:
        """Let long polls wait again (the emulator is starting)."""
        self._closed = False

    def close(self) -> None:
        """Answer every long poll now (the emulator is stopping)."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        self.nudge.set()
        # A fresh event per arrival: waiters hold the old one, which stays set for them.
        self._arrived.set()
        self._arrived = asyncio.Event()
