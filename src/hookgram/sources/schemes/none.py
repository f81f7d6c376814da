"""``verify = "none"``: every request is accepted (only when written explicitly)."""

from __future__ import annotations

from dataclasses import dataclass

from hookgram.sources.base import Request
from hookgram.sources.config import SourceConfig


@dataclass(frozen=True, slots=True)
class Unverified:
    """Accepts anything; meant for trusted networks or for trying a sender out."""

    secret_headers: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, _config: SourceConfig) -> Unverified:
        """Nothing to configure."""
        return cls()

    def verify(self, request: Request, now: float) -> None:
        """Always passes."""
