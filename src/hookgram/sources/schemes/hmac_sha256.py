"""``verify = "hmac-sha256"``: HMAC-SHA256 of the raw body in a named header, hex or base64."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Literal

from hookgram.sources.base import Rejected, Request
from hookgram.sources.config import SourceConfig
from hookgram.sources.schemes.base import any_matches, hmac_sha256, required_header


@dataclass(frozen=True, slots=True)
class HmacSha256:
    """``header: PREFIX<mac>`` with ``mac = HMAC-SHA256(secret, body)`` (GitHub, Tribute, ...)."""

    header: str
    prefix: str
    encoding: Literal["hex", "base64"]
    keys: tuple[bytes, ...]

    @classmethod
    def from_config(cls, config: SourceConfig) -> HmacSha256:
        """From ``header``, ``prefix``, ``encoding`` and ``secret`` (its bytes are the key)."""
        assert config.header is not None  # SourceConfig requires it for this scheme
        keys = tuple(s.encode() for s in config.secret_values())
        return cls(config.header, config.prefix, config.encoding, keys)

    @property
    def secret_headers(self) -> frozenset[str]:
        """The signature header."""
        return frozenset({self.header.lower()})

    def verify(self, request: Request, now: float) -> None:
        """401 unless the header holds the MAC of the body under one of the secrets."""
        value = required_header(request.headers, self.header)
        if not value.startswith(self.prefix):
            raise Rejected(401, f"malformed {self.header} header: expected {self.prefix!r} first")
        given = decode_mac(value.removeprefix(self.prefix).strip(), self.encoding)
        if given is None:
            raise Rejected(401, f"malformed {self.header} header: not {self.encoding}")
        if not any_matches([given], (hmac_sha256(key, request.body) for key in self.keys)):
            raise Rejected(401, f"wrong signature in {self.header}")


def decode_mac(text: str, encoding: Literal["hex", "base64"]) -> bytes | None:
    """The MAC's bytes, or None when ``text`` is not valid ``encoding``."""
    try:
        if encoding == "hex":
            return bytes.fromhex(text)
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None
