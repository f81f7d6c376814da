"""Keys read from a request: ``header:NAME`` or ``json:a.b.c`` (de-duplication, ordering)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The inbox's key columns hold 255 characters; longer values are stored as their digest.
MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class KeySpec:
    """Where a key is read from: a header (by name) or a field of the parsed body (by path)."""

    text: str
    header: str | None
    path: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> KeySpec:
        """``header:NAME`` or ``json:a.b.c`` (already checked by SourceConfig)."""
        kind, _, rest = text.partition(":")
        if kind == "header":
            return cls(text, rest, ())
        return cls(text, None, tuple(rest.split(".")))

    def read(self, headers: Mapping[str, str], body: Any) -> str | None:
        """The key's value, or None when the request does not have it."""
        if self.header is not None:
            value: Any = headers.get(self.header)
        else:
            value = dig(body, self.path)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return None
        text = str(value).strip()
        return bounded(text) if text else None


def dig(data: Any, path: tuple[str, ...]) -> Any:
    """``data[a][b][c]`` through objects (and lists, by index); None when a step is missing."""
    for step in path:
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data


def body_digest(body: bytes) -> str:
    """The default de-duplication key: the SHA-256 of the raw body."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def bounded(text: str) -> str:
    """``text``, or its digest when it is too long for a key column."""
    if len(text) <= MAX_KEY_LENGTH:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
