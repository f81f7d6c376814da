"""Methods that send structured content: location, contact, dice and poll."""

from __future__ import annotations

import random
import secrets
from typing import Any

from hookgram.sandbox.outgoing import deliver
from hookgram.sandbox.replies import APIError
from hookgram.sandbox.request import Args
from hookgram.sandbox.state import BotIdentity, World

# Each dice emoji and the highest value it can land on (Telegram's ranges).
_DICE = {"🎲": 6, "🎯": 6, "🎳": 6, "🏀": 5, "⚽": 5, "🎰": 64}
_MIN_OPTIONS, _MAX_OPTIONS = 2, 12


async def send_location(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A point on the map; latitude and longitude must be in range."""
    chat = world.chats.reachable(args.chat_id())
    location = {
        "latitude": _coordinate(args, "latitude", 90),
        "longitude": _coordinate(args, "longitude", 180),
    }
    for name in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        if args.params.get(name) is not None:
            location[name] = args.params[name]
    return deliver(world, bot, chat, args, {"location": location})


async def send_contact(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A phone contact; phone_number and first_name are required."""
    chat = world.chats.reachable(args.chat_id())
    contact: dict[str, Any] = {}
    for name in ("phone_number", "first_name"):
        if not args.text(name):
            raise APIError.bad_request(
                f"{name} is empty" if name == "first_name" else "phone number is empty"
            )
        contact[name] = args.text(name)
    for name in ("last_name", "vcard"):
        if args.text(name):
            contact[name] = args.text(name)
    return deliver(world, bot, chat, args, {"contact": contact})


async def send_dice(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A dice throw with a random value in the emoji's range."""
    chat = world.chats.reachable(args.chat_id())
    emoji = args.text("emoji") or "🎲"
    if emoji not in _DICE:
        raise APIError.bad_request("wrong emoji specified")
    dice = {"emoji": emoji, "value": random.randint(1, _DICE[emoji])}
    return deliver(world, bot, chat, args, {"dice": dice})


async def send_poll(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """A poll with no votes yet; quizzes need a correct_option_id."""
    chat = world.chats.reachable(args.chat_id())
    question = args.text("question") or ""
    if not question.strip():
        raise APIError.bad_request("poll question must be non-empty")
    options = _options(args)
    kind = args.text("type") or "regular"
    if kind not in ("regular", "quiz"):
        raise APIError.bad_request("wrong poll type specified")
    poll: dict[str, Any] = {
        "id": str(secrets.randbelow(10**18)),
        "question": question,
        "options": [
            {"persistent_id": str(index), "text": text, "voter_count": 0}
            for index, text in enumerate(options)
        ],
        "total_voter_count": 0,
        "is_closed": args.flag("is_closed"),
        "is_anonymous": args.flag("is_anonymous") if "is_anonymous" in args.params else True,
        "type": kind,
        "allows_multiple_answers": args.flag("allows_multiple_answers"),
        "allows_revoting": kind == "regular",
        "members_only": args.flag("members_only"),
    }
    if kind == "quiz":
        correct = args.integer("correct_option_id")
        if correct is None or not 0 <= correct < len(options):
            raise APIError.bad_request("wrong correct option ID specified")
        poll["correct_option_id"] = correct
    return deliver(world, bot, chat, args, {"poll": poll})


def _coordinate(args: Args, name: str, bound: int) -> float:
    value = args.params.get(name)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise APIError.bad_request(f"{name} is invalid") from None
    if not -bound <= number <= bound:
        raise APIError.bad_request(f"{name} is invalid")
    return number


def _options(args: Args) -> list[str]:
    options = args.structure("options")
    if not isinstance(options, list):
        raise APIError.bad_request("can't parse options JSON object")
    texts = [str(item.get("text", "")) if isinstance(item, dict) else str(item) for item in options]
    if len(texts) < _MIN_OPTIONS:
        raise APIError.bad_request("poll must have at least 2 option")
    if len(texts) > _MAX_OPTIONS:
        raise APIError.bad_request("poll can't have more than 12 options")
    if not all(text.strip() for text in texts):
        raise APIError.bad_request("poll options must be non-empty")
    return texts
