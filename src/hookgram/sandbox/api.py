"""The sandbox's own HTTP API (the chat page uses it; so can CI): act as users, read the chats.

Every answer is Telegram-shaped: `{"ok": true, "result": ...}` or
`{"ok": false, "error_code": ..., "description": ...}`. See docs/sandbox.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from hookgram.sandbox import actions, payments, users
from hookgram.sandbox.files import file_response
from hookgram.sandbox.replies import APIError, ok_response
from hookgram.sandbox.state import BotIdentity, World

PREFIX = "/sandbox/api"
_LONGEST_WAIT = 60.0
_PAY_TIMEOUT = 10.0  # Telegram gives the bot 10 s to answer a pre_checkout_query

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SandboxAPI:
    """Handlers over the emulator's world, answering as the emulator's first bot."""

    def __init__(self, world: World, bot: BotIdentity) -> None:
        self._world = world
        self._bot = bot

    def routes(self) -> list[web.RouteDef]:
        """The API's routes, to add to the emulator's application."""
        chat, message = (
            f"{PREFIX}/chats/{{chat_id}}",
            f"{PREFIX}/chats/{{chat_id}}/messages/{{message_id}}",
        )
        return [
            web.get(f"{PREFIX}/bot", _json(self.bot)),
            web.get(f"{PREFIX}/users", _json(self.list_users)),
            web.post(f"{PREFIX}/users", _json(self.create_user)),
            web.get(f"{PREFIX}/chats", _json(self.list_chats)),
            web.post(f"{PREFIX}/chats", _json(self.create_group)),
            web.get(chat, _json(self.history)),
            web.post(f"{chat}/messages", _json(self.send)),
            web.post(f"{message}/press", _json(self.press)),
            web.post(f"{message}/pay", _json(self.pay)),
            web.get(f"{PREFIX}/log", _json(self.log)),
            web.get("/sandbox/files/{file_id}", self.file),
        ]

    async def bot(self, request: web.Request) -> Any:
        """The bot (getMe), its webhook (getWebhookInfo) and its commands."""
        commands = next(iter(self._world.commands.values()), [])
        return {"bot": self._bot.user, "webhook": self._world.webhook.info(), "commands": commands}

    async def list_users(self, request: web.Request) -> Any:
        """Every sandbox user (the first is made on first need)."""
        users.default_user(self._world)
        return list(self._world.users.values())

    async def create_user(self, request: web.Request) -> Any:
        """A new user: {"first_name", "last_name"?, "username"?}."""
        body = await _body(request)
        return users.add_user(
            self._world,
            str(body.get("first_name") or ""),
            last_name=body.get("last_name") or None,
            username=body.get("username") or None,
        )

    async def list_chats(self, request: web.Request) -> Any:
        """Every chat: each user's private chat with the bot, and the groups."""
        users.default_user(self._world)
        return self._world.chats.known()

    async def create_group(self, request: web.Request) -> Any:
        """A new group: {"title"}."""
        return users.add_group(self._world, str((await _body(request)).get("title") or ""))

    async def history(self, request: web.Request) -> Any:
        """The chat as its users see it; `?version=V&wait=S` waits up to S s for a change past V."""
        chat = self._chat(request)
        after = _number(request.query.get("version"), "version")
        wait = min(_number(request.query.get("wait"), "wait") or 0, _LONGEST_WAIT)
        if after is not None and wait > 0:
            await self._changed(chat["id"], int(after), wait)
        return self._chat_view(chat)

    async def send(self, request: web.Request) -> Any:
        """A user's message: JSON {"text", "from"?, "reply_to_message_id"?}, or multipart with a
        "file" (images become photos) and an optional "caption"."""
        chat = self._chat(request)
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            upload = form.get("file")
            if not isinstance(upload, web.FileField):
                raise APIError.bad_request("multipart messages need a file field named 'file'")
            user = users.find_user(self._world, _integer(form.get("from"), "from"), chat["id"])
            sent = actions.send_file(
                self._world,
                chat,
                user,
                (upload.filename, upload.file.read()),
                str(form.get("caption") or ""),
            )
        else:
            body = await _body(request)
            user = users.find_user(self._world, _integer(body.get("from"), "from"), chat["id"])
            reply_to = _integer(body.get("reply_to_message_id"), "reply_to_message_id")
            sent = actions.send_text(self._world, chat, user, str(body.get("text") or ""), reply_to)
        return {**sent, "version": self._world.chats.version(chat["id"])}

    async def press(self, request: web.Request) -> Any:
        """A press on an inline button: {"callback_data", "from"?}."""
        chat = self._chat(request)
        body = await _body(request)
        user = users.find_user(self._world, _integer(body.get("from"), "from"), chat["id"])
        message_id = int(_number(request.match_info["message_id"], "message_id") or 0)
        pressed = actions.press(
            self._world, chat, user, message_id, str(body.get("callback_data") or "")
        )
        return {**pressed, "version": self._world.chats.version(chat["id"])}

    async def pay(self, request: web.Request) -> Any:
        """Pay an invoice: waits for the bot's answerPreCheckoutQuery (10 s, or "timeout")."""
        chat = self._chat(request)
        body = await _body(request)
        user = users.find_user(self._world, _integer(body.get("from"), "from"), chat["id"])
        message_id = int(_number(request.match_info["message_id"], "message_id") or 0)
        timeout = min(float(body.get("timeout") or _PAY_TIMEOUT), _LONGEST_WAIT)
        outcome = await payments.pay(self._world, chat, user, message_id, timeout)
        return {**outcome, "version": self._world.chats.version(chat["id"])}

    async def log(self, request: web.Request) -> Any:
        """Updates sent to the bot and its Bot API calls: `?chat_id=` (plus chatless), `?after=`."""
        chat_id = _number(request.query.get("chat_id"), "chat_id")
        after = _number(request.query.get("after"), "after") or 0
        return self._world.journal.since(int(after), None if chat_id is None else int(chat_id))

    async def file(self, request: web.Request) -> web.StreamResponse:
        """A stored file's bytes, for the page (no token in the URL)."""
        return file_response(self._world.files.get(request.match_info["file_id"]))

    async def _changed(self, chat_id: int, after: int, wait: float) -> None:
        feed = self._world.chats.feed
        deadline = asyncio.get_running_loop().time() + wait
        while self._world.chats.version(chat_id) <= after and not feed.closed:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            await feed.wait(feed.version, remaining)

    def _chat(self, request: web.Request) -> dict[str, Any]:
        chat_id = _number(request.match_info["chat_id"], "chat_id")
        users.default_user(self._world)
        return users.find_chat(self._world, int(chat_id or 0))

    def _chat_view(self, chat: dict[str, Any]) -> dict[str, Any]:
        answers = [
            {
                "callback_query_id": query_id,
                "message_id": pressed["message_id"],
                **pressed["answer"],
            }
            for query_id, pressed in self._world.callbacks.items()
            if pressed["chat_id"] == chat["id"] and pressed["answer"] is not None
        ]
        return {
            "chat": chat,
            "messages": self._world.chats.history(chat["id"]),
            "keyboard": self._world.chats.keyboards.get(chat["id"]),
            "callback_answers": answers,
            "version": self._world.chats.version(chat["id"]),
        }


def _json(handler: Callable[[web.Request], Awaitable[Any]]) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            return ok_response(await handler(request))
        except APIError as error:
            return error.response()

    return answer


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    try:
        body = json.loads(await request.read())
    except ValueError:
        raise APIError.bad_request("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise APIError.bad_request("the body must be a JSON object")
    return body


def _number(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value) if "." in str(value) else int(value)
    except (TypeError, ValueError):
        raise APIError.bad_request(f"{name} must be a number") from None


def _integer(value: Any, name: str) -> int | None:
    number = _number(value, name) if not isinstance(value, web.FileField) else None
    return None if number is None else int(number)
