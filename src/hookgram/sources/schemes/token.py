"""``verify = "token"``: a shared secret in a named header, after an optional prefix."""

from __future__ import annotations

from dataclasses import dataclass

from hookgram.sources.base import Rejected, Request
from hookgram.sources.config import SourceConfig
from hookgram.sources.schemes.base import any_matches, required_header


@dataclass(frozen=True, slots=True)
class Token:
    """``header: PREFIX<secret>``, e.g. ``Authorization: Bearer <secret>``."""

    header: str
    prefix: str
    secrets: tuple[bytes, ...]

    @classmethod
    def from_config(cls, config: SourceConfig) -> Token:
        """From ``header``, ``prefix`` and ``secret``."""
        assert config.header is not None  # SourceConfig requires it for this scheme
        return cls(config.header, config.prefix, tuple(s.encode() for s in config.secret_values()))

    @property
    def secret_headers(self) -> frozenset[str]:
        """The token header is a credential."""
        return frozenset({self.header.lower()})

    def verify(self, request: Request, now: float) -> None:
        """401 unless the header holds one of the secrets."""
        value = required_header(request.headers, self.header)
        if not value.startswith(self.prefix):
            raise Rejected(401, f"malformed {self.header} header: expected {self.prefix!r} first")
        given = value.removeprefix(self.prefix).strip().encode()
        if not any_matches([given], self.secrets):
            raise Rejected(401, f"wrong token in {self.header}")
