"""A small Bot API client for start-up and operations: getMe, setWebhook, getUpdates, ...

It speaks plain aiohttp so a receiver-only process never imports aiogram.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
import orjson

from hookgram.errors import BotAPIError, ConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")


class TransientBotAPIError(Exception):
    """The Bot API could not be reached or asked us to come back later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BotAPI:
    """Calls ``{api_url}/bot{token}/{method}``; the token never appears in what it raises."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        on_error: Callable[[str, str], None] | None = None,
    ) -> None:
        self._session = session
        self._base = f"{api_url}/bot{token}/"
        self._api_url = api_url
        self._timeout = timeout
        self._on_error = on_error  # (method, code): a failed call, for the metrics

    async def call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        files: Mapping[str, tuple[str, bytes]] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """The method's ``result``; BotAPIError for a refusal, TransientBotAPIError to retry."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        body = _form(params, files) if files else None
        try:
            async with self._session.post(
                self._base + method,
                json=None if files else params,
                data=body,
                timeout=aiohttp.ClientTimeout(total=timeout or self._timeout),
            ) as response:
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._failed(method, "network")
            raise TransientBotAPIError(
                f"{method}: Bot API at {self._api_url} unreachable ({exc.__class__.__name__})"
            ) from None
        try:
            return _result(method, response.status, raw)
        except (TransientBotAPIError, BotAPIError):
            self._failed(method, _error_code(response.status, raw))
            raise

    def _failed(self, method: str, code: str) -> None:
        if self._on_error is not None:
            self._on_error(method, code)


def _error_code(status: int, raw: bytes) -> str:
    """Telegram's ``error_code`` when the answer has one, else the HTTP status."""
    try:
        answer = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return str(status)
    code = answer.get("error_code") if isinstance(answer, dict) else None
    return str(code) if isinstance(code, int) else str(status)


def _form(params: Mapping[str, Any], files: Mapping[str, tuple[str, bytes]]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for key, value in params.items():
        if value is None:
            continue
        form.add_field(key, value if isinstance(value, str) else orjson.dumps(value).decode())
    for key, (filename, content) in files.items():
        form.add_field(key, content, filename=filename)
    return form


def _result(method: str, status: int, raw: bytes) -> Any:
    try:
        answer = orjson.loads(raw)
    except orjson.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        if status >= 500 or status == 429:
            raise TransientBotAPIError(f"{method}: Bot API answered HTTP {status}")
        raise BotAPIError(f"{method}: Bot API answered HTTP {status} with no JSON")
    if answer.get("ok"):
        return answer.get("result")
    code = int(answer.get("error_code") or status)
    description = str(answer.get("description") or "no description")
    if code == 429 or code >= 500:
        retry_after = (answer.get("parameters") or {}).get("retry_after")
        raise TransientBotAPIError(f"{method}: {code} {description}", retry_after)
    if code == 401:
        raise BotAPIError(
            f"{method}: the Bot API rejected BOT_TOKEN (401 Unauthorized): "
            "check the token @BotFather gave you"
        )
    raise BotAPIError(f"{method}: {code} {description}")


async def with_retries(
    what: str,
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int | None = None,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``call`` until it succeeds, backing off on transient errors (forever by default)."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except TransientBotAPIError as exc:
            if attempts is not None and attempt >= attempts:
                raise BotAPIError(f"{what} failed after {attempt} attempts: {exc}") from None
            delay = exc.retry_after or min(max_delay, base_delay * 2 ** (attempt - 1))
            delay = delay * random.uniform(1.0, 1.2)
            log.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)
            await sleep(delay)


def bot_id(token: str) -> int:
    """The bot's numeric id, the part of the token before the colon."""
    head, _, _ = token.partition(":")
    if not head.isdigit():
        raise ConfigError(
            "BOT_TOKEN is malformed: it should look like 123456789:AA... as @BotFather gives it"
        )
    return int(head)
