"""Network allow-lists (and, later, the client address through trusted proxies)."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hookgram.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

TELEGRAM_NETWORKS = ("149.154.160.0/20", "91.108.4.0/22")


def parse_address(text: str | None) -> Address | None:
    """An address from text, IPv4-mapped IPv6 folded to IPv4; None when it is not one."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class AllowList:
    """A set of networks an address may come from."""

    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, values: Iterable[str], *, setting: str) -> AllowList:
        """Networks or addresses, IPv4 or IPv6; a bad entry is a ConfigError naming ``setting``."""
        networks: list[Network] = []
        for value in values:
            text = value.strip()
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ConfigError(
                    f"{setting} has {text!r}, which is not an IP address or network "
                    "(write e.g. 203.0.113.0/24, 2001:db8::/32 or 198.51.100.7)"
                ) from None
        return cls(tuple(networks))

    def allows(self, address: str | Address | None) -> bool:
        """True when ``address`` (text or parsed) lies in one of the networks."""
        parsed = parse_address(address) if isinstance(address, str) or address is None else address
        if parsed is None:
            return False
        return any(parsed.version == net.version and parsed in net for net in self.networks)


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, or None."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def same_secret(given: str | None, expected: str) -> bool:
    """True when ``given`` equals ``expected``, compared in constant time."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
