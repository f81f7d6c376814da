"""Allow-lists and the client address through trusted proxies (peers given as strings)."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from hookgram.errors import ConfigError
from hookgram.security import TELEGRAM_NETWORKS, AllowList, ForwardingError, client_address


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

    def test_verdicts_stay_right_when_asked_again_and_past_what_is_remembered(self) -> None:
        """Repeated and many distinct senders get the same verdicts as the first time."""
        allow = AllowList.parse(["10.0.0.0/20"], setting="X")
        addresses = [f"10.0.{i // 256}.{i % 256}" for i in range(5000)]  # 10.0.0.0-10.0.19.135
        first = [allow.allows(a) for a in addresses]
        again = [allow.allows(a) for a in reversed(addresses)][::-1]
        assert first == again
        assert first.count(True) == 4096  # 10.0.0.0/20 holds 4,096 addresses

    def test_bad_entry_names_the_setting(self) -> None:
        """A malformed entry is a ConfigError naming the setting and the entry."""
        with pytest.raises(ConfigError, match=r"HOOKGRAM_ALLOWED_IPS has '10\.0\.0\.300'"):
            AllowList.parse(["10.0.0.300"], setting="HOOKGRAM_ALLOWED_IPS")


PROXIES = AllowList.parse(["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"], setting="X")


def resolve(peer: str | None, headers: dict[str, str] | CIMultiDict[str]) -> str | None:
    address = client_address(peer, headers, PROXIES)
    return None if address is None else str(address)


class TestClientAddress:
    def test_untrusted_peer_headers_are_ignored(self) -> None:
        """A forwarding header from a peer that is not a trusted proxy is never believed."""
        forged = {
            "X-Forwarded-For": "149.154.160.1",
            "X-Real-IP": "149.154.160.1",
            "Forwarded": "for=149.154.160.1",
        }
        assert resolve("203.0.113.9", forged) == "203.0.113.9"

    def test_untrusted_peer_with_junk_headers(self) -> None:
        """Junk forwarding headers from an untrusted peer are ignored, not an error."""
        assert resolve("203.0.113.9", {"X-Forwarded-For": "junk"}) == "203.0.113.9"

    def test_trusted_peer_without_headers_is_the_client(self) -> None:
        """A trusted proxy that forwards nothing is itself the client."""
        assert resolve("127.0.0.1", {}) == "127.0.0.1"

    @pytest.mark.parametrize(
        ("chain", "client"),
        [
            ("149.154.160.5", "149.154.160.5"),
            ("149.154.160.5, 10.0.0.2", "149.154.160.5"),
            ("203.0.113.66, 149.154.160.5, 10.0.0.2", "149.154.160.5"),
            ("10.0.0.3, 10.0.0.2", "10.0.0.3"),
        ],
    )
    def test_x_forwarded_for_right_to_left(self, chain: str, client: str) -> None:
        """X-Forwarded-For is read right to left, skipping trusted hops; a forged left end loses."""
        assert resolve("127.0.0.1", {"X-Forwarded-For": chain}) == client

    def test_x_forwarded_for_over_several_lines(self) -> None:
        """Several X-Forwarded-For lines are one list, in order."""
        headers = CIMultiDict(
            [("X-Forwarded-For", "149.154.160.1"), ("X-Forwarded-For", "91.108.4.9")]
        )
        assert resolve("127.0.0.1", headers) == "91.108.4.9"

    def test_x_real_ip(self) -> None:
        """X-Real-IP from a trusted proxy names the client."""
        assert resolve("127.0.0.1", {"X-Real-IP": "91.108.4.9"}) == "91.108.4.9"

    @pytest.mark.parametrize(
        ("header", "client"),
        [
            ("for=149.154.160.5", "149.154.160.5"),
            ('for="149.154.160.5:4711";proto=https, for=10.0.0.2', "149.154.160.5"),
            ('for="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"),
            ("proto=https;for=149.154.160.5;by=10.0.0.2", "149.154.160.5"),
            ("For=203.0.113.66, for=149.154.160.5", "149.154.160.5"),
        ],
    )
    def test_forwarded_rfc_7239(self, header: str, client: str) -> None:
        """RFC 7239 Forwarded: quoted values, ports, IPv6 brackets, parameters in any order."""
        assert resolve("127.0.0.1", {"Forwarded": header}) == client

    def test_ipv6_and_mapped_peers(self) -> None:
        """IPv6 peers are proxies or clients like any other; IPv4-mapped ones are folded to IPv4."""
        assert resolve("::ffff:127.0.0.1", {"X-Forwarded-For": "149.154.160.5"}) == "149.154.160.5"
        assert resolve("fd00::1", {"X-Forwarded-For": "2001:db8::5"}) == "2001:db8::5"
        assert resolve("::ffff:203.0.113.9", {"X-Forwarded-For": "149.154.160.5"}) == "203.0.113.9"
        assert resolve("127.0.0.1", {"X-Forwarded-For": "::ffff:149.154.160.5"}) == "149.154.160.5"

    @pytest.mark.parametrize(
        "headers",
        [
            {"X-Forwarded-For": "not-an-ip"},
            {"X-Forwarded-For": "149.154.160.5, , 10.0.0.2"},
            {"X-Forwarded-For": ""},
            {"X-Real-IP": "unknown"},
            {"Forwarded": "for=unknown"},
            {"Forwarded": "for=_hidden"},
            {"Forwarded": "proto=https"},
            {"Forwarded": 'for="[2001:db8::1'},
            {"X-Forwarded-For": "149.154.160.5", "Forwarded": "for=91.108.4.9"},
        ],
    )
    def test_malformed_or_conflicting_headers_raise(self, headers: dict[str, str]) -> None:
        """A trusted proxy's header that names no address, or headers that disagree, are refused."""
        with pytest.raises(ForwardingError):
            resolve("127.0.0.1", headers)

    def test_repeated_x_real_ip_raises(self) -> None:
        """Two X-Real-IP lines are ambiguous and refused."""
        headers = CIMultiDict([("X-Real-IP", "149.154.160.1"), ("X-Real-IP", "91.108.4.9")])
        with pytest.raises(ForwardingError):
            resolve("127.0.0.1", headers)

    def test_agreeing_headers(self) -> None:
        """nginx's usual pair, X-Forwarded-For and X-Real-IP, agree and are accepted."""
        headers = {"X-Forwarded-For": "203.0.113.66, 149.154.160.5", "X-Real-IP": "149.154.160.5"}
        assert resolve("127.0.0.1", headers) == "149.154.160.5"

    def test_trusted_x_real_ip_adds_nothing(self) -> None:
        """An X-Real-IP naming the next proxy (two proxies) does not contradict the chain."""
        headers = {"X-Forwarded-For": "149.154.160.5, 10.0.0.2", "X-Real-IP": "10.0.0.2"}
        assert resolve("127.0.0.1", headers) == "149.154.160.5"

    def test_unknown_peer(self) -> None:
        """Without a TCP peer (a Unix socket) there is no client address."""
        assert resolve(None, {"X-Forwarded-For": "149.154.160.5"}) is None


class TestParseNetwork:
    def test_mapped_network_is_folded(self) -> None:
        """An IPv4-mapped IPv6 network matches the IPv4 addresses it maps."""
        allow = AllowList.parse(["::ffff:149.154.160.0/116"], setting="X")
        assert allow.allows("149.154.167.1")
