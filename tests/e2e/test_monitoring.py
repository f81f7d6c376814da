"""Health, readiness and Prometheus metrics over real HTTP, with the Bot API emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from hookgram.inbox.counts import InboxCounts
from hookgram.inbox.engine import create_engine
from hookgram.inbox.store import InboxStore
from hookgram.metrics import Metrics
from hookgram.monitoring import Monitoring, RunningFlag, add_monitoring_routes
from hookgram.retry import RetryPolicy
from hookgram.sandbox import BotAPIEmulator
from hookgram.worker import Worker, WorkerOptions
from tests.conftest import Server, StartServer, WorkerFor
from tests.factories import body, message_update
from tests.process import free_port

METRICS_TOKEN = "metrics-token-0123456789"


async def _get(server: Server, path: str, **headers: str) -> tuple[int, str]:
    async with server.http.get(server.base + path, headers=headers) as response:
        return response.status, await response.text()


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(server: Server, **headers: str) -> Samples:
    """Every sample of /metrics, keyed by name and labels."""
    status, text = await _get(server, "/metrics", **headers)
    assert status == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """One sample's value, None when absent."""
    return samples.get((name, frozenset(labels.items())))


ServeMonitoring = Callable[[InboxStore, RunningFlag | None], Awaitable[str]]


@pytest.fixture
async def serve_monitoring() -> AsyncIterator[ServeMonitoring]:
    """Serve only the monitoring routes over a given store and worker; returns the base URL."""
    runners: list[web.AppRunner] = []

    async def serve(store: InboxStore, worker: RunningFlag | None) -> str:
        app = web.Application()
        add_monitoring_routes(app, Monitoring(store, worker, Metrics(), InboxCounts(store)))
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield serve
    for runner in runners:
        await runner.cleanup()


async def _status(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


class TestHealth:
    async def test_healthz_while_serving(self, start_server: StartServer) -> None:
        """/healthz answers 200 while the process serves."""
        server = await start_server()
        assert await _get(server, "/healthz") == (200, "ok\n")

    async def test_ready_with_database_and_worker(self, start_server: StartServer) -> None:
        """/readyz answers 200 when the database answers and the worker runs."""
        server = await start_server()
        assert await _get(server, "/readyz") == (200, "ready\n")

    async def test_receiver_only_is_ready_without_a_worker(self, start_server: StartServer) -> None:
        """A --no-worker process is ready with the database alone."""
        server = await start_server(worker=False)
        assert await _get(server, "/readyz") == (200, "ready\n")

    async def test_unreachable_database_is_503(self, serve_monitoring: ServeMonitoring) -> None:
        """A database nobody answers for makes /readyz 503 with the reason; /healthz stays up."""
        engine = create_engine(f"postgresql+asyncpg://hookgram@127.0.0.1:{free_port()}/inbox")
        base = await serve_monitoring(InboxStore(engine), None)
        assert await _status(f"{base}/readyz") == (503, "not ready: inbox database unreachable\n")
        assert (await _status(f"{base}/healthz"))[0] == 200
        await engine.dispose()

    async def test_stopped_worker_is_503(
        self, tmp_path: Path, serve_monitoring: ServeMonitoring
    ) -> None:
        """/readyz is 503 until the worker runs, 200 while it runs, 503 once it stopped."""
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}")
        store = InboxStore(engine)
        await store.create_schema()
        worker = Worker(store, {}, WorkerOptions(worker_id="w"), policy=RetryPolicy())
        base = await serve_monitoring(store, worker)
        assert await _status(f"{base}/readyz") == (503, "not ready: worker is not running\n")
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0)
        assert (await _status(f"{base}/readyz"))[0] == 200
        stop.set()
        await task
        assert (await _status(f"{base}/readyz"))[0] == 503
        await engine.dispose()


