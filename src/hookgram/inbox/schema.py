"""How an existing inbox database compares with the tables this hookgram expects."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, Connection

from hookgram.inbox.models import metadata


def schema_problems(connection: Connection) -> list[str]:
    """What the database lacks of this hookgram's tables and columns (empty: current)."""
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    problems: list[str] = []
    for table in metadata.sorted_tables:
        if table.name not in existing:
            problems.append(f"table {table.name} missing")
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [column.name for column in table.columns if column.name not in present]
        if missing:
            problems.append(f"{table.name} lacks {', '.join(missing)}")
    return problems


def missing_sqlite_file(url: URL) -> bool:
    """True for a SQLite URL whose file does not exist (connecting would create it)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return False
    return not Path(str(url.database)).is_file()
