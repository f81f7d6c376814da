"""What one acknowledgement costs on one core: bare aiohttp, hookgram's ingress, its commit.

    .venv/bin/python -m bench.ack_cost                      # 3 repetitions of 8 s (~2 minutes)
    .venv/bin/python -m bench.ack_cost --seconds 1 --repetitions 1    # a smoke run

Three servers, each in a process of its own pinned to `--cpu`, take the benchmark's wrk load
(`--connections`, wrk on `--load-cpu`), and each is measured by its CPU time (user + system,
per thread, from /proc) per acknowledged request:
* `ceiling`: the benchmark's bare aiohttp handler (check the secret, parse the JSON, 200);
* `ingress`: hookgram's ingress as `run` builds it (address check, body limits, the Telegram
  source's secret, JSON and key checks, the 200), with a commit that stores nothing;
* `durable`: the same, committing every update to a SQLite inbox through the group commit
  (`synchronous=FULL`) before its 200, as `hookgram run --no-worker` does.
So `ingress − ceiling` is what hookgram's checks cost and `durable − ingress` what the durable
write costs, each per ack; the acks-against-the-ceiling target is decided by their sum. The
servers alternate within each repetition. One JSON line per run, then the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bench.load import Load
from bench.processes import Server, core, free_port, thread_cpu_seconds
from bench.servers import ceiling
from bench.targets import Launch

if TYPE_CHECKING:
    from hookgram.inbox.models import NewEvent

VARIANTS = ("ceiling", "ingress", "durable")
TOKEN = "123456:BENCH-TOKEN"
SECRET = "bench-secret-token"
PATH = "/webhook"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.ack_cost", description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0, help="load per run")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--cpu", type=int, default=0, help="the servers' core (-1: any)")
    parser.add_argument("--load-cpu", type=int, default=1, help="wrk's core (-1: any)")
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def serve(variant: str, port: int, database: Path) -> None:
    """Serve one variant on 127.0.0.1:``port`` until SIGTERM."""
    # Imported here: the measuring parent needs none of hookgram's server side.
    from hookgram.config import Settings
    from hookgram.inbox.engine import create_engine
    from hookgram.inbox.store import InboxStore
    from hookgram.inbox.writer import InboxWriter
    from hookgram.ingress import Commit, build_app
    from hookgram.service import tune_garbage_collection
    from hookgram.sources.telegram import TelegramSource
    from hookgram.telegram import bot_id

    settings = Settings(
        bot_token=TOKEN,
        public_url="https://bench.example.com",
        secret_token=SECRET,
        allowed_ips=["127.0.0.1/32"],
        database_url=f"sqlite:///{database}",
    )
    writer: InboxWriter | None = None
    commit: Commit = _store_nothing
    if variant == "ceiling":
        app = ceiling.build(SECRET, PATH)
    else:
        source = TelegramSource(
            path=PATH,
            bot_id=bot_id(TOKEN),
            secrets=settings.accepted_secrets(),
            allowed_ips=settings.telegram_allow_list(),
        )
        if variant == "durable":
            engine = create_engine(settings.database_url)
            store = InboxStore(engine)
            await store.create_schema()
            writer = InboxWriter(store)
            await writer.start()
            commit = writer.put
        app = build_app(
            [source],
            commit,
            max_body_bytes=settings.max_body_bytes,
            trusted_proxies=settings.proxy_allow_list(),
            client_timeout=settings.client_timeout,
        )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    tune_garbage_collection()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()
    if writer is not None:
        await writer.stop()
        await store.close()
        await engine.dispose()


async def _store_nothing(_event: NewEvent) -> None:
    return None


def measure(variant: str, options: argparse.Namespace, folder: Path, run: int) -> dict[str, Any]:
    """Start ``variant``, warm it up for a second, load it; its CPU per ack, by thread."""
    cpu, load_cpu = core(options.cpu), core(options.load_cpu)
    port = free_port()
    argv = [sys.executable, "-m", "bench.ack_cost", "--serve", variant, "--port", str(port)]
    argv += ["--database", str(folder / f"inbox-{run}.db")]
    url = f"http://127.0.0.1:{port}{PATH}"
    with Server(Launch(argv), port, cpu, folder / f"{run:03d}-{variant}.log") as server:
        server.wait_ready()
        Load(url, SECRET, options.connections, 1, 1000, load_cpu).run(1)
        before = thread_cpu_seconds(server.pid)
        result = Load(url, SECRET, options.connections, 10_000_000, 1000, load_cpu).run(
            options.seconds
        )
        after = thread_cpu_seconds(server.pid)
    acks = max(1.0, result.acks_per_second * result.seconds)
    threads = sorted((after[t] - before.get(t, 0.0) for t in after), reverse=True)
    return {
        "variant": variant,
        "acks_per_s": round(result.acks_per_second, 1),
        "cpu_ms_per_ack": round(sum(threads) * 1000 / acks, 4),
        # The busiest threads first: the event loop's, then (durable) the SQLite writer's.
        "threads_ms_per_ack": [round(s * 1000 / acks, 4) for s in threads if s > 0][:3],
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Measure every variant ``--repetitions`` times, alternating; print the runs and medians."""
    options = parse(argv)
    if options.serve is not None:
        import uvloop

        uvloop.run(serve(options.serve, options.port, options.database))
        return
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hookgram-ack-cost-") as folder:
        for repetition in range(options.repetitions):
            order = VARIANTS[repetition % 3 :] + VARIANTS[: repetition % 3]
            for variant in order:
                run = measure(variant, options, Path(folder), len(runs))
                runs.append({**run, "repetition": repetition})
                print(json.dumps(runs[-1]), flush=True)
    medians = {
        v: statistics.median(r["cpu_ms_per_ack"] for r in runs if r["variant"] == v)
        for v in VARIANTS
    }
    print("| server | acks/s (median) | CPU ms per ack (median) |")
    print("| --- | --- | --- |")
    for v in VARIANTS:
        rate = statistics.median(r["acks_per_s"] for r in runs if r["variant"] == v)
        print(f"| {v} | {rate:,.0f} | {medians[v]:.4f} |")
    print(
        json.dumps(
            {
                "ingress_minus_ceiling_ms": round(medians["ingress"] - medians["ceiling"], 4),
                "durable_minus_ingress_ms": round(medians["durable"] - medians["ingress"], 4),
            }
        )
    )


if __name__ == "__main__":
    main()
