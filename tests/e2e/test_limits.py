"""Request limits over real loopback HTTP: method, content type, size, slow clients.

None of them ever answers 500 or stores anything.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.conftest import Server, StartServer
from tests.factories import body, largest_update, message_update


async def connect(server: Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw TCP connection to the server."""
    return await asyncio.open_connection("127.0.0.1", server.running.port)


def head(server: Server, **headers: str) -> bytes:
    """The request line and headers of a webhook POST, with the right secret."""
    fields = {
        "Host": "bot.example.com",
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": server.secret,
        **headers,
    }
    lines = ["POST /webhook HTTP/1.1", *(f"{k.replace('_', '-')}: {v}" for k, v in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def closed_by_server(reader: asyncio.StreamReader, limit: float = 20) -> bytes:
    """Everything the server sends until it closes the connection."""
    async with asyncio.timeout(limit):
        return await reader.read()


class TestMethodAndType:
    @pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
    async def test_only_post(self, start_server: StartServer, method: str) -> None:
        """Every method but POST is a 405 and stores nothing."""
        server = await start_server(worker=False)
        url = server.base + "/webhook"
        async with server.http.request(method, url, data=body(message_update())) as response:
            assert response.status == 405
        assert await server.events() == []

    @pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
    async def test_json_only(self, start_server: StartServer, content_type: str) -> None:
        """A body not declared as JSON is a 415 and stores nothing."""
        server = await start_server(worker=False)
        status, _ = await server.post(body(message_update()), content_type=content_type)
        assert status == 415
        assert await server.events() == []


class TestBodySize:
    async def test_default_cap_admits_the_largest_update(self, start_server: StartServer) -> None:
        """The default cap admits an update at the ceiling of Telegram's documented limits."""
        server = await start_server(worker=False)
        payload = body(largest_update())
        assert len(payload) > 512 * 1024
        status, _ = await server.post(payload)
        assert status == 200

    async def test_declared_length_over_the_cap(self, start_server: StartServer) -> None:
        """A declared length over the cap is a 413 before any of the body is read."""
        server = await start_server(worker=False, max_body_bytes=4096)
        reader, writer = await connect(server)
        writer.write(head(server, Content_Length="10000000"))
        answer = await closed_by_server(reader)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 413")
        assert await server.events() == []

    async def test_streamed_body_over_the_cap(self, start_server: StartServer) -> None:
        """A chunked body is cut off with a 413 as soon as it passes the cap."""
        server = await start_server(worker=False, max_body_bytes=4096)
        reader, writer = await connect(server)
        chunk = b"x" * 5000
        writer.write(head(server, Transfer_Encoding="chunked"))
        writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        answer = await closed_by_server(reader)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 413")
        assert await server.events() == []


class TestSlowClients:
    async def test_slow_body_is_408(self, start_server: StartServer) -> None:
        """A body trickling in slower than the client timeout is a 408; the connection closes."""
        server = await start_server(worker=False, client_timeout=1.0)
        payload = body(message_update())
        reader, writer = await connect(server)
        writer.write(head(server, Content_Length=str(len(payload))))
        dribble = asyncio.create_task(_dribble(writer, payload))
        answer = await closed_by_server(reader)
        dribble.cancel()
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408")
        assert await server.events() == []

    async def test_slow_headers_are_cut_off(self, start_server: StartServer) -> None:
        """Headers that never finish (slow-loris) do not hold the connection past the timeout."""
        server = await start_server(worker=False, client_timeout=1.0)
        reader, writer = await connect(server)
        writer.write(b"POST /webhook HTTP/1.1\r\nHost: bot.example.com\r\n")
        dribble = asyncio.create_task(_dribble(writer, b"X-Slow: " + b"a" * 1000))
        answer = await closed_by_server(reader)
        dribble.cancel()
        writer.close()
        assert answer == b""
        status, _ = await server.post(body(message_update()))
        assert status == 200
        assert len(await server.events()) == 1

    async def test_silent_connection_is_closed(self, start_server: StartServer) -> None:
        """A connection that never sends a byte is closed after the client timeout."""
        server = await start_server(worker=False, client_timeout=1.0)
        reader, writer = await connect(server)
        assert await closed_by_server(reader) == b""
        writer.close()


async def _dribble(writer: asyncio.StreamWriter, data: bytes) -> None:
    """Send ``data`` a byte every 0.2 s, as a slow client would."""
    with contextlib.suppress(ConnectionError):
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.2)
