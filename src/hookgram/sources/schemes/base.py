"""What every verification scheme offers, and the few pieces several of them share."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Protocol

from hookgram.sources.base import Rejected, Request


class Scheme(Protocol):
    """Tells a genuine request from a forged one, from the raw bytes as received.

    ``verify`` is pure (the request, ``now`` and what the scheme was built with), compares in
    constant time and raises ``Rejected`` (401, or 403 for an address) for anything else,
    malformed input included: never another exception.
    """

    @property
    def secret_headers(self) -> frozenset[str]:
        """Lower-case names of headers carrying credentials or signatures: never stored."""
        ...

    def verify(self, request: Request, now: float) -> None:
        """Return when the request is genuine; raise ``Rejected`` otherwise."""
        ...


def required_header(headers: Mapping[str, str], name: str) -> str:
    """The header's value, or a 401 naming the missing header."""
    value = headers.get(name)
    if value is None or not value.strip():
        raise Rejected(401, f"missing {name} header")
    return value.strip()


def any_matches(given: Iterable[bytes], expected: Iterable[bytes]) -> bool:
    """True when one of ``given`` equals one of ``expected``, every pair compared in full.

    Comparing every pair (no early exit) keeps the time independent of which one matched.
    """
    expected = list(expected)
    results = [hmac.compare_digest(g, e) for g in given for e in expected]
    return any(results)


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """The raw HMAC-SHA256 digest."""
    return hmac.new(key, message, "sha256").digest()
