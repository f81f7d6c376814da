"""Running ``hookgram`` as a real child process, for signal and crash tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HookgramProcess:
    """``python -m hookgram ARGS`` with its stderr collected."""

    def __init__(self, args: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        self.args = list(args)
        self.env = {**os.environ, **env}
        self.cwd = cwd
        self.process: asyncio.subprocess.Process | None = None
        self.output = ""
        self._reader: asyncio.Task[None] | None = None

    async def start(self, *, ready: str | None = "listening on", timeout: float = 60) -> None:
        """Start it and wait until ``ready`` appears in its log."""
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hookgram",
            *self.args,
            env=self.env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        if ready is not None:
            await self.wait_for(ready, timeout)

    async def wait_for(self, text: str, timeout: float = 60) -> None:
        """Wait until ``text`` appears in the output (generous: CI machines are slow)."""
        try:
            async with asyncio.timeout(timeout):
                while text not in self.output:
                    if self.process is not None and self.process.returncode is not None:
                        raise AssertionError(f"hookgram exited early:\n{self.output}")
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"{text!r} not seen in {timeout}s:\n{self.output}") from None

    async def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.output += line.decode(errors="replace")

    async def wait(self, timeout: float = 30) -> int:
        """Wait for exit; the exit status."""
        assert self.process is not None
        code = await asyncio.wait_for(self.process.wait(), timeout)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, timeout)
        return code

    def signal(self, signum: int) -> None:
        """Send ``signum``."""
        assert self.process is not None
        self.process.send_signal(signum)

    async def close(self) -> None:
        """Make sure it is gone."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        if self._reader is not None:
            self._reader.cancel()
