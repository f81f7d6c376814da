"""Prometheus metrics of one service instance, in a registry of its own (no global state).

The observe methods are plain counter updates, cheap enough for the acknowledgement path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hookgram.inbox.counts import InboxCounts
from hookgram.inbox.models import Status

ACK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
PROCESSING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# How a failed attempt ended, as the ``outcome`` label of the failure counter.
FAILURE_OUTCOMES = {Status.PENDING: "retry", Status.FAILED: "failed", Status.DEAD: "dead"}


class Metrics:
    """The counters and histograms hookgram exposes at ``/metrics``."""

    def __init__(
        self, counts: InboxCounts | None = None, *, clock: Callable[[], float] = time.time
    ):
        self.registry = CollectorRegistry()
        self.webhook = WebhookCollector(clock)
        self.registry.register(self.webhook)
        if counts is not None:
            self.registry.register(InboxCollector(counts))
        self._requests = Counter(
            "hookgram_requests",
            "Requests to webhook routes, by source and the HTTP status answered.",
            ["source", "status"],
            registry=self.registry,
        )
        self._ack = Histogram(
            "hookgram_ack_seconds",
            "Seconds from a request to its acknowledgement (2xx, after the inbox commit).",
            ["source"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self._processing = Histogram(
            "hookgram_processing_seconds",
            "Seconds one attempt of a handler took, whatever its outcome, by source.",
            ["source"],
            buckets=PROCESSING_BUCKETS,
            registry=self.registry,
        )
        self._failures = Counter(
            "hookgram_handler_failures",
            "Handler attempts that raised, by source and outcome (retry, failed or dead).",
            ["source", "outcome"],
            registry=self.registry,
        )
        self._api_errors = Counter(
            "hookgram_bot_api_errors",
            "Bot API calls that failed, by method and code (HTTP-like code, 5xx or network).",
            ["method", "code"],
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, int], tuple[Any, Any]] = {}

    def observe_request(self, source: str, status: int, seconds: float) -> None:
        """Count one answered webhook request; a 2xx also feeds the ack latency histogram."""
        children = self._request_children.get((source, status))
        if children is None:
            ack = self._ack.labels(source) if 200 <= status < 300 else None
            children = (self._requests.labels(source, str(status)), ack)
            self._request_children[(source, status)] = children
        children[0].inc()
        if children[1] is not None:
            children[1].observe(seconds)

    def observe_outcome(self, source: str, status: Status, seconds: float) -> None:
        """Record one processing attempt: its duration and, unless done, how it failed."""
        self._processing.labels(source).observe(seconds)
        outcome = FAILURE_OUTCOMES.get(status)
        if outcome is not None:
            self._failures.labels(source, outcome).inc()

    def bot_api_error(self, method: str, code: str) -> None:
        """Count one failed Bot API call."""
        self._api_errors.labels(method, code).inc()

    def exposition(self) -> bytes:
        """Everything in the Prometheus text format."""
        return generate_latest(self.registry)


class InboxCollector(Collector):
    """Inbox rows by source and status, from the cached counts (every status, zeros included)."""

    def __init__(self, counts: InboxCounts) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        """The gauge family, or nothing while the database does not answer."""
        latest = self._counts.latest
        if latest is None:
            return
        family = GaugeMetricFamily(
            "hookgram_inbox_events",
            "Inbox rows by source and status (read at most every few seconds).",
            labels=["source", "status"],
        )
        for source in self._counts.sources():
            for status in Status:
                family.add_metric([source, status.value], latest.get((source, status), 0))
        yield family


class WebhookCollector(Collector):
    """What getWebhookInfo last said: pending updates and the age of Telegram's last error."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.pending: int | None = None
        self.last_error_date: int | None = None

    def update(self, info: Mapping[str, Any]) -> None:
        """Keep the fields of a WebhookInfo."""
        self.pending = int(info.get("pending_update_count") or 0)
        date = info.get("last_error_date")
        self.last_error_date = int(date) if isinstance(date, int | float) and date else None

    def collect(self) -> Iterator[Metric]:
        """The gauges known so far; the error age is computed at scrape time."""
        if self.pending is not None:
            yield GaugeMetricFamily(
                "hookgram_webhook_pending_updates",
                "Updates Telegram holds for this bot (getWebhookInfo pending_update_count).",
                value=self.pending,
            )
        if self.last_error_date is not None:
            yield GaugeMetricFamily(
                "hookgram_webhook_last_error_age_seconds",
                "Seconds since Telegram last failed to deliver to the webhook "
                "(getWebhookInfo last_error_date; absent when it reports none).",
                value=max(0.0, self._clock() - self.last_error_date),
            )
