"""The inbox store's contract, one suite run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hookgram.config import load_settings
from hookgram.errors import StoreUnavailableError
from hookgram.inbox.engine import create_engine
from hookgram.inbox.models import NewEvent, Outcome, Status
from hookgram.inbox.schema import upgrade
from hookgram.inbox.store import InboxStore

NOW = 1_000.0
LEASE = 30.0


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database of one backend, fresh for this test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inbox.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[InboxStore]:
    """An inbox store at the head schema revision."""
    engine = create_engine(load_settings(database_url=store_url).database_url)
    await upgrade(engine)
    inbox = InboxStore(engine)
    yield inbox
    await inbox.close()
    await engine.dispose()


def new(dedup: str, key: str | None = None, source: str = "telegram", **kw: object) -> NewEvent:
    """An event to store, with its dedup key as its body."""
    return NewEvent(source, dedup, dedup.encode(), ordering_key=key, **kw)  # type: ignore[arg-type]


async def ids_of(store: InboxStore) -> dict[str, int]:
    """Row id by dedup key."""
    return {e.dedup_key: e.id for e in await store.list(limit=1000)}


async def claimed(
    store: InboxStore, worker: str = "w1", now: float = NOW, limit: int = 100
) -> list[str]:
    """Dedup keys of what ``worker`` claims, in claim order."""
    return [e.dedup_key for e in await store.claim(worker, limit, now, LEASE)]


async def finish(
    store: InboxStore, dedup: str, status: Status = Status.DONE, error: str | None = None
) -> int:
    """Record ``status`` for the row ``dedup`` as held by w1."""
    row = (await ids_of(store))[dedup]
    return await store.finish("w1", [Outcome(row, status, NOW, error)], NOW + 1)


class TestStoreContract:
    async def test_put_keeps_one_row_per_source_and_key(self, store: InboxStore) -> None:
        """The same (source, dedup key) again, in a batch or later, stays one row as first put."""
        raw = b"\xff\x00not utf-8"
        first = NewEvent("telegram", "1", raw, "chat:1", {"content-type": "application/json"})
        await store.put_many([first, new("1"), new("2")], NOW)
        await store.put_many([new("1"), new("1", source="stripe")], NOW + 5)
        rows = sorted(await store.list(), key=lambda e: e.id)
        assert [(e.source, e.dedup_key) for e in rows] == [
            ("telegram", "1"),
            ("telegram", "2"),
            ("stripe", "1"),
        ]
        kept = rows[0]
        assert (kept.body, kept.headers, kept.ordering_key) == (raw, first.headers, "chat:1")
        assert (kept.status, kept.attempts, kept.received_at) == (Status.PENDING, 0, NOW)

    async def test_claim_takes_the_oldest_unfinished_row_of_each_key(
        self, store: InboxStore
    ) -> None:
        """A key's next row waits for the one before it to finish; rows without a key never wait."""
        await store.put_many(
            [new("a1", "A"), new("b1", "B"), new("a2", "A"), new("n1"), new("n2")], NOW
        )
        assert await claimed(store) == ["a1", "b1", "n1", "n2"]
        assert await claimed(store, "w2") == []
        assert await finish(store, "a1") == 1
        assert await claimed(store, "w2") == ["a2"]

    async def test_one_step_finishes_and_claims_the_next_of_the_key(
        self, store: InboxStore
    ) -> None:
        """A worker step that records a row's outcome can claim that key's next row at once."""
        await store.put_many([new("a1", "A"), new("a2", "A")], NOW)
        [first] = await store.claim("w1", 10, NOW, LEASE)
        done = Outcome(first.id, Status.DONE, NOW)
        recorded, claimed = await store.finish_and_claim("w1", [done], NOW + 1, 10, LEASE)
        assert recorded == 1
        assert [(e.dedup_key, e.lease_owner) for e in claimed] == [("a2", "w1")]

    async def test_a_given_up_row_does_not_block_its_key(self, store: InboxStore) -> None:
        """After a row is dead or failed, the next row of its key is claimable."""
        await store.put_many([new("a1", "A"), new("a2", "A"), new("a3", "A")], NOW)
        await claimed(store)
        await finish(store, "a1", Status.DEAD, error="403 blocked")
        assert await claimed(store) == ["a2"]
        await finish(store, "a2", Status.FAILED, error="cannot parse")
        assert await claimed(store) == ["a3"]

    async def test_claim_leases_and_counts_the_attempt(self, store: InboxStore) -> None:
        """A claimed row is processing, held by the worker until now + lease, attempt 1."""
        await store.put_many([new("1", "A")], NOW)
        [event] = await store.claim("w1", 10, NOW, LEASE)
        assert event.status is Status.PROCESSING
        assert (event.lease_owner, event.lease_expires_at, event.attempts) == ("w1", NOW + LEASE, 1)
        assert await store.get(event.id) == event

    async def test_claim_respects_limit_in_arrival_order(self, store: InboxStore) -> None:
        """At most ``limit`` rows are claimed, the oldest first."""
        await store.put_many([new(str(n), f"chat:{n}") for n in range(10)], NOW)
        assert await claimed(store, limit=3) == ["0", "1", "2"]
        assert await claimed(store, limit=3) == ["3", "4", "5"]

    async def test_expired_lease_goes_to_another_worker(self, store: InboxStore) -> None:
        """A row whose lease expired (its worker died) is claimed again, as a second attempt."""
        await store.put_many([new("1", "A")], NOW)
        await claimed(store, "dead")
        assert await claimed(store, "w2", now=NOW + LEASE - 1) == []
        [event] = await store.claim("w2", 10, NOW + LEASE + 1, LEASE)
        assert (event.lease_owner, event.attempts) == ("w2", 2)

    async def test_finish_only_by_the_lease_holder(self, store: InboxStore) -> None:
        """A worker whose row was taken over cannot record its outcome; the new holder can."""
        await store.put_many([new("1", "A")], NOW)
        await claimed(store, "slow")
        [event] = await store.claim("fast", 10, NOW + LEASE + 1, LEASE)
        late = Outcome(event.id, Status.DONE, NOW)
        assert await store.finish("slow", [late], NOW + LEASE + 2) == 0
        assert (await store.get(event.id)).status is Status.PROCESSING  # type: ignore[union-attr]
        assert await store.finish("fast", [late], NOW + LEASE + 3) == 1
        done = await store.get(event.id)
        assert done is not None
        assert (done.status, done.lease_owner, done.finished_at) == (
            Status.DONE,
            None,
            NOW + LEASE + 3,
        )
        [attempt] = await store.attempts_of(event.id)
        assert (attempt.number, attempt.worker, attempt.outcome) == (2, "fast", Status.DONE)

    async def test_retry_waits_until_its_time(self, store: InboxStore) -> None:
        """A row sent back for a retry is claimable only from its next attempt time."""
        await store.put_many([new("1", "A"), new("2", "A")], NOW)
        [event] = await store.claim("w1", 10, NOW, LEASE)
        retry = Outcome(event.id, Status.PENDING, NOW, "429 slow down", next_attempt_at=NOW + 60)
        assert await store.finish("w1", [retry], NOW + 1) == 1
        row = await store.get(event.id)
        assert row is not None
        assert (row.status, row.last_error, row.finished_at) == (
            Status.PENDING,
            "429 slow down",
            None,
        )
        assert await claimed(store, now=NOW + 59) == []
        assert await claimed(store, now=NOW + 60) == ["1"]
        attempts = await store.attempts_of(event.id)
        assert [(a.number, a.outcome, a.error) for a in attempts] == [
            (1, Status.PENDING, "429 slow down")
        ]

    async def test_release_hands_rows_back_uncounted(self, store: InboxStore) -> None:
        """Released rows are pending again, the claim not counted; others' rows are untouched."""
        await store.put_many([new("1", "A"), new("2", "B")], NOW)
        ids = await ids_of(store)
        await claimed(store, "w1", limit=1)
        await claimed(store, "w2", limit=1)
        await store.release("w1", [ids["1"], ids["2"]], NOW + 1)
        mine, theirs = await store.get(ids["1"]), await store.get(ids["2"])
        assert mine is not None
        assert theirs is not None
        assert (mine.status, mine.attempts, mine.lease_owner) == (Status.PENDING, 0, None)
        assert (theirs.status, theirs.lease_owner) == (Status.PROCESSING, "w2")
        assert await claimed(store, "w3", now=NOW + 1) == ["1"]

    async def test_extend_leases_only_for_the_holder(self, store: InboxStore) -> None:
        """Renewing leases moves the holder's expiry, never another worker's."""
        await store.put_many([new("1", "A"), new("2", "B")], NOW)
        ids = await ids_of(store)
        await claimed(store, "w1", limit=1)
        await claimed(store, "w2", limit=1)
        await store.extend_leases("w1", ids.values(), NOW + 500)
        mine, theirs = await store.get(ids["1"]), await store.get(ids["2"])
        assert mine is not None
        assert theirs is not None
        assert (mine.lease_expires_at, theirs.lease_expires_at) == (NOW + 500, NOW + LEASE)
        assert await claimed(store, "w3", now=NOW + LEASE + 1) == ["2"]

    async def test_requeue_finished_rows(self, store: InboxStore) -> None:
        """Requeue makes rows pending with fresh attempts, filtered, never a row a worker holds."""
        await store.put_many([new("1", "A"), new("2", "B"), new("3", "C"), new("4", "D")], NOW)
        await claimed(store)
        await finish(store, "1", Status.DEAD, error="gone")
        await finish(store, "2", Status.DONE)
        await finish(store, "3", Status.DEAD, error="gone")
        assert (
            await store.requeue(NOW + 10, status=Status.DEAD, ids=[(await ids_of(store))["1"]]) == 1
        )
        assert await store.requeue(NOW + 10, source="stripe") == 0
        assert await store.requeue(NOW + 10, status=Status.DONE) == 1
        assert await store.requeue(NOW + 10, ids=list((await ids_of(store)).values())) == 3
        statuses = {e.dedup_key: (e.status, e.attempts) for e in await store.list()}
        assert statuses == {
            "1": (Status.PENDING, 0),
            "2": (Status.PENDING, 0),
            "3": (Status.PENDING, 0),
            "4": (Status.PROCESSING, 1),
        }

    async def test_counts_unfinished_and_next_due(self, store: InboxStore) -> None:
        """Counts per source and status, the unfinished total, and when work next falls due."""
        assert await store.next_due(NOW) is None
        await store.put_many([new("1", "A"), new("2", "B"), new("x", source="stripe")], NOW)
        [first] = await store.claim("w1", 1, NOW, LEASE)
        retry = Outcome(first.id, Status.PENDING, NOW, "later", next_attempt_at=NOW + 90)
        await store.finish("w1", [retry], NOW)
        await claimed(store, limit=1)  # "2", leased until NOW + LEASE
        assert await store.counts() == {
            ("telegram", Status.PENDING): 1,
            ("telegram", Status.PROCESSING): 1,
            ("stripe", Status.PENDING): 1,
        }
        assert await store.unfinished() == 3
        assert await store.next_due(NOW) == NOW  # "x" is due now
        [x] = await store.claim("w1", 1, NOW, 5.0)
        await store.finish("w1", [Outcome(x.id, Status.DONE, NOW)], NOW)
        assert await store.next_due(NOW) == NOW + LEASE
        assert await store.unfinished() == 2

    async def test_list_newest_first_with_filters_and_paging(self, store: InboxStore) -> None:
        """Listing goes newest first, pages backwards by id, and filters by source and status."""
        await store.put_many([new(str(n), f"chat:{n}") for n in range(5)], NOW)
        await store.put_many([new("s", source="stripe")], NOW)
        page = await store.list(limit=2)
        assert [e.dedup_key for e in page] == ["s", "4"]
        older = await store.list(limit=2, before_id=page[-1].id)
        assert [e.dedup_key for e in older] == ["3", "2"]
        assert [e.dedup_key for e in await store.list(source="stripe")] == ["s"]
        await claimed(store, limit=1)
        assert [e.dedup_key for e in await store.list(status=Status.PROCESSING)] == ["0"]
        assert await store.get(10**9) is None

    async def test_concurrent_claims_never_share_a_row_or_a_key(self, store: InboxStore) -> None:
        """Workers claiming at once never get the same row, nor two rows of one key at a time."""
        keys = [f"chat:{k}" for k in range(12)]
        await store.put_many([new(f"{n}", keys[n % 12]) for n in range(120)], NOW)
        expected = {e.dedup_key: e.id for e in await store.list(limit=1000)}
        taken: list[tuple[str, str]] = []
        held: dict[str, str] = {}

        async def work(worker: str) -> None:
            while True:
                events = await store.claim(worker, 5, NOW, LEASE)
                if not events:
                    if await store.unfinished() == 0:
                        return
                    await asyncio.sleep(0.01)
                    continue
                for e in events:
                    assert e.ordering_key not in held, f"{e.ordering_key} held twice"
                    held[str(e.ordering_key)] = worker
                    taken.append((worker, e.dedup_key))
                await asyncio.sleep(0)
                for e in events:
                    del held[str(e.ordering_key)]
                outcomes = [Outcome(e.id, Status.DONE, NOW) for e in events]
                assert await store.finish(worker, outcomes, NOW) == len(events)

        await asyncio.gather(*(work(f"w{n}") for n in range(4)))
        assert sorted(d for _, d in taken) == sorted(expected)
        per_key: dict[str, list[int]] = defaultdict(list)
        for _, dedup in taken:
            per_key[keys[int(dedup) % 12]].append(expected[dedup])
        assert all(ids == sorted(ids) for ids in per_key.values())

    async def test_unreachable_database_is_store_unavailable(self, store_url: str) -> None:
        """A database that cannot be reached raises StoreUnavailableError, never a driver error."""
        if store_url.startswith("sqlite"):
            url = "sqlite+aiosqlite:////nonexistent-dir/inbox.db"
        else:
            url = "postgresql+asyncpg://postgres@127.0.0.1:1/postgres"
        engine = create_engine(url)
        try:
            with pytest.raises(StoreUnavailableError):
                await InboxStore(engine).put_many([new("1")], NOW)
            with pytest.raises(StoreUnavailableError):
                await InboxStore(engine).ping()
        finally:
            await engine.dispose()
