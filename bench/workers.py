"""Several `hookgram worker` processes on PostgreSQL: how fast N of them drain a backlog.

Each run gets a fresh database. One `hookgram run --no-worker` receiver takes the backlog (wrk,
100 connections) and stops; then N workers start, unpinned, held at a start gate until every
one waits for its first claim, and drain the backlog into the emulator. The processing rate
counts replies from the first one seen to the last, so start-up (the aiogram import) is not in
it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import postgres
from bench.load import Load, LoadResult
from bench.processes import Emulator, Process, Server, free_port
from bench.scenarios import Watch
from bench.targets import Context, Launch, hookgram_env

_READY_TIMEOUT = 120.0  # several workers importing aiogram at once on a small machine
_READY_LINE = "processing the inbox"  # `hookgram worker` logs it once it starts claiming
_POLL = 0.05


@dataclass(frozen=True, slots=True)
class WorkersPlan:
    """The workers scenario's sizes and CPU placement."""

    counts: tuple[int, ...]
    backlog: int = 20_000
    chats: int = 1000
    connections: int = 100
    drain_timeout: float = 300.0
    server_cpu: int | None = 0
    load_cpu: int | None = 1


@dataclass
class Rig:
    """What every run shares: the emulator, the PostgreSQL server, the plan, the log folder."""

    emulator: Emulator
    server_url: str
    plan: WorkersPlan
    token: str
    secret: str
    folder: Path
    hookgram_env: dict[str, str]
    _runs: int = 0

    def next_run(self, count: int) -> tuple[str, Path]:
        """A database name and a log folder of the next run's own."""
        self._runs += 1
        folder = self.folder / f"{self._runs:03d}-workers-{count}"
        folder.mkdir(parents=True)
        return f"hookgram_bench_{os.getpid()}_{self._runs}", folder

    def context(self, database_url: str, folder: Path) -> Context:
        """The hookgram processes' context: a receiver port, the emulator, this database."""
        return Context(
            port=free_port(),
            api_url=self.emulator.base_url,
            token=self.token,
            secret=self.secret,
            folder=folder,
            database_url=database_url,
            hookgram_env=self.hookgram_env,
        )


@dataclass(frozen=True, slots=True)
class Drain:
    """How the workers drained the backlog."""

    replies: int
    rate: float | None
    drained: bool
    drain_seconds: float
    worker_cpu_seconds: float
    peak_rss_mib: float


def measure(rig: Rig, count: int) -> dict[str, Any]:
    """One run with ``count`` workers, on a fresh database dropped afterwards."""
    name, folder = rig.next_run(count)
    with postgres.fresh_database(rig.server_url, name) as url:
        context = rig.context(url, folder)
        load_average = os.getloadavg()[0]
        posted = post_backlog(rig, context)
        drain = drain_backlog(rig, context, count, posted.acked)
    replies = drain.replies
    return {
        "workers": count,
        "backlog": rig.plan.backlog,
        "acked": posted.acked,
        "receiver_acks_per_s": posted.acks_per_second,
        **asdict(drain),
        "worker_cpu_ms_per_update": drain.worker_cpu_seconds * 1000 / replies if replies else None,
        "load_average": load_average,
    }


def post_backlog(rig: Rig, context: Context) -> LoadResult:
    """Start a receiver, post the backlog until all of it is acknowledged, stop the receiver."""
    plan = rig.plan
    launch = Launch([*_hookgram("run"), "--no-worker"], hookgram_env(context))
    with Server(launch, context.port, plan.server_cpu, context.folder / "receiver.log") as server:
        server.wait_ready()
        load = Load(
            url=f"http://127.0.0.1:{context.port}/webhook",
            secret=rig.secret,
            connections=plan.connections,
            first_update_id=1,
            chats=plan.chats,
            cpu=plan.load_cpu,
        )
        return load.run(plan.drain_timeout, limit=plan.backlog, timeout=30.0)


def drain_backlog(rig: Rig, context: Context, count: int, backlog: int) -> Drain:
    """Start ``count`` workers at the gate, open it, and wait until ``backlog`` replies came."""
    assert context.database_url is not None
    launch = Launch(_hookgram("worker"), hookgram_env(context))
    with postgres.StartGate(context.database_url) as gate, contextlib.ExitStack() as stack:
        workers = [
            stack.enter_context(Process(launch, None, context.folder / f"worker-{n}.log"))
            for n in range(1, count + 1)
        ]
        _wait_ready(gate, workers)
        watch = Watch(rig.emulator)
        cpu_before, opened = _cpu(workers), time.monotonic()
        gate.open()
        last = watch.until(backlog, opened + rig.plan.drain_timeout)
        watch.stop()
        cpu = _cpu(workers) - cpu_before
        peak = max(worker.memory()[1] for worker in workers)
    return Drain(
        replies=watch.replies,
        rate=watch.rate(),
        drained=last is not None,
        # Not drained by the deadline: the elapsed time is a lower bound, flagged as such.
        drain_seconds=(time.monotonic() if last is None else last) - opened,
        worker_cpu_seconds=cpu,
        peak_rss_mib=peak,
    )


def _wait_ready(gate: postgres.StartGate, workers: Sequence[Process]) -> None:
    """Wait until every worker is up and its first claim waits at the gate."""
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        for worker in workers:
            if not worker.alive():
                raise RuntimeError(f"a worker exited early; see {worker.log}")
        ready = all(_READY_LINE in worker.log.read_text(errors="replace") for worker in workers)
        if ready and gate.waiting() >= len(workers):
            return
        time.sleep(_POLL)
    raise RuntimeError(f"the workers were not ready within {_READY_TIMEOUT:g}s; see their logs")


def _cpu(workers: Sequence[Process]) -> float:
    return sum(worker.cpu_seconds() for worker in workers)


def _hookgram(command: str) -> list[str]:
    return [sys.executable, "-m", "hookgram", command]
