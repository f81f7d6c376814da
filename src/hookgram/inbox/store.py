"""The inbox store: the only place that speaks SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, case, exists, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from hookgram.errors import StoreUnavailableError
from hookgram.inbox.models import (
    UNFINISHED,
    Attempt,
    Event,
    NewEvent,
    Outcome,
    Status,
    attempts,
    deliveries,
    events,
    metadata,
)


class InboxStore:
    """Reads and writes inbox rows; knows nothing of HTTP or aiogram."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def create_schema(self) -> None:
        """Create the tables when they do not exist yet."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def ping(self) -> None:
        """Raise StoreUnavailableError unless the database answers."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(select(1))
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailableError(f"inbox database unreachable: {exc}") from exc

    async def put_many(self, new: Sequence[NewEvent], now: float) -> None:
        """Commit every event in one transaction; an existing (source, dedup key) is kept as is."""
        rows = [
            {
                "source": e.source,
                "dedup_key": e.dedup_key,
                "ordering_key": e.ordering_key,
                "received_at": now,
                "body": e.body,
                "headers": e.headers,
                "status": Status.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
            }
            for e in new
        ]
        statement = self._insert(events).on_conflict_do_nothing(
            index_elements=["source", "dedup_key"]
        )
        try:
            async with self.engine.begin() as conn:
                await conn.execute(statement, rows)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailableError(f"inbox commit failed: {exc}") from exc

    async def claim(self, worker: str, limit: int, now: float, lease_seconds: float) -> list[Event]:
        """Lease up to ``limit`` due rows, at most the oldest unfinished one per ordering key."""
        head = events.alias("head")
        earlier = (
            select(head.c.id)
            .where(
                head.c.ordering_key == events.c.ordering_key,
                head.c.id < events.c.id,
                head.c.status.in_([s.value for s in UNFINISHED]),
            )
            .correlate(events)
        )
        due = or_(
            and_(events.c.status == Status.PENDING.value, events.c.next_attempt_at <= now),
            and_(events.c.status == Status.PROCESSING.value, events.c.lease_expires_at < now),
        )
        candidates = (
            select(events.c.id)
            .where(due, or_(events.c.ordering_key.is_(None), ~exists(earlier)))
            .order_by(events.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(events)
            .where(events.c.id.in_(candidates.scalar_subquery()))
            .values(
                status=Status.PROCESSING.value,
                lease_owner=worker,
                lease_expires_at=now + lease_seconds,
                attempts=events.c.attempts + 1,
            )
            .returning(*events.c)
        )
        async with self.engine.begin() as conn:
            rows = (await conn.execute(claim)).all()
        return sorted((Event.from_row(r) for r in rows), key=lambda e: e.id)

    async def finish(self, worker: str, outcomes: Sequence[Outcome], now: float) -> int:
        """Record outcomes of rows this worker still holds; returns how many were recorded."""
        if not outcomes:
            return 0
        recorded = 0
        async with self.engine.begin() as conn:
            for o in outcomes:
                retry_at = o.next_attempt_at if o.status is Status.PENDING else None
                result = await conn.execute(
                    update(events)
                    .where(
                        events.c.id == o.event_id,
                        events.c.lease_owner == worker,
                        events.c.status == Status.PROCESSING.value,
                    )
                    .values(
                        status=o.status.value,
                        lease_owner=None,
                        lease_expires_at=None,
                        last_error=o.error,
                        next_attempt_at=retry_at if retry_at is not None else now,
                        finished_at=None if o.status is Status.PENDING else now,
                    )
                    .returning(events.c.attempts)
                )
                number = result.scalar_one_or_none()
                if number is None:
                    continue
                recorded += 1
                await conn.execute(
                    insert(attempts).values(
                        event_id=o.event_id,
                        number=number,
                        worker=worker,
                        started_at=o.started_at,
                        finished_at=now,
                        outcome=o.status.value,
                        error=o.error,
                    )
                )
        return recorded

    async def extend_leases(self, worker: str, ids: Iterable[int], until: float) -> None:
        """Keep holding rows whose work is still running."""
        ids = list(ids)
        if not ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                update(events)
                .where(events.c.id.in_(ids), events.c.lease_owner == worker)
                .values(lease_expires_at=until)
            )

    async def release(self, worker: str, ids: Iterable[int], now: float) -> None:
        """Hand rows back unprocessed (shutdown); the claim does not count as an attempt."""
        ids = list(ids)
        if not ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                update(events)
                .where(
                    events.c.id.in_(ids),
                    events.c.lease_owner == worker,
                    events.c.status == Status.PROCESSING.value,
                )
                .values(
                    status=Status.PENDING.value,
                    lease_owner=None,
                    lease_expires_at=None,
                    next_attempt_at=now,
                    attempts=events.c.attempts - 1,
                )
            )

    async def requeue(
        self,
        now: float,
        *,
        ids: Sequence[int] | None = None,
        source: str | None = None,
        status: Status | None = None,
        forget_deliveries: bool = False,
    ) -> int:
        """Make finished rows pending again (replay, retry of dead rows); returns the count.

        A retry resends only to the chats a notification has not reached yet; a replay
        (``forget_deliveries``) sends to every chat again.
        """
        where = [events.c.status != Status.PROCESSING.value]
        if ids is not None:
            where.append(events.c.id.in_(list(ids)))
        if source is not None:
            where.append(events.c.source == source)
        if status is not None:
            where.append(events.c.status == status.value)
        async with self.engine.begin() as conn:
            if forget_deliveries:
                await conn.execute(
                    deliveries.delete().where(
                        deliveries.c.event_id.in_(select(events.c.id).where(*where))
                    )
                )
            result = await conn.execute(
                update(events)
                .where(*where)
                .values(
                    status=Status.PENDING.value,
                    attempts=0,
                    next_attempt_at=now,
                    finished_at=None,
                )
            )
        return int(result.rowcount)

    async def get(self, event_id: int) -> Event | None:
        """One row, or None."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(events).where(events.c.id == event_id))).first()
        return None if row is None else Event.from_row(row)

    async def attempts_of(self, event_id: int) -> list[Attempt]:
        """Every recorded attempt of one row, oldest first."""
        # By insertion, not number: a replay starts the numbers again at 1.
        query = select(attempts).where(attempts.c.event_id == event_id).order_by(attempts.c.id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Attempt(
                number=r.number,
                worker=r.worker,
                started_at=r.started_at,
                finished_at=r.finished_at,
                outcome=Status(r.outcome),
                error=r.error,
            )
            for r in rows
        ]

    async def list(
        self,
        *,
        source: str | None = None,
        status: Status | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Event]:
        """The newest rows first, optionally filtered; ``before_id`` pages backwards."""
        query = select(events).order_by(events.c.id.desc()).limit(limit)
        if source is not None:
            query = query.where(events.c.source == source)
        if status is not None:
            query = query.where(events.c.status == status.value)
        if before_id is not None:
            query = query.where(events.c.id < before_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Event.from_row(r) for r in rows]

    async def counts(self) -> dict[tuple[str, Status], int]:
        """How many rows each (source, status) pair has."""
        query = select(events.c.source, events.c.status, func.count()).group_by(
            events.c.source, events.c.status
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {(r[0], Status(r[1])): int(r[2]) for r in rows}

    async def unfinished(self) -> int:
        """Rows not yet done, failed or dead."""
        query = select(func.count()).where(events.c.status.in_([s.value for s in UNFINISHED]))
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def next_due(self, now: float) -> float | None:
        """When the earliest pending row or lease falls due (for the worker's idle sleep)."""
        query = select(
            func.min(
                case(
                    (events.c.status == Status.PENDING.value, events.c.next_attempt_at),
                    else_=events.c.lease_expires_at,
                )
            )
        ).where(events.c.status.in_([s.value for s in UNFINISHED]))
        async with self.engine.connect() as conn:
            value: Any = (await conn.execute(query)).scalar_one_or_none()
        return None if value is None else max(float(value), now)
