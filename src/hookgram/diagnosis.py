"""What is wrong with a webhook, in plain words: pure functions of Telegram's getWebhookInfo,
the configured webhook and the time."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hookgram.delivery_errors import explain_delivery_error
from hookgram.webhook import DesiredWebhook, WebhookInfo, differences

# Telegram never has more than max_connections (at most 100) deliveries in flight, and hookgram
# acknowledges each after one insert, so a healthy webhook shows a handful at most. Over 100
# cannot be deliveries in progress: updates are queuing because delivery fails or is slower
# than they arrive, and Telegram drops what it has held for 24 hours.
PENDING_BACKLOG = 100

# Telegram retries a failing delivery every minute or so and refreshes last_error_date each
# time, so while delivery is broken the error stays recent. An error older than this is
# history: nothing has failed since.
RECENT_ERROR_SECONDS = 3600


class Severity(enum.StrEnum):
    """A problem makes ``webhook info`` exit 1; a note is worth knowing but fails nothing."""

    PROBLEM = "problem"
    NOTE = "note"


@dataclass(frozen=True)
class Finding:
    """One thing the diagnosis noticed: a one-line summary, why it matters, and the fix."""

    severity: Severity
    summary: str
    explanation: str
    fix: str


def diagnose(info: WebhookInfo, desired: DesiredWebhook | None, now: float) -> list[Finding]:
    """Everything worth saying about ``info``; ``desired`` None skips the comparison."""
    findings: list[Finding] = []
    if not info.url:
        findings.append(_not_set(info))
    elif desired is not None:
        findings.extend(_mismatches(info, desired))
    if info.url and info.pending_update_count > PENDING_BACKLOG:
        findings.append(_backlog(info))
    if info.last_error_message:
        findings.append(_last_error(info, now))
    if info.last_synchronization_error_date is not None:
        findings.append(_sync_error(info.last_synchronization_error_date, now))
    return findings


def healthy(findings: list[Finding]) -> bool:
    """True when no finding is a problem."""
    return all(finding.severity is not Severity.PROBLEM for finding in findings)


def ago(timestamp: float, now: float) -> str:
    """``timestamp`` relative to ``now``: "just now", "3 minutes ago", "2 days ago"."""
    seconds = int(now - timestamp)
    if seconds < 0:
        return "in the future (check this machine's clock)"
    if seconds < 10:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"  # pragma: no cover - seconds >= 10 always matches a unit


def _not_set(info: WebhookInfo) -> Finding:
    waiting = (
        f" {info.pending_update_count} updates are waiting for it."
        if info.pending_update_count
        else ""
    )
    return Finding(
        Severity.PROBLEM,
        "no webhook is registered",
        "Telegram sends updates to nobody: the bot is polling with getUpdates "
        "(`hookgram run --polling` removes the webhook), or deleteWebhook was called. "
        "Telegram keeps updates for 24 hours at most." + waiting,
        "`hookgram webhook set` registers it (so does starting `hookgram run`)",
    )


def _mismatches(info: WebhookInfo, desired: DesiredWebhook) -> list[Finding]:
    found = differences(desired, info)
    findings = [_other_url(d.registered, d.configured) for d in found if d.name == "url"]
    if info.has_custom_certificate and desired.certificate is None:
        findings.append(_PINNED_CERTIFICATE)
    rest = [str(d) for d in found if d.name not in ("url", "custom certificate")]
    if rest:
        findings.append(
            Finding(
                Severity.PROBLEM,
                "the registered settings differ: " + "; ".join(rest),
                "Telegram delivers with its copy of the settings, not the configured ones.",
                "`hookgram webhook set` (or restarting `hookgram run`, which re-sets what differs)",
            )
        )
    return findings


def _other_url(registered: str, configured: str) -> Finding:
    return Finding(
        Severity.PROBLEM,
        f"the registered URL {registered} is not the configured {configured}",
        "Telegram delivers to the registered URL, so this deployment receives nothing. "
        "Another deployment (staging, an old server) may have set its own URL.",
        "`hookgram webhook set` registers the configured URL; if the registered one is "
        "right, fix HOOKGRAM_PUBLIC_URL and HOOKGRAM_WEBHOOK_PATH instead",
    )


_PINNED_CERTIFICATE = Finding(
    Severity.PROBLEM,
    "Telegram holds an uploaded certificate, but this configuration uploads none",
    "An uploaded certificate is pinned: Telegram trusts only that file, so a CA-issued "
    "certificate (Let's Encrypt) stops working at its next renewal.",
    "`hookgram webhook set` registers the webhook without the upload",
)


def _backlog(info: WebhookInfo) -> Finding:
    return Finding(
        Severity.PROBLEM,
        f"{info.pending_update_count} updates are pending",
        f"More updates wait than Telegram could be delivering at once (over {PENDING_BACKLOG}): "
        "delivery fails or is slower than updates arrive, and Telegram drops what it has "
        "held for 24 hours.",
        "fix the delivery error, if one is shown; otherwise make sure hookgram is running "
        "and answering (`hookgram doctor`)",
    )


def _last_error(info: WebhookInfo, now: float) -> Finding:
    message = info.last_error_message or ""
    explanation, fix = explain_delivery_error(message, info.has_custom_certificate)
    if info.last_error_date is None:
        when, recent = "at an unknown time", True
    else:
        when = ago(info.last_error_date, now)
        recent = now - info.last_error_date < RECENT_ERROR_SECONDS
    if recent:
        return Finding(Severity.PROBLEM, f"delivery failed {when}: {message}", explanation, fix)
    return Finding(
        Severity.NOTE,
        f"the last delivery error was {when}: {message}",
        "Nothing has failed since, so deliveries are working. At the time: " + explanation,
        "nothing now; if it comes back: " + fix,
    )


def _sync_error(date: int, now: float) -> Finding:
    return Finding(
        Severity.NOTE,
        f"Telegram had a synchronisation error {ago(date, now)}",
        "An error inside Telegram while it synchronised updates between its data centres; "
        "it is not caused by this server.",
        "nothing on this side: Telegram recovers from these on its own",
    )
