"""The Telegram webhook route over real HTTP: what is acknowledged, refused and stored."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from hookgram.inbox.models import Status
from tests.conftest import StartServer
from tests.factories import body, message_update


class TestAcknowledgement:
    async def test_update_is_committed_before_the_200(self, start_server: StartServer) -> None:
        """An accepted update is already in the inbox when the 200 arrives."""
        server = await start_server(worker=False)
        update = message_update("hi", update_id=77)
        status, _ = await server.post(body(update))
        assert status == 200
        [event] = await server.events()
        assert event.source == "telegram"
        assert event.body == body(update)
        assert event.status is Status.PENDING
        assert event.ordering_key == "chat:42"

    async def test_redelivered_update_is_kept_once(self, start_server: StartServer) -> None:
        """Telegram's re-delivery of the same update_id gets a 200 and adds no row."""
        server = await start_server(worker=False)
        payload = body(message_update("hi", update_id=5))
        results = await asyncio.gather(*(server.post(payload) for _ in range(5)))
        assert [status for status, _ in results] == [200] * 5
        assert len(await server.events()) == 1


class TestRefusals:
    @pytest.mark.parametrize(
        ("secret", "reason"), [(None, "missing"), ("wrong-secret", "wrong"), ("", "right")]
    )
    async def test_secret_token(
        self, start_server: StartServer, secret: str | None, reason: str
    ) -> None:
        """A missing or wrong secret header is a 401 and stores nothing."""
        server = await start_server(worker=False)
        status, text = await server.post(body(message_update()), secret=secret)
        if reason == "right":
            assert status == 200
            return
        assert status == 401
        assert "secret" in text.lower()
        assert server.secret not in text
        assert await server.events() == []

    @pytest.mark.parametrize(
        ("payload", "message"),
        [
            (b"not json", "not valid JSON"),
            (b"[1, 2]", "JSON object"),
            (b'{"message": {}}', "update_id"),
            (b'{"update_id": "12"}', "update_id"),
            (b'{"update_id": true}', "update_id"),
            (b"", "not valid JSON"),
        ],
    )
    async def test_malformed_body(
        self, start_server: StartServer, payload: bytes, message: str
    ) -> None:
        """A body that is not a JSON object with an integer update_id is a 400."""
        server = await start_server(worker=False)
        status, text = await server.post(payload)
        assert status == 400
        assert message in text
        assert await server.events() == []

    async def test_other_methods(self, start_server: StartServer) -> None:
        """Only POST is served on the webhook path."""
        server = await start_server(worker=False)
        async with server.http.get(server.base + "/webhook") as response:
            assert response.status == 405

    async def test_wrong_content_type(self, start_server: StartServer) -> None:
        """A body that is not declared as JSON is a 415."""
        server = await start_server(worker=False)
        status, _ = await server.post(body(message_update()), content_type="text/plain")
        assert status == 415
        assert await server.events() == []

    async def test_body_too_large(self, start_server: StartServer) -> None:
        """A body over the cap is a 413, and nothing is stored."""
        server = await start_server(worker=False, max_body_bytes=4096)
        status, _ = await server.post(body(message_update("x" * 5000)))
        assert status == 413
        assert await server.events() == []


class TestStoreUnavailable:
    async def test_locked_database_gives_503_then_recovers(
        self, start_server: StartServer, tmp_path: Path
    ) -> None:
        """While the inbox cannot commit the answer is 503 (Telegram retries), never 200."""
        server = await start_server(worker=False)
        blocker = sqlite3.connect(tmp_path / "hookgram.db", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            status, text = await server.post(body(message_update(update_id=1)))
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert status == 503
        assert "try again" in text
        status, _ = await server.post(body(message_update(update_id=1)))
        assert status == 200
        assert [e.dedup_key for e in await server.events()] == ["123456:1"]
