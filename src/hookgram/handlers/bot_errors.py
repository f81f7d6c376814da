"""Counts the Bot API errors an aiogram ``Bot`` meets: a request middleware on its session.

It sees every call the handlers make, including errors a handler catches itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

# aiogram turns the HTTP status into an exception class and keeps no code: map it back.
# The most specific classes come first (TelegramEntityTooLarge is a TelegramNetworkError).
_CODES: tuple[tuple[type[Exception], str], ...] = (
    (TelegramRetryAfter, "429"),
    (TelegramMigrateToChat, "400"),
    (TelegramBadRequest, "400"),
    (TelegramUnauthorizedError, "401"),
    (TelegramForbiddenError, "403"),
    (TelegramNotFound, "404"),
    (TelegramConflictError, "409"),
    (TelegramEntityTooLarge, "413"),
    (TelegramServerError, "5xx"),
    (TelegramNetworkError, "network"),
    (ClientDecodeError, "undecodable"),
)


def error_code(exc: Exception) -> str:
    """The code label of an aiogram error: 400, 403, 429, 5xx, network, ..."""
    return next((code for kind, code in _CODES if isinstance(exc, kind)), "other")


class BotAPIErrorCounter(BaseRequestMiddleware):
    """Calls ``on_error(method, code)`` for each failed Bot API call, then lets the error pass."""

    def __init__(self, on_error: Callable[[str, str], None]) -> None:
        self._on_error = on_error

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Make the request; count it when it raises."""
        try:
            return await make_request(bot, method)
        except (TelegramAPIError, ClientDecodeError) as exc:
            self._on_error(method.__api_method__, error_code(exc))
            raise
