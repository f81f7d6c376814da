"""What every command shares: settings flags, logging, the event loop, error reporting."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from hookgram.config import Settings, load_settings
from hookgram.errors import ConfigError, HookgramError
from hookgram.redaction import Redactor

F = TypeVar("F", bound=Callable[..., Any])

# Settings that get a command-line flag; their help text is the field's description.
SERVER_FLAGS = (
    "public_url",
    "webhook_path",
    "host",
    "port",
    "database_url",
    "api_url",
    "max_connections",
    "worker_concurrency",
    "log_level",
)


def setting_options(*fields: str) -> Callable[[F], F]:
    """Click options for ``fields``, generated from the Settings descriptions."""

    def decorate(command: F) -> F:
        for field in reversed(fields):
            info = Settings.model_fields[field]
            annotation = info.annotation
            kind: Any = int if annotation is int else str
            command = click.option(
                "--" + field.replace("_", "-"),
                field,
                type=kind,
                default=None,
                help=info.description,
            )(command)
        return click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="TOML settings file (default: $HOOKGRAM_CONFIG, else ./hookgram.toml if present)",
        )(command)

    return decorate


def settings_from(config_file: Path | None, **flags: Any) -> Settings:
    """Settings from flags over environment over .env over the TOML file."""
    if config_file is None:
        named = os.environ.get("HOOKGRAM_CONFIG")
        if named:
            config_file = Path(named)
        elif Path("hookgram.toml").is_file():
            config_file = Path("hookgram.toml")
    return load_settings(config_file, environ=environment(), **flags)


def environment() -> dict[str, str]:
    """The environment over ``.env``, as settings read them: for sources' ``env:NAME`` secrets."""
    from dotenv import dotenv_values

    dotenv = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    return {**dotenv, **os.environ}


def configure_logging(settings: Settings) -> None:
    """Log to stderr with every known secret masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redactor(settings.secrets()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    if settings.log_level != "DEBUG":
        # aiogram logs every handled update at INFO: one line per update is noise at this rate.
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)
        # Alembic announces its dialect on every schema check; hookgram logs what changed.
        logging.getLogger("alembic").setLevel(logging.WARNING)


T = TypeVar("T")


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on every supported OS
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def run_until_signalled(serve: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``serve(stop)`` on uvloop; SIGTERM and SIGINT set ``stop`` for a graceful end."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve(stop)

    run_async(main())


def reports_errors(command: F) -> F:
    """Turn a HookgramError into one line on stderr and exit status 2 (config) or 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except HookgramError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
