"""What the emulator remembers between calls: bots, chats and their messages, webhook, updates."""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field, fields
from typing import Any

from hookgram.sandbox.replies import APIError

# Fields of WebhookState that Telegram never reports back in getWebhookInfo.
_PRIVATE_WEBHOOK_FIELDS = frozenset({"secret_token", "certificate", "drop_pending_updates_calls"})


@dataclass(slots=True)
class RecordedCall:
    """One Bot API call as it arrived: canonical method name, token, decoded params, uploads."""

    method: str
    token: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]]
    at: float

    def upload(self, name: str) -> tuple[str, bytes] | None:
        """The file sent for parameter `name`, following aiogram's `attach://<field>` references."""
        value = self.params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value.removeprefix("attach://"))
        return self.files.get(name)


@dataclass
class WebhookState:
    """The bot's webhook as Telegram stores it; tests may set fields (e.g. errors) directly."""

    url: str = ""
    has_custom_certificate: bool = False
    pending_update_count: int = 0
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    last_synchronization_error_date: int | None = None
    max_connections: int | None = None
    allowed_updates: list[str] | None = None
    secret_token: str | None = None
    certificate: bytes | None = None
    drop_pending_updates_calls: int = 0

    def info(self) -> dict[str, Any]:
        """The WebhookInfo object Telegram returns, without unset fields."""
        return {
            item.name: value
            for item in fields(self)
            if item.name not in _PRIVATE_WEBHOOK_FIELDS
            and (value := getattr(self, item.name)) is not None
        }

    def remove(self) -> None:
        """Forget the webhook itself; the pending count and last errors stay, as on Telegram."""
        self.url = ""
        self.has_custom_certificate = False
        self.ip_address = None
        self.max_connections = None
        self.allowed_updates = None
        self.secret_token = None
        self.certificate = None


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """A bot served by the emulator: its token, its getMe answer and its `from` in messages."""

    token: str
    user: dict[str, Any]
    sender: dict[str, Any]

    @classmethod
    def from_token(cls, token: str, username: str) -> BotIdentity:
        """The bot whose id is the digits before the token's colon."""
        digits, colon, secret = token.partition(":")
        if not (digits.isdigit() and colon and secret):
            # The message must not contain the token: tokens never reach logs.
            raise ValueError("a bot token looks like '<digits>:<secret>', e.g. '123456:TEST-TOKEN'")
        bot_id = int(digits)
        sender = {"id": bot_id, "is_bot": True, "first_name": "Hookgram Test Bot"}
        sender["username"] = username
        user = {
            **sender,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        return cls(token, user, sender)


class Chats:
    """Chats by id: their Telegram shape, the bot's messages in them, blocked and forgotten ones."""

    def __init__(self, *, keep_messages: bool) -> None:
        self.keep_messages = keep_messages
        self.blocked: set[int] = set()
        self.forgotten: set[int] = set()
        self._shapes: dict[int, dict[str, Any]] = {}
        self._last_id: collections.Counter[int] = collections.Counter()
        self._messages: dict[int, dict[int, dict[str, Any]]] = {}

    def reachable(self, chat_id: int) -> dict[str, Any]:
        """The chat's Telegram shape, or the 400/403 Telegram gives for a send to it."""
        if chat_id in self.forgotten:
            raise APIError.bad_request("chat not found")
        if chat_id in self.blocked:
            if chat_id > 0:
                raise APIError(403, "Forbidden: bot was blocked by the user")
            raise APIError(403, "Forbidden: bot was kicked from the supergroup chat")
        return self.shape(chat_id)

    def shape(self, chat_id: int) -> dict[str, Any]:
        """The chat's Telegram shape: private for positive ids, else a supergroup."""
        shape = self._shapes.get(chat_id)
        if shape is None:
            shape = self._shapes[chat_id] = _chat_shape(chat_id)
        return shape

    def add(self, chat_id: int, message: dict[str, Any]) -> dict[str, Any]:
        """Give `message` the chat's next message_id and remember it."""
        self._last_id[chat_id] += 1
        message["message_id"] = self._last_id[chat_id]
        if self.keep_messages:
            self._messages.setdefault(chat_id, {})[message["message_id"]] = message
        return message

    def observe(self, chat_id: int, message_id: int) -> None:
        """Note a message_id someone else used in the chat so the bot's next ids come after it."""
        if message_id > self._last_id[chat_id]:
            self._last_id[chat_id] = message_id

    def get(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A message the bot sent, if it is still there."""
        return self._messages.get(chat_id, {}).get(message_id)

    def delete(self, chat_id: int, message_id: int) -> None:
        """Remove a message from what the user sees."""
        self._messages.get(chat_id, {}).pop(message_id, None)

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages still in the chat, oldest first."""
        return list(self._messages.get(chat_id, {}).values())


def _chat_shape(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}


class Updates:
    """The getUpdates queue: update ids, confirmation by offset and long polling."""

    def __init__(self) -> None:
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._next_id = 1
        self._arrived = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return len(self._queue)

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update, giving it the next update_id unless it has one; wake long polls."""
        update_id = update.setdefault("update_id", self._next_id)
        self._next_id = max(self._next_id, update_id + 1)
        self._queue.append(update)
        self._wake()
        return int(update_id)

    def confirm(self, offset: int) -> int:
        """Drop updates before `offset` (negative: keep only the last -offset); count them."""
        before = len(self._queue)
        if offset < 0:
            while len(self._queue) > -offset:
                self._queue.popleft()
        else:
            while self._queue and self._queue[0]["update_id"] < offset:
                self._queue.popleft()
        return before - len(self._queue)

    def clear(self) -> None:
        """Drop every pending update (drop_pending_updates)."""
        self._queue.clear()

    async def wait(self, limit: int, timeout: float) -> list[dict[str, Any]]:
        """Up to `limit` updates, waiting at most `timeout` seconds for the first to arrive."""
        deadline = time.monotonic() + timeout
        while not self._queue and not self._closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                break
        return [self._queue[index] for index in range(min(limit, len(self._queue)))]

    def reopen(self) -> None:
        """Let long polls wait again (the emulator is starting)."""
        self._closed = False

    def close(self) -> None:
        """Answer every long poll now (the emulator is stopping)."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        # A fresh event per arrival: waiters hold the old one, which stays set for them.
        self._arrived.set()
        self._arrived = asyncio.Event()


@dataclass
class World:
    """Everything the methods read and change, shared by all bots of one emulator."""

    chats: Chats
    allow_http_webhook: bool = False
    webhook: WebhookState = field(default_factory=WebhookState)
    updates: Updates = field(default_factory=Updates)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)
