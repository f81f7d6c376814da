"""The webhook diagnosis as pure functions of getWebhookInfo, the configuration and the time."""

from __future__ import annotations

from typing import Any

import pytest

from hookgram.config import load_settings
from hookgram.delivery_errors import explain_delivery_error
from hookgram.diagnosis import (
    PENDING_BACKLOG,
    RECENT_ERROR_SECONDS,
    Severity,
    ago,
    diagnose,
    healthy,
)
from hookgram.webhook import WebhookInfo, desired_webhook

NOW = 1_800_000_000.0
URL = "https://bot.example.com/webhook"


def _findings(desired: bool = True, **fields: Any) -> list[tuple[Severity, str]]:
    info = WebhookInfo.from_api({"url": URL, "max_connections": 40, **fields})
    settings = load_settings(bot_token="1:abc", public_url="https://bot.example.com")
    wanted = desired_webhook(settings, None) if desired else None
    return [(f.severity, f.summary) for f in diagnose(info, wanted, NOW)]


class TestAgo:
    @pytest.mark.parametrize(
        ("seconds", "expected"),
        [
            (0, "just now"),
            (9, "just now"),
            (45, "45 seconds ago"),
            (60, "1 minute ago"),
            (180, "3 minutes ago"),
            (3599, "59 minutes ago"),
            (7200, "2 hours ago"),
            (86400 * 3 + 5, "3 days ago"),
        ],
    )
    def test_relative_time(self, seconds: int, expected: str) -> None:
        """A time is shown as how long ago it was, in the largest whole unit."""
        assert ago(NOW - seconds, NOW) == expected

    def test_future(self) -> None:
        """A time after now points at this machine's clock."""
        assert "clock" in ago(NOW + 600, NOW)


class TestDiagnose:
    def test_healthy(self) -> None:
        """The configured webhook without errors or backlog gives no finding."""
        assert _findings() == []
        assert healthy([])

    def test_backlog_threshold(self) -> None:
        """Pending updates are a problem only above what Telegram could have in flight."""
        assert _findings(pending_update_count=PENDING_BACKLOG) == []
        [(severity, summary)] = _findings(pending_update_count=PENDING_BACKLOG + 1)
        assert severity is Severity.PROBLEM
        assert summary == f"{PENDING_BACKLOG + 1} updates are pending"

    def test_not_set_mentions_what_waits(self) -> None:
        """No webhook: one problem, whatever waits counted in it rather than a backlog finding."""
        info = WebhookInfo.from_api({"url": "", "pending_update_count": 500})
        [finding] = diagnose(info, None, NOW)
        assert finding.summary == "no webhook is registered"
        assert "500 updates are waiting" in finding.explanation

    def test_error_age_decides_severity(self) -> None:
        """An error younger than the recent window is a problem; an older one a note."""
        recent = NOW - RECENT_ERROR_SECONDS + 1
        old = NOW - RECENT_ERROR_SECONDS
        [(severity, _)] = _findings(last_error_date=recent, last_error_message="Connection refused")
        assert severity is Severity.PROBLEM
        [(severity, _)] = _findings(last_error_date=old, last_error_message="Connection refused")
        assert severity is Severity.NOTE

    def test_without_desired_no_comparison(self) -> None:
        """Without the configured webhook, only what getWebhookInfo shows is judged."""
        assert _findings(desired=False, url="https://elsewhere.example.com/x") == []


class TestDeliveryErrors:
    @pytest.mark.parametrize("status", [418, 429])
    def test_unexpected_4xx(self, status: int) -> None:
        """A status hookgram never sends suggests the URL reaches another app."""
        explanation, _ = explain_delivery_error(
            f"Wrong response from the webhook: {status} Whatever", False
        )
        assert "another app" in explanation

    def test_unknown_message(self) -> None:
        """An error nobody catalogued still gets an explanation and a fix."""
        explanation, fix = explain_delivery_error("Something new", False)
        assert "will retry" in explanation
        assert "log" in fix
