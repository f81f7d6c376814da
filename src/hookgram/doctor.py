"""``hookgram doctor``'s checks of a deployment, without starting it: each gives ✓ or ✗ in one
line, with the fix. :func:`run_checks` runs them in order; add a check there."""

from __future__ import annotations

import datetime
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from hookgram.certificates import inspect_certificate
from hookgram.config import SECRET_TOKEN_PATTERN, WEBHOOK_PORTS, Settings
from hookgram.diagnosis import Severity, diagnose
from hookgram.errors import ConfigError, HookgramError
from hookgram.inbox.engine import create_engine
from hookgram.inbox.schema import (
    UPGRADE_COMMAND,
    missing_sqlite_file,
    read_schema_state,
    schema_problems,
)
from hookgram.sources.config import NEEDS_SECRET
from hookgram.telegram import BotAPI, with_retries
from hookgram.tls import certificate_upload
from hookgram.webhook import (
    DesiredWebhook,
    Difference,
    desired_webhook,
    differences,
    get_webhook_info,
    handler_update_types,
)


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: its name, what it found, and the fix when it failed."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """``✓ name: detail`` or ``✗ name: detail — fix: ...``."""
        text = f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"
        return f"{text} — fix: {self.fix}" if not self.ok and self.fix else text


@dataclass(frozen=True)
class Bounds:
    """How long the Bot API may take: attempts per call and seconds per attempt."""

    attempts: int = 3
    timeout: float = 10.0


async def run_checks(
    settings: Settings, app_spec: str | None, bounds: Bounds
) -> AsyncIterator[CheckResult]:
    """Every check in order; the Bot API ones only once the token works."""
    now = datetime.datetime.now(datetime.UTC)
    yield check_public_url(settings)
    yield check_tls(settings, now)
    yield check_secret_token(settings)
    yield await check_database(settings.database_url)
    app, update_types = await check_app(settings, app_spec)
    yield app
    for source in settings.sources:
        if source.verify in NEEDS_SECRET:
            secrets = source.secret_values()
            setting = f'the secret of [[sources]] "{source.name}"'
            yield check_source_secret(source.name, secrets[0] if secrets else None, setting)
    try:
        token = settings.token()
    except HookgramError as exc:
        yield CheckResult("token", False, str(exc))
        yield CheckResult("webhook", False, "not checked: the token check failed", "fix it first")
        return
    async with aiohttp.ClientSession() as http:
        api = BotAPI(http, settings.api_url, token, timeout=bounds.timeout)
        me = await check_token(api, bounds)
        yield me
        if not me.ok:
            yield CheckResult(
                "webhook", False, "not checked: the token check failed", "fix it first"
            )
            return
        desired = None
        if settings.public_url is not None and app.ok:
            desired = desired_webhook(settings, update_types, _upload(settings, now))
        for result in await check_webhook(api, settings, desired, bounds):
            yield result


def _upload(settings: Settings, now: datetime.datetime) -> bytes | None:
    try:
        return certificate_upload(settings.tls_cert, now=now)
    except ConfigError:
        return None  # the TLS check reports it


def check_public_url(settings: Settings) -> CheckResult:
    """HOOKGRAM_PUBLIC_URL is https on a port Telegram delivers to."""
    if settings.public_url is None:
        if settings.polling:
            return CheckResult("public URL", True, "not needed: HOOKGRAM_POLLING is on")
        return CheckResult(
            "public URL",
            False,
            "HOOKGRAM_PUBLIC_URL is not set",
            "set it to the https base URL Telegram reaches, e.g. https://bot.example.com",
        )
    parts = urlsplit(settings.public_url)
    port = parts.port or 443
    if parts.scheme != "https" or port not in WEBHOOK_PORTS:
        return CheckResult(
            "public URL",
            False,
            f"{settings.public_url} is not https on port 443, 80, 88 or 8443",
            "use https:// and one of Telegram's ports",
        )
    return CheckResult("public URL", True, f"{settings.webhook_url()} (https, port {port})")


def check_tls(settings: Settings, now: datetime.datetime) -> CheckResult:
    """HOOKGRAM_TLS_CERT and _KEY: readable, matching, naming the host, not expiring."""
    cert, key = settings.tls_cert, settings.tls_key
    if cert is None and key is None:
        return CheckResult("TLS", True, "not served by hookgram: a reverse proxy terminates HTTPS")
    if cert is None or key is None:
        return CheckResult(
            "TLS",
            False,
            "only one of HOOKGRAM_TLS_CERT and HOOKGRAM_TLS_KEY is set",
            "set both, or neither",
        )
    host = urlsplit(settings.public_url).hostname if settings.public_url else None
    report = inspect_certificate(Path(cert), Path(key), host, now)
    trouble = report.problems + report.warnings
    if trouble:
        return CheckResult("TLS", False, trouble[0])
    named = f"names {host}, " if host is not None else ""
    until = f"{report.not_after:%Y-%m-%d}" if report.not_after else "?"
    upload = "self-signed, uploaded with setWebhook" if report.self_signed else "CA-issued"
    return CheckResult(
        "TLS", True, f"{cert} {named}valid until {until}; the key matches ({upload})"
    )


def check_secret_token(settings: Settings) -> CheckResult:
    """The secret token has Telegram's format (1-256 of A-Za-z0-9_-)."""
    configured = settings.secret_token is not None
    try:
        secret = settings.webhook_secret()
    except HookgramError as exc:
        return CheckResult("secret token", False, f"cannot be derived: {exc}")
    if not SECRET_TOKEN_PATTERN.match(secret):
        return CheckResult(
            "secret token",
            False,
            "HOOKGRAM_SECRET_TOKEN has characters Telegram refuses",
            "use 1-256 characters of A-Z, a-z, 0-9, _ and -",
        )
    origin = "HOOKGRAM_SECRET_TOKEN" if configured else "derived from BOT_TOKEN"
    return CheckResult("secret token", True, f"{origin}, {len(secret)} valid characters")


