"""Alembic's entry point: runs the migrations on the connection hookgram hands over.

``hookgram db upgrade`` (and ``--migrate``) pass an open connection in
``config.attributes["connection"]``; the ``alembic`` command itself (for writing a new
revision, see ``alembic.ini`` here) connects to ``sqlalchemy.url`` with an async engine.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from hookgram.inbox.models import metadata


def run_on(connection: Connection) -> None:
    """Run the pending migrations in the connection's transaction."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: later revisions rebuild tables in batch mode.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    """Connect to ``url`` (the ``alembic`` command's path) and migrate."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    run_on(given)
else:
    asyncio.run(run_from_url(context.config.get_main_option("sqlalchemy.url") or ""))
