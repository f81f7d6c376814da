"""The command line: the only place that reads the environment and exits the process.

Each command lives in a module of its own and is registered here.
"""

from __future__ import annotations

import click

from hookgram.cli.cert import cert
from hookgram.cli.db import db
from hookgram.cli.doctor import doctor
from hookgram.cli.events import events
from hookgram.cli.firewall import firewall
from hookgram.cli.run import run
from hookgram.cli.sandbox import sandbox
from hookgram.cli.webhook import webhook
from hookgram.cli.worker import worker


@click.group()
@click.version_option(package_name="hookgram")
def cli() -> None:
    """hookgram: a durable webhook server for aiogram bots."""


cli.add_command(run)
cli.add_command(db)
cli.add_command(worker)
cli.add_command(cert)
cli.add_command(firewall)
cli.add_command(events)
cli.add_command(webhook)
cli.add_command(doctor)
cli.add_command(sandbox)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="hookgram")
