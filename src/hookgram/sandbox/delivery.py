"""Webhook delivery as Telegram does it: each pending update is POSTed to the webhook URL with
the secret token header, at most `max_connections` requests at a time, one at a time per chat
(so a chat's updates arrive in order); an update stays pending until the webhook answers 2xx,
and a failure is recorded in getWebhookInfo and retried with exponential backoff."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from hookgram.sandbox.state import World
from hookgram.sandbox.updates import update_chat

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
_DEFAULT_MAX_CONNECTIONS = 40


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """Pacing of delivery; tests shorten the backoff."""

    retry_delay: float = 1.0
    max_retry_delay: float = 60.0
    timeout: float = 60.0
    any_host: bool = False
    """Deliver to any host; by default only loopback webhooks are called (tests, the sandbox)."""


class Deliverer:
    """Runs in the emulator's event loop while it serves; reads and updates the `World`."""

    def __init__(self, world: World, options: DeliveryOptions) -> None:
        self._world = world
        self._options = options
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._busy: set[str] = set()
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        self._target: tuple[str, str | None] = ("", None)
        self._stopping = False

    async def start(self) -> None:
        """Begin delivering whenever a webhook is set."""
        self._session = aiohttp.ClientSession(auto_decompress=False)
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="emulator-webhook-delivery")

    async def stop(self) -> None:
        """Stop delivering; updates in flight stay pending."""
        # A flag, not cancel(): Python 3.11's wait_for can swallow a cancel that races a wakeup.
        self._stopping = True
        self._world.updates.nudge.set()
        if self._task is not None:
            await self._task
            self._task = None
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        nudge = self._world.updates.nudge
        while not self._stopping:
            nudge.clear()
            self._schedule()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(nudge.wait(), self._next_retry_in())

    def _schedule(self) -> None:
        webhook = self._world.webhook
        if not webhook.url or not self._reachable(webhook.url):
            return
        if (webhook.url, webhook.secret_token) != self._target:
            # A new setWebhook is a fresh start: retry at once, as Telegram does.
            self._target = (webhook.url, webhook.secret_token)
            self._retry_at.clear()
        limit = webhook.max_connections or _DEFAULT_MAX_CONNECTIONS
        now = time.monotonic()
        held: set[str] = set()
        for update in self._world.updates.pending():
            if len(self._inflight) >= limit:
                break
            lane = _lane(update)
            waiting = lane in held or lane in self._busy or self._retry_at.get(lane, 0) > now
            held.add(lane)
            if not waiting and update["update_id"] not in self._inflight:
                self._busy.add(lane)
                task = asyncio.create_task(self._deliver(update, lane))
                self._inflight[update["update_id"]] = task

    def _next_retry_in(self) -> float | None:
        now = time.monotonic()
        due = [at for at in self._retry_at.values() if at > now]
        return min(due) - now if due else None

    def _reachable(self, url: str) -> bool:
        if self._options.any_host:
            return True
        host = urlsplit(url).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    async def _deliver(self, update: dict[str, Any], lane: str) -> None:
        webhook = self._world.webhook
        try:
            error = await self._post(webhook.url, webhook.secret_token, update)
            self._record(update, lane, error)
        finally:
            self._busy.discard(lane)
            self._inflight.pop(update["update_id"], None)
            self._world.updates.nudge.set()

    async def _post(self, url: str, secret: str | None, update: dict[str, Any]) -> str | None:
        """None when the webhook took the update, else Telegram's wording of what went wrong."""
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_HEADER] = secret
        body = json.dumps(update, ensure_ascii=False).encode()
        timeout = aiohttp.ClientTimeout(total=self._options.timeout)
        try:
            async with self._session.post(
                url, data=body, headers=headers, timeout=timeout
            ) as answer:
                await answer.read()
                if 200 <= answer.status < 300:
                    return None
                status = f"{answer.status} {answer.reason or ''}".rstrip()
                return f"Wrong response from the webhook: {status}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError as exc:
            refused = exc.os_error.errno == errno.ECONNREFUSED or "refused" in str(exc).lower()
            return (
                "Connection refused"
                if refused
                else "Failed to resolve host: Name or service not known"
            )
        except aiohttp.ClientError:
            return "Connection closed"

    def _record(self, update: dict[str, Any], lane: str, error: str | None) -> None:
        world = self._world
        update_id = update["update_id"]
        if error is None:
            self._failures.pop(lane, None)
            self._retry_at.pop(lane, None)
            if world.updates.remove(update_id):
                world.webhook.pending_update_count = max(0, world.webhook.pending_update_count - 1)
        else:
            failures = self._failures[lane] = self._failures.get(lane, 0) + 1
            delay = min(
                self._options.max_retry_delay, self._options.retry_delay * 2 ** (failures - 1)
            )
            self._retry_at[lane] = time.monotonic() + delay
            world.webhook.last_error_date = int(time.time())
            world.webhook.last_error_message = error
        if world.chats.keep_messages:
            world.journal.add("delivery", update_chat(update), update_id=update_id, error=error)


def _lane(update: dict[str, Any]) -> str:
    """Updates of one chat (or, lacking one, one user) go one at a time; others each alone."""
    chat = update_chat(update)
    return f"chat:{chat}" if chat is not None else f"update:{update['update_id']}"
