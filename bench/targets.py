"""The servers under test and how to start each as a process of its own."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HOOKGRAM = "hookgram"
REFERENCE = "aiogram"
PTB = "ptb"
CEILING = "ceiling"
ALL = (HOOKGRAM, REFERENCE, PTB, CEILING)

DESCRIPTIONS = {
    HOOKGRAM: "hookgram run (echo bot, SQLite inbox, synchronous=FULL, worker in-process)",
    REFERENCE: "aiogram SimpleRequestHandler echo (examples/echo_bot_webhook.py)",
    PTB: "python-telegram-bot run_webhook, concurrent_updates(True)",
    CEILING: "bare aiohttp: check the secret, parse the JSON, answer 200 (no echo)",
}
REPLIES = {HOOKGRAM: True, REFERENCE: True, PTB: True, CEILING: False}


@dataclass(frozen=True, slots=True)
class Launch:
    """A command line and environment for one server process."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Context:
    """What every server needs to know: where it listens and where the Bot API is."""

    port: int
    api_url: str
    token: str
    secret: str
    folder: Path
    database_url: str | None = None
    hookgram_env: dict[str, str] = field(default_factory=dict)


def launch(name: str, context: Context) -> Launch:
    """The command that starts server ``name``."""
    python = sys.executable
    common = ["--port", str(context.port), "--secret", context.secret]
    with_api = [*common, "--token", context.token, "--api", context.api_url]
    if name == CEILING:
        return Launch([python, "-m", "bench.servers.ceiling", *common])
    if name == REFERENCE:
        return Launch([python, "-m", "bench.servers.aiogram_echo", *with_api])
    if name == PTB:
        return Launch([python, "-m", "bench.servers.ptb_echo", *with_api])
    if name == HOOKGRAM:
        return Launch([python, "-m", "hookgram", "run"], hookgram_env(context))
    raise ValueError(f"unknown server {name!r}; choose from {', '.join(ALL)}")


def hookgram_env(context: Context) -> dict[str, str]:
    """The environment of a hookgram process (``run``, ``run --no-worker`` or ``worker``)."""
    database = context.database_url or f"sqlite:///{context.folder / 'inbox.db'}"
    return {
        "BOT_TOKEN": context.token,
        "HOOKGRAM_PUBLIC_URL": "https://bench.example.com",
        "HOOKGRAM_HOST": "127.0.0.1",
        "HOOKGRAM_PORT": str(context.port),
        "HOOKGRAM_API_URL": context.api_url,
        "HOOKGRAM_SECRET_TOKEN": context.secret,
        "HOOKGRAM_DATABASE_URL": database,
        # A fresh SQLite file is migrated anyway; a PostgreSQL database only when asked.
        "HOOKGRAM_MIGRATE": "true",
        # The address check stays on (its cost is part of the ack), with loopback allowed.
        "HOOKGRAM_ALLOWED_IPS": "127.0.0.1/32",
        **context.hookgram_env,
    }


def parse_servers(names: Sequence[str]) -> tuple[str, ...]:
    """Validate a list of server names; keeps the canonical order."""
    unknown = sorted(set(names) - set(ALL))
    if unknown:
        raise SystemExit(f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    return tuple(name for name in ALL if name in names)


def clean_environment() -> dict[str, str]:
    """The parent's environment without hookgram settings that would leak into a run."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HOOKGRAM_") and k not in ("BOT_TOKEN",)
    }
