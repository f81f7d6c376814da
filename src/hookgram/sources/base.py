"""What every source gives the ingress: a path and a way to turn a request into an inbox event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from hookgram.inbox.models import NewEvent


@dataclass(frozen=True, slots=True)
class Request:
    """The parts of an HTTP request a source may look at; the body is exactly as received."""

    body: bytes
    headers: Mapping[str, str]
    client: str | None
    content_type: str


class Rejected(Exception):
    """The request is refused; ``status`` and ``message`` go back to the sender."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Source(Protocol):
    """A named origin of webhooks served at ``path``."""

    name: str
    path: str

    def accept(self, request: Request) -> NewEvent:
        """Verify the request and describe it for the inbox, or raise Rejected."""
        ...
