"""The benchmark, in one command: hookgram beside the aiogram reference, PTB and the ceiling.

    .venv/bin/python -m bench.run                  # the full method (about 15 minutes)
    .venv/bin/python -m bench.run --tiny           # a smoke run (seconds; numbers meaningless)
    .venv/bin/python -m bench.run --workers 1,2,4  # N `hookgram worker` processes on PostgreSQL

Every server runs as its own process pinned to one core (taskset); wrk and the Bot API
emulator share the other. Repetitions alternate the servers' order. Prints markdown tables
and writes every raw measurement, the medians and the ratios to a JSON file. ``--workers``
alone runs only the workers scenario (bench/workers.py); with ``--servers`` as well, both.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, TypeVar

from bench import machine, postgres, report, scenarios, workers
from bench.processes import Emulator, core
from bench.targets import ALL, DESCRIPTIONS, parse_servers

_T = TypeVar("_T")

TOKEN = "123456:BENCH-TOKEN"
SECRET = "bench-secret-token"
TINY = scenarios.Plan(
    duration=1.0, warmup=0.0, limit=100, chats=20, burst=100, burst_chats=20, drain_timeout=60.0
)
TINY_BACKLOG = 500
NEEDS_POSTGRES = (
    "--workers: several worker processes need PostgreSQL; give --database-url postgresql://… "
    "(a server: every run creates a database of its own on it) or none (a throwaway server)"
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--servers", default=None, help=f"comma-separated, of {', '.join(ALL)} (default: all)")
    add("--connections", default="40,100", help="wrk connection counts (default 40,100)")
    add("--repetitions", type=int, default=3, help="how often every run repeats (default 3)")
    add("--duration", type=float, default=10.0, help="seconds of each sustained run")
    add("--warmup", type=float, default=1.0, help="seconds of warm-up load before each run")
    add("--chats", type=int, default=1000, help="distinct chats in the sustained load")
    add("--burst", type=int, default=30_000, help="updates in the burst (0: no burst)")
    add("--burst-chats", type=int, default=500, help="distinct chats in the burst")
    add("--drain-timeout", type=float, default=300.0, help="longest wait for the burst's replies")
    add("--server-cpu", type=int, default=0, help="the core the server runs on (-1: unpinned)")
    add("--load-cpu", type=int, default=1, help="the core of wrk and the emulator (-1: unpinned)")
    add("--database-url", default=None, help="hookgram's inbox (default: a fresh SQLite file)")
    add(
        "--workers",
        default=None,
        metavar="LIST",
        help="worker process counts on PostgreSQL, e.g. 1,2,4 (alone: only this scenario)",
    )
    add("--backlog", type=int, default=20_000, help="updates the workers drain (over --chats)")
    add(
        "--hookgram-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for hookgram, e.g. HOOKGRAM_WORKER_CONCURRENCY=128",
    )
    add("--tiny", action="store_true", help="a smoke run: a few hundred updates, 1 repetition")
    add("--output", type=Path, default=Path("bench-results.json"), help="the JSON results file")
    add("--keep-logs", type=Path, default=None, help="keep every server's log in this folder")
    return parser.parse_args(argv)


def plan_of(options: argparse.Namespace) -> scenarios.Plan:
    """The plan the options ask for (tiny mode overrides the sizes)."""
    server_cpu, load_cpu = core(options.server_cpu), core(options.load_cpu)
    if options.tiny:
        return replace(TINY, server_cpu=server_cpu, load_cpu=load_cpu)
    return scenarios.Plan(
        duration=options.duration,
        warmup=options.warmup,
        chats=options.chats,
        burst=options.burst,
        burst_chats=options.burst_chats,
        drain_timeout=options.drain_timeout,
        server_cpu=server_cpu,
        load_cpu=load_cpu,
    )


def worker_counts(options: argparse.Namespace) -> tuple[int, ...]:
    """The ``--workers`` counts (none: the mode is off); PostgreSQL or nothing as the database."""
    if options.workers is None:
        return ()
    try:
        counts = tuple(dict.fromkeys(int(c) for c in options.workers.split(",")))
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise SystemExit("--workers takes worker process counts, e.g. 1,2,4")
    if options.database_url is not None and not postgres.is_postgres(options.database_url):
        raise SystemExit(NEEDS_POSTGRES)
    return counts


def workers_plan_of(options: argparse.Namespace, counts: tuple[int, ...]) -> workers.WorkersPlan:
    """The workers scenario's plan (tiny mode: a few hundred updates)."""
    plan = plan_of(options)
    return workers.WorkersPlan(
        counts=counts,
        backlog=TINY_BACKLOG if options.tiny else options.backlog,
        chats=plan.chats,
        drain_timeout=plan.drain_timeout,
        server_cpu=plan.server_cpu,
        load_cpu=plan.load_cpu,
    )


