"""The Telegram source: secret-token check and the keys of an update (no aiogram import)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from typing import Any

import orjson

from hookgram.inbox.models import NewEvent
from hookgram.security import AllowList
from hookgram.sources.base import Rejected, Request

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
TELEGRAM = "telegram"

# Where each update kind keeps the chat (or, lacking one, the user) it belongs to.
_CHAT_PATHS: tuple[tuple[str, ...], ...] = (
    ("chat",),
    ("message", "chat"),
)


class TelegramSource:
    """Accepts updates from the allowed networks carrying one of the expected secret tokens."""

    name = TELEGRAM

    def __init__(
        self, *, path: str, bot_id: int, secrets: list[str], allowed_ips: AllowList | None
    ) -> None:
        self.path = path
        self.bot_id = bot_id
        self._secrets = [s.encode() for s in secrets]
        self._allowed_ips = allowed_ips  # None: any address (HOOKGRAM_ALLOWED_IPS=any)

    def accept(self, request: Request) -> NewEvent:
        """Check address, secret and the update's shape; key it by bot and ``update_id``."""
        try:
            self._verify(request)
        except Rejected as exc:
            log.warning("%s refused a request from %s: %s", self.name, request.client, exc.message)
            raise
        if request.content_type != "application/json":
            raise Rejected(415, "Content-Type must be application/json")
        return update_event(parse_update(request.body), request.body, self.bot_id)

    def _verify(self, request: Request) -> None:
        if self._allowed_ips is not None and not self._allowed_ips.allows(request.client):
            raise Rejected(403, "this address may not post Telegram updates")
        if not self._secret_matches(request.headers.get(SECRET_HEADER)):
            raise Rejected(401, "missing or wrong X-Telegram-Bot-Api-Secret-Token")

    def _secret_matches(self, given: str | None) -> bool:
        if given is None:
            return False
        candidate = given.encode()
        # Compare against every accepted secret so timing does not tell which one matched.
        matches = [hmac.compare_digest(candidate, s) for s in self._secrets]
        return any(matches)


def parse_update(body: bytes) -> dict[str, Any]:
    """The update as a dict, or Rejected(400) when it is not a JSON object with an update_id."""
    try:
        update = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Rejected(400, "body is not valid JSON") from None
    if not isinstance(update, dict):
        raise Rejected(400, "body must be a JSON object (a Telegram Update)")
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise Rejected(400, "update_id must be an integer")
    return update


def update_event(update: Mapping[str, Any], body: bytes, bot_id: int) -> NewEvent:
    """The inbox event for an update: de-duplicated by bot and update_id, ordered by chat."""
    return NewEvent(
        source=TELEGRAM,
        dedup_key=f"{bot_id}:{update['update_id']}",
        ordering_key=ordering_key(update),
        body=body,
    )


def ordering_key(update: Mapping[str, Any]) -> str | None:
    """The chat an update belongs to (else its user), so one chat's updates stay in order."""
    for kind, payload in update.items():
        if kind == "update_id" or not isinstance(payload, dict):
            continue
        for path in _CHAT_PATHS:
            chat_id = _dig(payload, (*path, "id"))
            if isinstance(chat_id, int):
                return f"chat:{chat_id}"
        for field in ("from", "user", "voter_chat"):
            user_id = _dig(payload, (field, "id"))
            if isinstance(user_id, int):
                return f"user:{user_id}"
    return None


def _dig(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
