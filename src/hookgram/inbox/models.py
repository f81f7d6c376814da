"""The inbox tables and the value objects the store hands out."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)


class Status(enum.StrEnum):
    """Where an inbox row is in its life.

    ``pending`` waits for its first try or a scheduled retry; ``processing`` is held by a
    worker under a lease; ``done`` succeeded; ``failed`` could not be processed as received
    (an update this aiogram cannot parse) and is kept for replay; ``dead`` was given up:
    a permanent Bot API refusal or too many attempts.
    """

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    DEAD = "dead"


UNFINISHED = (Status.PENDING, Status.PROCESSING)

metadata = MetaData()

# 64-bit ids on PostgreSQL (a busy bot passes 2**31 updates); SQLite's INTEGER PRIMARY KEY is
# already 64-bit and autoincrements only under that exact type name.
RowId = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "inbox_events",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("dedup_key", String(255), nullable=False),
    Column("ordering_key", String(255), nullable=True),
    Column("received_at", Float, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("source", "dedup_key", name="uq_inbox_events_source_dedup"),
    Index("ix_inbox_events_status_next", "status", "next_attempt_at"),
    Index("ix_inbox_events_ordering", "ordering_key", "status", "id"),
)

attempts = Table(
    "inbox_attempts",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column(
        "event_id",
        RowId,
        ForeignKey("inbox_events.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("number", Integer, nullable=False),
    Column("worker", String(64), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("error", Text, nullable=True),
)

# Which chats a fanned-out notification already reached, so a retry sends only to the rest.
deliveries = Table(
    "inbox_deliveries",
    metadata,
    Column(
        "event_id",
        RowId,
        ForeignKey("inbox_events.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("delivered_at", Float, nullable=False),
    UniqueConstraint("event_id", "chat_id", name="uq_inbox_deliveries_event_chat"),
)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A verified request about to be stored."""

    source: str
    dedup_key: str
    body: bytes
    ordering_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """A stored inbox row."""

    id: int
    source: str
    dedup_key: str
    ordering_key: str | None
    received_at: float
    body: bytes
    headers: dict[str, str]
    status: Status
    attempts: int
    next_attempt_at: float
    lease_owner: str | None
    lease_expires_at: float | None
    finished_at: float | None
    last_error: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Event:
        """Build from a row of every ``events`` column, in the table's order (the fields')."""
        values = list(row)
        values[_STATUS] = Status(values[_STATUS])
        return cls(*values)


_STATUS = 7  # Event.status's position, the same as its column's in ``events``


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at processing an event."""

    number: int
    worker: str
    started_at: float
    finished_at: float
    outcome: Status
    error: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a worker decided about a claimed event."""

    event_id: int
    status: Status
    started_at: float
    error: str | None = None
    next_attempt_at: float | None = None
