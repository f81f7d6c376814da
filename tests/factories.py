"""Telegram-shaped updates for tests."""

from __future__ import annotations

import itertools
from typing import Any

import orjson

_ids = itertools.count(1000)


def user(
    user_id: int = 42, first_name: str = "Jane", last_name: str | None = "Doe"
) -> dict[str, Any]:
    """A Telegram User."""
    result: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name is not None:
        result["last_name"] = last_name
    return result


def message_update(
    text: str | None = "hello",
    *,
    chat_id: int = 42,
    update_id: int | None = None,
    sender: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An Update carrying a message in a private chat (or a group for negative ids)."""
    update_id = next(_ids) if update_id is None else update_id
    chat: dict[str, Any] = (
        {"id": chat_id, "type": "private", "first_name": "Jane"}
        if chat_id > 0
        else {"id": chat_id, "type": "supergroup", "title": "Group"}
    )
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": 1_700_000_000,
        "chat": chat,
        "from": sender or user(abs(chat_id)),
        **extra,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": update_id, "message": message}


def body(update: dict[str, Any]) -> bytes:
    """The JSON body Telegram would post."""
    return orjson.dumps(update)


def largest_update(update_id: int = 1) -> dict[str, Any]:
    """An update near the ceiling of Telegram's documented limits, to size the body cap with.

    A 4096-character text of 3-byte characters with 1024 text links (256-character URLs), a
    reply to another such message, a 1024-character quote and a 100-button inline keyboard.
    """
    text = "€" * 4096
    links = [
        {
            "type": "text_link",
            "offset": 4 * n,
            "length": 4,
            "url": "https://example.com/" + "x" * 237,
        }
        for n in range(1024)
    ]
    keyboard = [
        [{"text": "€" * 64, "url": "https://example.com/" + "y" * 237} for _ in range(10)]
        for _ in range(10)
    ]
    replied = message_update(text, update_id=update_id)["message"] | {"entities": links}
    update = message_update(text, update_id=update_id, entities=links)
    update["message"] |= {
        "reply_to_message": replied,
        "quote": {"text": "€" * 1024, "position": 0, "is_manual": True},
        "reply_markup": {"inline_keyboard": keyboard},
    }
    return update
