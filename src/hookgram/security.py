"""Network allow-lists and the client address of a request, through trusted proxies only."""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from multidict import MultiMapping

from hookgram.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

TELEGRAM_NETWORKS = ("149.154.160.0/20", "91.108.4.0/22")

# Verdicts an allow-list remembers per address text; a server sees few distinct senders.
_REMEMBERED = 4096

# One ``for=`` parameter of an RFC 7239 element: a token or a quoted string.
_FORWARDED_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*(?=;|$)', re.I)


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


def parse_network(text: str) -> Network:
    """A network or a bare address (as a /32 or /128); ValueError saying how to write one."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"{text.strip()!r} is not an IP address or network "
            "(write e.g. 203.0.113.0/24, 2001:db8::/32 or 198.51.100.7)"
        ) from None
    if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped:
        # ::ffff:a.b.c.d/n would never match: mapped peers are folded to IPv4 first.
        mapped = network.network_address.ipv4_mapped
        return ipaddress.IPv4Network(f"{mapped}/{max(network.prefixlen - 96, 0)}", strict=False)
    return network


@dataclass(frozen=True, slots=True)
class AllowList:
    """A set of networks an address may come from."""

    networks: tuple[Network, ...]
    _verdicts: dict[str, bool] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @classmethod
    def parse(cls, values: Iterable[str], *, setting: str) -> AllowList:
        """Networks or addresses, IPv4 or IPv6; a bad entry is a ConfigError naming ``setting``."""
        networks: list[Network] = []
        for value in values:
            text = value.strip()
            if not text:
                continue
            try:
                networks.append(parse_network(text))
            except ValueError:
                raise ConfigError(
                    f"{setting} has {text!r}, which is not an IP address or network "
                    "(write e.g. 203.0.113.0/24, 2001:db8::/32 or 198.51.100.7)"
                ) from None
        return cls(tuple(networks))

    def allows(self, address: str | Address | None) -> bool:
        """True when ``address`` (text or parsed) lies in one of the networks."""
        if isinstance(address, str):
            verdict = self._verdicts.get(address)
            if verdict is None:
                if len(self._verdicts) >= _REMEMBERED:
                    self._verdicts.clear()
                verdict = self._verdicts[address] = self._contains(parse_address(address))
            return verdict
        return self._contains(address)

    def _contains(self, parsed: Address | None) -> bool:
        if parsed is None:
            return False
        return any(parsed.version == net.version and parsed in net for net in self.networks)


class ForwardingError(Exception):
    """A trusted proxy passed a forwarding header that names no usable client address."""


def client_address(
    peer: str | None, headers: Mapping[str, str], trusted_proxies: AllowList
) -> Address | None:
    """The client of a request: the TCP peer, unless that peer is a trusted proxy.

    Only a trusted peer's forwarding headers are read (``Forwarded``, ``X-Forwarded-For``,
    ``X-Real-IP``), each right to left, skipping trusted hops: the first untrusted hop is the
    client. Headers that name different clients are refused: a proxy that sets one header
    passes the others through from the client, so disagreement means one of them is forged.
    """
    address = parse_address(peer)
    if address is None or not trusted_proxies.allows(address):
        return address
    chains = [chain for chain in _forwarded_chains(headers) if chain]
    clients = {_first_untrusted(chain, trusted_proxies) for chain in chains} - {None}
    if len(clients) > 1:
        raise ForwardingError("the forwarding headers name different clients")
    if clients:
        return clients.pop()
    # Every hop is a trusted proxy: the furthest one known is the client.
    return chains[0][0] if chains else address


def _first_untrusted(chain: list[Address], trusted: AllowList) -> Address | None:
    for hop in reversed(chain):
        if not trusted.allows(hop):
            return hop
    return None


def _forwarded_chains(headers: Mapping[str, str]) -> list[list[Address]]:
    forwarded = _values(headers, "Forwarded")
    x_forwarded_for = _values(headers, "X-Forwarded-For")
    x_real_ip = _values(headers, "X-Real-IP")
    if len(x_real_ip) > 1:
        raise ForwardingError("X-Real-IP appears more than once")
    return [
        [_hop(_forwarded_for(element), "Forwarded") for element in _elements(forwarded)],
        [_hop(item, "X-Forwarded-For") for item in _elements(x_forwarded_for)],
        [_hop(item, "X-Real-IP") for item in x_real_ip],
    ]


def _values(headers: Mapping[str, str], name: str) -> list[str]:
    if isinstance(headers, MultiMapping):
        return [str(value) for value in headers.getall(name, [])]
    value = headers.get(name)
    return [] if value is None else [value]


def _elements(values: list[str]) -> list[str]:
    # Several header lines are one comma-separated list, in order (RFC 9110, section 5.3).
    return [item.strip() for value in values for item in value.split(",")]


def _forwarded_for(element: str) -> str:
    match = _FORWARDED_FOR.search(element)
    if match is None:
        raise ForwardingError("a Forwarded element has no for= parameter")
    value = match.group(1)
    if not value.startswith('"'):
        return value
    if len(value) < 2 or not value.endswith('"'):
        raise ForwardingError("a Forwarded element has an unterminated quoted string")
    return value[1:-1].replace('\\"', '"')


def _hop(text: str, header: str) -> Address:
    host = text.strip()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else ""  # [IPv6]:port
    elif host.count(":") == 1:
        host = host.partition(":")[0]  # IPv4:port
    address = parse_address(host)
    if address is None:
        # "unknown", obfuscated identifiers and junk all leave the client unknown.
        raise ForwardingError(f"{header} has an entry that is not an IP address")
    return address


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
