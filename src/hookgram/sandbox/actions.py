"""What a sandbox user does, turned into the updates Telegram would send the bot:
a message (text, command, photo, file), a press on an inline keyboard button."""

from __future__ import annotations

import copy
import hashlib
import re
import secrets
import time
from typing import Any

from hookgram.sandbox import updates
from hookgram.sandbox.markup import utf16_length
from hookgram.sandbox.media import photo_sizes
from hookgram.sandbox.replies import APIError
from hookgram.sandbox.state import World

_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MAX_TEXT = 4096


def send_text(
    world: World, chat: dict[str, Any], user: dict[str, Any], text: str, reply_to: int | None
) -> dict[str, Any]:
    """A text message from `user`; commands get their bot_command entities."""
    if not text.strip():
        raise APIError.bad_request("message text is empty")
    if len(text) > _MAX_TEXT:
        raise APIError.bad_request("message is too long")
    content: dict[str, Any] = {"text": text}
    entities = command_entities(text)
    if entities:
        content["entities"] = entities
    return user_message(world, chat, user, content, reply_to)


def send_file(
    world: World,
    chat: dict[str, Any],
    user: dict[str, Any],
    upload: tuple[str, bytes],
    caption: str,
) -> dict[str, Any]:
    """A photo (for image files) or a document from `user`, stored for getFile and reuse."""
    name, data = upload
    is_image = name.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".webp"))
    kind = "photo" if is_image else "document"
    stored = world.files.store(kind, name, data)
    content: dict[str, Any] = {}
    if kind == "photo":
        content["photo"] = photo_sizes(world, stored)
    else:
        content["document"] = {**stored.fields(), "file_name": name}
        if stored.mime_type:
            content["document"]["mime_type"] = stored.mime_type
    if caption.strip():
        content["caption"] = caption
    return user_message(world, chat, user, content, None)


def press(
    world: World,
    chat: dict[str, Any],
    user: dict[str, Any],
    message_id: int,
    data: str,
) -> dict[str, Any]:
    """A press on an inline keyboard button with `data`: the callback_query update."""
    message = world.chats.get(chat["id"], message_id)
    if message is None:
        raise APIError(404, f"Not Found: no message {message_id} in chat {chat['id']}")
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    if not any(button.get("callback_data") == data for row in rows for button in row):
        raise APIError.bad_request(
            f"message {message_id} has no button with callback_data {data!r}"
        )
    query_id = str(secrets.randbelow(10**18))
    instance = hashlib.sha256(f"{chat['id']}".encode()).hexdigest()[:16]
    # The update shows the message as it was when pressed, even if the bot edits it later.
    shown = copy.deepcopy(message)
    query = {
        "id": query_id,
        "from": user,
        "message": shown,
        "chat_instance": instance,
        "data": data,
    }
    world.callbacks[query_id] = {"chat_id": chat["id"], "message_id": message_id, "answer": None}
    update_id = updates.enqueue(world, {"callback_query": query})
    return {"callback_query_id": query_id, "update_id": update_id}


def user_message(
    world: World,
    chat: dict[str, Any],
    user: dict[str, Any],
    content: dict[str, Any],
    reply_to: int | None,
) -> dict[str, Any]:
    """Put `user`'s message in the chat and send the bot its update; returns both."""
    message: dict[str, Any] = {
        "message_id": 0,
        "from": user,
        "chat": chat,
        "date": int(time.time()),
    }
    message.update(content)
    replied = world.chats.get(chat["id"], reply_to) if reply_to is not None else None
    if replied is not None:
        message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
    world.chats.add(chat["id"], message)
    update_id = updates.enqueue(world, {"message": message})
    return {"message": message, "update_id": update_id}


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities for every `/command` (or `/command@bot`) in the text."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_length(text[: found.start()]),
            "length": utf16_length(found.group()),
        }
        for found in _COMMAND.finditer(text)
    ]
