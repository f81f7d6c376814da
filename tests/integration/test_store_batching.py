"""The store's batched worker step on a real SQLite file: outcomes and claims in one go."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hookgram.inbox.engine import create_engine
from hookgram.inbox.models import NewEvent, Outcome, Status
from hookgram.inbox.store import InboxStore

WORKER = "worker-a"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[InboxStore]:
    """An inbox store on a fresh SQLite file (written through its writer thread)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}")
    inbox = InboxStore(engine)
    await inbox.create_schema()
    yield inbox
    await inbox.close()
    await engine.dispose()


def _event(n: int, chat: int) -> NewEvent:
    return NewEvent(source="telegram", dedup_key=str(n), body=b"{}", ordering_key=f"chat:{chat}")


class TestFinishAndClaim:
    async def test_mixed_outcomes_recorded_with_attempts(self, store: InboxStore) -> None:
        """Done, retry and dead outcomes of one step each land on their row with an attempt."""
        now = time.time()
        await store.put_many([_event(n, chat=n) for n in range(3)], now)
        a, b, c = await store.claim(WORKER, 10, now, lease_seconds=60)
        outcomes = [
            Outcome(a.id, Status.DONE, now),
            Outcome(b.id, Status.PENDING, now, "HTTP 500", next_attempt_at=now + 30),
            Outcome(c.id, Status.DEAD, now, "blocked"),
        ]

        recorded, claimed = await store.finish_and_claim(WORKER, outcomes, now, 10, 60)

        assert recorded == 3
        assert claimed == []
        rows = {e.id: e for e in await store.list()}
        assert [rows[a.id].status, rows[b.id].status, rows[c.id].status] == [
            Status.DONE,
            Status.PENDING,
            Status.DEAD,
        ]
        assert rows[b.id].next_attempt_at == pytest.approx(now + 30)
        assert rows[c.id].last_error == "blocked"
        assert [x.outcome for x in await store.attempts_of(b.id)] == [Status.PENDING]

    async def test_finishing_a_chats_row_frees_its_next_in_the_same_step(
        self, store: InboxStore
    ) -> None:
        """The step that records a chat's update done already claims that chat's next one."""
        now = time.time()
        await store.put_many([_event(1, chat=7), _event(2, chat=7)], now)
        [first] = await store.claim(WORKER, 10, now, lease_seconds=60)

        recorded, [second] = await store.finish_and_claim(
            WORKER, [Outcome(first.id, Status.DONE, now)], now, 10, 60
        )

        assert recorded == 1
        assert second.dedup_key == "2"
        assert second.status is Status.PROCESSING

    async def test_rows_taken_over_are_not_recorded(self, store: InboxStore) -> None:
        """An outcome for a row another worker now holds is dropped, not written over theirs."""
        now = time.time()
        await store.put_many([_event(1, chat=1)], now)
        [row] = await store.claim(WORKER, 10, now, lease_seconds=1)
        [again] = await store.claim("worker-b", 10, now + 5, lease_seconds=60)

        recorded, _ = await store.finish_and_claim(
            WORKER, [Outcome(row.id, Status.DONE, now)], now + 5, 0, 60
        )

        assert again.id == row.id
        assert recorded == 0
        assert (await store.get(row.id)).lease_owner == "worker-b"  # type: ignore[union-attr]


class TestClaimOrder:
    async def test_earliest_due_first_and_one_head_per_chat(self, store: InboxStore) -> None:
        """A claim takes each chat's oldest unfinished row only, the earliest due first."""
        now = time.time()
        await store.put_many([_event(1, chat=1), _event(2, chat=1)], now)
        await store.put_many([_event(3, chat=2)], now + 1)
        await store.put_many([_event(4, chat=3)], now + 2)

        claimed = await store.claim(WORKER, 2, now + 3, lease_seconds=60)

        assert [e.dedup_key for e in claimed] == ["1", "3"]

    async def test_a_retry_later_keeps_its_chat_waiting(self, store: InboxStore) -> None:
        """A row scheduled for retry blocks its chat's newer rows, though they are due sooner."""
        now = time.time()
        await store.put_many([_event(1, chat=1), _event(2, chat=1), _event(3, chat=2)], now)
        first, other = await store.claim(WORKER, 10, now, lease_seconds=60)
        retry = Outcome(first.id, Status.PENDING, now, "HTTP 500", next_attempt_at=now + 60)
        done = Outcome(other.id, Status.DONE, now)

        _, claimed = await store.finish_and_claim(WORKER, [retry, done], now + 1, 10, 60)

        assert claimed == []
        [later] = await store.claim(WORKER, 10, now + 61, lease_seconds=60)
        assert later.id == first.id
