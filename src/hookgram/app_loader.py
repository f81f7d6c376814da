"""Turns ``module:attribute`` into an aiogram Dispatcher."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage

from hookgram.errors import ConfigError

DEFAULT_APP = "hookgram.bots.echo:create_router"


async def load_dispatcher(
    spec: str | None,
    *,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
) -> Dispatcher:
    """Import APP (a Router, a Dispatcher, or a factory returning one) and give a Dispatcher.

    ``storage`` and ``events_isolation`` go to the Dispatcher built around a Router; a
    Dispatcher APP keeps its own (its author chose them).
    """
    spec = spec or DEFAULT_APP
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigError(f"APP {spec!r} must look like package.module:attribute")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"APP {spec!r}: cannot import {module_name} ({exc})") from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ConfigError(f"APP {spec!r}: {module_name} has no attribute {attribute}")
        target = getattr(target, part)
    if not isinstance(target, Router) and callable(target):
        target = target()
        if inspect.isawaitable(target):
            target = await target
    if isinstance(target, Dispatcher):
        return target
    if isinstance(target, Router):
        dispatcher = Dispatcher(storage=storage, events_isolation=events_isolation)
        dispatcher.include_router(target)
        return dispatcher
    raise ConfigError(
        f"APP {spec!r} is a {type(target).__name__}; it must name an aiogram Router, "
        "Dispatcher, or a function returning one"
    )
