"""A small client of the sandbox HTTP API (docs/sandbox.md), as a user's CI would write it."""

from __future__ import annotations

import asyncio
import struct
import zlib
from typing import Any

import aiohttp


class SandboxClient:
    """Acts as sandbox users and reads the chats, over real HTTP."""

    def __init__(self, http: aiohttp.ClientSession, page_url: str) -> None:
        self.http = http
        self.base = page_url.rstrip("/") + "/sandbox/api"

    async def call(self, verb: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        """The status and the JSON answer of one request."""
        async with self.http.request(verb, self.base + path, **kwargs) as response:
            return response.status, await response.json()

    async def result(self, verb: str, path: str, **kwargs: Any) -> Any:
        """The result of a request that must succeed."""
        status, body = await self.call(verb, path, **kwargs)
        assert status == 200, body
        return body["result"]

    async def say(self, chat_id: int, text: str, **extra: Any) -> dict[str, Any]:
        """A user's text message."""
        return await self.result("POST", f"/chats/{chat_id}/messages", json={"text": text, **extra})

    async def send_file(self, chat_id: int, name: str, data: bytes, caption: str = "") -> Any:
        """A user's photo (image files) or document."""
        form = aiohttp.FormData()
        form.add_field("file", data, filename=name)
        form.add_field("caption", caption)
        return await self.result("POST", f"/chats/{chat_id}/messages", data=form)

    async def bot_replies(self, chat_id: int, after: dict[str, Any], count: int = 1) -> Any:
        """The bot's first `count` messages after the message `after` (20 s at most)."""
        version = 0
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline:
            view = await self.result("GET", f"/chats/{chat_id}?version={version}&wait=2")
            replies = [
                message
                for message in view["messages"]
                if message["from"]["is_bot"] and message["message_id"] > after["message_id"]
            ]
            if len(replies) >= count:
                return replies[:count]
            version = view["version"]
        raise AssertionError(f"the bot sent {len(replies)} of {count} replies: {view}")


def tiny_png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid PNG image of one colour, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
