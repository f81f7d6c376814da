"""The chat page: server-rendered HTML, a small vanilla JS file and a stylesheet (no build step,
nothing from the internet), and the server-sent events that keep it live."""

from __future__ import annotations

import contextlib
import html
import string
from importlib import resources

from aiohttp import web

from hookgram.sandbox import users
from hookgram.sandbox.state import BotIdentity, World

_STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
_KEEPALIVE_SECONDS = 15.0


class ChatPage:
    """The page's routes over the emulator's world, for the emulator's first bot."""

    def __init__(self, world: World, bot: BotIdentity) -> None:
        self._world = world
        self._bot = bot

    def routes(self) -> list[web.RouteDef]:
        """`/`, its static files, and `/sandbox/events`."""
        return [
            web.get("/", self.index),
            web.get("/sandbox/static/{name}", self.static),
            web.get("/sandbox/events", self.events),
        ]

    async def index(self, request: web.Request) -> web.Response:
        """The page, with the chats and users known now (the script keeps them current)."""
        users.default_user(self._world)
        chats = "".join(
            f'<li><button class="chat" data-chat="{chat["id"]}">{html.escape(_title(chat))}'
            "</button></li>"
            for chat in self._world.chats.known()
        )
        people = "".join(
            f'<option value="{user["id"]}">{html.escape(user["first_name"])}</option>'
            for user in self._world.users.values()
        )
        bot_name = self._bot.user.get("username") or self._bot.user["first_name"]
        template = string.Template(_read("index.html"))
        page = template.substitute(bot=html.escape(str(bot_name)), chats=chats, users=people)
        return web.Response(text=page, content_type="text/html")

    async def static(self, request: web.Request) -> web.Response:
        """app.js and style.css."""
        name = request.match_info["name"]
        if name not in _STATIC:
            raise web.HTTPNotFound()
        return web.Response(text=_read(name), content_type=_STATIC[name])

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: `data: <version>` after every change, until the server stops."""
        feed = self._world.chats.feed
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        seen = -1
        with contextlib.suppress(ConnectionResetError):
            while not feed.closed:
                version = await feed.wait(seen, _KEEPALIVE_SECONDS)
                line = f"data: {version}\n\n" if version != seen else ": still here\n\n"
                seen = version
                await response.write(line.encode())
        return response


def _title(chat: dict[str, object]) -> str:
    if chat.get("type") == "private":
        return str(chat.get("first_name") or chat["id"])
    return str(chat.get("title") or chat["id"])


def _read(name: str) -> str:
    return resources.files("hookgram.sandbox").joinpath("static", name).read_text(encoding="utf-8")
