"""What the emulator remembers between calls: bots, chats and their messages, webhook, updates."""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field, fields
from typing import Any

from hookgram.sandbox.feed import Feed
from hookgram.sandbox.files import Files
from hookgram.sandbox.journal import Journal
from hookgram.sandbox.replies import APIError
from hookgram.sandbox.update_queue import Updates

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
        """Forget the webhook itself; pending count, last errors and allowed_updates stay."""
        self.url = ""
        self.has_custom_certificate = False
        self.ip_address = None
        self.max_connections = None
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
    """Chats by id: their Telegram shape, their messages, blocked and forgotten ones."""

    def __init__(self, *, keep_messages: bool, feed: Feed | None = None) -> None:
        self.keep_messages = keep_messages
        self.feed = feed or Feed()
        self.blocked: set[int] = set()
        self.forgotten: set[int] = set()
        self.keyboards: dict[int, dict[str, Any]] = {}
        self._shapes: dict[int, dict[str, Any]] = {}
        self._last_id: collections.Counter[int] = collections.Counter()
        self._messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._versions: dict[int, int] = {}

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
        """The chat's Telegram shape: as defined, else private for positive ids or a supergroup."""
        shape = self._shapes.get(chat_id)
        if shape is None:
            shape = self._shapes[chat_id] = _chat_shape(chat_id)
        return shape

    def define(self, shape: dict[str, Any]) -> None:
        """Give a chat its Telegram shape (a sandbox user's private chat, a group's title)."""
        self._shapes[int(shape["id"])] = shape
        self.touch(int(shape["id"]))

    def known(self) -> list[dict[str, Any]]:
        """Every chat seen so far, in the order they appeared."""
        return list(self._shapes.values())

    def add(self, chat_id: int, message: dict[str, Any]) -> dict[str, Any]:
        """Give `message` the chat's next message_id and remember it."""
        self._last_id[chat_id] += 1
        message["message_id"] = self._last_id[chat_id]
        if self.keep_messages:
            self._messages.setdefault(chat_id, {})[message["message_id"]] = message
            self.touch(chat_id)
        return message

    def observe(self, chat_id: int, message_id: int) -> None:
        """Note a message_id someone else used in the chat so the bot's next ids come after it."""
        if message_id > self._last_id[chat_id]:
            self._last_id[chat_id] = message_id

    def get(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A message of the chat, if it is still there."""
        return self._messages.get(chat_id, {}).get(message_id)

    def delete(self, chat_id: int, message_id: int) -> None:
        """Remove a message from what the user sees."""
        if self._messages.get(chat_id, {}).pop(message_id, None) is not None:
            self.touch(chat_id)

    def touch(self, chat_id: int) -> None:
        """Note that what the chat shows changed (a message came, was edited or deleted)."""
        self._versions[chat_id] = self.feed.bump()

    def version(self, chat_id: int) -> int:
        """The feed version of the chat's latest change (0: never changed)."""
        return self._versions.get(chat_id, 0)

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages still in the chat, oldest first."""
        return [m for m in self.history(chat_id) if m.get("from", {}).get("is_bot")]

    def history(self, chat_id: int) -> list[dict[str, Any]]:
        """Every message still in the chat, the users' and the bot's, oldest first."""
        return list(self._messages.get(chat_id, {}).values())


def _chat_shape(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}


@dataclass
class World:
    """Everything the methods read and change, shared by all bots of one emulator."""

    chats: Chats
    allow_http_webhook: bool = False
    webhook: WebhookState = field(default_factory=WebhookState)
    updates: Updates = field(default_factory=Updates)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    pre_checkouts: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    files: Files = field(init=False)
    journal: Journal = field(init=False)

    def __post_init__(self) -> None:
        self.files = Files(keep=self.chats.keep_messages)
        self.journal = Journal(self.chats.feed)
