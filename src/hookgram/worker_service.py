"""The worker-only process (``hookgram worker``): processes the shared inbox, receives nothing.

Receivers (``hookgram run --no-worker``) and workers scale apart: any number of each share
one PostgreSQL inbox, where claims with leases keep every chat in order across workers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import aiohttp

from hookgram.config import Settings
from hookgram.inbox.engine import create_engine
from hookgram.inbox.schema import prepare as prepare_schema
from hookgram.inbox.store import InboxStore
from hookgram.redaction import Redactor
from hookgram.service import start_worker
from hookgram.telegram import BotAPI, with_retries

if TYPE_CHECKING:
    from hookgram.worker import Worker

log = logging.getLogger(__name__)


async def work(
    settings: Settings,
    app_spec: str | None,
    stop: asyncio.Event,
    *,
    on_ready: Callable[[Worker], None] | None = None,
) -> None:
    """Process inbox rows until ``stop`` is set, then finish in-flight work and release the rest."""
    token = settings.token()
    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        stack.push_async_callback(engine.dispose)
        await prepare_schema(engine, migrate=settings.migrate)
        if engine.dialect.name == "sqlite":
            log.info(
                "a separate worker on SQLite works on this machine only; share the inbox "
                "between machines with PostgreSQL (HOOKGRAM_DATABASE_URL=postgresql://…)"
            )
        store = InboxStore(engine)
        stack.push_async_callback(store.close)
        # A rejected token would turn every update dead: check it before claiming any.
        async with aiohttp.ClientSession() as http:
            me = await with_retries(
                "getMe", lambda: BotAPI(http, settings.api_url, token).call("getMe")
            )
        log.info("bot @%s (id %s) ready", me.get("username"), me.get("id"))
        worker, _ = await start_worker(
            settings, app_spec, store, Redactor(settings.secrets()), stack
        )
        task = asyncio.create_task(worker.run(stop), name="hookgram-worker")
        log.info("worker %s processing the inbox", worker.worker_id)
        if on_ready is not None:
            on_ready(worker)
        await task
        log.info("stopped")
