"""Verification schemes as pure functions: published vectors, tolerance, malformed input."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import CIMultiDict

from hookgram.errors import ConfigError
from hookgram.sources.base import Rejected, Request
from hookgram.sources.config import SourceConfig
from hookgram.sources.schemes import Scheme, build_scheme
from tests.webhooks import (
    CRYPTOPAY_TOKEN,
    cryptopay_headers,
    hmac_headers,
    invoice_paid,
    standard_webhooks_headers,
)

# Standard Webhooks' published test vectors (spec repository, libraries' test suites).
TV1 = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "payload": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}
TV2 = {
    "secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    "id": "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
    "timestamp": 1649367553,
    "payload": b'{"email":"test@example.com","username":"test_user"}',
    "signature": "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
}
STRIPE_VECTOR = {
    "secret": "whsec_test_secret",
    "payload": b'{"id":"evt_test_webhook","object":"event"}',
    "header": "t=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990",
}


def scheme(verify: str, **keys: Any) -> Scheme:
    """The scheme a [[sources]] table with these keys builds."""
    return build_scheme(SourceConfig(name="s", verify=verify, notify=[1], **keys))


def request(body: bytes, headers: dict[str, str], client: str = "127.0.0.1") -> Request:
    """A request as ingress hands it to a source."""
    return Request(body, CIMultiDict(headers), client, "application/json")


def rejected(check: Scheme, req: Request, now: float) -> Rejected:
    """The refusal ``check`` gives ``req``; fails the test when it is accepted."""
    with pytest.raises(Rejected) as caught:
        check.verify(req, now)
    return caught.value


def sw_request(vector: dict[str, Any], signature: str | None = None) -> Request:
    return request(
        vector["payload"],
        {
            "webhook-id": vector["id"],
            "webhook-timestamp": str(vector["timestamp"]),
            "webhook-signature": signature or vector["signature"],
        },
    )


class TestStandardWebhooks:
    @pytest.mark.parametrize("vector", [TV1, TV2], ids=["python-go-js-ruby", "rust"])
    def test_published_vectors(self, vector: dict[str, Any]) -> None:
        """The spec libraries' signing vectors verify at their own timestamp."""
        scheme("standard-webhooks", secret=vector["secret"]).verify(
            sw_request(vector), vector["timestamp"]
        )

    @pytest.mark.parametrize(
        "signature",
        [
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
            "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=",
        ],
    )
    def test_published_negative_vectors(self, signature: str) -> None:
        """The vectors' must-fail signatures are refused with a 401."""
        check = scheme("standard-webhooks", secret=TV1["secret"])
        assert rejected(check, sw_request(TV1, signature), TV1["timestamp"]).status == 401

    def test_reserialised_body_fails(self) -> None:
        """The same JSON without the space is other bytes: the signature does not match."""
        vector = {**TV1, "payload": b'{"test":2432232314}'}
        check = scheme("standard-webhooks", secret=TV1["secret"])
        assert "no signature" in rejected(check, sw_request(vector), TV1["timestamp"]).message

    @pytest.mark.parametrize(
        "secret",
        [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr",
        ],
    )
    def test_unpadded_secrets(self, secret: str) -> None:
        """Secrets missing their base64 padding are accepted, as the reference library does."""
        body = b'{"test": 2432232314}'
        headers = standard_webhooks_headers(body, secret=secret, at=1614265330)
        scheme("standard-webhooks", secret=secret).verify(request(body, headers), 1614265330)

    def test_several_signatures_in_one_header(self) -> None:
        """A valid v1 signature among others (and other versions) is enough."""
        other = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
        header = f"v1,{other} v2,{other} {TV1['signature']} v1,{other}"
        scheme("standard-webhooks", secret=TV1["secret"]).verify(
            sw_request(TV1, header), TV1["timestamp"]
        )

    def test_rotated_secrets(self) -> None:
        """With a list of secrets, a request signed with any one of them passes."""
        check = scheme("standard-webhooks", secret=[TV2["secret"], TV1["secret"]])
        check.verify(sw_request(TV1), TV1["timestamp"])
        check.verify(sw_request(TV2), TV2["timestamp"])

    @pytest.mark.parametrize(("offset", "word"), [(-301, "too new"), (301, "too old")])
    def test_five_minute_tolerance_both_ways(self, offset: int, word: str) -> None:
        """A timestamp more than five minutes away, past or future, is a 401."""
        check = scheme("standard-webhooks", secret=TV1["secret"])
        check.verify(sw_request(TV1), TV1["timestamp"] + 300)
        check.verify(sw_request(TV1), TV1["timestamp"] - 300)
        refusal = rejected(check, sw_request(TV1), TV1["timestamp"] + offset)
        assert refusal.status == 401
        assert word in refusal.message

    @pytest.mark.parametrize(
        "signature", ["v1", "garbage", "v1,a,b", "v1,!!!notbase64", "v1,", ",", "\u00e9"]
    )
    def test_malformed_signature_header(self, signature: str) -> None:
        """Input that makes the standardwebhooks library raise ValueError is a plain 401 here."""
        check = scheme("standard-webhooks", secret=TV1["secret"])
        assert rejected(check, sw_request(TV1, signature), TV1["timestamp"]).status == 401

    @pytest.mark.parametrize("stamp", ["soon", "-5", "1e9", "99999999999999999999", ""])
    def test_malformed_timestamp(self, stamp: str) -> None:
        """A timestamp that is not unix seconds is a 401."""
        req = sw_request(TV1)
        headers = {**req.headers, "webhook-timestamp": stamp}
        check = scheme("standard-webhooks", secret=TV1["secret"])
        assert rejected(check, request(req.body, headers), TV1["timestamp"]).status == 401

    def test_non_utf8_body(self) -> None:
        """A body that is not UTF-8 is verified as bytes: refused when unsigned, never a crash."""
        body = b"\xff\xfe{}"
        headers = {**standard_webhooks_headers(b"{}", at=1614265330)}
        check = scheme("standard-webhooks", secret=TV1["secret"])
        assert rejected(check, request(body, headers), 1614265330).status == 401
        signed = standard_webhooks_headers(body, at=1614265330)
        check.verify(request(body, signed), 1614265330)

    @pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
    def test_missing_header(self, missing: str) -> None:
        """Each of the three headers is required; the 401 names the one missing."""
        req = sw_request(TV1)
        headers = {k: v for k, v in req.headers.items() if k != missing}
        check = scheme("standard-webhooks", secret=TV1["secret"])
        assert missing in rejected(check, request(req.body, headers), TV1["timestamp"]).message

    def test_secret_that_is_not_base64(self) -> None:
        """A secret that cannot be decoded stops start-up, naming the source and the key."""
        with pytest.raises(ConfigError, match='source "s": key "secret"'):
            scheme("standard-webhooks", secret="whsec_!!!")


