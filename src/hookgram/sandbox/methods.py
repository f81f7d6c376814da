"""The method table (canonical Telegram name → implementation) and the small methods."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any

from hookgram.sandbox import content, media, messages, payments, updates
from hookgram.sandbox.replies import APIError
from hookgram.sandbox.request import Args
from hookgram.sandbox.state import BotIdentity, World

Method = Callable[[World, BotIdentity, Args], Awaitable[Any]]
"""A Bot API method: reads `Args`, changes the `World`, returns the result or raises APIError."""

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_MAX_COMMANDS = 100


async def get_me(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """The bot's User object."""
    return bot.user


async def send_chat_action(world: World, bot: BotIdentity, args: Args) -> bool:
    """Accept a known chat action for a reachable chat."""
    world.chats.reachable(args.chat_id())
    if args.text("action") not in _CHAT_ACTIONS:
        raise APIError.bad_request("wrong parameter action in request")
    return True


async def answer_callback_query(world: World, bot: BotIdentity, args: Args) -> bool:
    """Keep the answer to a sandbox press (for the page); other non-empty ids are accepted."""
    query_id = args.text("callback_query_id")
    if not query_id:
        raise APIError.bad_request(
            "query is too old and response timeout expired or query ID is invalid"
        )
    pressed = world.callbacks.get(query_id)
    if pressed is not None:
        if pressed["answer"] is not None:
            raise APIError.bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        pressed["answer"] = {
            "text": args.text("text") or "",
            "show_alert": args.flag("show_alert"),
            "url": args.text("url"),
        }
        world.chats.touch(pressed["chat_id"])
    return True


async def set_my_commands(world: World, bot: BotIdentity, args: Args) -> bool:
    """Store the command list for a scope and language."""
    commands = args.structure("commands")
    if not isinstance(commands, list):
        raise APIError.bad_request("can't parse commands JSON object")
    if len(commands) > _MAX_COMMANDS:
        raise APIError.bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.fullmatch(str(command.get("command"))):
            raise APIError.bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description") or "")) <= 256:
            raise APIError.bad_request("command description must be 1-256 characters")
    world.commands[_commands_key(bot, args)] = commands
    return True


async def get_my_commands(world: World, bot: BotIdentity, args: Args) -> list[dict[str, Any]]:
    """The command list for a scope and language (empty if never set)."""
    return world.commands.get(_commands_key(bot, args), [])


async def delete_my_commands(world: World, bot: BotIdentity, args: Args) -> bool:
    """Forget the command list for a scope and language."""
    world.commands.pop(_commands_key(bot, args), None)
    return True


async def always_true(world: World, bot: BotIdentity, args: Args) -> bool:
    """close and logOut: nothing to undo in an emulator."""
    return True


def _commands_key(bot: BotIdentity, args: Args) -> str:
    scope = args.structure("scope") or {"type": "default"}
    language = args.text("language_code") or ""
    return f"{bot.token}|{json.dumps(scope, sort_keys=True)}|{language}"


METHODS: Mapping[str, Method] = MappingProxyType(
    {
        "getMe": get_me,
        "setWebhook": updates.set_webhook,
        "deleteWebhook": updates.delete_webhook,
        "getWebhookInfo": updates.get_webhook_info,
        "getUpdates": updates.get_updates,
        "sendMessage": messages.send_message,
        "copyMessage": messages.copy_message,
        "forwardMessage": messages.forward_message,
        "sendPhoto": media.send_photo,
        "sendDocument": media.send_document,
        "sendVoice": media.send_voice,
        "sendVideo": media.send_video,
        "sendSticker": media.send_sticker,
        "sendAnimation": media.send_animation,
        "sendAudio": media.send_audio,
        "getFile": media.get_file,
        "sendLocation": content.send_location,
        "sendContact": content.send_contact,
        "sendDice": content.send_dice,
        "sendPoll": content.send_poll,
        "editMessageText": messages.edit_message_text,
        "editMessageCaption": messages.edit_message_caption,
        "editMessageReplyMarkup": messages.edit_message_reply_markup,
        "deleteMessage": messages.delete_message,
        "sendInvoice": payments.send_invoice,
        "answerPreCheckoutQuery": payments.answer_pre_checkout_query,
        "sendChatAction": send_chat_action,
        "answerCallbackQuery": answer_callback_query,
        "setMyCommands": set_my_commands,
        "getMyCommands": get_my_commands,
        "deleteMyCommands": delete_my_commands,
        "close": always_true,
        "logOut": always_true,
    }
)
"""The built-in methods; each emulator copies them, and `register_method` adds to its copy."""
