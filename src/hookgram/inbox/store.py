"""The inbox store: the only place that speaks SQL."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from hookgram.errors import StoreUnavailableError
from hookgram.inbox import statements
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
)
from hookgram.inbox.notifications import CHANNEL
from hookgram.inbox.prepared import prepare
from hookgram.inbox.schema import upgrade
from hookgram.inbox.transactions import Transactions

# The columns a new event fills, and an attempt record, in the order of the tables (and of the
# rows put_many and _finish build).
_PUT_COLUMNS = (
    "source",
    "dedup_key",
    "ordering_key",
    "received_at",
    "body",
    "headers",
    "status",
    "attempts",
    "next_attempt_at",
)
_ATTEMPT_COLUMNS = ("event_id", "number", "worker", "started_at", "finished_at", "outcome", "error")


class InboxStore:
    """Reads and writes inbox rows; knows nothing of HTTP or aiogram."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        dialect = engine.dialect
        self._transactions = Transactions(engine)
        self._notify = postgres = dialect.name == "postgresql"
        put = (postgresql.insert if postgres else sqlite.insert)(events).on_conflict_do_nothing(
            index_elements=["source", "dedup_key"]
        )
        # The hot statements: on SQLite compiled once and run by the driver (prepared.py).
        self._put = prepare(put, dialect, column_keys=_PUT_COLUMNS)
        self._due = prepare(
            statements.due_pending(postgresql=postgres), dialect, bound=("now", "limit")
        )
        self._expired = prepare(
            statements.expired_leases(postgresql=postgres), dialect, bound=("now", "limit")
        )
        self._lease = prepare(
            statements.lease(postgresql=postgres), dialect, bound=("ids", "worker", "until")
        )
        self._finish_rows = prepare(
            statements.finish(postgresql=postgres),
            dialect,
            bound=("ids", "worker", "status", "error", "next_attempt_at", "finished_at"),
        )
        self._record = prepare(insert(attempts), dialect, column_keys=_ATTEMPT_COLUMNS)

    async def close(self) -> None:
        """Stop the store's writer thread (SQLite); the caller disposes of the engine."""
        await asyncio.to_thread(self._transactions.close)

    async def create_schema(self) -> None:
        """Bring the schema to the head revision (``hookgram db upgrade`` does the same)."""
        await upgrade(self.engine)

    async def ping(self) -> None:
        """Raise StoreUnavailableError unless the database answers."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(select(1))
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailableError(f"inbox database unreachable: {exc}") from exc

    async def put_many(self, new: Sequence[NewEvent], now: float) -> None:
        """Commit every event in one transaction; an existing (source, dedup key) is kept as is."""
        pending = Status.PENDING.value
        rows = [
            (e.source, e.dedup_key, e.ordering_key, now, e.body, e.headers, pending, 0, now)
            for e in new
        ]
        try:
            await self._transactions.run(functools.partial(self._put_rows, rows))
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailableError(f"inbox commit failed: {exc}") from exc

    def _put_rows(self, rows: list[tuple[Any, ...]], conn: Connection) -> None:
        self._put.execute_many(conn, rows)
        if self._notify:
            # Delivered on commit: wakes workers listening in other processes.
            conn.execute(select(func.pg_notify(CHANNEL, "")))

    async def claim(self, worker: str, limit: int, now: float, lease_seconds: float) -> list[Event]:
        """Lease up to ``limit`` due rows, at most the oldest unfinished one per ordering key."""
        _, claimed = await self.finish_and_claim(worker, (), now, limit, lease_seconds)
        return claimed

    async def finish(self, worker: str, outcomes: Sequence[Outcome], now: float) -> int:
        """Record outcomes of rows this worker still holds; returns how many were recorded."""
        recorded, _ = await self.finish_and_claim(worker, outcomes, now, 0, 0.0)
        return recorded

    async def finish_and_claim(
        self,
        worker: str,
        outcomes: Sequence[Outcome],
        now: float,
        limit: int,
        lease_seconds: float,
    ) -> tuple[int, list[Event]]:
        """Record ``outcomes``, then claim up to ``limit`` rows, in one transaction.

        One commit per worker step instead of one per outcome and one per claim: the write
        path shares its core with the ingress, so every commit saved is an ack sooner.
        """
        if not outcomes and limit <= 0:
            return 0, []

        def work(conn: Connection) -> tuple[int, Sequence[Any]]:
            recorded = self._finish(conn, worker, outcomes, now) if outcomes else 0
            if limit <= 0:
                return recorded, ()
            return recorded, self._claim(conn, worker, limit, now, now + lease_seconds)

        recorded, rows = await self._transactions.run(work)
        return recorded, sorted((Event.from_row(r) for r in rows), key=lambda e: e.id)

    def _claim(
        self, conn: Connection, worker: str, limit: int, now: float, until: float
    ) -> Sequence[Any]:
        # The statements take their candidates' row locks (PostgreSQL: SKIP LOCKED), and the
        # transaction holds them (SQLite: BEGIN IMMEDIATE) until the lease is written.
        ids = [r[0] for r in self._due.rows(conn, {"now": now, "limit": limit})]
        if len(ids) < limit:
            more = {"now": now, "limit": limit - len(ids)}
            ids += [r[0] for r in self._expired.rows(conn, more)]
        if not ids:
            return ()
        return self._lease.rows(conn, {"ids": ids, "worker": worker, "until": until})

    def _finish(
        self, conn: Connection, worker: str, outcomes: Sequence[Outcome], now: float
    ) -> int:
        # Set-based: one UPDATE per kind of outcome (usually one: all done), one INSERT of
        # every attempt record, instead of an UPDATE and an INSERT per row.
        by_id = {o.event_id: o for o in outcomes}
        groups: dict[tuple[Status, str | None, float | None], list[int]] = {}
        for o in outcomes:
            retry_at = o.next_attempt_at if o.status is Status.PENDING else None
            groups.setdefault((o.status, o.error, retry_at), []).append(o.event_id)
        held: list[tuple[int, int]] = []
        for (status, error, retry_at), ids in groups.items():
            values = {
                "ids": ids,
                "worker": worker,
                "status": status.value,
                "error": error,
                "next_attempt_at": retry_at if retry_at is not None else now,
                "finished_at": None if status is Status.PENDING else now,
            }
            held += [(r[0], r[1]) for r in self._finish_rows.rows(conn, values)]
        if held:
            self._record.execute_many(
                conn,
                [
                    (
                        event_id,
                        number,
                        worker,
                        by_id[event_id].started_at,
                        now,
                        by_id[event_id].status.value,
                        by_id[event_id].error,
                    )
                    for event_id, number in held
                ],
            )
        return len(held)

    async def extend_leases(self, worker: str, ids: Iterable[int], until: float) -> None:
        """Keep holding rows whose work is still running."""
        ids = list(ids)
        if not ids:
            return
        statement = (
            update(events)
            .where(events.c.id.in_(ids), events.c.lease_owner == worker)
            .values(lease_expires_at=until)
        )
        await self._transactions.run(lambda conn: conn.execute(statement))

    async def release(self, worker: str, ids: Iterable[int], now: float) -> None:
        """Hand rows back unprocessed (shutdown); the claim does not count as an attempt."""
        ids = list(ids)
        if not ids:
            return
        statement = (
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
        await self._transactions.run(lambda conn: conn.execute(statement))

    async def requeue(
        self,
        now: float,
        *,
        ids: Sequence[int] | None = None,
        source: str | None = None,
        status: Status | None = None,
        forget_deliveries: bool = False,
    ) -> int:
        """Make the matching rows pending and due now, attempts reset; returns the count.

        Used to replay a row or retry dead ones: callers pass ``ids`` or ``status``. A row
        being processed is never touched; a pending row waiting for a retry becomes due now.

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
        statement = (
            update(events)
            .where(*where)
            .values(status=Status.PENDING.value, attempts=0, next_attempt_at=now, finished_at=None)
        )
        forget = deliveries.delete().where(
            deliveries.c.event_id.in_(select(events.c.id).where(*where))
        )

        def work(conn: Connection) -> int:
            if forget_deliveries:
                conn.execute(forget)
            return int(conn.execute(statement).rowcount)

        return await self._transactions.run(work)

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
