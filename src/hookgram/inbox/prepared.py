"""The store's busiest statements, prepared once: run by SQLAlchemy, or on SQLite by the driver.

Through SQLAlchemy, each execution of a small statement costs more than SQLite's own work:
the cache key walked again, every parameter and result row processed, the expanding ``IN``
lists rendered anew. On SQLite the hot statements (the insert of new events and the worker
step's claim, lease, finish and attempt records) are therefore compiled once, as the very
same SQLAlchemy constructs, and executed as SQL text with positional tuples. Values of JSON
columns are encoded and decoded here (JSON text, which SQLAlchemy's JSON type reads back
alike); any other type that would need a conversion is refused when the statement is
compiled. Other databases run the constructs through SQLAlchemy; both forms answer rows as
plain tuples.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from sqlalchemy import JSON, Connection, Executable, Float, LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine


class Prepared(Protocol):
    """A statement ready to run inside a transaction."""

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute once; the result rows (none for a statement that returns none)."""
        ...

    def execute_many(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Execute once per row, in one call: each row's values in ``column_keys`` order."""
        ...


def prepare(
    statement: Executable,
    dialect: Dialect,
    *,
    bound: Iterable[str] = (),
    column_keys: Sequence[str] | None = None,
) -> Prepared:
    """The driver form on SQLite, SQLAlchemy's elsewhere; ``bound`` as in DriverStatement."""
    if dialect.name == "sqlite":
        return DriverStatement.compile(statement, dialect, bound=bound, column_keys=column_keys)
    return BoundStatement(statement, tuple(column_keys or ()))


@dataclass(frozen=True, slots=True)
class BoundStatement:
    """A statement run by SQLAlchemy, parameters and rows processed by their types."""

    statement: Executable
    column_keys: tuple[str, ...] = ()

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute once; the result rows (none for a statement that returns none)."""
        result = conn.execute(self.statement, dict(values))
        return [tuple(r) for r in result] if result.returns_rows else []

    def execute_many(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Execute once per row (SQLAlchemy batches the rows as the driver allows)."""
        keys = self.column_keys
        conn.execute(self.statement, [dict(zip(keys, r, strict=True)) for r in rows])


class DriverStatement:
    """A statement compiled once to SQL text, run by the driver with positional tuples."""

    __slots__ = ("_decoded", "_encoded", "_fixed", "_names", "sql")

    def __init__(
        self,
        sql: str,
        names: Sequence[str],
        fixed: Mapping[str, Any],
        encoded: Iterable[str],
        decoded: Iterable[int],
        column_keys: Sequence[str] = (),
    ) -> None:
        self.sql = sql
        self._fixed = dict(fixed)  # the values the statement itself holds (constants)
        self._names = tuple(names)  # the parameters, in the order the SQL text takes them
        json_names = set(encoded)
        self._encoded = tuple(i for i, name in enumerate(names) if name in json_names)
        self._decoded = tuple(decoded)  # result columns of JSON type
        # execute_many's rows are laid out as the SQL text takes them: so must column_keys be.
        if column_keys and tuple(column_keys) != self._names:
            raise ValueError(f"list column_keys in the table's order: {', '.join(names)}")

    @classmethod
    def compile(
        cls,
        statement: Executable,
        dialect: Dialect,
        *,
        bound: Iterable[str] = (),
        column_keys: Sequence[str] | None = None,
    ) -> DriverStatement:
        """Compile ``statement``; ``bound`` names the parameters given at each execution."""
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        assert isinstance(compiled, SQLCompiler)
        bound = {*bound, *(column_keys or ())}
        state = compiled.construct_expanded_state(dict.fromkeys(bound))
        encoded = set()
        for name, bind in compiled.binds.items():
            if _is_json(bind.type, dialect):
                encoded.add(name)
            elif not _unconverted(bind.type, dialect):
                raise TypeError(f"{name}: {bind.type} needs a conversion the driver path lacks")
        columns = list(getattr(statement, "exported_columns", ()))
        for column in columns:
            if not (_is_json(column.type, dialect) or _unconverted(column.type, dialect)):
                raise TypeError(f"{column}: {column.type} needs a conversion the driver lacks")
        decoded = [i for i, c in enumerate(columns) if _is_json(c.type, dialect)]
        fixed = {k: v for k, v in state.parameters.items() if k not in bound}
        names = tuple(state.positiontup or ())
        return cls(state.statement, names, fixed, encoded, decoded, column_keys or ())

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters for one execution."""
        merged = {**self._fixed, **values} if self._fixed else values
        return self._encode([merged[name] for name in self._names])

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute once; the result rows (none for a statement that returns none)."""
        parameters = self.parameters(values)
        with self._cursor(conn, parameters) as cursor:
            cursor.execute(self.sql, parameters)
            rows = [tuple(r) for r in cursor.fetchall()] if cursor.description else []
        if self._decoded:
            rows = [self._decode(r) for r in rows]
        return rows

    def execute_many(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Execute once per row, in one call to the driver: each row's values in the order of
        ``column_keys``, which is the SQL text's (rows return nothing)."""
        parameters = [self._encode(list(r)) for r in rows] if self._encoded else rows
        with self._cursor(conn, parameters) as cursor:
            cursor.executemany(self.sql, parameters)

    @contextlib.contextmanager
    def _cursor(self, conn: Connection, parameters: Sequence[Any]) -> Iterator[DBAPICursor]:
        """A cursor of the connection's own transaction; driver errors raised as SQLAlchemy's
        (what callers catch), closed afterwards."""
        cursor = conn.connection.cursor()
        try:
            yield cursor
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                self.sql, parameters, exc, conn.dialect.loaded_dbapi.Error
            ) from exc
        finally:
            cursor.close()

    def _encode(self, values: list[Any]) -> tuple[Any, ...]:
        """Positional parameters with the JSON ones encoded (``values`` is reused)."""
        for i in self._encoded:
            values[i] = orjson.dumps(values[i]).decode()
        return tuple(values)

    def _decode(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for i in self._decoded:
            if values[i] is not None:
                values[i] = orjson.loads(values[i])
        return tuple(values)


def _is_json(type_: TypeEngine[Any], dialect: Dialect) -> bool:
    return isinstance(type_.dialect_impl(dialect), JSON)


def _unconverted(type_: TypeEngine[Any], dialect: Dialect) -> bool:
    """True when the driver takes and gives this type's Python values unchanged.

    Floats and bytes count: SQLAlchemy's processors only turn a Decimal into a float and
    a buffer into bytes, and the store passes floats and bytes (which sqlite3 gives back).
    """
    impl = type_.dialect_impl(dialect)
    if isinstance(impl, LargeBinary) or (isinstance(impl, Float) and not impl.asdecimal):
        return True
    return impl.bind_processor(dialect) is None and impl.result_processor(dialect, None) is None
