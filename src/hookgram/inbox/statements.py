"""The inbox's hot statements, built once with bound parameters (the store runs them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Float,
    Integer,
    String,
    Text,
    any_,
    bindparam,
    cast,
    exists,
    func,
    or_,
    select,
    update,
)

from hookgram.inbox.models import UNFINISHED, Status, events


def _is_head(postgresql: bool) -> Any:
    """The row is the oldest unfinished one of its ordering key (or has none)."""
    if postgresql:
        return _among_heads()
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
    return or_(events.c.ordering_key.is_(None), ~exists(earlier))


def _among_heads() -> Any:
    """PostgreSQL: every key's head found in one pass, as an array computed once per statement
    (an InitPlan), so no plan, however wrong a fresh table's statistics under a burst, can
    re-run a correlated subquery for every candidate row."""
    unfinished = (
        select(
            events.c.id,
            events.c.ordering_key,
            func.row_number()
            .over(partition_by=events.c.ordering_key, order_by=events.c.id)
            .label("place"),
        )
        .where(events.c.status.in_([s.value for s in UNFINISHED]))
        .subquery("unfinished")
    )
    heads = (
        select(unfinished.c.id)
        .where(or_(unfinished.c.place == 1, unfinished.c.ordering_key.is_(None)))
        .subquery("heads")
    )
    ids = cast(select(func.array_agg(heads.c.id)).scalar_subquery(), ARRAY(BigInteger))
    return events.c.id == any_(ids)


def due_pending(*, postgresql: bool = False) -> Any:
    """Ids of pending head rows due by ``now``, earliest due first, at most ``limit``.

    Ordered as the (status, next_attempt_at) index is, so the database walks the index and
    stops after ``limit`` rows, whatever the backlog; ordering by id instead made it read and
    sort every pending row on each claim. Any order is correct here: per-key order comes from
    the head condition.
    """
    return (
        select(events.c.id)
        .where(
            events.c.status == Status.PENDING.value,
            events.c.next_attempt_at <= bindparam("now", type_=Float),
            _is_head(postgresql),
        )
        .order_by(events.c.next_attempt_at, events.c.id)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )


def expired_leases(*, postgresql: bool = False) -> Any:
    """Ids of processing head rows whose lease ran out by ``now`` (their worker died)."""
    return (
        select(events.c.id)
        .where(
            events.c.status == Status.PROCESSING.value,
            events.c.lease_expires_at < bindparam("now", type_=Float),
            _is_head(postgresql),
        )
        .order_by(events.c.id)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )


def _listed(postgresql: bool) -> Any:
    """The row's id is in the bound list ``ids``.

    SQLite takes the list as one JSON array, so the statement's text stays the same for any
    number of ids and can be compiled once; PostgreSQL expands it.
    """
    if postgresql:
        return events.c.id.in_(bindparam("ids", expanding=True))
    listed = func.json_each(bindparam("ids", type_=JSON)).table_valued("value")
    return events.c.id.in_(select(listed.c.value))


def lease(*, postgresql: bool = False) -> Any:
    """UPDATE … RETURNING that leases the listed rows (bound: ids, worker, until)."""
    return (
        update(events)
        .where(_listed(postgresql))
        .values(
            status=Status.PROCESSING.value,
            lease_owner=bindparam("worker", type_=String),
            lease_expires_at=bindparam("until", type_=Float),
            attempts=events.c.attempts + 1,
        )
        .returning(*events.c)
    )


def finish(*, postgresql: bool = False) -> Any:
    """UPDATE … RETURNING (id, attempts) of the listed rows this worker still holds (bound
    values: ids, worker, status, error, next_attempt_at, finished_at)."""
    return (
        update(events)
        .where(
            _listed(postgresql),
            events.c.lease_owner == bindparam("worker", type_=String),
            events.c.status == Status.PROCESSING.value,
        )
        .values(
            status=bindparam("status", type_=String),
            lease_owner=None,
            lease_expires_at=None,
            last_error=bindparam("error", type_=Text),
            next_attempt_at=bindparam("next_attempt_at", type_=Float),
            finished_at=bindparam("finished_at", type_=Float),
        )
        .returning(events.c.id, events.c.attempts)
    )
