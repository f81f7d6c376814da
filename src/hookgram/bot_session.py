"""A leaner Bot API session for aiogram: JSON bodies through orjson, response types kept alive.

aiogram's ``AiohttpSession`` sends every call as a form and, on every answer, asks pydantic for
``Response[ResultType]``. pydantic caches that generic class only weakly, so between garbage
collections it is rebuilt, schema and all: the most expensive part of a sendMessage in the
benchmark's profile. This session keeps each response type it used, and sends calls without
files as one orjson-encoded JSON body (the Bot API accepts JSON as well as forms). It also
keeps each method's URL and each timeout, which aiohttp would otherwise parse and build again
on every call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import orjson
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout
from yarl import URL

if TYPE_CHECKING:
    from aiogram import Bot

_JSON_HEADERS = {"Content-Type": "application/json"}


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class LeanSession(AiohttpSession):
    """``AiohttpSession`` that posts JSON and never rebuilds a response type."""

    def __init__(self, api: TelegramAPIServer, **kwargs: Any) -> None:
        super().__init__(api=api, json_loads=orjson.loads, json_dumps=_dumps, **kwargs)
        self._response_types: dict[Any, type[Response[Any]]] = {}
        self._urls: dict[tuple[TelegramAPIServer, str, str], URL] = {}
        self._timeouts: dict[float, ClientTimeout] = {}

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,
    ) -> TelegramType:
        """Send ``method`` and return its result; uploads go through aiogram's form path."""
        returning = method.__returning__
        if returning not in self._response_types:
            # Held here, so pydantic's weak cache of the generic class keeps hitting.
            self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        files: dict[str, Any] = {}
        payload = {}
        # Fields left as None are left out here as aiogram's prepare_value would leave them out.
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared:  # aiogram leaves out empty and false values the same way
                payload[key] = prepared
        if files:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        try:
            async with session.post(
                self._url(bot, method.__api_method__),
                data=orjson.dumps(payload),
                headers=_JSON_HEADERS,
                timeout=self._timeout(self.timeout if timeout is None else timeout),
            ) as response:
                raw = await response.read()
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except ClientError as exc:
            message = f"{type(exc).__name__}: {exc}"
            raise TelegramNetworkError(method=method, message=message) from exc
        checked = self.check_response(
            bot=bot, method=method, status_code=response.status, content=cast(str, raw)
        )
        return cast(TelegramType, checked.result)

    def _url(self, bot: Bot, api_method: str) -> URL:
        key = (self.api, bot.token, api_method)
        url = self._urls.get(key)
        if url is None:
            url = self._urls[key] = URL(self.api.api_url(token=bot.token, method=api_method))
        return url

    def _timeout(self, seconds: float) -> ClientTimeout:
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = self._timeouts[seconds] = ClientTimeout(total=seconds)
        return timeout
