"""Who may post to the Telegram route, over real loopback HTTP: addresses, proxies, secrets."""

from __future__ import annotations

import logging
import socket

import pytest

from hookgram.sandbox import BotAPIEmulator
from hookgram.security import TELEGRAM_NETWORKS
from hookgram.sources.telegram import SECRET_HEADER
from tests.conftest import Server, StartServer
from tests.factories import body, message_update

TELEGRAM = ",".join(TELEGRAM_NETWORKS)


async def behind_proxy(start_server: StartServer, proxies: str = "127.0.0.1/32") -> Server:
    """A server with Telegram's ranges, reached from loopback as if through a proxy."""
    return await start_server(worker=False, allowed_ips=TELEGRAM, trusted_proxies=proxies)


class TestAllowList:
    async def test_default_ranges_refuse_other_addresses(
        self, start_server: StartServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        """By default only Telegram's ranges may post: loopback gets 403, nothing is stored."""
        server = await start_server(worker=False, allowed_ips=None)
        assert server.settings.allowed_ips == list(TELEGRAM_NETWORKS)
        with caplog.at_level(logging.WARNING, logger="hookgram"):
            status, text = await server.post(body(message_update()))
        assert status == 403
        assert "address" in text
        assert await server.events() == []
        [line] = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        assert line.startswith("telegram refused a request from 127.0.0.1")

    async def test_forged_forwarded_for_from_untrusted_peer(
        self, start_server: StartServer
    ) -> None:
        """Without trusted proxies a forged X-Forwarded-For naming Telegram is ignored."""
        server = await start_server(worker=False, allowed_ips=TELEGRAM)
        for header in ("X-Forwarded-For", "X-Real-IP"):
            status, _ = await server.post(body(message_update()), headers={header: "149.154.160.1"})
            assert status == 403
        status, _ = await server.post(
            body(message_update()), headers={"Forwarded": "for=149.154.160.1"}
        )
        assert status == 403
        assert await server.events() == []

    async def test_any_switches_the_check_off_with_a_warning(
        self, start_server: StartServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        """HOOKGRAM_ALLOWED_IPS=any accepts every address and says so at start-up."""
        with caplog.at_level(logging.WARNING, logger="hookgram.service"):
            server = await start_server(worker=False, allowed_ips="any")
        assert any("HOOKGRAM_ALLOWED_IPS=any" in r.getMessage() for r in caplog.records)
        status, _ = await server.post(body(message_update()))
        assert status == 200

    async def test_ipv6_peer(self, start_server: StartServer) -> None:
        """A server on ::1 sees IPv6 peers: refused by Telegram's ranges, accepted when listed."""
        if not socket.has_ipv6:
            pytest.skip("no IPv6 on this machine")
        for allowed, expected in ((TELEGRAM, 403), ("::1", 200)):
            server = await start_server(worker=False, host="::1", allowed_ips=allowed)
            url = f"http://[::1]:{server.running.port}/webhook"
            headers = {SECRET_HEADER: server.secret, "Content-Type": "application/json"}
            async with server.http.post(url, data=body(message_update()), headers=headers) as r:
                assert r.status == expected


class TestTrustedProxies:
    @pytest.mark.parametrize(
        ("proxies", "chain"),
        [
            ("127.0.0.1/32", "149.154.160.5"),
            ("127.0.0.1/32,10.0.0.0/8", "149.154.160.5, 10.1.2.3"),
            ("127.0.0.1/32", "::ffff:91.108.4.9"),
        ],
    )
    async def test_chain_through_trusted_proxies(
        self, start_server: StartServer, proxies: str, chain: str
    ) -> None:
        """Through one or two trusted proxies the right-most untrusted hop is the client."""
        server = await behind_proxy(start_server, proxies)
        status, _ = await server.post(body(message_update()), headers={"X-Forwarded-For": chain})
        assert status == 200
        assert len(await server.events()) == 1

    async def test_forged_left_end_behind_a_proxy(self, start_server: StartServer) -> None:
        """A client's own X-Forwarded-For entry, kept by the proxy at the left, does not pass."""
        server = await behind_proxy(start_server)
        forged = {"X-Forwarded-For": "149.154.160.5, 203.0.113.9"}
        status, _ = await server.post(body(message_update()), headers=forged)
        assert status == 403
        assert await server.events() == []

    @pytest.mark.parametrize(
        "headers",
        [
            {"X-Real-IP": "91.108.4.9"},
            {"Forwarded": 'for="91.108.4.9:5000";proto=https'},
            {"X-Forwarded-For": "203.0.113.9, 91.108.4.9", "X-Real-IP": "91.108.4.9"},
        ],
    )
    async def test_x_real_ip_and_forwarded(
        self, start_server: StartServer, headers: dict[str, str]
    ) -> None:
        """X-Real-IP and RFC 7239 Forwarded from a trusted proxy name the client."""
        server = await behind_proxy(start_server)
        status, _ = await server.post(body(message_update()), headers=headers)
        assert status == 200

    @pytest.mark.parametrize(
        "headers",
        [
            {"X-Forwarded-For": "not-an-address"},
            {"X-Forwarded-For": "149.154.160.5,,"},
            {"X-Real-IP": "999.1.1.1"},
            {"Forwarded": "for=unknown"},
            {"Forwarded": 'for="[::1'},
            {"X-Forwarded-For": "149.154.160.5", "Forwarded": "for=91.108.4.9"},
        ],
    )
    async def test_malformed_header_is_403_not_500(
        self, start_server: StartServer, headers: dict[str, str], caplog: pytest.LogCaptureFixture
    ) -> None:
        """A malformed or contradicting forwarding header from a trusted proxy is a 403."""
        server = await behind_proxy(start_server)
        with caplog.at_level(logging.WARNING, logger="hookgram"):
            status, text = await server.post(body(message_update()), headers=headers)
        assert status == 403
        assert "forwarding header" in text
        assert await server.events() == []
        [line] = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        assert "from 127.0.0.1: 403 malformed forwarding header" in line


class TestSecretToken:
    @pytest.mark.parametrize(
        ("sent", "expected"),
        [
            (None, 401),
            ("wrong-secret", 401),
            ("new-secret", 200),
            ("old-secret", 200),
            ("old-secret-x", 401),
        ],
    )
    async def test_rotation(
        self, start_server: StartServer, sent: str | None, expected: int
    ) -> None:
        """During a rotation both the new and the previous secret are accepted, nothing else."""
        server = await start_server(
            worker=False, secret_token="new-secret", previous_secret_token="old-secret"
        )
        status, text = await server.post(body(message_update()), secret=sent)
        assert status == expected
        assert len(await server.events()) == (1 if expected == 200 else 0)
        assert "old-secret" not in text
        assert "new-secret" not in text

    async def test_previous_secret_removed(self, start_server: StartServer) -> None:
        """Once the previous secret is removed, updates signed with it are refused."""
        server = await start_server(worker=False, secret_token="new-secret")
        status, _ = await server.post(body(message_update()), secret="old-secret")
        assert status == 401

    async def test_webhook_is_set_with_the_new_secret(
        self, start_server: StartServer, emulator: BotAPIEmulator
    ) -> None:
        """setWebhook always carries the new secret, never the previous one."""
        await start_server(worker=False, secret_token="new-secret", previous_secret_token="old-1")
        [call] = emulator.calls_of("setWebhook")
        assert call.params["secret_token"] == "new-secret"


class TestThirdPartyRoutes:
    async def test_same_proxy_rules_own_allow_list(self, start_server: StartServer) -> None:
        """A source's route resolves the client through the same proxies, with its own list."""
        shop = {"name": "shop", "verify": "ip", "allowed_ips": ["203.0.113.0/24"], "notify": [1]}
        server = await start_server(worker=False, trusted_proxies="127.0.0.1", sources=[shop])
        url = server.base + "/hooks/shop"
        results = []
        for forwarded in ("203.0.113.5", "149.154.160.5", "203.0.113.5, 198.51.100.1", "junk"):
            headers = {"X-Forwarded-For": forwarded, "Content-Type": "application/json"}
            async with server.http.post(url, data=b'{"id": 1}', headers=headers) as response:
                results.append(response.status)
        assert results == [200, 403, 403, 403]
        assert len(await server.events()) == 1
