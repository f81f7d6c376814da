"""Metrics without HTTP: the cached inbox counts, the collectors, aiogram error codes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from prometheus_client.parser import text_string_to_metric_families

from hookgram.config import load_settings
from hookgram.errors import ConfigError
from hookgram.handlers.bot_errors import error_code
from hookgram.inbox.counts import InboxCounts
from hookgram.inbox.engine import create_engine
from hookgram.inbox.models import NewEvent, Status
from hookgram.inbox.store import InboxStore
from hookgram.metrics import Metrics
from tests.process import free_port


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[InboxStore]:
    """An empty SQLite inbox."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}")
    store = InboxStore(engine)
    await store.create_schema()
    yield store
    await engine.dispose()


async def _put(store: InboxStore, source: str, key: str) -> None:
    await store.put_many([NewEvent(source=source, dedup_key=key, body=b"{}")], now=0.0)


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


class TestInboxCounts:
    async def test_cached_for_the_ttl(self, store: InboxStore) -> None:
        """Counts are read again only once the reading is older than the TTL."""
        clock = Clock()
        counts = InboxCounts(store, ttl=5.0, clock=clock)
        await _put(store, "telegram", "1")
        assert await counts.refresh() == {("telegram", Status.PENDING): 1}
        await _put(store, "telegram", "2")
        clock.now += 4.9
        assert await counts.refresh() == {("telegram", Status.PENDING): 1}
        clock.now += 0.2
        assert await counts.refresh() == {("telegram", Status.PENDING): 2}

    async def test_unreachable_database_is_none(self) -> None:
        """While the database does not answer there are no counts (rather than stale ones)."""
        engine = create_engine(f"postgresql+asyncpg://hookgram@127.0.0.1:{free_port()}/inbox")
        counts = InboxCounts(InboxStore(engine))
        assert await counts.refresh() is None
        await engine.dispose()


class TestCollectors:
    async def test_inbox_gauge_has_every_status(self, store: InboxStore) -> None:
        """Each source seen gets a sample for every status, so alerts see zeros, not gaps."""
        counts = InboxCounts(store)
        metrics = Metrics(counts)
        await _put(store, "shop", "evt_1")
        await counts.refresh()
        samples = _samples(metrics)
        for status in Status:
            expected = 1 if status is Status.PENDING else 0
            key = ("hookgram_inbox_events", (("source", "shop"), ("status", status.value)))
            assert samples[key] == expected

    def test_last_error_age_is_computed_at_scrape(self) -> None:
        """The webhook error age grows with the clock between getWebhookInfo reads."""
        clock = Clock()
        metrics = Metrics(clock=clock)
        assert ("hookgram_webhook_pending_updates", ()) not in _samples(metrics)
        metrics.webhook.update({"pending_update_count": 3, "last_error_date": int(clock.now) - 10})
        assert _samples(metrics)[("hookgram_webhook_last_error_age_seconds", ())] == 10
        clock.now += 50
        assert _samples(metrics)[("hookgram_webhook_last_error_age_seconds", ())] == 60
        assert _samples(metrics)[("hookgram_webhook_pending_updates", ())] == 3
        metrics.webhook.update({"pending_update_count": 0})
        assert ("hookgram_webhook_last_error_age_seconds", ()) not in _samples(metrics)

    def test_non_2xx_answers_are_not_acknowledgements(self) -> None:
        """A refused request is counted but does not enter the ack latency histogram."""
        metrics = Metrics()
        metrics.observe_request("telegram", 401, 0.001)
        metrics.observe_request("telegram", 200, 0.002)
        samples = _samples(metrics)
        assert (
            samples[("hookgram_requests_total", (("source", "telegram"), ("status", "401")))] == 1
        )
        assert samples[("hookgram_ack_seconds_count", (("source", "telegram"),))] == 1


class TestAiogramErrorCodes:
    @pytest.mark.parametrize(
        ("error", "code"),
        [
            (TelegramBadRequest, "400"),
            (TelegramForbiddenError, "403"),
            (TelegramEntityTooLarge, "413"),
            (TelegramServerError, "5xx"),
            (TelegramNetworkError, "network"),
        ],
    )
    def test_codes(self, error: type[TelegramBadRequest], code: str) -> None:
        """aiogram's error classes map back to the code Telegram answered."""
        method = SendMessage(chat_id=1, text="x")
        assert error_code(error(method=method, message="no")) == code

    def test_retry_after(self) -> None:
        """A flood-control answer is a 429."""
        method = SendMessage(chat_id=1, text="x")
        assert error_code(TelegramRetryAfter(method=method, message="m", retry_after=3)) == "429"


class TestSettings:
    def test_short_inspector_token(self) -> None:
        """An inspector token under 16 characters stops start-up, naming the setting."""
        with pytest.raises(
            ConfigError, match="HOOKGRAM_INSPECTOR_TOKEN is invalid: must be at least 16"
        ):
            load_settings(inspector_token="short")

    def test_bad_metrics_network(self) -> None:
        """A malformed metrics allow-list entry stops start-up, naming the setting and entry."""
        with pytest.raises(
            ConfigError,
            match=r"HOOKGRAM_METRICS_ALLOWED_IPS is invalid: '10\.0\.0\.300' is not an IP",
        ):
            load_settings(metrics_allowed_ips="10.0.0.0/8, 10.0.0.300")

    def test_tokens_are_redacted_from_logs(self) -> None:
        """The inspector and metrics tokens are among the secrets masked in logs."""
        settings = load_settings(
            inspector_token="i" * 20, metrics_token="metrics-secret", bot_token="1:AAAA"
        )
        assert {"i" * 20, "metrics-secret"} <= set(settings.secrets())
