"""Routes for load balancers and monitoring (``/healthz``, ``/readyz``, ``/metrics``) and the
periodic getWebhookInfo read that feeds the webhook gauges.

None of these routes is behind the Telegram IP filter; ``/metrics`` has its own allow-list
and bearer token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from hookgram.delivery_errors import explain_delivery_error
from hookgram.errors import BotAPIError, StoreUnavailableError
from hookgram.inbox.counts import InboxCounts
from hookgram.inbox.store import InboxStore
from hookgram.metrics import Metrics, WebhookCollector
from hookgram.security import (
    AllowList,
    ForwardingError,
    bearer_token,
    client_address,
    same_secret,
)
from hookgram.telegram import BotAPI, TransientBotAPIError

log = logging.getLogger(__name__)

READY_TIMEOUT = 2.0  # seconds the database may take to answer a readiness probe


class RunningFlag(Protocol):
    """Anything that says whether it runs (the worker)."""

    running: bool


@dataclass(frozen=True)
class Monitoring:
    """What the monitoring routes look at; ``worker`` is None in a receiver-only process."""

    store: InboxStore
    worker: RunningFlag | None
    metrics: Metrics
    counts: InboxCounts
    metrics_allowed: AllowList | None = None
    metrics_token: str | None = None
    # Reverse proxies whose forwarding headers name the client (none: the TCP peer is).
    proxies: AllowList = field(default_factory=lambda: AllowList(()))


def add_monitoring_routes(app: web.Application, monitoring: Monitoring) -> None:
    """Serve ``/healthz``, ``/readyz`` and ``/metrics`` on ``app``."""
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz(monitoring))
    app.router.add_get("/metrics", _metrics(monitoring))


async def _healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def _readyz(monitoring: Monitoring) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def readyz(_request: web.Request) -> web.Response:
        problems = await not_ready(monitoring)
        if problems:
            return web.Response(status=503, text="not ready: " + "; ".join(problems) + "\n")
        return web.Response(text="ready\n")

    return readyz


async def not_ready(monitoring: Monitoring) -> list[str]:
    """Why the process should not get traffic now; empty when it is ready."""
    problems = []
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            await monitoring.store.ping()
    except StoreUnavailableError as exc:
        # The reason goes to the log only: the probe is public and the driver's text may
        # name hosts and users.
        log.warning("not ready: %s", exc)
        problems.append("inbox database unreachable")
    except TimeoutError:
        problems.append(f"inbox database did not answer within {READY_TIMEOUT:g}s")
    if monitoring.worker is not None and not monitoring.worker.running:
        problems.append("worker is not running")
    return problems


def _metrics(monitoring: Monitoring) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def metrics(request: web.Request) -> web.Response:
        refusal = _metrics_refusal(request, monitoring)
        if refusal is not None:
            return refusal
        await monitoring.counts.refresh()
        return web.Response(
            body=monitoring.metrics.exposition(),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    return metrics


def _metrics_refusal(request: web.Request, monitoring: Monitoring) -> web.Response | None:
    allowed = monitoring.metrics_allowed
    if allowed is not None:
        try:
            client = client_address(request.remote, request.headers, monitoring.proxies)
        except ForwardingError:
            client = None
        if client is None or not allowed.allows(client):
            log.warning(
                "refused /metrics to %s (not in HOOKGRAM_METRICS_ALLOWED_IPS)",
                client or request.remote,
            )
            return web.Response(status=403, text="this address may not read /metrics\n")
    token = monitoring.metrics_token
    if token is not None and not same_secret(bearer_token(request.headers), token):
        return web.Response(
            status=401,
            text="/metrics needs Authorization: Bearer <HOOKGRAM_METRICS_TOKEN>\n",
            headers={"WWW-Authenticate": 'Bearer realm="hookgram metrics"'},
        )
    return None


async def watch_webhook(
    api: BotAPI,
    webhook: WebhookCollector,
    interval: float,
    *,
    clock: Callable[[], float] = time.time,
) -> None:
    """Read getWebhookInfo every ``interval`` seconds into the gauges, until cancelled.

    The first read waits one interval: start-up has just read it to decide on setWebhook.
    """
    reported: int | None = None
    while True:
        await asyncio.sleep(interval)
        try:
            info = await api.call("getWebhookInfo")
        except (TransientBotAPIError, BotAPIError) as exc:
            log.warning("getWebhookInfo failed: %s", exc)
        else:
            webhook.update(info)
            if webhook.last_error_date is not None and webhook.last_error_date != reported:
                reported = webhook.last_error_date
                _log_delivery_error(info, clock() - reported, webhook.pending or 0)


def _log_delivery_error(info: Mapping[str, Any], age: float, pending: int) -> None:
    message = str(info.get("last_error_message") or "no message")
    _, fix = explain_delivery_error(message, bool(info.get("has_custom_certificate")))
    log.warning(
        "Telegram reports a delivery error %.0fs ago: %s (%d update(s) pending); likely fix: %s",
        age,
        message,
        pending,
        fix,
    )