class TestStripe:
    def test_computed_vector(self) -> None:
        """The vector computed with stripe-python's generate_signature_header verifies."""
        req = request(STRIPE_VECTOR["payload"], {"Stripe-Signature": STRIPE_VECTOR["header"]})
        scheme("stripe", secret=STRIPE_VECTOR["secret"]).verify(req, 1_700_000_000)

    def test_several_v1_values(self) -> None:
        """During a secret roll, any one matching v1 value passes."""
        header = STRIPE_VECTOR["header"].replace("t=1700000000,", "t=1700000000,v1=00ff,v0=ab,")
        req = request(STRIPE_VECTOR["payload"], {"Stripe-Signature": header})
        scheme("stripe", secret=STRIPE_VECTOR["secret"]).verify(req, 1_700_000_000)

    def test_the_whole_secret_is_the_key(self) -> None:
        """Base64-decoding the secret as Standard Webhooks does would not verify."""
        req = request(STRIPE_VECTOR["payload"], {"Stripe-Signature": STRIPE_VECTOR["header"]})
        check = scheme("stripe", secret="test_secret")
        assert rejected(check, req, 1_700_000_000).status == 401

    def test_old_timestamp(self) -> None:
        """Older than the 300 s tolerance is a 401; a clock behind the sender's is not."""
        req = request(STRIPE_VECTOR["payload"], {"Stripe-Signature": STRIPE_VECTOR["header"]})
        check = scheme("stripe", secret=STRIPE_VECTOR["secret"])
        check.verify(req, 1_700_000_300)
        check.verify(req, 1_699_999_000)
        assert "too old" in rejected(check, req, 1_700_000_301).message

    @pytest.mark.parametrize(
        "header", ["", "garbage", "t=1700000000", "v1=abcd", "t=x,v1=abcd", "t=1700000000,v1=zz"]
    )
    def test_malformed_header(self, header: str) -> None:
        """A header without a timestamp or a hex v1 value is a 401."""
        req = request(STRIPE_VECTOR["payload"], {"Stripe-Signature": header})
        check = scheme("stripe", secret=STRIPE_VECTOR["secret"])
        assert rejected(check, req, 1_700_000_000).status == 401


