"""``verify = "cryptopay"``: Crypto Pay API (@CryptoBot) updates.

``crypto-pay-api-signature`` is the hex HMAC-SHA256 of the raw body, keyed with the SHA-256
digest of the app token (not the token itself, a common mistake).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from hookgram.sources.base import Rejected, Request
from hookgram.sources.config import SourceConfig
from hookgram.sources.schemes.base import any_matches, hmac_sha256, required_header
from hookgram.sources.schemes.hmac_sha256 import decode_mac

SIGNATURE_HEADER = "crypto-pay-api-signature"


@dataclass(frozen=True, slots=True)
class CryptoPay:
    """Keys derived from the app tokens in ``secret``."""

    keys: tuple[bytes, ...]
    secret_headers: frozenset[str] = frozenset({SIGNATURE_HEADER})

    @classmethod
    def from_config(cls, config: SourceConfig) -> CryptoPay:
        """``secret`` is the app token from @CryptoBot."""
        return cls(tuple(hashlib.sha256(t.encode()).digest() for t in config.secret_values()))

    def verify(self, request: Request, now: float) -> None:
        """401 unless the signature is the body's MAC under one of the tokens."""
        given = decode_mac(required_header(request.headers, SIGNATURE_HEADER), "hex")
        if given is None:
            raise Rejected(401, f"malformed {SIGNATURE_HEADER} header: not hex")
        if not any_matches([given], (hmac_sha256(key, request.body) for key in self.keys)):
            raise Rejected(401, f"wrong signature in {SIGNATURE_HEADER}")
