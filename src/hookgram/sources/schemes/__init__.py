"""Verification schemes: one module each, all behind ``Scheme``; ``build_scheme`` picks one."""

from __future__ import annotations

from collections.abc import Callable

from hookgram.sources.config import SourceConfig
from hookgram.sources.schemes.base import Scheme
from hookgram.sources.schemes.cryptopay import CryptoPay
from hookgram.sources.schemes.hmac_sha256 import HmacSha256
from hookgram.sources.schemes.ip import AddressOnly
from hookgram.sources.schemes.none import Unverified
from hookgram.sources.schemes.standard_webhooks import StandardWebhooks
from hookgram.sources.schemes.stripe import Stripe
from hookgram.sources.schemes.token import Token
from hookgram.sources.schemes.yookassa import YooKassa

__all__ = ["Scheme", "build_scheme"]


def build_scheme(config: SourceConfig) -> Scheme:
    """The scheme a ``[[sources]]`` table asks for; a malformed secret is a ConfigError."""
    builders: dict[str, Callable[[SourceConfig], Scheme]] = {
        "none": Unverified.from_config,
        "ip": AddressOnly.from_config,
        "token": Token.from_config,
        "hmac-sha256": HmacSha256.from_config,
        "standard-webhooks": StandardWebhooks.from_config,
        "stripe": Stripe.from_config,
        "cryptopay": CryptoPay.from_config,
        "yookassa": YooKassa.from_config,
    }
    return builders[config.verify](config)