def check_source_secret(source: str, secret: str | None, setting: str) -> CheckResult:
    """A third-party source has the secret its requests are verified with."""
    if secret:
        return CheckResult(f"source {source}", True, f"{setting} is set")
    return CheckResult(
        f"source {source}",
        False,
        f"{setting} is not set, so its requests cannot be verified",
        f"set {setting} to the secret the sender signs with",
    )


async def check_database(database_url: str) -> CheckResult:
    """The inbox database answers and has this hookgram's tables."""
    url = make_url(database_url)
    shown = url.render_as_string(hide_password=True)
    if missing_sqlite_file(url):
        return CheckResult(
            "database",
            False,
            f"{shown}: the file does not exist",
            "check HOOKGRAM_DATABASE_URL (`hookgram run` creates the file at first start)",
        )
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            problems = await connection.run_sync(schema_problems)
            revision = (await connection.run_sync(read_schema_state)).problem()
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return CheckResult(
            "database",
            False,
            f"{shown} unreachable: {reason}",
            "check HOOKGRAM_DATABASE_URL and that the database server runs",
        )
    finally:
        await engine.dispose()
    if problems:
        return CheckResult(
            "database",
            False,
            f"{shown}: schema not current ({'; '.join(problems)})",
            f"run `{UPGRADE_COMMAND}`; columns it does not add mean the database belongs to "
            "another hookgram version",
        )
    if revision is not None:
        return CheckResult("database", False, f"{shown}: {revision}", f"run `{UPGRADE_COMMAND}`")
    return CheckResult("database", True, f"{shown} reachable, schema current")


async def check_app(
    settings: Settings, app_spec: str | None
) -> tuple[CheckResult, list[str] | None]:
    """APP loads, and the update types its handlers use (what setWebhook registers)."""
    try:
        used = await handler_update_types(settings, app_spec)
    except HookgramError as exc:
        return CheckResult("app", False, str(exc), "fix APP or PYTHONPATH"), None
    name = app_spec or "the echo bot"
    if used is None:
        return CheckResult("app", True, f"{name}; HOOKGRAM_ALLOWED_UPDATES is set"), None
    return CheckResult("app", True, f"{name} loads; its handlers use {', '.join(used)}"), used


async def check_token(api: BotAPI, bounds: Bounds) -> CheckResult:
    """The Bot API accepts BOT_TOKEN (getMe); shows the bot's @username."""
    try:
        me = await with_retries("getMe", lambda: api.call("getMe"), attempts=bounds.attempts)
    except HookgramError as exc:
        return CheckResult("token", False, str(exc), "check BOT_TOKEN and HOOKGRAM_API_URL")
    return CheckResult("token", True, f"valid, the bot is @{me.get('username')}")


async def check_webhook(
    api: BotAPI, settings: Settings, desired: DesiredWebhook | None, bounds: Bounds
) -> list[CheckResult]:
    """Registered at the configured URL with matching settings, and delivering."""
    try:
        info = await get_webhook_info(api, attempts=bounds.attempts)
    except HookgramError as exc:
        return [CheckResult("webhook", False, str(exc), "check the network and HOOKGRAM_API_URL")]
    if settings.polling:
        if info.url:
            return [
                CheckResult(
                    "webhook",
                    False,
                    f"registered at {info.url}, but HOOKGRAM_POLLING is on",
                    "`hookgram webhook delete` (run --polling also deletes it)",
                )
            ]
        return [CheckResult("webhook", True, "none registered, as polling needs")]
    diffs = differences(desired, info) if desired is not None else []
    results = [_registration(info.url, desired, diffs)]
    if not info.url:
        return results
    # Without the configured webhook, the diagnosis speaks only of backlog and delivery errors.
    findings = diagnose(info, None, time.time())
    problems = [f for f in findings if f.severity is Severity.PROBLEM]
    if problems:
        results.append(CheckResult("delivery", False, problems[0].summary, problems[0].fix))
    else:
        detail = f"no recent errors, {info.pending_update_count} pending"
        results.append(CheckResult("delivery", True, detail))
    return results


def _registration(url: str, desired: DesiredWebhook | None, diffs: list[Difference]) -> CheckResult:
    if not url:
        return CheckResult(
            "webhook", False, "none registered", "`hookgram webhook set` (or start `hookgram run`)"
        )
    if desired is None:
        return CheckResult("webhook", False, f"registered at {url}; not compared (see above)")
    if diffs:
        detail = "; ".join(str(d) for d in diffs)
        return CheckResult("webhook", False, detail, "`hookgram webhook set`")
    return CheckResult("webhook", True, f"registered at {url} with the configured settings")
