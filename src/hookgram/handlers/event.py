"""What a source's handler receives as ``event``: the stored webhook, parsed, secrets left out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hookgram.inbox.models import Event
from hookgram.inbox.views import parsed_body, redacted_headers


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """One accepted webhook of a ``[[sources]]`` source.

    ``body`` is the parsed JSON (or form fields as a dict); ``raw`` the bytes as received, for
    handlers that check something more. ``id`` is the inbox row; ``attempt`` counts from 1.
    """

    id: int
    source: str
    body: Any
    headers: Mapping[str, str]
    received_at: datetime
    raw: bytes
    attempt: int

    @classmethod
    def from_inbox(cls, event: Event, secret_headers: Iterable[str] = ()) -> SourceEvent:
        """The handler's view of an inbox row."""
        return cls(
            id=event.id,
            source=event.source,
            body=parsed_body(event),
            headers=redacted_headers(event.headers, secret_headers),
            received_at=datetime.fromtimestamp(event.received_at, UTC),
            raw=event.body,
            attempt=event.attempts,
        )
