"""aiogram's FSM state and event isolation: in Redis when ``HOOKGRAM_REDIS_URL`` is set.

With several workers, one user's conversation moves between processes, so its state must
live outside them (RedisStorage); RedisEventIsolation locks a user's state machine while
one update of theirs runs, in whichever worker. Without Redis, aiogram's memory storage.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass

from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from redis.exceptions import RedisError

from hookgram.errors import HookgramError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FSM:
    """What a Dispatcher built by hookgram gets: both None means aiogram's defaults."""

    storage: BaseStorage | None = None
    events_isolation: BaseEventIsolation | None = None


async def open_fsm(redis_url: str | None, stack: AsyncExitStack) -> FSM:
    """Connect to Redis (checked with a PING) when a URL is given; ``stack`` closes it."""
    if redis_url is None:
        return FSM()
    # with_bot_id: several bots may share one Redis without mixing their users' state.
    storage = RedisStorage.from_url(redis_url, key_builder=DefaultKeyBuilder(with_bot_id=True))
    stack.push_async_callback(storage.close)
    try:
        await storage.redis.ping()
    except (RedisError, OSError) as exc:
        raise HookgramError(
            f"cannot reach Redis at HOOKGRAM_REDIS_URL ({exc}): start it or fix the URL"
        ) from None
    log.info("FSM state and event isolation in Redis")
    return FSM(storage, storage.create_isolation())


def check_storage(dispatcher: Dispatcher, fsm: FSM) -> None:
    """Say when APP brought its own Dispatcher, whose storage hookgram leaves alone."""
    if fsm.storage is None or dispatcher.storage is fsm.storage:
        return
    if isinstance(dispatcher.storage, MemoryStorage):
        log.warning(
            "APP is a Dispatcher with in-memory FSM storage, so HOOKGRAM_REDIS_URL is not used: "
            "with several workers its conversations break; give it a RedisStorage, or make APP "
            "a Router"
        )
    else:
        log.info("APP is a Dispatcher: its own FSM storage is used, not HOOKGRAM_REDIS_URL")
