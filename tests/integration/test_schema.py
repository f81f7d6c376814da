"""The inbox schema: migrations on SQLite and PostgreSQL, and servers refusing a stale schema."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hookgram.config import load_settings
from hookgram.errors import SchemaError
from hookgram.inbox.engine import create_engine
from hookgram.inbox.models import NewEvent, metadata
from hookgram.inbox.schema import prepare, schema_state, upgrade
from hookgram.inbox.store import InboxStore


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of one backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inbox.db'}"
    return str(request.getfixturevalue("empty_postgres_url"))


@pytest.fixture
async def engine(empty_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the empty database."""
    engine = create_engine(load_settings(database_url=empty_url).database_url)
    yield engine
    await engine.dispose()


async def _stamp(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        await conn.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})


class TestMigrations:
    async def test_head_is_exactly_the_models(self, engine: AsyncEngine) -> None:
        """Upgrading an empty database gives the tables the code expects, nothing more or less."""
        state = await upgrade(engine)
        assert state.up_to_date
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
        assert differences == []

    async def test_upgrade_twice_changes_nothing(self, engine: AsyncEngine) -> None:
        """A second upgrade finds nothing to do and keeps the rows."""
        await upgrade(engine)
        await InboxStore(engine).put_many([NewEvent("telegram", "1", b"{}")], 1.0)
        assert (await upgrade(engine)).up_to_date
        assert [e.dedup_key for e in await InboxStore(engine).list()] == ["1"]

    async def test_tables_from_before_migrations_are_adopted(self, engine: AsyncEngine) -> None:
        """A database made before migrations existed is refused, then upgraded, rows kept."""
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await InboxStore(engine).put_many([NewEvent("telegram", "1", b"{}")], 1.0)
        with pytest.raises(SchemaError, match=r"no schema revision.*`hookgram db upgrade`"):
            await prepare(engine, migrate=False)
        assert (await upgrade(engine)).up_to_date
        assert [e.dedup_key for e in await InboxStore(engine).list()] == ["1"]

    async def test_schema_from_a_newer_hookgram_is_refused(self, engine: AsyncEngine) -> None:
        """A revision this hookgram does not know stops start-up, even with --migrate."""
        await _stamp(engine, "9999")
        for migrate in (False, True):
            with pytest.raises(SchemaError, match="newer hookgram migrated it; upgrade hookgram"):
                await prepare(engine, migrate=migrate)


class TestStartupCheck:
    async def test_fresh_sqlite_file_is_migrated_without_asking(self, tmp_path: Path) -> None:
        """A brand-new SQLite file gets the schema at start-up (zero-setup `hookgram run`)."""
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
        try:
            await prepare(engine, migrate=False)
            assert (await schema_state(engine)).up_to_date
        finally:
            await engine.dispose()

    async def test_empty_postgres_is_migrated_only_when_asked(
        self, empty_postgres_url: str
    ) -> None:
        """An empty PostgreSQL database is refused, naming the command, or migrated on --migrate."""
        engine = create_engine(load_settings(database_url=empty_postgres_url).database_url)
        try:
            with pytest.raises(SchemaError, match=r"empty.*run `hookgram db upgrade`"):
                await prepare(engine, migrate=False)
            await prepare(engine, migrate=True)
            assert (await schema_state(engine)).up_to_date
            await prepare(engine, migrate=False)
        finally:
            await engine.dispose()

    async def test_concurrent_upgrades_on_postgres(self, empty_postgres_url: str) -> None:
        """Several processes starting with --migrate at once all succeed (they take turns)."""
        url = load_settings(database_url=empty_postgres_url).database_url
        engines = [create_engine(url) for _ in range(4)]
        try:
            async with asyncio.timeout(60):
                await asyncio.gather(*(prepare(e, migrate=True) for e in engines))
            assert (await schema_state(engines[0])).up_to_date
        finally:
            for e in engines:
                await e.dispose()
