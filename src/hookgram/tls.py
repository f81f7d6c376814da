"""HTTPS served by hookgram itself: the server's SSL context and the start-up certificate checks."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hookgram.certificates import inspect_certificate
from hookgram.errors import ConfigError


@dataclass(frozen=True)
class ServerTLS:
    """What start-up needs: the context to serve with, and the certificate setWebhook uploads."""

    context: ssl.SSLContext
    upload: bytes | None  # only a self-signed certificate is sent to Telegram
    warnings: list[str]


def load_server_tls(
    cert_path: Path | None, key_path: Path | None, host: str | None, *, now: datetime
) -> ServerTLS | None:
    """HTTPS from HOOKGRAM_TLS_CERT and HOOKGRAM_TLS_KEY, or None for plain HTTP."""
    if cert_path is None and key_path is None:
        return None
    if cert_path is None or key_path is None:
        given, missing = ("CERT", "KEY") if key_path is None else ("KEY", "CERT")
        raise ConfigError(
            f"HOOKGRAM_TLS_{given} is set but HOOKGRAM_TLS_{missing} is not: set both to serve "
            "HTTPS, or neither"
        )
    report = inspect_certificate(cert_path, key_path, host, now)
    if report.problems:
        raise ConfigError(report.problems[0])
    context = server_context(cert_path, key_path)
    return ServerTLS(
        context, report.certificate_pem if report.self_signed else None, report.warnings
    )


def certificate_upload(cert_path: Path | None, *, now: datetime) -> bytes | None:
    """The certificate setWebhook uploads: the served one when self-signed, else None."""
    if cert_path is None:
        return None
    report = inspect_certificate(cert_path, None, None, now)
    if report.problems:
        raise ConfigError(report.problems[0])
    return report.certificate_pem if report.self_signed else None


def server_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """A server context for the pair speaking TLS 1.2 or newer (Telegram's minimum)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_path, key_path)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"certificate {cert_path} with key {key_path} cannot be used ({exc}): "
            "fix HOOKGRAM_TLS_CERT and HOOKGRAM_TLS_KEY"
        ) from None
    return context
