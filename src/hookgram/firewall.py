"""Firewall rules that open the listening port to the allowed networks only, ready to paste."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from hookgram.security import Network

Format = Literal["ufw", "nftables", "iptables"]
FORMATS: tuple[Format, ...] = ("ufw", "nftables", "iptables")


@dataclass(frozen=True, slots=True)
class Opening:
    """Who may reach the port and why: ``networks`` None means every address."""

    label: str
    networks: tuple[Network, ...] | None


def firewall_rules(port: int, openings: Sequence[Opening], fmt: Format) -> str:
    """The rules, one command or statement a line, with comments saying what each opens."""
    if _open_to_all(openings):
        # One opening for every address makes the others moot: say which one it is.
        wide = [o.label for o in openings if o.networks is None]
        openings = [Opening(", ".join(wide), None)]
    return _WRITERS[fmt](port, openings)


def _ufw(port: int, openings: Sequence[Opening]) -> str:
    lines = [
        f"# hookgram: open TCP port {port} to the allowed networks only (ufw)",
        "# first remove any rule that opens this port to everyone (see: ufw status numbered)",
    ]
    for opening in openings:
        lines.append(f"# {opening.label}")
        for source in _sources(opening):
            lines.append(
                f"ufw allow proto tcp from {source} to any port {port} "
                f"comment 'hookgram {opening.label}'"
            )
    if not _open_to_all(openings):
        lines.append(f"ufw deny proto tcp from any to any port {port} comment 'hookgram'")
    return "\n".join(lines) + "\n"


def _nftables(port: int, openings: Sequence[Opening]) -> str:
    rules: list[str] = []
    for opening in openings:
        if opening.networks is None:
            rules.append(f'tcp dport {port} accept comment "{opening.label}"')
            continue
        for family in ("ip", "ip6"):
            nets = [str(n) for n in opening.networks if _family(n) == family]
            if nets:
                rules.append(
                    f"tcp dport {port} {family} saddr {{ {', '.join(nets)} }} accept "
                    f'comment "{opening.label}"'
                )
    if not _open_to_all(openings):
        rules.append(f"tcp dport {port} drop")
    body = "\n".join(f"\t\t{rule}" for rule in rules)
    return (
        "#!/usr/sbin/nft -f\n"
        f"# hookgram: open TCP port {port} to the allowed networks only; load with nft -f FILE\n"
        "table inet hookgram\n"
        "delete table inet hookgram\n"
        "table inet hookgram {\n"
        "\tchain input {\n"
        "\t\ttype filter hook input priority filter - 1; policy accept;\n"
        f"{body}\n"
        "\t}\n"
        "}\n"
    )


def _iptables(port: int, openings: Sequence[Opening]) -> str:
    lines = [f"# hookgram: open TCP port {port} to the allowed networks only (IPv4 and IPv6)"]
    for command, family in (("iptables", "ip"), ("ip6tables", "ip6")):
        lines.append(f"{command} -N hookgram")
        for opening in openings:
            comment = f"-m comment --comment 'hookgram {opening.label}'"
            if opening.networks is None:
                lines.append(f"{command} -A hookgram {comment} -j ACCEPT")
                continue
            for network in opening.networks:
                if _family(network) == family:
                    lines.append(f"{command} -A hookgram -s {network} {comment} -j ACCEPT")
        if not _open_to_all(openings):
            lines.append(f"{command} -A hookgram -j DROP")
        lines.append(f"{command} -I INPUT -p tcp --dport {port} -j hookgram")
    return "\n".join(lines) + "\n"


def _open_to_all(openings: Sequence[Opening]) -> bool:
    return any(opening.networks is None for opening in openings)


def _sources(opening: Opening) -> list[str]:
    return ["any"] if opening.networks is None else [str(n) for n in opening.networks]


def _family(network: Network) -> str:
    return "ip" if network.version == 4 else "ip6"


_WRITERS: dict[Format, Callable[[int, Sequence[Opening]], str]] = {
    "ufw": _ufw,
    "nftables": _nftables,
    "iptables": _iptables,
}
