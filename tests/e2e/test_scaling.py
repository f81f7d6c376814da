"""Receivers and workers as separate processes on one PostgreSQL: nothing lost, chats in order."""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import orjson
import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from hookgram.config import load_settings
from hookgram.inbox.engine import create_engine
from hookgram.inbox.models import Status, attempts, events
from hookgram.inbox.store import InboxStore
from hookgram.sandbox import BotAPIEmulator
from hookgram.sources.telegram import SECRET_HEADER
from tests.conftest import TOKEN
from tests.factories import body, message_update
from tests.process import HookgramProcess, free_port, post_update

CHATS = 200
PER_CHAT = 50

DUPLICATE_EVERY = 20  # 5% of updates are delivered twice, to both receivers at once
FORM_BOT = "tests.bots.form:create_router"
PROJECT = Path(__file__).resolve().parents[2]


@dataclass
class Cluster:
    """hookgram processes sharing one PostgreSQL inbox and the emulator."""

    emulator: BotAPIEmulator
    env: dict[str, str]
    cwd: Path
    processes: list[HookgramProcess] = field(default_factory=list)

    async def receiver(self) -> int:
        """Start `run --no-worker`; its port."""
        port = free_port()
        process = HookgramProcess(
            ["run", "--no-worker"], {**self.env, "HOOKGRAM_PORT": str(port)}, self.cwd
        )
        self.processes.append(process)
        await process.start(timeout=60)
        return port

    async def worker(self, *args: str, **env: str) -> HookgramProcess:
        """Start `hookgram worker ARGS`."""
        process = HookgramProcess(["worker", *args], {**self.env, **env}, self.cwd)
        self.processes.append(process)
        await process.start(ready="processing the inbox", timeout=60)
        return process


@pytest.fixture
async def cluster(
    emulator: BotAPIEmulator, postgres_url: str, tmp_path: Path
) -> AsyncIterator[Cluster]:
    """Processes against the emulator and a migrated PostgreSQL; all stopped afterwards."""
    env = {
        "BOT_TOKEN": TOKEN,
        "HOOKGRAM_PUBLIC_URL": "https://bot.example.com",
        "HOOKGRAM_HOST": "127.0.0.1",
        "HOOKGRAM_API_URL": emulator.base_url,
        "HOOKGRAM_DATABASE_URL": postgres_url,
        "HOOKGRAM_ALLOWED_UPDATES": '["message"]',
        "HOOKGRAM_ALLOWED_IPS": "127.0.0.1/32",  # the test posts from loopback
        "PYTHONPATH": str(PROJECT),  # the test bots
    }
    made = Cluster(emulator, env, tmp_path)
    yield made
    for process in made.processes:
        await process.close()


async def deliver(ports: list[int], chats: int, per_chat: int) -> dict[int, list[str]]:
    """Post like Telegram: one chat's updates one at a time, chats at once; some twice."""
    secret = load_settings(bot_token=TOKEN).webhook_secret()
    headers = {SECRET_HEADER: secret, "Content-Type": "application/json"}
    sent: dict[int, list[str]] = {}
    statuses: Counter[int] = Counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:

        async def post(port: int, payload: bytes) -> None:
            url = f"http://127.0.0.1:{port}/webhook"
            async with http.post(url, data=payload, headers=headers) as response:
                statuses[response.status] += 1

        async def chat(chat_id: int) -> None:
            sent[chat_id] = []
            for n in range(per_chat):
                number = chat_id * per_chat + n
                text = f"{chat_id}:{n}"
                payload = body(message_update(text, chat_id=chat_id, update_id=number))
                targets = ports if number % DUPLICATE_EVERY == 0 else [ports[number % 2]]
                await asyncio.gather(*(post(port, payload) for port in targets))
                sent[chat_id].append(text)

        await asyncio.gather(*(chat(c) for c in range(1, chats + 1)))
    assert set(statuses) == {200}, statuses
    return sent


async def answers_per_chat(emulator: BotAPIEmulator) -> dict[int, list[str]]:
    """Every sendMessage text, per chat, in the order the emulator received them."""
    seen: dict[int, list[str]] = defaultdict(list)
    for call in emulator.calls_of("sendMessage"):
        seen[int(call.params["chat_id"])].append(call.params["text"])
    return seen


@dataclass(frozen=True)
class InboxReport:
    """What the inbox recorded, per update text."""

    statuses: Counter[str]
    attempts: dict[str, int]
    recorded: dict[str, list[tuple[int, str]]]


async def inbox_report(database_url: str) -> InboxReport:
    """Read every row and its recorded attempts."""
    engine = create_engine(load_settings(database_url=database_url).database_url)
    rows_query = select(events.c.id, events.c.status, events.c.attempts, events.c.body)
    tries_query = select(attempts.c.event_id, attempts.c.number, attempts.c.worker)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(rows_query)).all()
            tries = (await conn.execute(tries_query)).all()
    finally:
        await engine.dispose()
    text = {r.id: orjson.loads(r.body)["message"]["text"] for r in rows}
    recorded: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for event_id, number, worker in tries:
        recorded[text[event_id]].append((number, worker))
    return InboxReport(
        statuses=Counter(str(r.status) for r in rows),
        attempts={text[r.id]: int(r.attempts) for r in rows},
        recorded=recorded,
    )


