"""Methods on text messages: send, copy, forward, edit text, caption or keyboard, delete."""

from __future__ import annotations

import time
from typing import Any

from hookgram.sandbox.outgoing import caption_content, deliver, inline_markup, text_content
from hookgram.sandbox.replies import APIError
from hookgram.sandbox.request import Args
from hookgram.sandbox.state import BotIdentity, World

_MEDIA_KEYS = ("photo", "document", "voice", "video", "sticker", "animation", "audio")
_CONTENT_KEYS = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    *_MEDIA_KEYS,
    "location",
    "contact",
    "dice",
    "poll",
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


async def send_message(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A text message, with HTML or MarkdownV2 parsed into entities."""
    chat = world.chats.reachable(args.chat_id())
    content = text_content(args)
    return deliver(world, bot, chat, args, content)


async def copy_message(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A copy without a link to the original; answers only the new message_id."""
    chat = world.chats.reachable(args.chat_id())
    source = _source(world, args, "copy")
    content = _copied_content(source, args)
    if "caption" in args.params and any(key in content for key in _MEDIA_KEYS):
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(caption_content(args))
    return {"message_id": deliver(world, bot, chat, args, content)["message_id"]}


async def forward_message(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A forward, with forward_origin naming the original sender."""
    chat = world.chats.reachable(args.chat_id())
    source = _source(world, args, "forward")
    content = _copied_content(source, args)
    content["forward_origin"] = _origin(world, args, source)
    return deliver(world, bot, chat, args, content)


async def edit_message_text(world: World, bot: BotIdentity, args: Args) -> Any:
    """Replace a message's text; inline messages answer True."""
    content = text_content(args)
    if args.text("inline_message_id"):
        return True
    return _edit(world, bot, args, content, ("text", "entities"))


async def edit_message_caption(world: World, bot: BotIdentity, args: Args) -> Any:
    """Replace a media message's caption; inline messages answer True."""
    content = caption_content(args)
    if args.text("inline_message_id"):
        return True
    return _edit(world, bot, args, content, ("caption", "caption_entities"))


async def edit_message_reply_markup(world: World, bot: BotIdentity, args: Args) -> Any:
    """Replace (or, without reply_markup, remove) a message's inline keyboard."""
    if args.text("inline_message_id"):
        return True
    return _edit(world, bot, args, {}, ())


async def delete_message(world: World, bot: BotIdentity, args: Args) -> bool:
    """Remove a message; unknown ids succeed since they may be messages the emulator never saw."""
    chat = world.chats.reachable(args.chat_id())
    message_id = args.required_integer("message_id", "message identifier is not specified")
    world.chats.delete(chat["id"], message_id)
    return True


def _edit(
    world: World, bot: BotIdentity, args: Args, content: dict[str, Any], keys: tuple[str, ...]
) -> dict[str, Any]:
    chat = world.chats.reachable(args.chat_id())
    message_id = args.required_integer("message_id", "message identifier is not specified")
    message = world.chats.get(chat["id"], message_id)
    if message is None and world.chats.keep_messages:
        raise APIError.bad_request("message to edit not found")
    if message is None:  # record=False keeps no messages: answer as if it existed
        message = {"message_id": message_id, "from": bot.sender, "chat": chat, "date": 0}
    if not message.get("from", {}).get("is_bot"):
        raise APIError.bad_request("message can't be edited")
    markup = inline_markup(args)
    watched = (*keys, "reply_markup")
    if {key: message.get(key) for key in watched} == {
        key: {**content, **markup}.get(key) for key in watched
    }:
        raise APIError.bad_request(_NOT_MODIFIED)
    # An edit without reply_markup removes the inline keyboard, as on Telegram.
    for key in watched:
        message.pop(key, None)
    message.update(content, **markup, edit_date=int(time.time()))
    if world.chats.keep_messages:
        world.chats.touch(chat["id"])
    return message


def _source(world: World, args: Args, verb: str) -> dict[str, Any] | None:
    from_chat_id = args.chat_id("from_chat_id")
    if from_chat_id in world.chats.forgotten:
        raise APIError.bad_request("chat not found")
    message_id = args.required_integer("message_id", f"message to {verb} not found")
    source = world.chats.get(from_chat_id, message_id)
    if source is not None and any(key in source for key in ("invoice", "successful_payment")):
        raise APIError.bad_request(
            f"message can't be {'copied' if verb == 'copy' else 'forwarded'}"
        )
    return source


def _copied_content(source: dict[str, Any] | None, args: Args) -> dict[str, Any]:
    # Sources may be messages the emulator never saw (a test's update): stand in for them.
    if source is None:
        return {
            "text": f"[message {args.params['message_id']} of chat {args.params['from_chat_id']}]"
        }
    return {key: source[key] for key in _CONTENT_KEYS if key in source}


def _origin(world: World, args: Args, source: dict[str, Any] | None) -> dict[str, Any]:
    from_chat_id = args.chat_id("from_chat_id")
    date = source["date"] if source else int(time.time())
    if from_chat_id < 0:
        return {"type": "chat", "date": date, "sender_chat": world.chats.shape(from_chat_id)}
    sender = source["from"] if source else {"id": from_chat_id, "is_bot": False}
    return {"type": "user", "date": date, "sender_user": {"first_name": "User", **sender}}
