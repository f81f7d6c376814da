"""``hookgram webhook info|set|delete``: the bot's webhook on Telegram, diagnosed and changed."""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path
from typing import Any

import click
import orjson

from hookgram.cli.botapi import (
    ATTEMPTS,
    WEBHOOK_FLAGS,
    Console,
    bot_api,
    quiet_logging,
)
from hookgram.cli.options import reports_errors, run_async, setting_options, settings_from
from hookgram.config import Settings
from hookgram.diagnosis import Finding, Severity, ago, diagnose, healthy
from hookgram.tls import certificate_upload
from hookgram.webhook import (
    DesiredWebhook,
    WebhookInfo,
    desired_webhook,
    get_webhook_info,
    handler_update_types,
    register,
    remove,
)


@click.group()
def webhook() -> None:
    """Show, diagnose, set or delete the bot's webhook on Telegram."""


@webhook.command()
@click.argument("app", required=False)
@setting_options(*WEBHOOK_FLAGS)
@click.option("--json", "as_json", is_flag=True, help="print getWebhookInfo's result as JSON")
@reports_errors
def info(app: str | None, config_file: Path | None, as_json: bool, **flags: Any) -> None:
    """Show the webhook Telegram holds and what is wrong with it (exit 1 when something is).

    Compared with the configured webhook when HOOKGRAM_PUBLIC_URL is set; the allowed updates
    only when HOOKGRAM_ALLOWED_UPDATES or APP (as for `run`) says which they should be.
    """
    settings = _settings(config_file, flags)
    console = Console(settings)

    async def main() -> tuple[WebhookInfo, DesiredWebhook | None]:
        desired = None
        if settings.public_url is not None:
            # Loading APP imports aiogram (seconds): only when asked to compare update types.
            types = await handler_update_types(settings, app) if app else None
            desired = desired_webhook(settings, types)
        async with bot_api(settings) as api:
            return await get_webhook_info(api, attempts=ATTEMPTS), desired

    current, desired = run_async(main())
    findings = diagnose(current, desired, time.time())
    if as_json:
        console.line(orjson.dumps(current.raw, option=orjson.OPT_INDENT_2).decode())
    else:
        for line in describe(current, time.time()):
            console.line(line)
        console.line()
        for line in explain(findings, compared=desired is not None):
            console.line(line)
    sys.exit(0 if healthy(findings) else 1)


@webhook.command(name="set")
@click.argument("app", required=False)
@setting_options(*WEBHOOK_FLAGS)
@click.option(
    "--drop-pending-updates", is_flag=True, help="also drop the updates Telegram holds (asks)"
)
@click.option("--yes", is_flag=True, help="drop pending updates without asking")
@reports_errors
def set_(
    app: str | None,
    config_file: Path | None,
    drop_pending_updates: bool,
    yes: bool,
    **flags: Any,
) -> None:
    """Register the webhook exactly as `run` does (APP gives the update types, as for `run`)."""
    settings = _settings(config_file, flags)
    console = Console(settings)

    async def main() -> bool:
        desired = await _desired(settings, app)
        async with bot_api(settings) as api:
            current = await get_webhook_info(api, attempts=ATTEMPTS)
            if drop_pending_updates and not _drop_confirmed(console, current, yes):
                return False
            await register(
                api, desired, drop_pending_updates=drop_pending_updates, attempts=ATTEMPTS
            )
        console.line(f"webhook set to {desired.url}")
        console.line(f"  {_settings_line(desired)}")
        console.line(f"  {_pending_line(current, dropped=drop_pending_updates)}")
        return True

    sys.exit(0 if run_async(main()) else 1)