class TestCryptoPay:
    def test_computed_vector(self) -> None:
        """The research's computed example: HMAC keyed with SHA-256 of the app token."""
        body = (
            b'{"update_id":1,"update_type":"invoice_paid","request_date":'
            b'"2024-01-01T00:00:00.000Z","payload":{"invoice_id":42,"status":"paid",'
            b'"payload":"user:777"}}'
        )
        sig = "b2a3fb8bea99c3334dd14b111aa7af7b8972c96be26726f8229b8add162fde92"
        scheme("cryptopay", secret=CRYPTOPAY_TOKEN).verify(
            request(body, {"crypto-pay-api-signature": sig}), 0
        )

    def test_keyed_with_the_raw_token_fails(self) -> None:
        """The common mistake (the token itself as the key) is refused."""
        body = (
            b'{"update_id":1,"update_type":"invoice_paid","request_date":'
            b'"2024-01-01T00:00:00.000Z","payload":{"invoice_id":42,"status":"paid",'
            b'"payload":"user:777"}}'
        )
        sig = "600354c757afca58084c3184aaf276ab2714038f36c9f183fbd692bbb570dfc2"
        check = scheme("cryptopay", secret=CRYPTOPAY_TOKEN)
        assert rejected(check, request(body, {"crypto-pay-api-signature": sig}), 0).status == 401

    def test_signed_by_our_helper(self) -> None:
        """The test helper signs as the API does (so the e2e tests test the server)."""
        body = invoice_paid(1, 2)
        scheme("cryptopay", secret=CRYPTOPAY_TOKEN).verify(
            request(body, cryptopay_headers(body)), 0
        )


class TestHmacSha256:
    def test_tribute_vector(self) -> None:
        """A plain hex HMAC of the body (Tribute's trbt-signature) verifies."""
        body = b'{"name":"new_donation","payload":{"amount":100}}'
        sig = "7da0ba745f45ef63475c507de202a6946d33b8f990fe87bb45b63c320c53782e"
        check = scheme("hmac-sha256", secret="tribute_api_key_test", header="trbt-signature")
        check.verify(request(body, {"trbt-signature": sig}), 0)
        check.verify(request(body, {"trbt-signature": sig.upper()}), 0)

    def test_base64_with_prefix(self) -> None:
        """base64 encoding and a prefix such as GitHub's sha256= are honoured."""
        body = b"{}"
        headers = hmac_headers(body, header="X-Sig", prefix="sha256=", encoding="base64")
        check = scheme(
            "hmac-sha256",
            secret="tribute_api_key_test",
            header="X-Sig",
            prefix="sha256=",
            encoding="base64",
        )
        check.verify(request(body, headers), 0)

    @pytest.mark.parametrize("value", ["sha1=abcd", "sha256=zz", "sha256=", "abcd"])
    def test_malformed(self, value: str) -> None:
        """A wrong prefix or encoding is a 401."""
        check = scheme("hmac-sha256", secret="k", header="X-Sig", prefix="sha256=")
        assert rejected(check, request(b"{}", {"X-Sig": value}), 0).status == 401


class TestToken:
    def test_prefix_and_rotation(self) -> None:
        """``Authorization: Bearer <one of the secrets>`` passes; anything else is a 401."""
        check = scheme(
            "token", secret=["old-one", "new-one"], header="Authorization", prefix="Bearer "
        )
        check.verify(request(b"{}", {"Authorization": "Bearer new-one"}), 0)
        check.verify(request(b"{}", {"Authorization": "Bearer old-one"}), 0)
        for value in ("Bearer other", "new-one", "Basic new-one"):
            assert rejected(check, request(b"{}", {"Authorization": value}), 0).status == 401

    def test_the_header_is_never_stored(self) -> None:
        """The token header is declared secret, so it is neither stored nor shown."""
        check = scheme("token", secret="x", header="X-Api-Key")
        assert check.secret_headers == {"x-api-key"}


class TestAddresses:
    def test_yookassa_networks(self) -> None:
        """YooKassa's published networks pass, IPv4-mapped IPv6 included; others get a 403."""
        check = scheme("yookassa")
        for address in ("185.71.76.5", "77.75.156.11", "::ffff:185.71.77.1", "2a02:5180::1"):
            check.verify(request(b"{}", {}, client=address), 0)
        for address in ("127.0.0.1", "77.75.156.12", "2a02:5181::1", None):
            assert rejected(check, request(b"{}", {}, client=address), 0).status == 403

    def test_ip(self) -> None:
        """verify = "ip" lets only the allowed networks in."""
        check = scheme("ip", allowed_ips=["203.0.113.0/24"])
        check.verify(request(b"{}", {}, client="203.0.113.9"), 0)
        assert rejected(check, request(b"{}", {}, client="198.51.100.1"), 0).status == 403