class TestMetrics:
    async def test_requests_and_ack_latency(self, start_server: StartServer) -> None:
        """Requests are counted by source and status; acknowledgements feed the ack histogram."""
        server = await start_server(worker=False)
        for _ in range(3):
            await server.post(body(message_update()))
        await server.post(body(message_update()), secret="wrong")
        samples = await scrape(server)
        assert value(samples, "hookgram_requests_total", source="telegram", status="200") == 3
        assert value(samples, "hookgram_requests_total", source="telegram", status="401") == 1
        assert value(samples, "hookgram_ack_seconds_count", source="telegram") == 3
        assert value(samples, "hookgram_ack_seconds_bucket", source="telegram", le="+Inf") == 3

    async def test_inbox_rows_by_source_and_status(self, start_server: StartServer) -> None:
        """The inbox gauge counts rows per source and status, zeros included."""
        server = await start_server(worker=False)
        for _ in range(2):
            await server.post(body(message_update()))
        samples = await scrape(server)
        assert value(samples, "hookgram_inbox_events", source="telegram", status="pending") == 2
        assert value(samples, "hookgram_inbox_events", source="telegram", status="dead") == 0

    async def test_processing_failures_and_bot_api_errors(
        self, start_server: StartServer, worker_for: WorkerFor, emulator: BotAPIEmulator
    ) -> None:
        """Attempts feed the processing histogram; a blocked chat is a dead failure and a 403."""
        server = await start_server(worker=False)
        emulator.block_chat(7)
        await server.post(body(message_update("to a blocked chat", chat_id=7)))
        await server.post(body(message_update("fine", chat_id=8)))
        await (await worker_for(server)).run_until_empty()
        samples = await scrape(server)
        assert value(samples, "hookgram_processing_seconds_count", source="telegram") == 2
        assert (
            value(samples, "hookgram_handler_failures_total", source="telegram", outcome="dead")
            == 1
        )
        assert (
            value(samples, "hookgram_bot_api_errors_total", method="sendMessage", code="403") == 1
        )

    async def test_retried_failure_and_rate_limit(
        self, start_server: StartServer, worker_for: WorkerFor, emulator: BotAPIEmulator
    ) -> None:
        """A 429 answer is a Bot API error with code 429 and a handler failure to retry."""
        server = await start_server(worker=False)
        emulator.fail_next("sendMessage", status=429, retry_after=1)
        await server.post(body(message_update("slow down")))
        await (await worker_for(server)).run_until_empty(wait_for_scheduled=True)
        samples = await scrape(server)
        assert (
            value(samples, "hookgram_bot_api_errors_total", method="sendMessage", code="429") == 1
        )
        assert (
            value(samples, "hookgram_handler_failures_total", source="telegram", outcome="retry")
            == 1
        )
        assert value(samples, "hookgram_processing_seconds_count", source="telegram") == 2

    async def test_webhook_info_is_read_periodically(
        self,
        start_server: StartServer,
        emulator: BotAPIEmulator,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """getWebhookInfo's pending count and last error age become gauges; the error is logged."""
        server = await start_server(worker=False, webhook_info_interval=0.05)
        samples = await scrape(server)
        assert value(samples, "hookgram_webhook_last_error_age_seconds") is None
        emulator.webhook.pending_update_count = 7
        emulator.webhook.last_error_date = int(time.time()) - 120
        emulator.webhook.last_error_message = "Wrong response from the webhook: 401 Unauthorized"
        seen = len(emulator.calls_of("getWebhookInfo"))
        await emulator.wait_for_calls("getWebhookInfo", seen + 2)
        samples = await scrape(server)
        assert value(samples, "hookgram_webhook_pending_updates") == 7
        age = value(samples, "hookgram_webhook_last_error_age_seconds")
        assert age is not None
        assert 120 <= age < 3600
        assert "Telegram reports a delivery error" in caplog.text
        assert "Wrong response from the webhook: 401 Unauthorized" in caplog.text
        assert "likely fix: `hookgram webhook set`" in caplog.text

    async def test_own_bot_api_calls_count_errors(
        self, start_server: StartServer, emulator: BotAPIEmulator
    ) -> None:
        """hookgram's own Bot API calls (here getWebhookInfo) count their errors too."""
        server = await start_server(worker=False, webhook_info_interval=0.05)
        emulator.fail_next("getWebhookInfo", status=502)
        seen = len(emulator.calls_of("getWebhookInfo"))
        await emulator.wait_for_calls("getWebhookInfo", seen + 2)
        samples = await scrape(server)
        assert (
            value(samples, "hookgram_bot_api_errors_total", method="getWebhookInfo", code="502")
            == 1
        )

    async def test_each_service_has_its_own_registry(self, start_server: StartServer) -> None:
        """Two services in one process count separately: no global registry."""
        first = await start_server(worker=False)
        second = await start_server(worker=False)
        await first.post(body(message_update()))
        assert (
            value(await scrape(first), "hookgram_requests_total", source="telegram", status="200")
            == 1
        )
        assert (
            value(await scrape(second), "hookgram_requests_total", source="telegram", status="200")
            is None
        )


class TestMetricsAccess:
    async def test_token(self, start_server: StartServer) -> None:
        """With a metrics token, /metrics needs it as a bearer token; health stays open."""
        server = await start_server(worker=False, metrics_token=METRICS_TOKEN)
        assert (await _get(server, "/metrics"))[0] == 401
        assert (await _get(server, "/metrics", Authorization="Bearer wrong"))[0] == 401
        status, text = await _get(server, "/metrics", Authorization=f"Bearer {METRICS_TOKEN}")
        assert status == 200
        assert "hookgram_requests" in text
        assert (await _get(server, "/healthz"))[0] == 200
        assert (await _get(server, "/readyz"))[0] == 200

    @pytest.mark.parametrize(
        ("networks", "expected"),
        [("10.0.0.0/8", 403), ("192.0.2.1, 127.0.0.0/8", 200), ("::1, 127.0.0.1", 200)],
    )
    async def test_allow_list(
        self, start_server: StartServer, networks: str, expected: int
    ) -> None:
        """Only addresses in HOOKGRAM_METRICS_ALLOWED_IPS may read /metrics; health stays open."""
        server = await start_server(worker=False, metrics_allowed_ips=networks)
        assert (await _get(server, "/metrics"))[0] == expected
        assert (await _get(server, "/healthz"))[0] == 200

    async def test_allow_list_behind_a_trusted_proxy(self, start_server: StartServer) -> None:
        """Behind a trusted proxy the allow-list checks the forwarded client, never a forgery."""
        server = await start_server(worker=False, metrics_allowed_ips="10.0.0.0/8")
        forwarded = {"X-Forwarded-For": "10.1.2.3"}
        assert (await _get(server, "/metrics", **forwarded))[0] == 403  # 127.0.0.1 not trusted
        proxied = await start_server(
            worker=False, metrics_allowed_ips="10.0.0.0/8", trusted_proxies="127.0.0.1"
        )
        assert (await _get(proxied, "/metrics", **forwarded))[0] == 200
        assert (await _get(proxied, "/metrics", **{"X-Forwarded-For": "192.0.2.9"}))[0] == 403

    async def test_not_behind_the_telegram_ip_filter(self, start_server: StartServer) -> None:
        """With Telegram's networks only on the webhook, health and metrics still answer here."""
        server = await start_server(worker=False, allowed_ips="149.154.160.0/20,91.108.4.0/22")
        assert (await server.post(body(message_update())))[0] == 403
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await _get(server, path))[0] == 200
