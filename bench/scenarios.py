"""The two scenarios, each on a fresh server process: sustained load, and a burst then drain."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.load import Load
from bench.processes import Emulator, Server, free_port
from bench.targets import REPLIES, Context, launch

_SETTLE = 0.5  # seconds between "ready" and the idle RSS reading
_POLL = 0.05


@dataclass(frozen=True, slots=True)
class Plan:
    """How hard and how long to push; the defaults are the documented method."""

    duration: float = 10.0
    warmup: float = 1.0
    limit: int = 0  # > 0: a sustained run stops after this many acks (the tiny smoke mode)
    chats: int = 1000
    burst: int = 30_000
    burst_chats: int = 500
    burst_connections: int = 100
    drain_timeout: float = 300.0
    server_cpu: int | None = 0
    load_cpu: int | None = 1


@dataclass
class Bench:
    """The emulator, the plan and where logs go; hands out fresh update_id ranges."""

    emulator: Emulator
    plan: Plan
    token: str
    secret: str
    folder: Path
    database_url: str | None = None
    hookgram_env: dict[str, str] | None = None
    _runs: int = 0

    def start(self, name: str) -> tuple[Server, int]:
        """A fresh server process of ``name``, ready; and this run's first update_id."""
        self._runs += 1
        port = free_port()
        folder = self.folder / f"{self._runs:03d}-{name}"
        folder.mkdir(parents=True)
        context = Context(
            port=port,
            api_url=self.emulator.base_url,
            token=self.token,
            secret=self.secret,
            folder=folder,
            database_url=self.database_url,
            hookgram_env=self.hookgram_env or {},
        )
        server = Server(launch(name, context), port, self.plan.server_cpu, folder / "server.log")
        try:
            server.wait_ready()
        except BaseException:
            server.__exit__(None, None, None)
            raise
        return server, self._runs * 10_000_000

    def load(self, server: Server, connections: int, first_id: int, chats: int) -> Load:
        """wrk against ``server``."""
        return Load(
            url=f"http://127.0.0.1:{server.port}/webhook",
            secret=self.secret,
            connections=connections,
            first_update_id=first_id,
            chats=chats,
            cpu=self.plan.load_cpu,
        )


def sustained(bench: Bench, name: str, connections: int) -> dict[str, Any]:
    """Warm up, then load for the plan's duration; acks, latency, replies/s, memory."""
    plan = bench.plan
    server, first_id = bench.start(name)
    with server:
        time.sleep(_SETTLE)
        idle, _ = server.memory()
        load_avg = os.getloadavg()[0]
        replies_at_start = bench.emulator.replies()
        acked = 0
        if plan.warmup > 0:
            warm = bench.load(server, connections, first_id, plan.chats)
            acked += warm.run(plan.warmup, limit=plan.limit).acked
        before, cpu_before = bench.emulator.replies(), server.cpu_seconds()
        load = bench.load(server, connections, first_id + 5_000_000, plan.chats)
        result = load.run(plan.duration, limit=plan.limit)
        after, cpu = bench.emulator.replies(), server.cpu_seconds() - cpu_before
        _, peak = server.memory()
        alive = server.alive()
    acked += result.acked
    replies = REPLIES[name]
    return {
        "server": name,
        "connections": connections,
        "acks_per_s": result.acks_per_second,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "replies_per_s": (after - before) / result.seconds if replies else None,
        # Requests still in flight when wrk stops are not counted as acked, though a server
        # that answers before processing may have replied to them: never below zero.
        "backlog_at_end": max(0, acked - (after - replies_at_start)) if replies else None,
        "idle_rss_mib": idle,
        "peak_rss_mib": peak,
        "cpu_share": cpu / result.seconds if result.seconds else None,
        "non2xx": result.non2xx,
        "socket_errors": result.socket_errors,
        "seconds": result.seconds,
        "load_average": load_avg,
        "survived": alive,
    }


def burst(bench: Bench, name: str) -> dict[str, Any]:
    """Post the burst as fast as the server takes it, then wait for the last reply."""
    plan = bench.plan
    server, first_id = bench.start(name)
    with server:
        time.sleep(_SETTLE)
        idle, _ = server.memory()
        load_avg = os.getloadavg()[0]
        watch = Watch(bench.emulator, server)
        cpu_at_start, start = server.cpu_seconds(), time.monotonic()
        load = bench.load(server, plan.burst_connections, first_id, plan.burst_chats)
        result = load.run(plan.drain_timeout, limit=plan.burst, timeout=30.0)
        acked_after = time.monotonic() - start
        drained = None
        if REPLIES[name]:
            drained = watch.until(result.acked, start + plan.drain_timeout)
        watch.stop()
        _, peak = server.memory()
        cpu = server.cpu_seconds() - cpu_at_start
    sample = _Sample(
        server=name,
        acked=result.acked,
        ack_seconds=acked_after,
        # Not drained by the deadline: the elapsed time is a lower bound, flagged as such.
        drain_seconds=(time.monotonic() if drained is None else drained) - start
        if REPLIES[name]
        else None,
        drained=drained is not None if REPLIES[name] else None,
        replies=watch.replies if REPLIES[name] else None,
        idle_rss_mib=idle,
        peak_rss_mib=max(peak, watch.peak_rss),
        load_average=load_avg,
        cpu_seconds=cpu,
    )
    return asdict(sample)


@dataclass(frozen=True, slots=True)
class _Sample:
    server: str
    acked: int
    ack_seconds: float
    drain_seconds: float | None
    drained: bool | None
    replies: int | None
    idle_rss_mib: float
    peak_rss_mib: float
    load_average: float
    cpu_seconds: float


class Watch:
    """Samples replies (and a server's RSS) in the background while a backlog drains."""

    def __init__(self, emulator: Emulator, server: Server | None = None) -> None:
        self._emulator = emulator
        self._server = server
        self._base = emulator.replies()
        self.replies = 0
        self.last_reply_at = time.monotonic()
        # The first sample that saw replies: (when, how many by then).
        self.first: tuple[float, int] | None = None
        self.peak_rss = 0.0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def until(self, count: int, deadline: float) -> float | None:
        """When the ``count``-th reply arrived (monotonic), or None at the deadline."""
        while time.monotonic() < deadline:
            if self.replies >= count:
                return self.last_reply_at
            time.sleep(_POLL)
        return None

    def rate(self) -> float | None:
        """Replies per second from the first sample that saw replies to the last reply."""
        if self.first is None or self.last_reply_at <= self.first[0]:
            return None
        return (self.replies - self.first[1]) / (self.last_reply_at - self.first[0])

    def stop(self) -> None:
        """End the sampling."""
        self._stopped.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stopped.is_set():
            replies = self._emulator.replies() - self._base
            if replies != self.replies:
                self.replies, self.last_reply_at = replies, time.monotonic()
                if self.first is None:
                    self.first = (self.last_reply_at, replies)
            if self._server is not None:
                self.peak_rss = max(self.peak_rss, self._server.memory()[0])
            time.sleep(_POLL)
