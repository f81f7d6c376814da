"""aiogram objects bound to their bot without pydantic's generic private-attribute pass.

Every aiogram object (the Update, each Message, User and Chat in it, every Bot API method and
every answer) has one private attribute, ``_bot``, which aiogram's ``model_post_init`` sets from
the validation context. pydantic wraps that method in its generic set-up of private attributes,
which resolves the default of each one through three calls before aiogram overwrites it: about
8 % of the CPU aiogram spends on an echo update (``python -m bench.floor``, see
docs/performance.md).

``streamline_bot_context()`` gives each aiogram class whose only private attribute is ``_bot``
and whose ``model_post_init`` is still aiogram's own a method that stores the same ``_bot``
directly. Classes with private attributes or a ``model_post_init`` of their own keep pydantic's
set-up, and so do their subclasses defined later. The objects are the same either way: the
same bot, equality, copies and dumps. The service calls it once aiogram and the app are
imported, next to the garbage collector's tuning.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from typing import Any

from aiogram.client.context_controller import BotContextController
from pydantic import BaseModel

log = logging.getLogger(__name__)

_PRIVATE = "__pydantic_private__"


def _bind_bot(self: BaseModel, context: Any, /) -> None:
    """aiogram's set-up of ``_bot``, with pydantic's private-attribute dict made in place."""
    bot = context.get("bot") if context else None
    private = getattr(self, _PRIVATE, None)  # as pydantic's own set-up reads it
    if private is None:
        object.__setattr__(self, _PRIVATE, {"_bot": bot})
    else:  # already set up: by pydantic's wrapper of a subclass with attributes of its own
        private["_bot"] = bot


def _subclasses(cls: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def streamline_bot_context(controller: type[BaseModel] = BotContextController) -> int:
    """Give aiogram's own classes the direct set-up of ``_bot``; the number of classes changed."""
    aiogram_set_up = inspect.unwrap(controller.__dict__["model_post_init"])
    own = {aiogram_set_up, _bind_bot}
    changed = 0
    for cls in {controller, *_subclasses(controller)}:
        set_up = cls.__dict__.get("model_post_init")
        if set_up is _bind_bot or set_up is None:
            continue
        if set(cls.__private_attributes__) == {"_bot"} and inspect.unwrap(set_up) in own:
            cls.model_post_init = _bind_bot  # type: ignore[method-assign]
            changed += 1
    log.debug("aiogram classes binding their bot directly: %d", changed)
    return changed