@webhook.command()
@setting_options("api_url", "log_level")
@click.option("--drop-pending-updates", is_flag=True, help="also drop the updates Telegram holds")
@click.option("--yes", is_flag=True, help="drop pending updates without asking")
@reports_errors
def delete(config_file: Path | None, drop_pending_updates: bool, yes: bool, **flags: Any) -> None:
    """Remove the webhook; Telegram keeps pending updates unless --drop-pending-updates."""
    settings = _settings(config_file, flags)
    console = Console(settings)

    async def main() -> bool:
        async with bot_api(settings) as api:
            current = await get_webhook_info(api, attempts=ATTEMPTS)
            if drop_pending_updates and not _drop_confirmed(console, current, yes):
                return False
            await remove(api, drop_pending_updates=drop_pending_updates, attempts=ATTEMPTS)
        was = f" (was {current.url})" if current.url else " (none was set)"
        console.line(f"webhook deleted{was}")
        console.line(f"  {_pending_line(current, dropped=drop_pending_updates)}")
        return True

    sys.exit(0 if run_async(main()) else 1)


def describe(current: WebhookInfo, now: float) -> list[str]:
    """Every getWebhookInfo field, readably."""
    rows = [
        ("URL", current.url or "none (no webhook: getUpdates polling, or deleted)"),
        ("custom certificate", "yes (uploaded)" if current.has_custom_certificate else "no"),
        ("pending updates", str(current.pending_update_count)),
        ("max connections", _or_none(current.max_connections)),
        ("IP address", _or_none(current.ip_address)),
        ("allowed updates", _allowed(current.allowed_updates)),
        ("last error", _when(current.last_error_date, now, current.last_error_message)),
        ("last sync error", _when(current.last_synchronization_error_date, now, None)),
    ]
    return ["Webhook on Telegram"] + [f"  {name:<20}{value}" for name, value in rows]


def explain(findings: list[Finding], *, compared: bool) -> list[str]:
    """The diagnosis: problems with ✗, notes with •, each with why and the fix."""
    lines = ["Diagnosis"]
    if healthy(findings):
        lines.append("  ✓ no problems found")
    if not compared:
        lines.append("  • HOOKGRAM_PUBLIC_URL is not set: the URL and settings were not compared")
    for finding in findings:
        mark = "✗" if finding.severity is Severity.PROBLEM else "•"
        lines += [
            f"  {mark} {finding.summary}",
            f"      why: {finding.explanation}",
            f"      fix: {finding.fix}",
        ]
    return lines


def _settings(config_file: Path | None, flags: dict[str, Any]) -> Settings:
    settings = settings_from(config_file, **flags)
    quiet_logging(settings)
    return settings


async def _desired(settings: Settings, app: str | None) -> DesiredWebhook:
    # The certificate upload (self-signed only) is decided with `run`'s TLS settings.
    upload = certificate_upload(settings.tls_cert, now=datetime.datetime.now(datetime.UTC))
    return desired_webhook(settings, await handler_update_types(settings, app), upload)


def _drop_confirmed(console: Console, current: WebhookInfo, yes: bool) -> bool:
    question = (
        f"Drop the {current.pending_update_count} updates Telegram holds for this bot? "
        "They cannot be recovered."
    )
    if yes or console.confirm(question):
        return True
    console.error("nothing changed: dropping pending updates was not confirmed (--yes skips this)")
    return False


def _settings_line(desired: DesiredWebhook) -> str:
    parts = [
        f"max connections {desired.max_connections}",
        f"allowed updates {_allowed(desired.allowed_updates, unset='as before')}",
        f"IP address {desired.ip_address or 'from DNS'}",
        "certificate uploaded" if desired.certificate else "no certificate upload",
        "secret token sent",
    ]
    return ", ".join(parts)


def _pending_line(current: WebhookInfo, *, dropped: bool) -> str:
    count = current.pending_update_count
    if dropped:
        return f"{count} pending updates dropped"
    return f"{count} pending updates kept (Telegram holds them for up to 24 hours)"


def _allowed(types: tuple[str, ...] | None, unset: str = "the default types") -> str:
    if types is None:
        return unset
    return ", ".join(types) if types else "the default types"


def _or_none(value: object) -> str:
    return "none" if value is None else str(value)


def _when(date: int | None, now: float, message: str | None) -> str:
    if date is None:
        return message or "none"
    stamp = datetime.datetime.fromtimestamp(date, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    prefix = f"{message} " if message else ""
    return f"{prefix}({ago(date, now)}, {stamp})"
