"""Methods that put messages in chats: send, copy, forward, photos, documents, edit, delete."""

from __future__ import annotations

import hashlib
import mimetypes
import time
from typing import Any

from hookgram.sandbox.markup import parse_html
from hookgram.sandbox.replies import APIError
from hookgram.sandbox.request import Args
from hookgram.sandbox.state import BotIdentity, World

_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_PLAIN_PARSE_MODES = frozenset({"markdown", "markdownv2"})
_CONTENT_KEYS = ("text", "entities", "photo", "document", "caption", "caption_entities")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


async def send_message(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A text message, with HTML parsed into entities."""
    chat = world.chats.reachable(args.chat_id())
    content = _text_content(args)
    return _deliver(world, bot, chat, args, content)


async def copy_message(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A copy without a link to the original; answers only the new message_id."""
    chat = world.chats.reachable(args.chat_id())
    source = _source(world, args, "copy")
    content = _copied_content(source, args)
    if "caption" in args.params and ("photo" in content or "document" in content):
        content.update(_caption_content(args))
    return {"message_id": _deliver(world, bot, chat, args, content)["message_id"]}


async def forward_message(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A forward, with forward_origin naming the original sender."""
    chat = world.chats.reachable(args.chat_id())
    source = _source(world, args, "forward")
    content = _copied_content(source, args)
    content["forward_origin"] = _origin(world, bot, args, source)
    return _deliver(world, bot, chat, args, content)


async def send_photo(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A photo, uploaded or by file_id, in two sizes as Telegram answers."""
    chat = world.chats.reachable(args.chat_id())
    file_id, _name, size = _file(world, args, "photo")
    unique = _unique_id(file_id)
    photo = [
        {"file_id": f"{file_id}-s", "file_unique_id": f"{unique}s", "width": 90, "height": 90},
        {"file_id": file_id, "file_unique_id": unique, "width": 800, "height": 800},
    ]
    if size is not None:
        photo[1]["file_size"] = size
    return _deliver(world, bot, chat, args, {"photo": photo, **_caption_content(args)})


async def send_document(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A document, uploaded or by file_id."""
    chat = world.chats.reachable(args.chat_id())
    file_id, name, size = _file(world, args, "document")
    document: dict[str, Any] = {"file_id": file_id, "file_unique_id": _unique_id(file_id)}
    if name:
        document["file_name"] = name
        document["mime_type"] = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if size is not None:
        document["file_size"] = size
    return _deliver(world, bot, chat, args, {"document": document, **_caption_content(args)})


async def edit_message_text(world: World, bot: BotIdentity, args: Args) -> Any:
    """Replace a message's text; inline messages answer True."""
    content = _text_content(args)
    if args.text("inline_message_id"):
        return True
    chat = world.chats.reachable(args.chat_id())
    message_id = args.required_integer("message_id", "message identifier is not specified")
    message = world.chats.get(chat["id"], message_id)
    if message is None and world.chats.keep_messages:
        raise APIError.bad_request("message to edit not found")
    if message is None:  # record=False keeps no messages: answer as if it existed
        message = {"message_id": message_id, "from": bot.sender, "chat": chat, "date": 0}
    markup = _markup(args)
    current = (message.get("text"), message.get("entities"), message.get("reply_markup"))
    if current == (content["text"], content.get("entities"), markup.get("reply_markup")):
        raise APIError.bad_request(_NOT_MODIFIED)
    # An edit without reply_markup removes the inline keyboard, as on Telegram.
    message.pop("entities", None)
    message.pop("reply_markup", None)
    message.update(content, **markup, edit_date=int(time.time()))
    return message


async def delete_message(world: World, bot: BotIdentity, args: Args) -> bool:
    """Remove a message; unknown ids succeed since they are usually the user's own messages."""
    chat = world.chats.reachable(args.chat_id())
    message_id = args.required_integer("message_id", "message identifier is not specified")
    world.chats.delete(chat["id"], message_id)
    return True


def _deliver(
    world: World, bot: BotIdentity, chat: dict[str, Any], args: Args, content: dict[str, Any]
) -> dict[str, Any]:
    message = {"message_id": 0, "from": bot.sender, "chat": chat, "date": int(time.time())}
    message.update(content)
    message.update(_markup(args))
    return world.chats.add(chat["id"], message)


def _markup(args: Args) -> dict[str, Any]:
    # Telegram echoes only inline keyboards back in the Message.
    markup = args.structure("reply_markup") if "reply_markup" in args.params else None
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return {"reply_markup": markup}
    return {}


def _text_content(args: Args) -> dict[str, Any]:
    text, entities = _formatted(args, "text", "entities")
    if not text.strip():
        raise APIError.bad_request("message text is empty")
    if len(text) > _MAX_TEXT:
        raise APIError.bad_request("message is too long")
    return {"text": text, "entities": entities} if entities else {"text": text}


def _caption_content(args: Args) -> dict[str, Any]:
    caption, entities = _formatted(args, "caption", "caption_entities")
    if len(caption) > _MAX_CAPTION:
        raise APIError.bad_request("message caption is too long")
    content: dict[str, Any] = {"caption": caption} if caption else {}
    if caption and entities:
        content["caption_entities"] = entities
    return content


def _formatted(args: Args, name: str, entities_name: str) -> tuple[str, list[dict[str, Any]]]:
    text = args.text(name) or ""
    parse_mode = (args.text("parse_mode") or "").lower()
    if parse_mode == "html":
        return parse_html(text)
    if parse_mode and parse_mode not in _PLAIN_PARSE_MODES:
        raise APIError.bad_request("unsupported parse_mode")
    entities = args.structure(entities_name) if entities_name in args.params else None
    return text, entities if isinstance(entities, list) else []


def _source(world: World, args: Args, verb: str) -> dict[str, Any] | None:
    from_chat_id = args.chat_id("from_chat_id")
    if from_chat_id in world.chats.forgotten:
        raise APIError.bad_request("chat not found")
    message_id = args.required_integer("message_id", f"message to {verb} not found")
    return world.chats.get(from_chat_id, message_id)


def _copied_content(source: dict[str, Any] | None, args: Args) -> dict[str, Any]:
    # Sources are usually user messages the emulator never saw: stand in for their content.
    if source is None:
        return {
            "text": f"[message {args.params['message_id']} of chat {args.params['from_chat_id']}]"
        }
    return {key: source[key] for key in _CONTENT_KEYS if key in source}


def _origin(
    world: World, bot: BotIdentity, args: Args, source: dict[str, Any] | None
) -> dict[str, Any]:
    from_chat_id = args.chat_id("from_chat_id")
    date = source["date"] if source else int(time.time())
    if from_chat_id < 0:
        return {"type": "chat", "date": date, "sender_chat": world.chats.shape(from_chat_id)}
    sender = source["from"] if source else {"id": from_chat_id, "is_bot": False}
    return {"type": "user", "date": date, "sender_user": {"first_name": "User", **sender}}


def _file(world: World, args: Args, name: str) -> tuple[str, str | None, int | None]:
    """file_id, file name and size of an upload or of a file_id/URL reference."""
    value = args.upload(name)
    if value is None:
        raise APIError.bad_request(f"there is no {name} in the request")
    if isinstance(value, str):
        known = world.uploads.get(value)
        return value, known[0] if known else None, len(known[1]) if known else None
    file_id = f"emu-{name}-{hashlib.sha256(value[1]).hexdigest()[:24]}"
    if world.chats.keep_messages:
        world.uploads[file_id] = value
    return file_id, value[0], len(value[1])


def _unique_id(file_id: str) -> str:
    return hashlib.sha256(file_id.encode()).hexdigest()[:16]
