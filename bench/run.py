"""The benchmark, in one command: hookgram beside the aiogram reference, PTB and the ceiling.

    .venv/bin/python -m bench.run                  # the full method (about 15 minutes)
    .venv/bin/python -m bench.run --tiny           # a smoke run (seconds; numbers meaningless)

Every server runs as its own process pinned to one core (taskset); wrk and the Bot API
emulator share the other. Repetitions alternate the servers' order. Prints markdown tables
and writes every raw measurement, the medians and the ratios to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench import machine, report, scenarios
from bench.processes import Emulator
from bench.targets import ALL, DESCRIPTIONS, parse_servers

TOKEN = "123456:BENCH-TOKEN"
SECRET = "bench-secret-token"
TINY = scenarios.Plan(
    duration=1.0, warmup=0.0, limit=100, chats=20, burst=100, burst_chats=20, drain_timeout=60.0
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--servers", default=",".join(ALL), help=f"comma-separated, of {', '.join(ALL)}")
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
    cpus = os.cpu_count() or 1
    server_cpu = options.server_cpu if options.server_cpu >= 0 and cpus > 1 else None
    load_cpu = options.load_cpu if options.load_cpu >= 0 and cpus > 1 else None
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


def execute(options: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Every run of the plan; the raw results."""
    plan = plan_of(options)
    servers = parse_servers(options.servers.split(","))
    connections = [int(c) for c in options.connections.split(",")]
    repetitions = 1 if options.tiny else options.repetitions
    env = dict(item.split("=", 1) for item in options.hookgram_env)
    results: dict[str, Any] = {
        "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
        "machine": machine.describe(),
        "config": {
            **asdict(plan),
            "servers": list(servers),
            "connections": connections,
            "repetitions": repetitions,
            "database_url": options.database_url or "sqlite (a fresh file per run)",
            "hookgram_env": env,
            "descriptions": {s: DESCRIPTIONS[s] for s in servers},
        },
        "sustained": [],
        "burst": [],
    }
    with Emulator(TOKEN, plan.load_cpu, folder / "emulator.log") as emulator:
        bench = scenarios.Bench(emulator, plan, TOKEN, SECRET, folder, options.database_url, env)
        for repetition in range(repetitions):
            order = servers[repetition % len(servers) :] + servers[: repetition % len(servers)]
            for count in connections:
                for name in order:
                    row = scenarios.sustained(bench, name, count)
                    _note(results["sustained"], row, repetition)
            if plan.burst > 0:
                for name in order:
                    _note(results["burst"], scenarios.burst(bench, name), repetition)
    results["machine"]["uptime_after"] = machine.uptime()
    return results


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
