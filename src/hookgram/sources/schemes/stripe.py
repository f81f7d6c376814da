"""``verify = "stripe"``: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]``.

The MAC is hex HMAC-SHA256 of ``t.body`` keyed with the whole ``whsec_...`` string as UTF-8
(unlike Standard Webhooks, nothing is base64-decoded). Several ``v1`` values may be present
during a secret roll; one match suffices. As Stripe's SDK does, only old timestamps are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from hookgram.sources.base import Rejected, Request
from hookgram.sources.config import SourceConfig
from hookgram.sources.schemes.base import any_matches, hmac_sha256, required_header
from hookgram.sources.schemes.hmac_sha256 import decode_mac

SIGNATURE_HEADER = "stripe-signature"
SCHEME = "v1"


@dataclass(frozen=True, slots=True)
class Stripe:
    """Keys are the endpoint secrets' bytes; ``tolerance`` in seconds."""

    keys: tuple[bytes, ...]
    tolerance: float = 300.0
    secret_headers: frozenset[str] = frozenset({SIGNATURE_HEADER})

    @classmethod
    def from_config(cls, config: SourceConfig) -> Stripe:
        """From ``secret`` (the endpoint's signing secret) and ``tolerance``."""
        return cls(tuple(s.encode() for s in config.secret_values()), float(config.tolerance))

    def verify(self, request: Request, now: float) -> None:
        """401 for a missing or malformed header, an old timestamp or no matching signature."""
        stamp, signatures = parse_header(required_header(request.headers, SIGNATURE_HEADER))
        if stamp < now - self.tolerance:
            raise Rejected(401, "Stripe-Signature timestamp is too old (more than the tolerance)")
        signed = f"{stamp}.".encode() + request.body
        if not any_matches(signatures, (hmac_sha256(key, signed) for key in self.keys)):
            raise Rejected(401, "no v1 signature in Stripe-Signature matches")


def parse_header(header: str) -> tuple[int, list[bytes]]:
    """The timestamp and the ``v1`` signatures; a 401 when either is missing or malformed."""
    stamp: int | None = None
    signatures: list[bytes] = []
    for item in header.split(","):
        key, equals, value = item.strip().partition("=")
        if not equals:
            continue
        if key == "t" and value.isdigit() and len(value) <= 12:
            stamp = int(value)
        elif key == SCHEME and (mac := decode_mac(value, "hex")) is not None:
            signatures.append(mac)
    if stamp is None:
        raise Rejected(401, "malformed Stripe-Signature header: no t=<unix seconds>")
    if not signatures:
        raise Rejected(401, "malformed Stripe-Signature header: no v1=<hex> signature")
    return stamp, signatures
