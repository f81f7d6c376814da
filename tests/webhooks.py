"""Third-party webhook requests for tests: bodies signed the way each sender signs them.

Written from the senders' documentation, independently of hookgram's verifiers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import orjson

SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STRIPE_SECRET = "whsec_test_secret"
CRYPTOPAY_TOKEN = "1234:AAAtesttokenDONOTUSE"
HMAC_SECRET = "tribute_api_key_test"
TOKEN_SECRET = "s3cr3t-token-value"


def json_body(**fields: object) -> bytes:
    """A compact JSON body."""
    return orjson.dumps(fields)


def standard_webhooks_headers(
    body: bytes, *, secret: str = SW_SECRET, msg_id: str = "msg_1", at: float | None = None
) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and a ``v1`` signature, as Svix sends them."""
    stamp = str(int(time.time() if at is None else at))
    text = secret.removeprefix("whsec_")
    key = base64.b64decode(text + "=" * (-len(text) % 4))
    mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


def stripe_headers(
    body: bytes, *, secret: str = STRIPE_SECRET, at: float | None = None
) -> dict[str, str]:
    """``Stripe-Signature: t=...,v1=...`` keyed with the whole secret string."""
    stamp = int(time.time() if at is None else at)
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={mac}"}


def cryptopay_headers(body: bytes, *, token: str = CRYPTOPAY_TOKEN) -> dict[str, str]:
    """``crypto-pay-api-signature``: hex HMAC of the body keyed with SHA-256 of the app token."""
    key = hashlib.sha256(token.encode()).digest()
    return {"crypto-pay-api-signature": hmac.new(key, body, hashlib.sha256).hexdigest()}


def hmac_headers(
    body: bytes,
    *,
    header: str = "X-Signature",
    secret: str = HMAC_SECRET,
    prefix: str = "",
    encoding: str = "hex",
) -> dict[str, str]:
    """A plain HMAC-SHA256 of the body in ``header``, hex or base64, after ``prefix``."""
    mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    text = mac.hex() if encoding == "hex" else base64.b64encode(mac).decode()
    return {header: prefix + text}


def invoice_paid(invoice_id: int, user_id: int, amount: str = "5.00", update_id: int = 1) -> bytes:
    """A Crypto Pay API ``invoice_paid`` update whose payload names the bot user."""
    return orjson.dumps(
        {
            "update_id": update_id,
            "update_type": "invoice_paid",
            "request_date": "2024-01-01T00:00:00.000Z",
            "payload": {
                "invoice_id": invoice_id,
                "status": "paid",
                "asset": "USDT",
                "amount": amount,
                "payload": f"user:{user_id}",
            },
        }
    )
