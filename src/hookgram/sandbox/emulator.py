"""The loopback Bot API server: routing, recording of calls, and the test-facing controls."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from hookgram.sandbox import updates
from hookgram.sandbox.api import SandboxAPI
from hookgram.sandbox.delivery import Deliverer, DeliveryOptions
from hookgram.sandbox.faults import Faults
from hookgram.sandbox.files import file_response
from hookgram.sandbox.journal import chat_of_call
from hookgram.sandbox.methods import METHODS, Method
from hookgram.sandbox.page import ChatPage
from hookgram.sandbox.replies import APIError, Described, ok_response
from hookgram.sandbox.request import Args, DecodedRequest, decode_request
from hookgram.sandbox.state import BotIdentity, Chats, RecordedCall, WebhookState, World

_MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Telegram's limit for bot uploads
_SHUTDOWN_GRACE_SECONDS = 1.0
_HIDDEN_PARAMS = frozenset({"secret_token"})  # the chat page shows calls: never a secret
COUNTS_PATH = "/_counts"
"""GET here answers the per-method call counts as JSON (the benchmark reads replies/s)."""


@dataclass(slots=True)
class _Waiter:
    method: str
    missing: int
    done: asyncio.Future[None]


class BotAPIEmulator:
    """A Telegram Bot API stand-in on loopback that records calls and can be told to misbehave."""

    def __init__(
        self,
        *,
        tokens: Iterable[str] = ("123456:TEST-TOKEN",),
        bot_username: str = "hookgram_test_bot",
        record: bool = True,
        allow_http_webhook: bool = False,
        delivery: DeliveryOptions | None = None,
    ) -> None:
        self._bots = {token: BotIdentity.from_token(token, bot_username) for token in tokens}
        if not self._bots:
            raise ValueError("BotAPIEmulator needs at least one bot token")
        self._record = record
        self.calls: list[RecordedCall] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self._world = World(Chats(keep_messages=record), allow_http_webhook=allow_http_webhook)
        self._deliverer = Deliverer(self._world, delivery or DeliveryOptions())
        self._faults = Faults()
        self._methods: dict[str, Method] = dict(METHODS)
        self._names = {name.lower(): name for name in self._methods}
        self._waiters: list[_Waiter] = []
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on `host:port` (0 picks a free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("this BotAPIEmulator is already running; stop() it first")
        app = web.Application(client_max_size=_MAX_UPLOAD_BYTES)
        app.router.add_get("/bot{token}/{method}", self._handle, allow_head=False)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get(COUNTS_PATH, self._counts)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # The chat page and the sandbox API act for the first bot (the sandbox serves one).
        first = next(iter(self._bots.values()))
        app.router.add_routes(ChatPage(self._world, first).routes())
        app.router.add_routes(SandboxAPI(self._world, first).routes())
        # access_log=None: the access log would print every URL, and every URL holds a token.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_GRACE_SECONDS)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._world.updates.reopen()
        self._world.chats.feed.reopen()
        await self._deliverer.start()
        bound_host, bound_port = runner.addresses[0][:2]
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        self._base_url = f"http://{shown_host}:{bound_port}"
        return self._base_url

    async def stop(self) -> None:
        """Answer pending long polls, then close the server; safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._world.updates.close()
        self._world.chats.feed.close()
        await self._deliverer.stop()
        await runner.cleanup()

    async def __aenter__(self) -> BotAPIEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """`http://host:port`, the value for `TelegramAPIServer.from_base`."""
        if self._base_url is None:
            raise RuntimeError("BotAPIEmulator.base_url is known only after start()")
        return self._base_url

    @property
    def webhook(self) -> WebhookState:
        """The webhook Telegram would hold; tests may set its fields directly."""
        return self._world.webhook

    def calls_of(self, method: str) -> list[RecordedCall]:
        """Recorded calls of `method`, compared case-insensitively, in arrival order."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    async def wait_for_calls(
        self, method: str, count: int, timeout: float = 10.0
    ) -> list[RecordedCall]:
        """Wait until at least `count` calls of `method` arrived; return all of them."""
        if not self._record:
            raise RuntimeError("wait_for_calls needs BotAPIEmulator(record=True); use counts")
        missing = count - len(self.calls_of(method))
        if missing > 0:
            waiter = _Waiter(method.lower(), missing, asyncio.get_running_loop().create_future())
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter.done, timeout)
            except TimeoutError:
                raise TimeoutError(self._timeout_message(method, count, timeout)) from None
            finally:
                self._waiters.remove(waiter)
        return self.calls_of(method)

    def fail_next(
        self,
        method: str | None = None,
        *,
        status: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` (any when None) with an error instead."""
        self._faults.add(
            method, status=status, description=description, retry_after=retry_after, times=times
        )

    def set_delay(self, seconds: float, method: str | None = None) -> None:
        """Wait `seconds` before answering `method` (every method when None); 0 clears it."""
        self._faults.set_delay(seconds, method)

    def block_chat(self, chat_id: int) -> None:
        """Sends to the chat fail with 403, as after the user blocked the bot."""
        self._world.chats.blocked.add(chat_id)

    def forget_chat(self, chat_id: int) -> None:
        """Sends to the chat fail with 400 "chat not found"."""
        self._world.chats.forgotten.add(chat_id)

    def enqueue_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates (update_id assigned if missing); returns its id."""
        return updates.enqueue(self._world, update)

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages the user of `chat_id` sees now (kept only with record=True)."""
        return self._world.chats.messages(chat_id)

    def register_method(self, name: str, method: Method) -> None:
        """Add or replace a Bot API method on this emulator; `name` is Telegram's spelling."""
        self._methods[name] = method
        self._names[name.lower()] = name

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            decoded = await decode_request(request)
        except APIError as error:
            return error.response()
        token, name = request.match_info["token"], request.match_info["method"]
        method = self._names.get(name.lower())
        self._note(method or name, token, decoded)
        outcome = await self._answer(method, token, decoded)
        if self._record:
            self._journal(method or name, decoded, outcome)
        return outcome.response() if isinstance(outcome, APIError) else ok_response(outcome)

    async def _answer(self, method: str | None, token: str, decoded: DecodedRequest) -> Any:
        """The method's result, or the APIError to answer instead."""
        bot = self._bots.get(token)
        if bot is None:
            return APIError(401)
        if method is None:
            return APIError(404)
        lowered = method.lower()
        delay = self._faults.delay(lowered)
        if delay:
            await asyncio.sleep(delay)
        fault = self._faults.take(lowered)
        if fault is not None:
            return fault
        try:
            return await self._methods[method](self._world, bot, Args(decoded))
        except APIError as error:
            return error

    async def _download(self, request: web.Request) -> web.Response:
        """`/file/bot<token>/<file_path>`: the bytes of a file getFile described."""
        if request.match_info["token"] not in self._bots:
            return APIError(401).response()
        return file_response(self._world.files.by_path(request.match_info["path"]))

    def _journal(self, method: str, decoded: DecodedRequest, outcome: Any) -> None:
        """Note the call for the chat page's side panel (never the token)."""
        result = outcome.result if isinstance(outcome, Described) else outcome
        chat_id = chat_of_call(decoded.params, result)
        pressed = self._world.callbacks.get(str(decoded.params.get("callback_query_id")))
        if chat_id is None and pressed is not None:
            chat_id = pressed["chat_id"]
        files = {key: f"{name} ({len(data)} bytes)" for key, (name, data) in decoded.files.items()}
        answer = (
            {"ok": False, "error_code": outcome.status, "description": outcome.description}
            if isinstance(outcome, APIError)
            else {"ok": True, "result": result}
        )
        params = {k: "********" if k in _HIDDEN_PARAMS else v for k, v in decoded.params.items()}
        self._world.journal.add(
            "call", chat_id, method=method, params=params, files=files, answer=answer
        )

    async def _counts(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.counts))

    def _note(self, method: str, token: str, decoded: DecodedRequest) -> None:
        self.counts[method] += 1
        if not self._record:
            return
        self.calls.append(RecordedCall(method, token, decoded.params, decoded.files, time.time()))
        if self._waiters:
            lowered = method.lower()
            for waiter in self._waiters:
                if waiter.method == lowered:
                    waiter.missing -= 1
                    if waiter.missing <= 0 and not waiter.done.done():
                        waiter.done.set_result(None)

    def _timeout_message(self, method: str, count: int, timeout: float) -> str:
        seen = ", ".join(f"{name} x{n}" for name, n in self.counts.most_common()) or "no calls"
        got = len(self.calls_of(method))
        return (
            f"waited {timeout:g}s for {count} {method} call(s) but only {got} arrived; "
            f"calls so far: {seen}"
        )
