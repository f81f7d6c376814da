"""How the bot's outgoing messages are built: text and captions with their parse modes,
keyboards, and the message put in its chat."""

from __future__ import annotations

import time
from typing import Any

from hookgram.sandbox.markdown import parse_markdown_v2
from hookgram.sandbox.markup import parse_html
from hookgram.sandbox.replies import APIError
from hookgram.sandbox.request import Args
from hookgram.sandbox.state import BotIdentity, World

_MAX_TEXT = 4096
_MAX_CAPTION = 1024


def deliver(
    world: World, bot: BotIdentity, chat: dict[str, Any], args: Args, content: dict[str, Any]
) -> dict[str, Any]:
    """Put the bot's message with `content` in the chat; its reply markup and reply too."""
    message = {"message_id": 0, "from": bot.sender, "chat": chat, "date": int(time.time())}
    message.update(content)
    message.update(inline_markup(args))
    _keep_reply_keyboard(world, chat["id"], args)
    replied = _replied(world, chat["id"], args)
    if replied is not None:
        message["reply_to_message"] = replied
    return world.chats.add(chat["id"], message)


def inline_markup(args: Args) -> dict[str, Any]:
    """`{"reply_markup": ...}` for an inline keyboard; Telegram echoes no other markup."""
    markup = args.structure("reply_markup") if "reply_markup" in args.params else None
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        if not isinstance(markup["inline_keyboard"], list):
            raise APIError.bad_request("can't parse inline keyboard button: expected an Array")
        return {"reply_markup": markup}
    return {}


def text_content(args: Args) -> dict[str, Any]:
    """`text` and `entities` of sendMessage or editMessageText, after the parse mode."""
    text, entities = formatted(args, "text", "entities")
    if not text.strip():
        raise APIError.bad_request("message text is empty")
    if len(text) > _MAX_TEXT:
        raise APIError.bad_request("message is too long")
    return {"text": text, "entities": entities} if entities else {"text": text}


def caption_content(args: Args) -> dict[str, Any]:
    """`caption` and `caption_entities` of a media message, after the parse mode."""
    caption, entities = formatted(args, "caption", "caption_entities")
    if len(caption) > _MAX_CAPTION:
        raise APIError.bad_request("message caption is too long")
    content: dict[str, Any] = {"caption": caption} if caption else {}
    if caption and entities:
        content["caption_entities"] = entities
    return content


def formatted(args: Args, name: str, entities_name: str) -> tuple[str, list[dict[str, Any]]]:
    """The plain text of parameter `name` and its entities (parsed, or as sent)."""
    text = args.text(name) or ""
    parse_mode = (args.text("parse_mode") or "").lower()
    if parse_mode == "html":
        return parse_html(text)
    if parse_mode == "markdownv2":
        return parse_markdown_v2(text)
    if parse_mode and parse_mode != "markdown":
        raise APIError.bad_request("unsupported parse_mode")
    entities = args.structure(entities_name) if entities_name in args.params else None
    return text, entities if isinstance(entities, list) else []


def _keep_reply_keyboard(world: World, chat_id: int, args: Args) -> None:
    # A reply keyboard stays under the user's input field until another replaces or removes it.
    markup = args.structure("reply_markup") if "reply_markup" in args.params else None
    if not isinstance(markup, dict) or not world.chats.keep_messages:
        return
    if "keyboard" in markup:
        world.chats.keyboards[chat_id] = markup
    elif markup.get("remove_keyboard"):
        world.chats.keyboards.pop(chat_id, None)


def _replied(world: World, chat_id: int, args: Args) -> dict[str, Any] | None:
    parameters = args.structure("reply_parameters") if "reply_parameters" in args.params else None
    message_id = parameters.get("message_id") if isinstance(parameters, dict) else None
    if message_id is None:
        message_id = args.integer("reply_to_message_id")
    if not isinstance(message_id, int):
        return None
    replied = world.chats.get(chat_id, message_id)
    if replied is None:
        return None
    # Telegram nests only one level of replies.
    return {key: value for key, value in replied.items() if key != "reply_to_message"}
