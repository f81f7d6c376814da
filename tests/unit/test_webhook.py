"""The desired webhook, built from the settings, and its comparison with getWebhookInfo."""

from __future__ import annotations

from typing import Any

import pytest

from hookgram.config import load_settings
from hookgram.errors import BotAPIError, ConfigError
from hookgram.webhook import DesiredWebhook, WebhookInfo, desired_webhook, differences

URL = "https://bot.example.com/webhook"


def _desired(**overrides: Any) -> DesiredWebhook:
    settings = load_settings(
        bot_token="1:abc", public_url="https://bot.example.com", **overrides.pop("settings", {})
    )
    return desired_webhook(settings, overrides.pop("types", ["message"]), **overrides)


def _info(**fields: Any) -> WebhookInfo:
    return WebhookInfo.from_api({"url": URL, "max_connections": 40, **fields})


class TestDesiredWebhook:
    def test_from_settings(self) -> None:
        """URL, secret, max connections and IP address come from the settings."""
        desired = _desired(settings={"max_connections": 7, "webhook_ip_address": "203.0.113.9"})
        params = desired.params()
        assert params["url"] == URL
        assert params["secret_token"] == load_settings(bot_token="1:abc").webhook_secret()
        assert params["max_connections"] == 7
        assert params["ip_address"] == "203.0.113.9"
        assert params["allowed_updates"] == ["message"]

    def test_configured_allowed_updates_win(self) -> None:
        """HOOKGRAM_ALLOWED_UPDATES beats the types the handlers use."""
        desired = _desired(settings={"allowed_updates": ["callback_query"]})
        assert desired.allowed_updates == ("callback_query",)

    def test_unknown_allowed_updates_are_not_sent(self) -> None:
        """Without handlers' types or a setting, allowed_updates is left to Telegram."""
        assert _desired(types=None).params()["allowed_updates"] is None

    def test_drop_only_when_asked(self) -> None:
        """drop_pending_updates is sent only when asked for."""
        assert _desired().params()["drop_pending_updates"] is None
        assert _desired().params(drop_pending_updates=True)["drop_pending_updates"] is True

    def test_certificate_is_uploaded_when_given(self) -> None:
        """A certificate (self-signed) goes as a file; none means no upload."""
        assert _desired().files() is None
        files = _desired(certificate=b"PEM").files()
        assert files == {"certificate": ("certificate.pem", b"PEM")}

    def test_secret_not_in_repr(self) -> None:
        """Printing the desired webhook does not print the secret."""
        desired = _desired(settings={"secret_token": "top-secret-value"})
        assert "top-secret-value" not in repr(desired)

    def test_needs_public_url(self) -> None:
        """Without HOOKGRAM_PUBLIC_URL there is nothing to register: a ConfigError says so."""
        with pytest.raises(ConfigError, match="HOOKGRAM_PUBLIC_URL"):
            desired_webhook(load_settings(bot_token="1:abc"), None)


class TestDifferences:
    def test_none_when_matching(self) -> None:
        """Telegram's copy of the configured webhook shows no difference."""
        assert differences(_desired(), _info(allowed_updates=["message"])) == []

    def test_each_field(self) -> None:
        """URL, max connections, allowed updates, IP address and certificate are compared."""
        desired = _desired(settings={"webhook_ip_address": "203.0.113.9"}, certificate=b"PEM")
        info = _info(
            url="https://old.example.com/hook",
            max_connections=10,
            allowed_updates=["message", "edited_message"],
            ip_address="198.51.100.1",
        )
        assert [str(d) for d in differences(desired, info)] == [
            f"url: Telegram has https://old.example.com/hook, configured {URL}",
            "max_connections: Telegram has 10, configured 40",
            "allowed_updates: Telegram has message, edited_message, configured message",
            "ip_address: Telegram has 198.51.100.1, configured 203.0.113.9",
            "custom certificate: Telegram has no, configured yes",
        ]

    def test_not_set(self) -> None:
        """An empty URL (polling, deleted) differs from the configured one."""
        [difference] = differences(_desired(types=None), WebhookInfo.from_api({"url": ""}))
        assert str(difference) == f"url: Telegram has none, configured {URL}"

    def test_allowed_updates_order_does_not_matter(self) -> None:
        """The same update types in another order are the same list."""
        desired = _desired(types=["message", "callback_query"])
        assert differences(desired, _info(allowed_updates=["callback_query", "message"])) == []

    def test_unknown_allowed_updates_not_compared(self) -> None:
        """When the desired types are unknown, Telegram's list is left alone."""
        assert differences(_desired(types=None), _info(allowed_updates=["poll"])) == []

    def test_default_types(self) -> None:
        """An empty list (Telegram's default types) matches a WebhookInfo without the field."""
        assert differences(_desired(types=[]), _info()) == []

    def test_resolved_ip_not_compared(self) -> None:
        """Telegram reports the address it resolved; without a configured one that is fine."""
        assert (
            differences(_desired(), _info(ip_address="198.51.100.1", allowed_updates=["message"]))
            == []
        )

    def test_missing_max_connections_is_telegrams_default(self) -> None:
        """A WebhookInfo without max_connections means Telegram's default, 40."""
        info = WebhookInfo.from_api({"url": URL, "allowed_updates": ["message"]})
        assert differences(_desired(), info) == []

    def test_uploaded_certificate_not_wanted(self) -> None:
        """A certificate Telegram holds that the configuration would not upload is a difference."""
        info = _info(has_custom_certificate=True, allowed_updates=["message"])
        [difference] = differences(_desired(), info)
        assert difference.name == "custom certificate"


class TestWebhookInfo:
    def test_not_a_webhook_info(self) -> None:
        """An answer that is no WebhookInfo is a BotAPIError, not a crash."""
        with pytest.raises(BotAPIError, match="no WebhookInfo"):
            WebhookInfo.from_api(["unexpected"])
