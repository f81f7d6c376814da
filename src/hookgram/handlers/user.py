"""A source's own handler, ``handler = "module:function"``, its arguments injected by name.

As aiogram does for its handlers, the function asks for what it needs by parameter name:
``event`` (a ``SourceEvent``), ``bot`` (the worker's aiogram ``Bot``), ``session`` (an
SQLAlchemy ``AsyncSession`` on the inbox database, committed after the function returns) and
``notify`` (the source's ``notify`` chats). Any other name stops start-up.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hookgram.errors import ConfigError
from hookgram.handlers.event import SourceEvent
from hookgram.inbox.models import Event

INJECTABLE = ("event", "bot", "session", "notify")

UserFunction = Callable[..., Awaitable[Any]]


class UserHandler:
    """Calls the user's coroutine with the arguments it names; commits its session."""

    def __init__(
        self,
        function: UserFunction,
        *,
        bot: Bot,
        engine: AsyncEngine,
        notify: Sequence[int],
        secret_headers: Iterable[str] = (),
    ) -> None:
        self._function = function
        self._wanted = wanted_arguments(function)
        self._bot = bot
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._notify = tuple(notify)
        self._secret_headers = frozenset(secret_headers)

    async def __call__(self, event: Event) -> None:
        """Run the function on one stored event; an exception is left to the retry policy."""
        available: dict[str, Any] = {
            "event": SourceEvent.from_inbox(event, self._secret_headers),
            "bot": self._bot,
            "notify": self._notify,
        }
        if "session" not in self._wanted:
            await self._function(**{k: available[k] for k in self._wanted})
            return
        async with self._sessions() as session:
            available["session"] = session
            await self._function(**{k: available[k] for k in self._wanted})
            await session.commit()


def load_function(spec: str, label: str) -> UserFunction:
    """Import ``module:function``; a missing module or a non-coroutine is a ConfigError."""
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f'{label}: key "handler": cannot import {module_name} ({exc})') from None
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise ConfigError(f'{label}: key "handler": {module_name} has no {attribute}')
    if not inspect.iscoroutinefunction(target) and not inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - an object with an async __call__
    ):
        raise ConfigError(f'{label}: key "handler": {spec} must be an async function')
    wanted_arguments(target, label=label)
    return target  # type: ignore[no-any-return]


def wanted_arguments(function: UserFunction, *, label: str = "handler") -> tuple[str, ...]:
    """The injectable names ``function`` asks for (all of them for ``**kwargs``)."""
    wanted: list[str] = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return INJECTABLE
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if parameter.name not in INJECTABLE:
            raise ConfigError(
                f'{label}: key "handler": parameter "{parameter.name}" is not something '
                f"hookgram can pass; ask for any of {', '.join(INJECTABLE)}"
            )
        wanted.append(parameter.name)
    return tuple(wanted)
