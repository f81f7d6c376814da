"""Allow-lists: which addresses pass, and how a bad entry is reported."""

from __future__ import annotations

import pytest

from hookgram.errors import ConfigError
from hookgram.security import TELEGRAM_NETWORKS, AllowList


class TestAllowList:
    @pytest.mark.parametrize(
        ("address", "allowed"),
        [
            ("149.154.167.197", True),
            ("91.108.6.87", True),
            ("::ffff:91.108.6.87", True),
            ("149.154.176.1", False),
            ("2001:db8::1", False),
            ("not-an-ip", False),
            ("", False),
            (None, False),
        ],
    )
    def test_telegram_ranges(self, address: str | None, allowed: bool) -> None:
        """Telegram's ranges admit its addresses (also IPv4-mapped) and nothing else."""
        assert AllowList.parse(TELEGRAM_NETWORKS, setting="X").allows(address) is allowed

    def test_ipv6_and_single_addresses(self) -> None:
        """IPv6 networks and bare addresses are accepted."""
        allow = AllowList.parse(["2001:db8::/32", "198.51.100.7"], setting="X")
        assert allow.allows("2001:db8::5")
        assert allow.allows("198.51.100.7")
        assert not allow.allows("198.51.100.8")

    def test_bad_entry_names_the_setting(self) -> None:
        """A malformed entry is a ConfigError naming the setting and the entry."""
        with pytest.raises(ConfigError, match=r"HOOKGRAM_ALLOWED_IPS has '10\.0\.0\.300'"):
            AllowList.parse(["10.0.0.300"], setting="HOOKGRAM_ALLOWED_IPS")