def execute(options: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Every run of the plan; the raw results."""
    plan = plan_of(options)
    counts = worker_counts(options)
    names = options.servers.split(",") if options.servers else [] if counts else list(ALL)
    servers = parse_servers(names)
    env = _environment(options)
    results = _skeleton(options, plan, servers, env)
    connections, repetitions = results["config"]["connections"], results["config"]["repetitions"]
    with Emulator(TOKEN, plan.load_cpu, folder / "emulator.log") as emulator:
        bench = scenarios.Bench(emulator, plan, TOKEN, SECRET, folder, options.database_url, env)
        for repetition in range(repetitions):
            _compare(results, bench, _rotated(servers, repetition), connections, repetition)
        if counts:
            _workers(results, emulator, folder, options, counts)
    results["machine"]["uptime_after"] = machine.uptime()
    return results


def _skeleton(
    options: argparse.Namespace,
    plan: scenarios.Plan,
    servers: Sequence[str],
    env: dict[str, str],
) -> dict[str, Any]:
    """The results before any run: the command, the machine, the configuration."""
    database = options.database_url
    return {
        "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
        "machine": machine.describe(),
        "config": {
            **asdict(plan),
            "servers": list(servers),
            "connections": [int(c) for c in options.connections.split(",")],
            "repetitions": 1 if options.tiny else options.repetitions,
            "database_url": postgres.shown(database) if database else "sqlite (a fresh file)",
            "hookgram_env": env,
            "descriptions": {s: DESCRIPTIONS[s] for s in servers},
        },
        "sustained": [],
        "burst": [],
        "workers": [],
    }


def _compare(
    results: dict[str, Any],
    bench: scenarios.Bench,
    order: Sequence[str],
    connections: Sequence[int],
    repetition: int,
) -> None:
    """One repetition of the servers side by side: sustained at each count, then the burst."""
    for count in connections:
        for name in order:
            _note(results["sustained"], scenarios.sustained(bench, name, count), repetition)
    if bench.plan.burst > 0:
        for name in order:
            _note(results["burst"], scenarios.burst(bench, name), repetition)


def _workers(
    results: dict[str, Any],
    emulator: Emulator,
    folder: Path,
    options: argparse.Namespace,
    counts: tuple[int, ...],
) -> None:
    """Every repetition of the workers scenario, on one PostgreSQL server."""
    plan, database_url = workers_plan_of(options, counts), options.database_url
    results["config"]["workers"] = {
        **asdict(plan),
        "database": postgres.shown(database_url) if database_url else postgres.THROWAWAY,
    }
    with postgres.server(database_url) as server_url:
        results["machine"]["postgresql"] = postgres.version(server_url)
        rig = workers.Rig(emulator, server_url, plan, TOKEN, SECRET, folder, _environment(options))
        for repetition in range(results["config"]["repetitions"]):
            for count in _rotated(plan.counts, repetition):
                _note(results["workers"], workers.measure(rig, count), repetition)


def _environment(options: argparse.Namespace) -> dict[str, str]:
    return dict(item.split("=", 1) for item in options.hookgram_env)


def _rotated(items: Sequence[_T], repetition: int) -> list[_T]:
    """``items`` starting at a different one each repetition."""
    shift = repetition % len(items) if items else 0
    return [*items[shift:], *items[:shift]]


def _note(rows: list[dict[str, Any]], row: dict[str, Any], repetition: int) -> None:
    row["repetition"] = repetition
    rows.append(row)
    shown = {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}
    print(json.dumps(shown), file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Run, print the tables, write the JSON."""
    options = parse(argv)
    started = time.monotonic()
    if options.keep_logs is not None:
        options.keep_logs.mkdir(parents=True, exist_ok=True)
        results = execute(options, options.keep_logs)
    else:
        with tempfile.TemporaryDirectory(prefix="hookgram-bench-") as folder:
            results = execute(options, Path(folder))
    results["seconds"] = round(time.monotonic() - started, 1)
    results["summary"] = report.summarise(results)
    options.output.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"{results['machine']['cpu']}, {results['machine']['nproc']} cores; "
        f"{results['machine']['uptime']}"
    )
    print(report.markdown(results))
    print(f"\nresults: {options.output}")


if __name__ == "__main__":
    main()
