"""What the operations commands (webhook, doctor) share: a Bot API client that retries a little
and then gives up, quiet logging and output with every secret masked."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import click
from sqlalchemy.engine import make_url

from hookgram.cli.options import configure_logging
from hookgram.config import Settings
from hookgram.redaction import Redactor
from hookgram.telegram import BotAPI

# An operator waits at the terminal: a few quick tries, then one line saying what failed.
ATTEMPTS = 3
TIMEOUT_SECONDS = 10.0

# Settings that get a flag on the operations commands.
WEBHOOK_FLAGS = (
    "public_url",
    "webhook_path",
    "api_url",
    "max_connections",
    "webhook_ip_address",
    "log_level",
)


@asynccontextmanager
async def bot_api(settings: Settings) -> AsyncIterator[BotAPI]:
    """A Bot API client for the configured token and server, closed on exit."""
    token = settings.token()
    async with aiohttp.ClientSession() as http:
        yield BotAPI(http, settings.api_url, token, timeout=TIMEOUT_SECONDS)


def quiet_logging(settings: Settings) -> None:
    """Log only errors (retry warnings would bury the one line that matters), unless DEBUG."""
    configure_logging(settings)
    if settings.log_level != "DEBUG":
        logging.getLogger().setLevel(logging.ERROR)


class Console:
    """Prints to the terminal with the token, the secrets and the database password masked."""

    def __init__(self, settings: Settings) -> None:
        secrets = settings.secrets()
        password = make_url(settings.database_url).password
        if password:
            secrets.append(str(password))
        self._redact = Redactor(secrets)

    def line(self, text: str = "") -> None:
        """One line on stdout."""
        click.echo(self._redact(text))

    def error(self, text: str) -> None:
        """One line on stderr."""
        click.echo(self._redact(text), err=True)

    def confirm(self, question: str) -> bool:
        """Ask on the terminal; no answer (no stdin) counts as no."""
        try:
            return click.confirm(self._redact(question), default=False)
        except click.Abort:
            click.echo("")
            return False
