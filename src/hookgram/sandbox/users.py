"""The people and chats of the sandbox: users (each with a private chat with the bot) and groups."""

from __future__ import annotations

from typing import Any

from hookgram.sandbox.replies import APIError
from hookgram.sandbox.state import World

_FIRST_USER_ID = 100_001
_FIRST_GROUP_ID = -1_001
_DEFAULT_USER = "Alice"


def add_user(
    world: World,
    first_name: str,
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "en",
) -> dict[str, Any]:
    """A new user, and the private chat the bot shares with them (chat id = user id)."""
    if not first_name.strip():
        raise APIError.bad_request("first_name must be non-empty")
    user_id = max(world.users, default=_FIRST_USER_ID - 1) + 1
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name.strip()}
    names = {"last_name": last_name, "username": username, "language_code": language_code}
    user.update({key: value for key, value in names.items() if value})
    world.users[user_id] = user
    chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
    chat.update({key: user[key] for key in ("last_name", "username") if key in user})
    world.chats.define(chat)
    return user


def add_group(world: World, title: str) -> dict[str, Any]:
    """A new group the bot is a member of; any sandbox user may write in it."""
    if not title.strip():
        raise APIError.bad_request("title must be non-empty")
    taken = [chat["id"] for chat in world.chats.known() if chat["type"] != "private"]
    group_id = min([*taken, _FIRST_GROUP_ID + 1]) - 1
    chat = {"id": group_id, "type": "group", "title": title.strip()}
    world.chats.define(chat)
    return chat


def default_user(world: World) -> dict[str, Any]:
    """The first user, created on first need so that the page always has someone to be."""
    if not world.users:
        return add_user(world, _DEFAULT_USER, username="alice")
    return world.users[min(world.users)]


def find_user(world: World, user_id: int | None, chat_id: int) -> dict[str, Any]:
    """The user acting: the given one, else the private chat's owner, else the first user."""
    if user_id is None:
        user_id = chat_id if chat_id in world.users else None
    if user_id is None:
        return default_user(world)
    user = world.users.get(user_id)
    if user is None:
        raise APIError(404, f"Not Found: no sandbox user {user_id}")
    return user


def find_chat(world: World, chat_id: int) -> dict[str, Any]:
    """A chat the sandbox knows, or a 404."""
    for chat in world.chats.known():
        if chat["id"] == chat_id:
            return chat
    raise APIError(404, f"Not Found: no sandbox chat {chat_id}")
