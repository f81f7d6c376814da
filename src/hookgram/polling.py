"""Polling for local work: getUpdates feeds the same inbox a webhook would."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable

import orjson

from hookgram.errors import BotAPIError, StoreUnavailableError
from hookgram.inbox.models import NewEvent
from hookgram.sources.telegram import update_event
from hookgram.telegram import BotAPI, with_retries

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25


async def poll(
    api: BotAPI,
    commit: Callable[[NewEvent], Awaitable[None]],
    *,
    bot_id: int,
    allowed_updates: list[str] | None,
    retry_delay: float = 5.0,
) -> None:
    """Fetch updates forever; the offset moves past an update only once it is committed."""
    offset: int | None = None
    while True:
        params = {
            "offset": offset,
            "timeout": LONG_POLL_SECONDS,
            "allowed_updates": allowed_updates,
        }
        try:
            fetch = functools.partial(
                api.call, "getUpdates", params, timeout=LONG_POLL_SECONDS + 10
            )
            updates = await with_retries("getUpdates", fetch)
        except BotAPIError as exc:
            log.error("getUpdates refused: %s; trying again in %.0fs", exc, retry_delay)
            await asyncio.sleep(retry_delay)
            continue
        if not updates:
            continue
        events = [update_event(u, orjson.dumps(u), bot_id) for u in updates]
        try:
            await asyncio.gather(*(commit(e) for e in events))
        except StoreUnavailableError as exc:
            log.error("could not store polled updates (%s); fetching them again", exc)
            await asyncio.sleep(retry_delay)
            continue
        offset = max(u["update_id"] for u in updates) + 1
