"""Third-party sources over real HTTP and SQLite: each scheme's verdicts, storage, dedup."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from hookgram.inbox.models import Status
from hookgram.sandbox import BotAPIEmulator
from tests.conftest import Server, StartServer, WorkerFor
from tests.webhooks import (
    CRYPTOPAY_TOKEN,
    HMAC_SECRET,
    STRIPE_SECRET,
    SW_SECRET,
    TOKEN_SECRET,
    cryptopay_headers,
    hmac_headers,
    json_body,
    standard_webhooks_headers,
    stripe_headers,
)

BODY = json_body(type="invoice.paid", id="evt_1", data={"amount": 500})
STALE = time.time() - 3600
OTHER_SW_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
Sign = Callable[[bytes], dict[str, str]]


@dataclass(frozen=True)
class Case:
    """A scheme's source table and the requests that must pass or be refused."""

    table: dict[str, Any]
    good: Sign
    wrong: Sign
    malformed: dict[str, str]
    stale: Sign | None = None
    never_stored: frozenset[str] = field(default_factory=frozenset)


CASES = {
    "token": Case(
        {"verify": "token", "header": "X-Api-Key", "prefix": "Key ", "secret": TOKEN_SECRET},
        good=lambda b: {"X-Api-Key": f"Key {TOKEN_SECRET}"},
        wrong=lambda b: {"X-Api-Key": "Key not-the-secret"},
        malformed={"X-Api-Key": TOKEN_SECRET},
        never_stored=frozenset({"x-api-key"}),
    ),
    "hmac-sha256": Case(
        {
            "verify": "hmac-sha256",
            "header": "X-Hub-Signature-256",
            "prefix": "sha256=",
            "secret": HMAC_SECRET,
        },
        good=lambda b: hmac_headers(b, header="X-Hub-Signature-256", prefix="sha256="),
        wrong=lambda b: hmac_headers(b + b" ", header="X-Hub-Signature-256", prefix="sha256="),
        malformed={"X-Hub-Signature-256": "sha256=not-hex"},
        never_stored=frozenset({"x-hub-signature-256"}),
    ),
    "standard-webhooks": Case(
        {"verify": "standard-webhooks", "secret": SW_SECRET, "dedup": "header:webhook-id"},
        good=lambda b: standard_webhooks_headers(b),
        wrong=lambda b: standard_webhooks_headers(b, secret=OTHER_SW_SECRET),
        malformed={
            "webhook-id": "m",
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": "v1,!!!notbase64",
        },
        stale=lambda b: standard_webhooks_headers(b, at=STALE),
        never_stored=frozenset({"webhook-signature"}),
    ),
    "stripe": Case(
        {"verify": "stripe", "secret": STRIPE_SECRET, "dedup": "json:id"},
        good=lambda b: stripe_headers(b),
        wrong=lambda b: stripe_headers(b, secret="whsec_other"),
        malformed={"Stripe-Signature": "t=now,v1=zz"},
        stale=lambda b: stripe_headers(b, at=STALE),
        never_stored=frozenset({"stripe-signature"}),
    ),
    "cryptopay": Case(
        {"verify": "cryptopay", "secret": CRYPTOPAY_TOKEN},
        good=lambda b: cryptopay_headers(b),
        wrong=lambda b: cryptopay_headers(b, token="1234:other"),
        malformed={"crypto-pay-api-signature": "v1=abc"},
        never_stored=frozenset({"crypto-pay-api-signature"}),
    ),
}


async def _serve(start_server: StartServer, case: Case, **table: Any) -> Server:
    source = {"name": "shop", "notify": [42], **case.table, **table}
    return await start_server(worker=False, sources=[source])


async def _post(
    server: Server, body: bytes, headers: dict[str, str], **options: Any
) -> tuple[int, str]:
    return await server.post(body, secret=None, path="/hooks/shop", headers=headers, **options)


@pytest.mark.parametrize("scheme", list(CASES))
class TestSchemes:
    async def test_good_request_is_stored(self, start_server: StartServer, scheme: str) -> None:
        """A genuine request is committed, then answered 200; signatures are not kept."""
        case = CASES[scheme]
        server = await _serve(start_server, case)
        headers = case.good(BODY)
        assert await _post(server, BODY, headers) == (200, "{}")
        [event] = await server.events()
        assert (event.source, event.body, event.status) == ("shop", BODY, Status.PENDING)
        assert event.headers["content-type"] == "application/json"
        assert not case.never_stored & set(event.headers)
        assert not any(value in event.body.decode() for value in headers.values())

    async def test_outside_the_allow_list(self, start_server: StartServer, scheme: str) -> None:
        """With allowed_ips, a genuine request from elsewhere is a 403 and is not kept."""
        case = CASES[scheme]
        server = await _serve(start_server, case, allowed_ips=["203.0.113.0/24"])
        status, text = await _post(server, BODY, case.good(BODY))
        assert status == 403
        assert "127.0.0.1" in text
        assert await server.events() == []


REFUSALS = [
    (scheme, kind)
    for scheme, case in CASES.items()
    for kind in ("wrong", "stale", "malformed", "missing")
    if kind != "stale" or case.stale is not None
]


class TestRefusals:
    @pytest.mark.parametrize(("scheme", "kind"), REFUSALS)
    async def test_refused_and_not_stored(
        self, start_server: StartServer, scheme: str, kind: str
    ) -> None:
        """A wrong signature, stale timestamp, malformed or missing header: 401, nothing kept."""
        case = CASES[scheme]
        server = await _serve(start_server, case)
        headers = {
            "wrong": lambda: case.wrong(BODY),
            "stale": lambda: case.stale(BODY) if case.stale else {},
            "malformed": lambda: case.malformed,
            "missing": lambda: {},
        }[kind]()
        status, text = await _post(server, BODY, headers)
        assert status == 401, text
        assert await server.events() == []


