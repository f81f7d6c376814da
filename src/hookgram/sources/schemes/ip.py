"""``verify = "ip"``: the client address must lie in ``allowed_ips`` (403 otherwise)."""

from __future__ import annotations

from dataclasses import dataclass

from hookgram.security import AllowList
from hookgram.sources.base import Rejected, Request
from hookgram.sources.config import SourceConfig, source_label


@dataclass(frozen=True, slots=True)
class AddressOnly:
    """Trusts the network a request comes from, and nothing else."""

    networks: AllowList
    secret_headers: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: SourceConfig) -> AddressOnly:
        """From ``allowed_ips``."""
        setting = f'{source_label(config.name)}: key "allowed_ips"'
        return cls(AllowList.parse(config.allowed_ips or (), setting=setting))

    def verify(self, request: Request, now: float) -> None:
        """403 unless the client address is allowed."""
        if not self.networks.allows(request.client):
            raise Rejected(403, f"address {request.client} is not allowed")
