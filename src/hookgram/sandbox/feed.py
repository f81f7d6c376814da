"""A change counter that the chat page and the sandbox API wait on for live updates."""

from __future__ import annotations

import asyncio
import contextlib


class Feed:
    """Every visible change (a message, an edit, a call, a delivery) bumps `version`."""

    def __init__(self) -> None:
        self.version = 0
        self.closed = False
        self._changed = asyncio.Event()

    def bump(self) -> int:
        """Note a change and wake the waiters; returns the new version."""
        self.version += 1
        self._wake()
        return self.version

    async def wait(self, after: int, timeout: float) -> int:
        """The version once it is past `after`, or the current one after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.version <= after and not self.closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return self.version

    def close(self) -> None:
        """Release every waiter now (the server is stopping)."""
        self.closed = True
        self._wake()

    def reopen(self) -> None:
        """Let waiters wait again (the server is starting)."""
        self.closed = False

    def _wake(self) -> None:
        # A fresh event per change: current waiters hold the old one, which stays set for them.
        self._changed.set()
        self._changed = asyncio.Event()
