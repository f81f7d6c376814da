"""Decoding a Bot API request in any encoding Telegram accepts, and typed access to its fields."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from hookgram.sandbox.replies import APIError

Files = dict[str, tuple[str, bytes]]

_JSON_START = frozenset("-0123456789[{tf")
_TRUE = frozenset({"true", "True", "1"})
_ATTACH = "attach://"


@dataclass(slots=True)
class DecodedRequest:
    """Parameters as recorded (JSON-decoded where possible), the raw strings, and the uploads."""

    params: dict[str, Any]
    raw: dict[str, str] = field(default_factory=dict)
    files: Files = field(default_factory=dict)


def decode_value(raw: str) -> Any:
    """A form or query value JSON-decoded when it is a number, object, list or boolean."""
    if raw and raw[0] in _JSON_START:
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


async def decode_request(request: web.Request) -> DecodedRequest:
    """Read the query string and the JSON, urlencoded or multipart body of a call."""
    decoded = DecodedRequest({})
    for key, value in request.query.items():
        _put(decoded, key, value)
    if not request.body_exists:
        return decoded
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.read())
        except ValueError as exc:
            raise APIError.bad_request("can't parse JSON object") from exc
        if not isinstance(body, dict):
            raise APIError.bad_request("can't parse JSON object")
        decoded.params.update(body)
        for key in body:
            decoded.raw.pop(key, None)
        return decoded
    for key, field_value in (await request.post()).items():
        if isinstance(field_value, web.FileField):
            decoded.files[key] = (field_value.filename, field_value.file.read())
        elif isinstance(field_value, str):
            _put(decoded, key, field_value)
        else:
            _put(decoded, key, field_value.decode())
    return decoded


def _put(decoded: DecodedRequest, key: str, value: str) -> None:
    decoded.raw[key] = value
    decoded.params[key] = decode_value(value)


class Args:
    """Typed reads of a call's parameters that fail the way Telegram does."""

    __slots__ = ("files", "params", "raw")

    def __init__(self, decoded: DecodedRequest) -> None:
        self.params = decoded.params
        self.raw = decoded.raw
        self.files = decoded.files

    def text(self, name: str) -> str | None:
        """A string parameter exactly as sent (form values are never JSON-decoded here)."""
        if name in self.raw:
            return self.raw[name]
        value = self.params.get(name)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter; a value that is not one is a 400."""
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise APIError.bad_request(f"{name} is invalid")
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise APIError.bad_request(f"{name} is invalid") from exc

    def required_integer(self, name: str, empty: str) -> int:
        """An integer parameter that must be present; `empty` is Telegram's reason when absent."""
        value = self.integer(name)
        if value is None:
            raise APIError.bad_request(empty)
        return value

    def flag(self, name: str) -> bool:
        """A boolean parameter; absent means False."""
        value = self.params.get(name)
        if isinstance(value, str):
            return value in _TRUE
        return bool(value)

    def structure(self, name: str) -> Any:
        """A JSON object or list parameter (sent as JSON text in forms, as-is in JSON bodies)."""
        value = self.params.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise APIError.bad_request(f"can't parse {name} JSON object") from exc
        return value

    def chat_id(self, name: str = "chat_id") -> int:
        """The target chat; `@username` chats are unknown to the emulator."""
        value = self.params.get(name)
        if value is None or value == "":
            raise APIError.bad_request(f"{name} is empty")
        if isinstance(value, str) and value.startswith("@"):
            raise APIError.bad_request("chat not found")
        result = self.integer(name)
        assert result is not None
        return result

    def upload(self, name: str) -> tuple[str, bytes] | str | None:
        """A file parameter: `(filename, content)` if uploaded, the file_id/URL string, or None."""
        value = self.raw.get(name, self.params.get(name))
        if isinstance(value, str) and value.startswith(_ATTACH):
            return self.files.get(value[len(_ATTACH) :])
        if name in self.files:
            return self.files[name]
        return value if isinstance(value, str) and value else None