class TestAddressSchemes:
    async def test_ip(self, start_server: StartServer) -> None:
        """verify = "ip": a request from the allowed network is accepted."""
        allowed = await start_server(
            worker=False,
            sources=[
                {"name": "shop", "verify": "ip", "allowed_ips": ["127.0.0.0/8"], "notify": [1]}
            ],
        )
        assert (await _post(allowed, BODY, {}))[0] == 200

    async def test_ip_refused(self, start_server: StartServer) -> None:
        """verify = "ip" from an address outside the list: 403, nothing stored."""
        server = await start_server(
            worker=False,
            sources=[
                {"name": "shop", "verify": "ip", "allowed_ips": ["10.0.0.0/8"], "notify": [1]}
            ],
        )
        assert (await _post(server, BODY, {}))[0] == 403
        assert await server.events() == []

    async def test_yookassa_refuses_other_networks(self, start_server: StartServer) -> None:
        """verify = "yookassa" refuses an address outside YooKassa's networks with a 403."""
        server = await start_server(
            worker=False, sources=[{"name": "shop", "verify": "yookassa", "notify": [1]}]
        )
        status, text = await _post(server, BODY, {})
        assert status == 403
        assert "YooKassa" in text
        assert await server.events() == []

    async def test_none_accepts_anything(self, start_server: StartServer) -> None:
        """verify = "none" (written explicitly) accepts an unsigned request."""
        server = await start_server(
            worker=False, sources=[{"name": "shop", "verify": "none", "notify": [1]}]
        )
        assert (await _post(server, BODY, {}))[0] == 200
        assert len(await server.events()) == 1


def _none_source(**keys: Any) -> list[dict[str, Any]]:
    return [{"name": "shop", "verify": "none", "notify": [42], **keys}]


class TestIngress:
    async def test_form_encoded_body(self, start_server: StartServer) -> None:
        """A form-encoded body is accepted; a json: key reads its fields."""
        server = await start_server(worker=False, sources=_none_source(dedup="json:InvId"))
        form = b"OutSum=100.00&InvId=42&SignatureValue=abc"
        status, _ = await _post(server, form, {}, content_type="application/x-www-form-urlencoded")
        assert status == 200
        [event] = await server.events()
        assert (event.dedup_key, event.body) == ("42", form)

    @pytest.mark.parametrize(
        ("body", "content_type", "status"),
        [
            (b"{not json", "application/json", 400),
            (b"<xml/>", "application/xml", 415),
            (b'{"id": 1}', "text/plain", 415),
        ],
    )
    async def test_unparseable_body(
        self, start_server: StartServer, body: bytes, content_type: str, status: int
    ) -> None:
        """A body that is neither JSON nor a form is refused and not stored."""
        server = await start_server(worker=False, sources=_none_source())
        assert (await _post(server, body, {}, content_type=content_type))[0] == status
        assert await server.events() == []

    async def test_missing_dedup_key(self, start_server: StartServer) -> None:
        """A verified request without the configured de-duplication key is a 400."""
        server = await start_server(worker=False, sources=_none_source(dedup="json:data.id"))
        status, text = await _post(server, BODY, {})
        assert status == 400
        assert "json:data.id" in text
        assert await server.events() == []

    async def test_unknown_path_and_size_cap(self, start_server: StartServer) -> None:
        """An unknown path is a 404; a body over the cap a 413; neither is stored."""
        server = await start_server(worker=False, sources=_none_source(), max_body_bytes=2048)
        assert (await server.post(BODY, secret=None, path="/hooks/other"))[0] == 404
        big = json_body(blob="x" * 4096)
        assert (await _post(server, big, {}))[0] == 413
        assert await server.events() == []

    async def test_keys(self, start_server: StartServer) -> None:
        """The dedup key comes from the named field; the ordering key is scoped to the source."""
        server = await start_server(
            worker=False, sources=_none_source(dedup="json:id", ordering="json:data.customer")
        )
        await _post(server, json_body(id="evt_7", data={"customer": "cus_1"}), {})
        [event] = await server.events()
        assert (event.dedup_key, event.ordering_key) == ("evt_7", "shop:cus_1")

    async def test_default_key_is_the_body_digest(self, start_server: StartServer) -> None:
        """Without dedup, the same bytes are one event and other bytes another."""
        server = await start_server(worker=False, sources=_none_source())
        for body in (BODY, BODY, BODY + b"\n"):
            assert (await _post(server, body, {}))[0] == 200
        assert len(await server.events()) == 2


class TestDuplicates:
    async def test_concurrent_duplicates_stored_and_handled_once(
        self, start_server: StartServer, emulator: BotAPIEmulator, worker_for: WorkerFor
    ) -> None:
        """Ten concurrent deliveries of one signed request: ten 200s, one row, one message."""
        case = CASES["standard-webhooks"]
        server = await _serve(start_server, case)
        headers = case.good(BODY)
        results = await asyncio.gather(*(_post(server, BODY, headers) for _ in range(10)))
        assert [status for status, _ in results] == [200] * 10
        [event] = await server.events()
        assert event.dedup_key == "msg_1"
        await (await worker_for(server)).run_until_empty()
        assert len(emulator.messages(42)) == 1
        assert (await server.events())[0].status is Status.DONE
        assert (await _post(server, BODY, case.good(BODY)))[0] == 200
        await (await worker_for(server)).run_until_empty()
        assert len(emulator.messages(42)) == 1
