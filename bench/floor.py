"""aiogram's own CPU per update: the floor under any server's processing rate on one core.

    .venv/bin/python -m bench.floor                 # 20,000 updates (about half a minute)
    .venv/bin/python -m bench.floor --updates 300   # a smoke run

Feeds the benchmark's update straight to hookgram's echo Router through an aiogram Dispatcher
(no HTTP server, no inbox), 64 at a time like hookgram's worker, with the same Bot API session
(`LeanSession`), the same direct binding of aiogram objects to their bot
(`hookgram.bot_context`) and the same garbage-collector settings, answering through the
emulator. This process runs on `--cpu` and the emulator on `--load-cpu`, as in `bench.run`.
What it prints is what the Dispatcher, the handler and the Bot API call cost before any server
adds its own work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import uvloop
from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Update

from bench.load import UPDATE_TEMPLATE
from bench.processes import Emulator, core
from hookgram.bot_context import streamline_bot_context
from hookgram.bot_session import LeanSession
from hookgram.bots.echo import create_router
from hookgram.service import tune_garbage_collection

TOKEN = "123456:BENCH-TOKEN"
CONCURRENCY = 64
WARMUP_SHARE = 10  # the first tenth warms up (imports, connections, pydantic's caches)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--updates", type=int, default=20_000, help="updates to process")
    parser.add_argument("--chats", type=int, default=1000, help="distinct chats")
    parser.add_argument("--cpu", type=int, default=0, help="this process's core (-1: any)")
    parser.add_argument("--load-cpu", type=int, default=1, help="the emulator's core (-1: any)")
    return parser.parse_args(argv)


async def measure(api_url: str, updates: int, chats: int) -> dict[str, float]:
    """Process ``updates`` echo updates; CPU milliseconds per update and updates per second."""
    bot = Bot(TOKEN, session=LeanSession(TelegramAPIServer.from_base(api_url)))
    dispatcher = Dispatcher()
    dispatcher.include_router(create_router())
    bodies = [
        UPDATE_TEMPLATE % (i, i, 1_000_000 + i % chats, 1_000_000 + i % chats)
        for i in range(1, updates + 1)
    ]

    async def feed(batch: list[str]) -> None:
        pending = iter(batch)

        async def slot() -> None:  # CONCURRENCY of these share the batch, as worker slots do
            for body in pending:
                update = Update.model_validate_json(body, context={"bot": bot})
                await dispatcher.feed_update(bot, update)

        await asyncio.gather(*(slot() for _ in range(CONCURRENCY)))

    streamline_bot_context()  # as `hookgram run` and `hookgram worker` do
    tune_garbage_collection()
    warm = max(1, updates // WARMUP_SHARE)
    try:
        await feed(bodies[:warm])
        started, cpu = time.monotonic(), time.process_time()
        await feed(bodies[warm:])
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    finally:
        await bot.session.close()
    measured = updates - warm
    return {
        "updates": measured,
        "updates_per_s": measured / seconds,
        "cpu_ms_per_update": cpu * 1000 / measured,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Start the emulator, measure, print one JSON line."""
    options = parse(argv)
    cpu = core(options.cpu)
    with (
        tempfile.TemporaryDirectory(prefix="hookgram-floor-") as folder,
        Emulator(TOKEN, core(options.load_cpu), Path(folder) / "emulator.log") as emulator,
    ):
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        result = uvloop.run(measure(emulator.base_url, options.updates, options.chats))
    print(json.dumps({k: round(v, 3) for k, v in result.items()}))


if __name__ == "__main__":
    main()
