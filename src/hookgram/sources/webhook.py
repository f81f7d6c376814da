"""The third-party source: address check → signature check → parse → keys → inbox event."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import orjson

from hookgram.inbox.models import NewEvent
from hookgram.inbox.views import SECRET_HEADERS
from hookgram.security import AllowList
from hookgram.sources.base import Rejected, Request
from hookgram.sources.config import SourceConfig, source_label
from hookgram.sources.keys import KeySpec, body_digest
from hookgram.sources.schemes import Scheme, build_scheme

log = logging.getLogger(__name__)

JSON_TYPES = frozenset({"application/json", "text/json"})
FORM_TYPE = "application/x-www-form-urlencoded"
# Transport headers say nothing about the event; they are not stored.
TRANSPORT_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "accept-encoding",
        "expect",
    }
)


class WebhookSource:
    """A ``[[sources]]`` table served: verified, parsed (JSON or form) and keyed."""

    def __init__(
        self, config: SourceConfig, scheme: Scheme, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.name = config.name
        self.path = config.path
        self.scheme = scheme
        self._allowed = (
            None
            if config.allowed_ips is None
            else AllowList.parse(
                config.allowed_ips, setting=f'{source_label(config.name)}: key "allowed_ips"'
            )
        )
        self._dedup = KeySpec.parse(config.dedup) if config.dedup else None
        self._ordering = KeySpec.parse(config.ordering) if config.ordering else None
        self._clock = clock

    def accept(self, request: Request) -> NewEvent:
        """Verify before parsing anything; 403/401 say why, nothing is stored."""
        try:
            self._verify(request)
        except Rejected as exc:
            log.warning("%s refused a request from %s: %s", self.name, request.client, exc.message)
            raise
        body = parse_body(request)
        return NewEvent(
            source=self.name,
            dedup_key=self._dedup_key(request, body),
            ordering_key=self._ordering_key(request, body),
            body=request.body,
            headers=kept_headers(request.headers, self.scheme.secret_headers),
        )

    def _verify(self, request: Request) -> None:
        if self._allowed is not None and not self._allowed.allows(request.client):
            raise Rejected(403, f"address {request.client} is not allowed")
        try:
            self.scheme.verify(request, self._clock())
        except Rejected:
            raise
        except Exception as exc:
            # A scheme must answer every input with Rejected; a slip is still a 401, not a 500.
            log.exception("%s: the signature check failed unexpectedly", self.name)
            raise Rejected(401, "malformed signature headers") from exc

    def _dedup_key(self, request: Request, body: Any) -> str:
        if self._dedup is None:
            return body_digest(request.body)
        key = self._dedup.read(request.headers, body)
        if key is None:
            raise Rejected(400, f"the de-duplication key ({self._dedup.text}) is missing")
        return key

    def _ordering_key(self, request: Request, body: Any) -> str | None:
        if self._ordering is None:
            return None
        key = self._ordering.read(request.headers, body)
        return None if key is None else f"{self.name}:{key}"


def build_sources(configs: Sequence[SourceConfig]) -> list[WebhookSource]:
    """One served source per ``[[sources]]`` table."""
    return [WebhookSource(config, build_scheme(config)) for config in configs]


def parse_body(request: Request) -> Any:
    """The body as JSON or as a form (by Content-Type); 415 or 400 otherwise."""
    content_type = request.content_type.lower()
    if content_type in JSON_TYPES or content_type.endswith("+json"):
        try:
            return orjson.loads(request.body)
        except orjson.JSONDecodeError:
            raise Rejected(400, "body is not valid JSON") from None
    if content_type == FORM_TYPE:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected(400, "form body is not UTF-8") from None
        return dict(parse_qsl(text, keep_blank_values=True))
    raise Rejected(415, f"Content-Type must be application/json or {FORM_TYPE}")


def kept_headers(headers: Mapping[str, str], secret: Iterable[str]) -> dict[str, str]:
    """The headers worth keeping: no transport headers, no credentials, no signatures."""
    dropped = TRANSPORT_HEADERS | SECRET_HEADERS | frozenset(h.lower() for h in secret)
    return {k.lower(): v for k, v in headers.items() if k.lower() not in dropped}
