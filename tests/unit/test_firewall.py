"""Firewall rules: the port opened to the allowed networks only, in three formats."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hookgram.cli import cli
from hookgram.cli.firewall import openings
from hookgram.config import load_settings
from hookgram.firewall import Opening, firewall_rules
from hookgram.security import AllowList


def networks(*values: str) -> Opening:
    return Opening("test", AllowList.parse(values, setting="X").networks)


class TestFirewallRules:
    def test_ufw(self) -> None:
        """ufw: one allow per network, then a deny for everyone else on that port."""
        rules = firewall_rules(8443, [networks("149.154.160.0/20", "2001:db8::/32")], "ufw")
        commands = [line for line in rules.splitlines() if not line.startswith("#")]
        assert commands == [
            "ufw allow proto tcp from 149.154.160.0/20 to any port 8443 comment 'hookgram test'",
            "ufw allow proto tcp from 2001:db8::/32 to any port 8443 comment 'hookgram test'",
            "ufw deny proto tcp from any to any port 8443 comment 'hookgram'",
        ]

    def test_nftables(self) -> None:
        """nftables: a table of its own, sets per address family, a final drop for the port."""
        rules = firewall_rules(88, [networks("149.154.160.0/20", "2001:db8::/32")], "nftables")
        assert "delete table inet hookgram" in rules
        assert 'tcp dport 88 ip saddr { 149.154.160.0/20 } accept comment "test"' in rules
        assert 'tcp dport 88 ip6 saddr { 2001:db8::/32 } accept comment "test"' in rules
        assert rules.index("accept") < rules.index("tcp dport 88 drop")

    def test_iptables_closes_ipv6_too(self) -> None:
        """iptables: a chain per family; IPv6 is closed even when no IPv6 network is allowed."""
        rules = firewall_rules(443, [networks("91.108.4.0/22")], "iptables").splitlines()
        assert (
            "iptables -A hookgram -s 91.108.4.0/22 -m comment --comment 'hookgram test' -j ACCEPT"
            in rules
        )
        assert rules.index("iptables -A hookgram -j DROP") > 1
        assert "ip6tables -A hookgram -j DROP" in rules
        assert "ip6tables -I INPUT -p tcp --dport 443 -j hookgram" in rules
        assert not any(line.startswith("ip6tables -A hookgram -s") for line in rules)

    @pytest.mark.parametrize("fmt", ["ufw", "nftables", "iptables"])
    def test_any_opens_to_everyone(self, fmt: str) -> None:
        """An opening for every address leaves the port open to all (and drops nothing)."""
        rules = firewall_rules(8443, [networks("10.0.0.0/8"), Opening("telegram", None)], fmt)  # type: ignore[arg-type]
        assert "10.0.0.0/8" not in rules
        assert "telegram" in rules
        assert "deny" not in rules
        assert "drop" not in rules.lower()


class TestOpenings:
    def test_telegram_proxies_and_sources(self) -> None:
        """Telegram's networks, the trusted proxies and each source's networks are opened."""
        sources = [
            {"name": "payments", "verify": "ip", "allowed_ips": ["203.0.113.0/24"], "notify": [1]},
            {"name": "kassa", "verify": "yookassa", "notify": [1]},
        ]
        settings = load_settings(trusted_proxies="10.0.0.0/8", sources=sources, environ={})
        found = openings(settings)
        assert [o.label for o in found] == [
            "telegram",
            "trusted proxies",
            "source payments",
            "source kassa",
        ]
        assert [str(n) for n in found[0].networks or ()] == ["149.154.160.0/20", "91.108.4.0/22"]
        assert [str(n) for n in found[2].networks or ()] == ["203.0.113.0/24"]
        assert "185.71.76.0/27" in [str(n) for n in found[3].networks or ()]

    def test_source_without_networks_opens_the_port(self) -> None:
        """A source verified by signature alone may post from anywhere: the port stays open."""
        sources = [
            {
                "name": "shop",
                "verify": "token",
                "header": "X-Token",
                "secret": "s3cret-1",
                "notify": [1],
            }
        ]
        settings = load_settings(sources=sources, environ={})
        rules = firewall_rules(8443, openings(settings), "ufw")
        assert "149.154.160.0/20" not in rules
        assert "source shop (no allowed_ips)" in rules
        assert "ufw deny" not in rules


class TestFirewallCommand:
    def test_prints_rules_for_the_configured_port(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """`hookgram firewall` uses HOOKGRAM_PORT and HOOKGRAM_ALLOWED_IPS unless told otherwise."""
        monkeypatch.setenv("HOOKGRAM_PORT", "8443")
        monkeypatch.setenv("HOOKGRAM_ALLOWED_IPS", "203.0.113.0/24,198.51.100.7")
        result = CliRunner().invoke(cli, ["firewall", "--format", "iptables"])
        assert result.exit_code == 0, result.output
        assert "--dport 8443" in result.stdout
        assert "-s 203.0.113.0/24 " in result.stdout
        assert "-s 198.51.100.7/32 " in result.stdout
        assert "149.154.160.0/20" not in result.stdout
        result = CliRunner().invoke(cli, ["firewall", "--port", "88"])
        assert "to any port 88 " in result.stdout

    def test_bad_format(self) -> None:
        """An unknown format is refused with the choices."""
        result = CliRunner().invoke(cli, ["firewall", "--format", "pf"])
        assert result.exit_code == 2
        assert "ufw" in result.output
