"""Telegram-shaped answers: the success envelope and the error a method raises."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

# Telegram's own wording for statuses a test is likely to inject without a description.
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class APIError(Exception):
    """A Bot API error answer: raised by a method, turned into `{"ok": false, ...}`."""

    def __init__(
        self,
        status: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        self.status = status
        self.description = description or default_description(status, retry_after)
        self.retry_after = retry_after
        super().__init__(self.description)

    @classmethod
    def bad_request(cls, reason: str) -> APIError:
        """A 400 whose description is Telegram's `Bad Request: <reason>`."""
        return cls(400, f"Bad Request: {reason}")

    def response(self) -> web.Response:
        """The HTTP answer Telegram would give for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return _json_response(body, self.status)


@dataclass(frozen=True, slots=True)
class Described:
    """A result that Telegram sends with a `description`, e.g. setWebhook's "Webhook was set"."""

    result: Any
    description: str


def default_description(status: int, retry_after: int | None = None) -> str:
    """Telegram's description for an error status when the caller gave none."""
    if status == 429:
        return f"Too Many Requests: retry after {retry_after or 0}"
    if status in _DEFAULT_DESCRIPTIONS:
        return _DEFAULT_DESCRIPTIONS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def ok_response(result: Any) -> web.Response:
    """The HTTP answer for a successful call."""
    if isinstance(result, Described):
        body = {"ok": True, "result": result.result, "description": result.description}
    else:
        body = {"ok": True, "result": result}
    return _json_response(body, 200)


def _json_response(body: dict[str, Any], status: int) -> web.Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return web.Response(body=data, status=status, content_type="application/json")
