"""examples/payments end to end: ``hookgram run`` with its config, signed Crypto Pay updates."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import aiohttp

from hookgram.sandbox import BotAPIEmulator
from tests.conftest import TOKEN
from tests.process import HookgramProcess, free_port
from tests.webhooks import CRYPTOPAY_TOKEN, cryptopay_headers, invoice_paid

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "payments"


async def _until(check: Callable[[], bool], timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


class TestPaymentsExample:
    async def test_credited_and_announced_once(
        self, emulator: BotAPIEmulator, tmp_path: Path
    ) -> None:
        """Paid invoices are credited and announced once, through duplicates and a replay."""
        db = tmp_path / "payments.db"
        port = free_port()
        env = {
            "BOT_TOKEN": TOKEN,
            "CRYPTOPAY_TOKEN": CRYPTOPAY_TOKEN,
            "HOOKGRAM_API_URL": emulator.base_url,
            "HOOKGRAM_HOST": "127.0.0.1",
            "HOOKGRAM_PORT": str(port),
            "HOOKGRAM_DATABASE_URL": f"sqlite:///{db}",
            "HOOKGRAM_CONFIG": str(EXAMPLE / "hookgram.toml"),
            "PYTHONPATH": str(EXAMPLE),
        }
        server = HookgramProcess(["run"], env, tmp_path)
        try:
            await server.start()
            url = f"http://127.0.0.1:{port}/hooks/cryptopay"
            deliveries = [
                invoice_paid(1001, 777, "5.00", update_id=1),
                invoice_paid(1001, 777, "5.00", update_id=2),  # the same invoice again
                invoice_paid(1002, 777, "2.50", update_id=3),
            ]
            async with aiohttp.ClientSession() as http:
                for body in deliveries:
                    headers = {**cryptopay_headers(body), "Content-Type": "application/json"}
                    async with http.post(url, data=body, headers=headers) as response:
                        assert response.status == 200
                forged = invoice_paid(1003, 777, "1000.00")
                async with http.post(
                    url, data=forged, headers={**cryptopay_headers(forged, token="1:x")}
                ) as response:
                    assert response.status == 401
            await emulator.wait_for_calls("sendMessage", 2, timeout=60)
            await _until(
                lambda: (
                    _query(db, "SELECT count(*) FROM payments_credits WHERE announced") == [(2,)]
                )
            )
            assert [m["text"] for m in emulator.messages(777)] == [
                "Payment received: 5.00 USDT. Your balance: 5.00 USDT.",
                "Payment received: 2.50 USDT. Your balance: 7.50 USDT.",
            ]

            [(first,)] = _query(db, "SELECT min(id) FROM inbox_events")
            replay = HookgramProcess(["events", "replay", str(first)], env, tmp_path)
            await replay.start(ready=None)
            assert await replay.wait() == 0, replay.output
            await _until(
                lambda: (
                    _query(db, f"SELECT count(*) FROM inbox_attempts WHERE event_id = {first}")
                    == [(2,)]
                )
            )
            assert _query(db, f"SELECT status FROM inbox_events WHERE id = {first}") == [("done",)]
            assert len(emulator.messages(777)) == 2
            assert _query(db, "SELECT invoice_id, amount FROM payments_credits ORDER BY 1") == [
                (1001, "5.00"),
                (1002, "2.50"),
            ]
            server.signal(signal.SIGTERM)
            assert await server.wait() == 0
            assert CRYPTOPAY_TOKEN not in server.output
        finally:
            await server.close()
