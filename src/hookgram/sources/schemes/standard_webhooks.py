"""``verify = "standard-webhooks"``: the Standard Webhooks signature (Svix and others).

Headers ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``; the signature is
``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body`` keyed with the base64 part of a
``whsec_`` secret. The header may list several signatures (rotation); one match suffices.
Written here over the raw bytes rather than with the ``standardwebhooks`` package, whose
``verify`` reads the clock itself, decodes the body as text and lets malformed headers escape
as ``ValueError``/``binascii.Error``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from hookgram.errors import ConfigError
from hookgram.sources.base import Rejected, Request
from hookgram.sources.config import SourceConfig, source_label
from hookgram.sources.schemes.base import any_matches, hmac_sha256, required_header

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
VERSION = "v1"


@dataclass(frozen=True, slots=True)
class StandardWebhooks:
    """Keys decoded from ``whsec_`` secrets, and the tolerance in seconds (both ways)."""

    keys: tuple[bytes, ...]
    tolerance: float = 300.0
    secret_headers: frozenset[str] = frozenset({SIGNATURE_HEADER})

    @classmethod
    def from_config(cls, config: SourceConfig) -> StandardWebhooks:
        """From ``secret`` and ``tolerance``; a secret that is not base64 is a ConfigError."""
        keys = []
        for secret in config.secret_values():
            key = decode_secret(secret)
            if key is None:
                raise ConfigError(
                    f'{source_label(config.name)}: key "secret" is not a Standard Webhooks '
                    "secret (whsec_ followed by base64, as the sender shows it)"
                )
            keys.append(key)
        return cls(tuple(keys), float(config.tolerance))

    def verify(self, request: Request, now: float) -> None:
        """401 for a missing or malformed header, a stale timestamp or no matching signature."""
        message_id = required_header(request.headers, ID_HEADER)
        stamp = required_header(request.headers, TIMESTAMP_HEADER)
        signatures = parse_signatures(required_header(request.headers, SIGNATURE_HEADER))
        if not stamp.isdigit() or len(stamp) > 12:
            raise Rejected(401, f"malformed {TIMESTAMP_HEADER} header: not unix seconds")
        if int(stamp) < now - self.tolerance:
            raise Rejected(401, f"{TIMESTAMP_HEADER} is too old (more than the tolerance ago)")
        if int(stamp) > now + self.tolerance:
            raise Rejected(401, f"{TIMESTAMP_HEADER} is too new (check the clocks)")
        signed = f"{message_id}.{stamp}.".encode() + request.body
        if not any_matches(signatures, (hmac_sha256(key, signed) for key in self.keys)):
            raise Rejected(401, f"no signature in {SIGNATURE_HEADER} matches")


def decode_secret(secret: str) -> bytes | None:
    """The key in a ``whsec_`` secret (the prefix optional, missing base64 padding tolerated)."""
    text = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def parse_signatures(header: str) -> list[bytes]:
    """The ``v1`` signatures in a space-separated list; others are skipped; none is a 401."""
    found: list[bytes] = []
    for item in header.split():
        version, comma, encoded = item.partition(",")
        if not comma or version != VERSION:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not found:
        raise Rejected(401, f"malformed {SIGNATURE_HEADER} header: no v1,<base64> signature")
    return found
