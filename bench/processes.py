"""The processes a run starts: the Bot API emulator and the server under test, with their RSS."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from bench.load import SECRET_HEADER, WRONG_SECRET
from bench.targets import Launch, clean_environment

_READY_TIMEOUT = 60.0


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def core(requested: int) -> int | None:
    """The core to pin to: ``requested``, or None (unpinned) when it is negative or the
    machine has one core only."""
    return requested if requested >= 0 and (os.cpu_count() or 1) > 1 else None


def pinned(argv: list[str], cpu: int | None) -> list[str]:
    """``argv`` run on one CPU (taskset), or as is when ``cpu`` is None."""
    return argv if cpu is None else ["taskset", "-c", str(cpu), *argv]


def memory_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MiB, from /proc/PID/status (VmRSS, VmHWM)."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds, from /proc/PID/stat (0 once it is gone)."""
    return _stat_cpu_seconds(Path(f"/proc/{pid}/stat")) or 0.0


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """utime + stime of each thread of a process, in seconds, by thread id (threads that
    ended while being read are left out)."""
    found: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        seconds = _stat_cpu_seconds(task / "stat")
        if seconds is not None:
            found[int(task.name)] = seconds
    return found


def _stat_cpu_seconds(stat: Path) -> float | None:
    """utime + stime from a /proc stat file; None when it cannot be read (the task ended)."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Emulator:
    """`python -m hookgram.sandbox --no-record` as a process; counts read over HTTP."""

    def __init__(self, token: str, cpu: int | None, log: Path) -> None:
        self.port = free_port()
        self._log = log.open("w")
        argv = [sys.executable, "-m", "hookgram.sandbox", "--port", str(self.port)]
        argv += ["--token", token, "--no-record"]
        self._process = subprocess.Popen(
            pinned(argv, cpu), stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        assert self._process.stdout is not None
        self.base_url = self._process.stdout.readline().strip()
        if not self.base_url:
            raise RuntimeError(f"the emulator did not start; see {log}")

    def replies(self) -> int:
        """sendMessage + copyMessage calls so far."""
        counts = self.counts()
        return counts.get("sendMessage", 0) + counts.get("copyMessage", 0)

    def counts(self) -> dict[str, int]:
        """Every method's call count."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/_counts")
            return dict(json.loads(connection.getresponse().read()))
        finally:
            connection.close()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _stop(self._process)
        self._log.close()


class Process:
    """A hookgram or server process of the run, logging to a file; stopped with SIGTERM."""

    def __init__(self, launch: Launch, cpu: int | None, log: Path) -> None:
        self.log = log
        self._log = log.open("w")
        self._process = subprocess.Popen(
            pinned(launch.argv, cpu),
            env={**clean_environment(), **launch.env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.pid = self._process.pid  # taskset execs, so this is the process itself

    def memory(self) -> tuple[float, float]:
        """(current RSS, peak RSS) in MiB."""
        return memory_mib(self.pid)

    def cpu_seconds(self) -> float:
        """User + system CPU time the process used so far."""
        return cpu_seconds(self.pid)

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self._process.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after two seconds; closes the log."""
        _stop(self._process)
        self._log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class Server(Process):
    """A server under test, started pinned to its CPU; ready once it answers HTTP."""

    def __init__(self, launch: Launch, port: int, cpu: int | None, log: Path) -> None:
        super().__init__(launch, cpu, log)
        self.port = port

    def wait_ready(self) -> None:
        """Wait until a refused POST (wrong secret) gets any HTTP answer."""
        deadline = time.monotonic() + _READY_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the server exited early; see {self.log}")
            if self._answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {_READY_TIMEOUT:g}s; see {self.log}")

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request(
                "POST",
                "/webhook",
                body=b"{}",
                headers={"Content-Type": "application/json", SECRET_HEADER: WRONG_SECRET},
            )
            connection.getresponse().read()
        except OSError:
            return False
        finally:
            connection.close()
        return True


def _stop(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
