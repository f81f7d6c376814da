"""The worker's handlers for the ``[[sources]]`` sources: a user's function, else notify."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot

from hookgram.handlers.notify import NotifyHandler
from hookgram.handlers.user import UserHandler, load_function
from hookgram.inbox.deliveries import DeliveryLog
from hookgram.inbox.store import InboxStore
from hookgram.sources.config import SourceConfig, source_label
from hookgram.sources.schemes import build_scheme
from hookgram.worker import Handler


def source_handlers(
    configs: Sequence[SourceConfig], bot: Bot, store: InboxStore
) -> dict[str, Handler]:
    """One handler per source name; a handler that cannot be loaded is a ConfigError."""
    handlers: dict[str, Handler] = {}
    for config in configs:
        if config.handler is None:
            handlers[config.name] = NotifyHandler(bot, config.notify, DeliveryLog(store.engine))
            continue
        handlers[config.name] = UserHandler(
            load_function(config.handler, source_label(config.name)),
            bot=bot,
            engine=store.engine,
            notify=config.notify,
            secret_headers=build_scheme(config).secret_headers,
        )
    return handlers
