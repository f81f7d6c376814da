"""One way to present an inbox row, shared by the CLI and the inspector."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from hookgram.inbox.models import Attempt, Event

REDACTED = "[redacted]"
# Headers that carry credentials in any scheme; sources add their own (a token header, say).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-telegram-bot-api-secret-token"}
)
# Header names that carry a credential in some provider's scheme (X-Shop-Token,
# Webhook-Signature, X-Api-Key, ...): hidden even when no source declared them.
SECRET_HEADER_WORDS = ("token", "secret", "signature", "password", "auth", "cookie", "api-key")
SUMMARY_LENGTH = 80
ID_FIELDS = ("id", "event_id", "invoice_id", "payment_id")

Redact = Callable[[str], str]


def _same(text: str) -> str:
    return text


def redacted_headers(
    headers: Mapping[str, str], secret: Iterable[str] = (), redact: Redact = _same
) -> dict[str, str]:
    """``headers`` with every credential-bearing value replaced by ``[redacted]``."""
    hidden = SECRET_HEADERS | {h.lower() for h in secret}
    return {k: REDACTED if _is_secret(k, hidden) else redact(v) for k, v in headers.items()}


def _is_secret(name: str, hidden: frozenset[str]) -> bool:
    lowered = name.lower().replace("_", "-")
    return lowered in hidden or any(word in lowered for word in SECRET_HEADER_WORDS)


def parsed_body(event: Event, redact: Redact = _same) -> Any:
    """The body as JSON, else as a form, else as text; ``redact`` masks known secrets in it."""
    text = redact(event.body.decode("utf-8", errors="replace"))
    try:
        return json.loads(text)
    except ValueError:
        pass
    pairs = parse_qsl(text, keep_blank_values=True)
    if pairs and "=" in text:
        return dict(pairs)
    return text


def pretty_body(event: Event, redact: Redact = _same) -> str:
    """The body for people: indented JSON when it parses, else the text as received."""
    body = parsed_body(event, redact)
    if isinstance(body, str):
        return body
    return json.dumps(body, indent=2, ensure_ascii=False, sort_keys=False)


def summary(event: Event, redact: Redact = _same) -> str:
    """One line: for Telegram the update kind, chat, sender and text; else event type and id."""
    body = parsed_body(event, redact)
    if not isinstance(body, dict):
        return _cut(str(body))
    if event.source == "telegram":
        return _telegram_summary(body)
    parts = [p for p in type_and_id(body) if p is not None]
    return _cut(" ".join(parts) or ", ".join(list(body)[:5]))


def type_and_id(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """A third-party event's type and id, when its body has the usual fields."""
    kind = _first(body, ("type", "event", "event_type", "update_type", "status"))
    ident = _first(body, ID_FIELDS)
    for envelope in ("object", "data", "payload"):
        if ident is None and isinstance(body.get(envelope), dict):
            ident = _first(body[envelope], ID_FIELDS)
    return (
        None if kind is None else str(kind),
        None if ident is None else str(ident),
    )


def _telegram_summary(update: dict[str, Any]) -> str:
    kind = next((k for k in update if k != "update_id"), "unknown")
    payload = update.get(kind)
    if not isinstance(payload, dict):
        return kind
    parts = [kind]
    chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
    if isinstance(chat, dict):
        parts.append(f"chat {chat.get('title') or chat.get('username') or chat.get('id')}")
    sender = payload.get("from")
    if isinstance(sender, dict):
        name = sender.get("username") or " ".join(
            str(n) for n in (sender.get("first_name"), sender.get("last_name")) if n
        )
        parts.append(f"from {name or sender.get('id')}")
    text = (
        payload.get("text") or payload.get("caption") or payload.get("data") or payload.get("query")
    )
    if isinstance(text, str) and text:
        parts.append(repr(text))
    return _cut(" · ".join(parts))


def _first(data: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return value
    return None


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def event_record(
    event: Event, secret_headers: Iterable[str] = (), redact: Redact = _same
) -> dict[str, Any]:
    """A JSON-ready dict of the row, headers redacted, body parsed, known secrets masked."""
    return {
        "id": event.id,
        "source": event.source,
        "dedup_key": event.dedup_key,
        "ordering_key": event.ordering_key,
        "status": event.status.value,
        "attempts": event.attempts,
        "received_at": event.received_at,
        "next_attempt_at": event.next_attempt_at,
        "finished_at": event.finished_at,
        "last_error": None if event.last_error is None else redact(event.last_error),
        "summary": summary(event, redact),
        "headers": redacted_headers(event.headers, secret_headers, redact),
        "body": parsed_body(event, redact),
    }


def attempt_record(attempt: Attempt, redact: Redact = _same) -> dict[str, Any]:
    """A JSON-ready dict of one attempt: when, how long, by whom, its outcome and error."""
    return {
        "number": attempt.number,
        "worker": attempt.worker,
        "started_at": attempt.started_at,
        "finished_at": attempt.finished_at,
        "seconds": max(0.0, attempt.finished_at - attempt.started_at),
        "outcome": attempt.outcome.value,
        "error": None if attempt.error is None else redact(attempt.error),
    }
