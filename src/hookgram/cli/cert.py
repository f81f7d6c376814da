"""``hookgram cert``: a key and a self-signed certificate Telegram accepts for a domain or an IP."""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import click

from hookgram.certificates import self_signed_certificate
from hookgram.cli.options import reports_errors
from hookgram.errors import ConfigError, HookgramError

CERT_FILE = "hookgram-cert.pem"
KEY_FILE = "hookgram-key.pem"
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")


@click.command()
@click.option("--host", required=True, help="the domain or IP address Telegram connects to")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="folder to write hookgram-cert.pem and hookgram-key.pem to",
)
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True)
@click.option("--force", is_flag=True, help="replace files that already exist")
@reports_errors
def cert(host: str, out: Path, days: int, force: bool) -> None:
    """Write a key and a self-signed certificate for HOST, and print the settings to use."""
    host = _checked_host(host)
    cert_path, key_path = out / CERT_FILE, out / KEY_FILE
    for path in (cert_path, key_path):
        if path.exists() and not force:
            raise HookgramError(f"{path} already exists: pass --force to replace it")
    certificate, key = self_signed_certificate(host, days=days, now=datetime.now(UTC))
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write(key_path, key, mode=0o600)
        _write(cert_path, certificate, mode=0o644)
    except OSError as exc:
        raise HookgramError(f"cannot write to {out}: {exc.strerror}") from None
    url_host = f"[{host}]" if ":" in host else host
    click.echo(f"# a self-signed certificate for {host}, valid for {days} days")
    click.echo(f"HOOKGRAM_TLS_CERT={cert_path.resolve()}")
    click.echo(f"HOOKGRAM_TLS_KEY={key_path.resolve()}")
    click.echo(f"HOOKGRAM_PUBLIC_URL=https://{url_host}:8443")
    click.echo("HOOKGRAM_PORT=8443")


def _checked_host(host: str) -> str:
    text = host.strip().strip("[]")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if not _HOSTNAME.match(text) or text.replace(".", "").isdigit():
        raise ConfigError(
            f"--host {host!r} is neither a domain name nor an IP address "
            "(write e.g. bot.example.com or 203.0.113.7)"
        )
    return text.rstrip(".").lower()


def _write(path: Path, data: bytes, *, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    path.chmod(mode)
