"""Statements run by SQLite's driver: the same rows as through SQLAlchemy, errors as its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from hookgram.inbox.prepared import DriverStatement

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False),
    Column("data", JSON, nullable=False),
    Column("blob", LargeBinary, nullable=True),
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file with the table."""
    engine = create_engine(f"sqlite:///{tmp_path / 'things.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_rows_written_by_the_driver_read_back_through_sqlalchemy(engine: Engine) -> None:
    """JSON is encoded as SQLAlchemy's JSON type encodes it, bytes and text stay as given."""
    put = DriverStatement.compile(
        insert(things), engine.dialect, column_keys=["name", "data", "blob"]
    )
    data = {"x-header": "é", "n": [1, 2]}
    with engine.begin() as conn:
        put.execute_many(conn, [("a", data, b"\x00\xff")])
        row = conn.execute(select(things.c.name, things.c.data, things.c.blob)).one()
    assert tuple(row) == ("a", data, b"\x00\xff")


def test_rows_written_by_sqlalchemy_read_back_through_the_driver(engine: Engine) -> None:
    """RETURNING rows come back decoded, ids bound as one JSON list, however many there are."""
    with engine.begin() as conn:
        conn.execute(insert(things), [{"name": f"n{i}", "data": {"i": i}} for i in range(5)])
    # The ids bound as one JSON list, as the store's lease and finish bind them.
    listed_ids = func.json_each(bindparam("ids", type_=JSON)).table_valued("value")
    rename = DriverStatement.compile(
        update(things)
        .where(things.c.id.in_(select(listed_ids.c.value)))
        .values(name=bindparam("name", type_=String))
        .returning(things.c.id, things.c.data),
        engine.dialect,
        bound=("ids", "name"),
    )
    listed = DriverStatement.compile(
        select(things.c.id, things.c.data)
        .where(things.c.name == bindparam("name", type_=String))
        .order_by(things.c.id),
        engine.dialect,
        bound=("name",),
    )
    with engine.begin() as conn:
        ids = [r.id for r in conn.execute(select(things.c.id).order_by(things.c.id))]
        assert rename.rows(conn, {"ids": [], "name": "none"}) == []
        renamed = rename.rows(conn, {"ids": ids[1:3], "name": "picked"})
        assert sorted(renamed) == [(ids[1], {"i": 1}), (ids[2], {"i": 2})]
        assert listed.rows(conn, {"name": "picked"}) == [(ids[1], {"i": 1}), (ids[2], {"i": 2})]


def test_driver_errors_reach_callers_as_sqlalchemy_errors(engine: Engine) -> None:
    """The store's callers catch SQLAlchemy's errors (a worker backs off on them), so a failed
    statement on the driver path must raise one, with the transaction rolled back."""
    put = DriverStatement.compile(insert(things), engine.dialect, column_keys=["name", "data"])
    with pytest.raises(IntegrityError), engine.begin() as conn:
        put.execute_many(conn, [("kept", {}), (None, {})])
    with engine.connect() as conn:
        assert conn.execute(select(things.c.name)).all() == []


def test_rows_must_list_their_values_in_the_statements_order(engine: Engine) -> None:
    """Rows are plain tuples, so column keys out of the SQL text's order are refused."""
    with pytest.raises(ValueError, match="name, data"):
        DriverStatement.compile(insert(things), engine.dialect, column_keys=["data", "name"])


def test_a_type_the_driver_would_get_wrong_is_refused_when_compiled(engine: Engine) -> None:
    """A column whose values SQLAlchemy converts (here a datetime) cannot take the fast path."""
    stamped = Table("stamped", MetaData(), Column("at", DateTime), Column("n", Integer))
    with pytest.raises(TypeError, match="at: DATETIME"):
        DriverStatement.compile(insert(stamped), engine.dialect, column_keys=["at", "n"])
    with pytest.raises(TypeError, match=r"stamped\.at"):
        DriverStatement.compile(select(stamped.c.n, stamped.c.at), engine.dialect)
