"""``hookgram firewall``: print rules that open the port to Telegram (and the sources) only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hookgram.cli.options import reports_errors, setting_options, settings_from
from hookgram.config import Settings
from hookgram.firewall import FORMATS, Format, Opening, firewall_rules
from hookgram.security import AllowList
from hookgram.sources.schemes.yookassa import YOOKASSA_NETWORKS


@click.command()
@setting_options("port", "allowed_ips", "trusted_proxies")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="ufw",
    show_default=True,
    help="the firewall to write rules for",
)
@reports_errors
def firewall(config_file: Path | None, fmt: Format, **flags: Any) -> None:
    """Print firewall rules that open the listening port to the allowed networks only."""
    settings = settings_from(config_file, **flags)
    click.echo(firewall_rules(settings.port, openings(settings), fmt), nl=False)


def openings(settings: Settings) -> list[Opening]:
    """Who may reach the port: the Telegram route, the trusted proxies, each third-party source.

    A source without ``allowed_ips`` (one verified by signature alone) may post from anywhere,
    so it opens the port to every address.
    """
    telegram = settings.telegram_allow_list()
    found = [Opening("telegram", telegram.networks if telegram else None)]
    if settings.trusted_proxies:
        found.append(Opening("trusted proxies", settings.proxy_allow_list().networks))
    for source in settings.sources:
        networks = source.allowed_ips
        if networks is None and source.verify == "yookassa":
            networks = list(YOOKASSA_NETWORKS)
        if networks is None:
            found.append(Opening(f"source {source.name} (no allowed_ips)", None))
            continue
        allowed = AllowList.parse(networks, setting=f"allowed_ips of source {source.name}")
        found.append(Opening(f"source {source.name}", allowed.networks))
    return found