async def settled(database_url: str, timeout: float = 60) -> None:
    """Wait until no row is pending or processing (outcomes are written after the answer)."""
    engine = create_engine(load_settings(database_url=database_url).database_url)
    try:
        store = InboxStore(engine)
        async with asyncio.timeout(timeout):
            while await store.unfinished():
                await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


def worker_id(process: HookgramProcess) -> str:
    """The id a worker process records its attempts under (from its start-up line)."""
    match = re.search(r"worker (\S+) processing the inbox", process.output)
    assert match is not None
    return match.group(1)


class TestSplitRoles:
    async def test_two_receivers_three_workers(
        self, cluster: Cluster, emulator: BotAPIEmulator, postgres_url: str
    ) -> None:
        """10,000 updates over 200 chats, 5% delivered twice: each answered once, chats in order."""
        ports = [await cluster.receiver(), await cluster.receiver()]
        workers = [await cluster.worker() for _ in range(3)]
        sent = await deliver(ports, CHATS, PER_CHAT)
        total = CHATS * PER_CHAT
        await emulator.wait_for_calls("sendMessage", total, timeout=300)
        await settled(postgres_url)
        report = await inbox_report(postgres_url)
        assert report.statuses == Counter({Status.DONE.value: total})
        assert await answers_per_chat(emulator) == sent
        assert set(report.attempts.values()) == {1}
        assert all(len(tries) == 1 for tries in report.recorded.values())
        doers = {worker for tries in report.recorded.values() for _, worker in tries}
        assert doers == {worker_id(w) for w in workers}


class TestWorkerKilled:
    async def test_sigkill_mid_run_loses_nothing(
        self, cluster: Cluster, emulator: BotAPIEmulator, postgres_url: str
    ) -> None:
        """A worker killed mid-run: others finish its rows after the lease; chats stay in order.

        Processing is at-least-once: a row whose answer went out but whose outcome was never
        recorded (the killed worker's) is answered again, and only such rows may be.
        """
        # Fewer slots than chats, and every answer takes 20 ms: each worker, the victim too,
        # holds rows whenever the kill comes, even while deliveries are slower than processing.
        cluster.env.update(HOOKGRAM_LEASE_SECONDS="2", HOOKGRAM_WORKER_CONCURRENCY="8")
        emulator.set_delay(0.02, "sendMessage")
        ports = [await cluster.receiver(), await cluster.receiver()]
        victim, *survivors = [await cluster.worker() for _ in range(3)]
        total = CHATS * PER_CHAT
        delivery = asyncio.create_task(deliver(ports, CHATS, PER_CHAT))
        await emulator.wait_for_calls("sendMessage", total // 3, timeout=300)
        database = await asyncpg.connect(postgres_url)
        try:
            victim.signal(signal.SIGKILL)
            await victim.wait()
            # Read at once, before the lease runs out and the others take the rows over.
            bodies = await database.fetch(
                "SELECT body FROM inbox_events WHERE lease_owner = $1 AND status = 'processing'",
                worker_id(victim),
            )
        finally:
            await database.close()
        held = {orjson.loads(row["body"])["message"]["text"] for row in bodies}
        assert held, "the killed worker held no rows: the lease path went untested"
        sent = await delivery
        await emulator.wait_for_calls("sendMessage", total, timeout=300)
        await settled(postgres_url)
        report = await inbox_report(postgres_url)
        assert report.statuses == Counter({Status.DONE.value: total})

        answers = await answers_per_chat(emulator)
        assert {chat: list(dict.fromkeys(texts)) for chat, texts in answers.items()} == sent
        others = {worker_id(w) for w in survivors}
        for text in held:
            assert report.attempts[text] >= 2
            assert {worker for _, worker in report.recorded[text]} <= others
        unrecorded = {t for t, n in report.attempts.items() if n > len(report.recorded[t])}
        assert held <= unrecorded
        twice = {t for texts in answers.values() for t, n in Counter(texts).items() if n > 1}
        assert twice <= unrecorded


class TestConversationAcrossWorkers:
    async def test_fsm_state_travels_through_redis(
        self, cluster: Cluster, emulator: BotAPIEmulator, redis_url: str
    ) -> None:
        """Step 1 of a conversation handled by worker A, step 2 by worker B, state kept in Redis."""
        cluster.env["HOOKGRAM_REDIS_URL"] = redis_url
        [port] = [await cluster.receiver()]
        first = await cluster.worker(FORM_BOT)
        await post_update(port, message_update("/start", chat_id=7, update_id=1), TOKEN)
        await emulator.wait_for_calls("sendMessage", 1, timeout=30)
        first.signal(signal.SIGTERM)
        assert await first.wait() == 0

        bot_id = TOKEN.split(":")[0]
        redis = Redis.from_url(redis_url)
        try:
            assert await redis.get(f"fsm:{bot_id}:7:7:state") == b"Form:name"
        finally:
            await redis.aclose()

        second = await cluster.worker(FORM_BOT)
        await post_update(port, message_update("Jane", chat_id=7, update_id=2), TOKEN)
        await emulator.wait_for_calls("sendMessage", 2, timeout=30)
        texts = [c.params["text"] for c in emulator.calls_of("sendMessage")]
        assert texts == ["What is your name?", "Nice to meet you, Jane"]
        assert worker_id(first) != worker_id(second)
