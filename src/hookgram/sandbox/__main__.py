"""Run the emulator as its own process; prints the base URL on the first line, serves until
SIGINT/SIGTERM: `python -m hookgram.sandbox --port 8081 --token 123:ABC [--no-record]`.
`GET /_counts` answers the per-method call counts."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence

from hookgram.sandbox.delivery import DeliveryOptions
from hookgram.sandbox.emulator import BotAPIEmulator

_DEFAULT_TOKEN = "123456:TEST-TOKEN"  # noqa: S105 (a fake token the emulator accepts)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hookgram.sandbox", description="Loopback Telegram Bot API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (0: any free)")
    parser.add_argument(
        "--token",
        action="append",
        help=f"a bot token to accept; repeat for several bots (default {_DEFAULT_TOKEN})",
    )
    parser.add_argument("--bot-username", default="hookgram_test_bot", help="the bots' username")
    parser.add_argument(
        "--no-record", action="store_true", help="keep only per-method counts (for benchmarks)"
    )
    parser.add_argument(
        "--allow-http-webhook",
        action="store_true",
        help="accept http:// webhook URLs on any port (loopback bots)",
    )
    parser.add_argument(
        "--deliver-anywhere",
        action="store_true",
        help="deliver webhooks to any host (default: loopback webhooks only)",
    )
    return parser


async def _serve(emulator: BotAPIEmulator, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await emulator.start(host, port)
    try:
        print(emulator.base_url, flush=True)
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve until a signal arrives."""
    parser = _parser()
    options = parser.parse_args(argv)
    try:
        emulator = BotAPIEmulator(
            tokens=options.token or [_DEFAULT_TOKEN],
            bot_username=options.bot_username,
            record=not options.no_record,
            allow_http_webhook=options.allow_http_webhook,
            delivery=DeliveryOptions(any_host=options.deliver_anywhere),
        )
    except ValueError as exc:
        parser.error(str(exc))
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on every supported OS
        asyncio.run(_serve(emulator, options.host, options.port))
        return
    # uvloop roughly doubles what one core answers, so the stand-in keeps up in a benchmark.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(emulator, options.host, options.port))


if __name__ == "__main__":
    main()
