"""Process lifecycle: open the store, start ingress and worker, shut down gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import secrets
import socket
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from hookgram.config import Settings
from hookgram.inbox.counts import InboxCounts
from hookgram.inbox.engine import create_engine
from hookgram.inbox.notifications import InboxListener
from hookgram.inbox.schema import prepare as prepare_schema
from hookgram.inbox.store import InboxStore
from hookgram.inbox.writer import InboxWriter
from hookgram.ingress import build_app
from hookgram.metrics import Metrics
from hookgram.monitoring import Monitoring, add_monitoring_routes, watch_webhook
from hookgram.polling import poll
from hookgram.redaction import Redactor
from hookgram.sources.base import Source
from hookgram.sources.telegram import TelegramSource
from hookgram.sources.webhook import build_sources
from hookgram.telegram import BotAPI, bot_id, with_retries
from hookgram.tls import ServerTLS, load_server_tls
from hookgram.webhook import desired_webhook, ensure_webhook

if TYPE_CHECKING:
    from hookgram.worker import Worker

log = logging.getLogger(__name__)


@dataclass
class Running:
    """What a started service exposes to its caller (tests read the bound port)."""

    port: int
    store: InboxStore
    worker: Worker | None
    metrics: Metrics | None = None


async def serve(
    settings: Settings,
    app_spec: str | None,
    stop: asyncio.Event,
    *,
    on_ready: Callable[[Running], None] | None = None,
    loopback_webhook: bool = False,
) -> None:
    """Run until ``stop`` is set: ingress (webhook or polling) plus, by default, the worker.

    ``loopback_webhook`` (``hookgram sandbox`` only, never ``run``): the webhook is
    ``http://HOST:PORT/path`` of this very server, which only the Bot API emulator accepts.
    """
    token = settings.token()
    if not settings.polling and not loopback_webhook:
        settings.webhook_url()  # fail before any I/O when the public URL is missing
    tls = _security_checks(settings)
    redact = Redactor(settings.secrets())
    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        stack.push_async_callback(engine.dispose)
        store = InboxStore(engine)
        stack.push_async_callback(store.close)
        await prepare_schema(engine, migrate=settings.migrate)
        http = await stack.enter_async_context(aiohttp.ClientSession())
        counts = InboxCounts(store)
        metrics = Metrics(counts)
        api = BotAPI(http, settings.api_url, token, on_error=metrics.bot_api_error)
        me = await with_retries("getMe", lambda: api.call("getMe"))
        log.info("bot @%s (id %s) ready", me.get("username"), me.get("id"))

        worker, allowed_updates = None, settings.allowed_updates
        if settings.worker:
            worker, used = await start_worker(
                settings, app_spec, store, redact, stack, metrics=metrics
            )
            allowed_updates = allowed_updates if allowed_updates is not None else used
        writer = InboxWriter(store, on_commit=worker.wake if worker else None)

        sources: list[Source] = []
        if not settings.polling:
            sources.append(
                TelegramSource(
                    path=settings.webhook_path,
                    bot_id=bot_id(token),
                    secrets=settings.accepted_secrets(),
                    allowed_ips=settings.telegram_allow_list(),
                )
            )
        sources.extend(build_sources(settings.sources))
        app = build_app(
            sources,
            writer.put,
            max_body_bytes=settings.max_body_bytes,
            trusted_proxies=settings.proxy_allow_list(),
            client_timeout=settings.client_timeout,
            observe=metrics.observe_request,
        )
        _add_operations(app, settings, store, worker, metrics, counts, redact)
        runner = web.AppRunner(
            app,
            shutdown_timeout=settings.shutdown_timeout,
            access_log=None,
            # Also closes a connection that sends no complete request in time (slow clients).
            keepalive_timeout=settings.client_timeout,
            lingering_time=0,  # a refused body is not read to its end: the connection closes
        )
        await runner.setup()
        site = web.TCPSite(
            runner, settings.host, settings.port, ssl_context=tls.context if tls else None
        )
        await site.start()
        await writer.start()
        port = _bound_port(runner)
        log.info("listening on %s:%d%s", settings.host, port, " (HTTPS)" if tls else "")

        worker_stop = asyncio.Event()
        worker_task = polling_task = watch_task = None
        if worker is not None:
            worker_task = asyncio.create_task(worker.run(worker_stop), name="hookgram-worker")
        if settings.polling:
            await with_retries(
                "deleteWebhook", lambda: api.call("deleteWebhook", {"drop_pending_updates": False})
            )
            log.info("polling getUpdates (the webhook was removed, pending updates kept)")
            polling_task = asyncio.create_task(
                poll(api, writer.put, bot_id=bot_id(token), allowed_updates=allowed_updates),
                name="hookgram-polling",
            )
        else:
            if loopback_webhook:
                settings = settings.model_copy(
                    update={"public_url": f"http://{settings.host}:{port}"}
                )
            await ensure_webhook(
                api,
                desired_webhook(settings, allowed_updates, tls.upload if tls else None),
                force=settings.force_set_webhook,
                drop_pending_updates=settings.drop_pending_updates,
            )
            if settings.webhook_info_interval > 0:
                watch_task = asyncio.create_task(
                    watch_webhook(api, metrics.webhook, settings.webhook_info_interval),
                    name="hookgram-webhook-info",
                )

        if on_ready is not None:
            on_ready(Running(port=port, store=store, worker=worker, metrics=metrics))
        await stop.wait()

        log.info("shutting down: no new requests")
        for task in (polling_task, watch_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await runner.cleanup()
        await writer.stop()
        worker_stop.set()
        if worker_task is not None:
            await worker_task
        log.info("stopped")


async def start_worker(
    settings: Settings,
    app_spec: str | None,
    store: InboxStore,
    redact: Redactor,
    stack: AsyncExitStack,
    *,
    metrics: Metrics | None = None,
) -> tuple[Worker, list[str]]:
    """Load APP, open its Bot, and build the worker; ``stack`` closes them. Also used by tests."""
    # aiogram is imported only here, so a receiver-only process stays small.
    from aiogram import Bot
    from aiogram.client.telegram import TelegramAPIServer

    from hookgram.app_loader import load_dispatcher
    from hookgram.bot_context import streamline_bot_context
    from hookgram.bot_session import LeanSession
    from hookgram.fsm import check_storage, open_fsm
    from hookgram.handlers.bot_errors import BotAPIErrorCounter
    from hookgram.handlers.sources import source_handlers
    from hookgram.handlers.telegram import TelegramHandler
    from hookgram.retry import RetryPolicy
    from hookgram.sources.telegram import TELEGRAM
    from hookgram.worker import Handler, Worker, WorkerOptions

    fsm = await open_fsm(
        settings.redis_url.get_secret_value() if settings.redis_url else None, stack
    )
    dispatcher = await load_dispatcher(
        app_spec, storage=fsm.storage, events_isolation=fsm.events_isolation
    )
    check_storage(dispatcher, fsm)
    session = LeanSession(api=TelegramAPIServer.from_base(settings.api_url))
    if metrics is not None:
        session.middleware(BotAPIErrorCounter(metrics.bot_api_error))
    bot = Bot(settings.token(), session=session)
    stack.push_async_callback(session.close)
    await dispatcher.emit_startup(bot=bot, dispatcher=dispatcher)
    stack.push_async_callback(dispatcher.emit_shutdown, bot=bot, dispatcher=dispatcher)
    handlers: dict[str, Handler] = {
        TELEGRAM: TelegramHandler(dispatcher, bot),
        **source_handlers(settings.sources, bot, store),
    }
    worker = Worker(
        store,
        handlers,
        WorkerOptions(
            worker_id=f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}",
            concurrency=settings.worker_concurrency,
            lease_seconds=settings.lease_seconds,
            poll_interval=settings.worker_poll_interval,
            shutdown_timeout=settings.shutdown_timeout,
        ),
        policy=RetryPolicy(max_attempts=settings.max_attempts),
        redact=redact,
        on_outcome=metrics.observe_outcome if metrics is not None else None,
    )
    if store.engine.dialect.name == "postgresql":
        await stack.enter_async_context(InboxListener(store.engine, worker.wake))
    streamline_bot_context()
    tune_garbage_collection()
    return worker, dispatcher.resolve_used_update_types()


def tune_garbage_collection() -> None:
    """Settle the cyclic GC for processing updates, once aiogram and the app are imported."""
    # aiogram leaves ~190k long-lived objects after import; freezing them keeps the cyclic
    # GC from rescanning them on every collection (the benchmark's p99 comes from this).
    gc.collect()
    gc.freeze()
    # Each update leaves short-lived pydantic objects behind; collecting the young generation
    # every 20,000 allocations instead of 700 cut the worker's CPU per update by ~6 % in the
    # benchmark (docs/performance.md), the frozen start-up objects are never rescanned.
    gc.set_threshold(20_000, 50, 1000)


def _security_checks(settings: Settings) -> ServerTLS | None:
    """Check the TLS files and warn about weakened checks, before any I/O."""
    host = urlsplit(settings.public_url).hostname if settings.public_url else None
    tls = load_server_tls(settings.tls_cert, settings.tls_key, host, now=datetime.now(UTC))
    for warning in tls.warnings if tls else []:
        log.warning("%s", warning)
    if settings.telegram_allow_list() is None and not settings.polling:
        log.warning(
            "HOOKGRAM_ALLOWED_IPS=any: the Telegram route accepts requests from every address; "
            "only the secret token keeps others out"
        )
    return tls


def _add_operations(
    app: web.Application,
    settings: Settings,
    store: InboxStore,
    worker: Worker | None,
    metrics: Metrics,
    counts: InboxCounts,
    redact: Redactor,
) -> None:
    """Health, readiness and metrics routes; the inspector when its token is set."""
    token = settings.metrics_token
    monitoring = Monitoring(
        store,
        worker,
        metrics,
        counts,
        metrics_allowed=settings.metrics_allow_list(),
        metrics_token=token.get_secret_value() if token is not None else None,
        proxies=settings.proxy_allow_list(),
    )
    add_monitoring_routes(app, monitoring)
    if settings.inspector_token is not None:
        from hookgram.inspector import mount_inspector  # Jinja2 only where it is used
        from hookgram.sources.schemes import build_scheme

        mount_inspector(
            app,
            store=store,
            counts=counts,
            token=settings.inspector_token.get_secret_value(),
            redact=redact,
            secret_headers={c.name: build_scheme(c).secret_headers for c in settings.sources},
            on_requeue=worker.wake if worker is not None else None,
        )


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple):
            return int(address[1])
    raise RuntimeError("the server is not bound to a TCP port")
