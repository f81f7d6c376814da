"""``verify = "yookassa"``: YooKassa signs nothing; its notifications come from these networks.

YooKassa's own advice goes further: treat a notification as a hint and read the payment's
state back from its API (GET /v3/payments/{id}) before acting on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hookgram.security import AllowList
from hookgram.sources.base import Rejected, Request
from hookgram.sources.config import SourceConfig

# https://yookassa.ru/developers/using-api/webhooks#ip (the one place this list is kept).
YOOKASSA_NETWORKS = (
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11",
    "77.75.156.35",
    "77.75.154.128/25",
    "2a02:5180::/32",
)


@dataclass(frozen=True, slots=True)
class YooKassa:
    """The client address must be one of YooKassa's published notification networks."""

    networks: AllowList
    secret_headers: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, _config: SourceConfig) -> YooKassa:
        """Nothing to configure."""
        return cls(AllowList.parse(YOOKASSA_NETWORKS, setting="YOOKASSA_NETWORKS"))

    def verify(self, request: Request, now: float) -> None:
        """403 for an address outside YooKassa's networks."""
        if not self.networks.allows(request.client):
            raise Rejected(403, f"address {request.client} is not one of YooKassa's networks")
