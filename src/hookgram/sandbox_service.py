"""`hookgram sandbox` in one process: the Bot API emulator with its chat page, and the bot served
against it in real webhook mode by `service.serve` (the same ingress, inbox and worker as in
production), over plain http on loopback. No token, domain, certificate or tunnel needed."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from hookgram.config import Settings
from hookgram.errors import HookgramError
from hookgram.sandbox import BotAPIEmulator
from hookgram.sandbox.delivery import DeliveryOptions
from hookgram.service import Running, serve

BOT_USERNAME = "hookgram_sandbox_bot"
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")


@dataclass(frozen=True)
class SandboxRunning:
    """What a started sandbox exposes: the chat page's URL, the emulator, hookgram's side."""

    page_url: str
    emulator: BotAPIEmulator
    running: Running


def sandbox_credentials() -> tuple[str, str]:
    """A fresh bot token (a new bot id each run, so a kept inbox never sees an id twice) and a
    webhook secret token; both exist only for this run."""
    bot_id = 1_000_000_000 + secrets.randbelow(9_000_000_000)
    return f"{bot_id}:{secrets.token_urlsafe(27)}", secrets.token_urlsafe(32)


async def run_sandbox(
    settings: Settings,
    app_spec: str | None,
    stop: asyncio.Event,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[SandboxRunning], None] | None = None,
    delivery: DeliveryOptions | None = None,
) -> None:
    """Serve the page on host:port and the bot (settings.host:port) until `stop` is set."""
    emulator = BotAPIEmulator(
        tokens=[settings.token()],
        bot_username=BOT_USERNAME,
        allow_http_webhook=True,
        delivery=delivery,
    )
    try:
        await emulator.start(host, port)
    except OSError as exc:
        raise HookgramError(
            f"the sandbox page cannot listen on {host}:{port} ({exc.strerror or exc}): "
            "choose another with --port (0 picks a free one)"
        ) from None
    try:
        # The emulator delivers over plain http from loopback: accept only that, and no TLS.
        served = settings.model_copy(
            update={
                "api_url": emulator.base_url,
                "allowed_ips": list(LOOPBACK_NETWORKS),
                "tls_cert": None,
                "tls_key": None,
            }
        )

        def ready(running: Running) -> None:
            if on_ready is not None:
                on_ready(SandboxRunning(f"{emulator.base_url}/", emulator, running))

        await serve(served, app_spec, stop, on_ready=ready, loopback_webhook=True)
    finally:
        await emulator.stop()
