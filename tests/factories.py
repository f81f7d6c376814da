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
