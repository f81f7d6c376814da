"""Methods that send files (photo, document, voice, video, sticker, animation, audio) and getFile.

A file is uploaded (multipart), or named by a file_id from an earlier message (reused as is).
"""

from __future__ import annotations

from typing import Any

from hookgram.sandbox.files import StoredFile, file_info
from hookgram.sandbox.outgoing import caption_content, deliver
from hookgram.sandbox.replies import APIError
from hookgram.sandbox.request import Args
from hookgram.sandbox.state import BotIdentity, World

_THUMBNAIL_SIDE = 90
_DEFAULT_SIDE = 800
_STICKER_SIDE = 512


async def send_photo(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A photo in two sizes, as Telegram answers; the larger one is the file sent."""
    chat = world.chats.reachable(args.chat_id())
    stored = _file(world, args, "photo")
    return deliver(
        world, bot, chat, args, {"photo": photo_sizes(world, stored), **caption_content(args)}
    )


async def send_document(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A document with its file name and MIME type."""
    return await _send(world, bot, args, "document", _named)


async def send_voice(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A voice note (OGG/Opus on Telegram) with its duration."""
    return await _send(world, bot, args, "voice", _timed)


async def send_audio(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """An audio file with duration, performer and title."""
    return await _send(world, bot, args, "audio", _music)


async def send_video(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A video with its size and duration."""
    return await _send(world, bot, args, "video", _moving)


async def send_animation(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A GIF or silent video; Telegram puts it in both `animation` and `document`."""
    message = await _send(world, bot, args, "animation", _moving)
    message["document"] = {
        key: value
        for key, value in message["animation"].items()
        if key not in ("width", "height", "duration")
    }
    return message


async def send_sticker(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A sticker (no caption on Telegram)."""
    chat = world.chats.reachable(args.chat_id())
    stored = _file(world, args, "sticker")
    sticker = {
        **stored.fields(),
        "type": "regular",
        "width": _STICKER_SIDE,
        "height": _STICKER_SIDE,
        "is_animated": bool(stored.name and stored.name.endswith(".tgs")),
        "is_video": bool(stored.name and stored.name.endswith(".webm")),
    }
    if args.text("emoji"):
        sticker["emoji"] = args.text("emoji")
    return deliver(world, bot, chat, args, {"sticker": sticker})


async def get_file(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """The File object with the file_path for `/file/bot<token>/<file_path>`."""
    return file_info(world.files, args.text("file_id"))


def photo_sizes(world: World, stored: StoredFile) -> list[dict[str, Any]]:
    """The PhotoSize list of a photo: a thumbnail, then the full size."""
    thumbnail_id = stored.file_id if stored.file_id.endswith("-s") else f"{stored.file_id}-s"
    world.files.alias(thumbnail_id, stored)
    thumbnail = {"file_id": thumbnail_id, "file_unique_id": f"{stored.unique_id}s"}
    side = {"width": _DEFAULT_SIDE, "height": _DEFAULT_SIDE}
    full = {**stored.fields(), **side}
    return [{**thumbnail, "width": _THUMBNAIL_SIDE, "height": _THUMBNAIL_SIDE}, full]


async def _send(
    world: World, bot: BotIdentity, args: Args, kind: str, describe: Any
) -> dict[str, Any]:
    chat = world.chats.reachable(args.chat_id())
    stored = _file(world, args, kind)
    content = {kind: {**stored.fields(), **describe(stored, args)}, **caption_content(args)}
    return deliver(world, bot, chat, args, content)


def _file(world: World, args: Args, kind: str) -> StoredFile:
    value = args.upload(kind)
    if value is None:
        raise APIError.bad_request(f"there is no {kind} in the request")
    return world.files.resolve(kind, value)


def _named(stored: StoredFile, args: Args) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if stored.name:
        found["file_name"] = stored.name
    if stored.mime_type:
        found["mime_type"] = stored.mime_type
    return found


def _timed(stored: StoredFile, args: Args) -> dict[str, Any]:
    found: dict[str, Any] = {"duration": args.integer("duration", 0) or 0}
    if stored.mime_type:
        found["mime_type"] = stored.mime_type
    return found


def _music(stored: StoredFile, args: Args) -> dict[str, Any]:
    found = {**_timed(stored, args), **_named(stored, args)}
    for name in ("performer", "title"):
        if args.text(name):
            found[name] = args.text(name)
    return found


def _moving(stored: StoredFile, args: Args) -> dict[str, Any]:
    return {
        **_timed(stored, args),
        **_named(stored, args),
        "width": args.integer("width", _DEFAULT_SIDE) or _DEFAULT_SIDE,
        "height": args.integer("height", _DEFAULT_SIDE) or _DEFAULT_SIDE,
    }
