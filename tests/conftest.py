"""Real infrastructure for the whole suite: one PostgreSQL server and one Kafka-protocol broker.

``TEST_DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` point at external ones; otherwise the
embedded PostgreSQL (pgserver) and Tansu broker are started once per session. Each service gets
a fresh database with its Alembic migrations applied, never ``create_all``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.app import get_session
from shared.auth import TokenVerifier
from shared.db import make_sessionmaker
from shared.embedded import EmbeddedKafka, EmbeddedPostgres, database_url, free_port
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA_DIR = ROOT / ".data" / "test"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    server = EmbeddedPostgres(TEST_DATA_DIR / "postgres")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    broker = EmbeddedKafka(port=free_port(), log_dir=TEST_DATA_DIR)
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def embedded_kafka_factory() -> Iterator[type[EmbeddedKafka]]:
    """For tests that must stop and restart a broker of their own."""
    yield EmbeddedKafka


async def recreate_database(server_url: str, name: str) -> str:
    """Drop and create ``name`` on the test server; returns its asyncpg SQLAlchemy URL."""
    await drop_database(server_url, name)
    admin_url = make_url(database_url(server_url, "postgres")).set(drivername="postgresql")
    conn = await asyncpg.connect(admin_url.render_as_string(hide_password=False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url(server_url, name)


async def migrate(alembic_ini: Path, url: str) -> None:
    config = Config(str(alembic_ini))
    config.attributes["database_url"] = url
    # env.py runs its own event loop; give it a thread of its own.
    await asyncio.to_thread(command.upgrade, config, "head")


@pytest.fixture(scope="session")
def worker_suffix() -> str:
    return str(os.getpid())


@pytest.fixture(scope="session")
async def migrated_database(pg_server_url: str, worker_suffix: str) -> AsyncIterator[object]:
    """Returns ``create(service) -> url``: a fresh, migrated database per service and session."""
    created: dict[str, str] = {}

    async def create(service: str, *, suffix: str = "") -> str:
        key = service + suffix
        if key not in created:
            name = f"callpulse_test_{service}{suffix}_{worker_suffix}"
            url = await recreate_database(pg_server_url, name)
            await migrate(ROOT / "services" / service / "alembic.ini", url)
            created[key] = url
        return created[key]

    try:
        yield create
    finally:
        for url in created.values():
            await drop_database(pg_server_url, make_url(url).database)


async def drop_database(server_url: str, name: str | None) -> None:
    admin_url = make_url(database_url(server_url, "postgres")).set(drivername="postgresql")
    conn = await asyncpg.connect(admin_url.render_as_string(hide_password=False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def rolled_back_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back at the end (autoflush off,
    as in production)."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(
            bind=conn,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            autoflush=False,
        )
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()


def wire_app(app: FastAPI, settings: ServiceSettings, engine: AsyncEngine, session: AsyncSession):
    """Give an app (without its lifespan) the state it needs and the test's session.

    Same contract as production, one savepoint per request: released on success, rolled back
    on error (so a failed request changes nothing the test set up).
    """
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.token_verifier = TokenVerifier(settings)
    app.state.outbox_relay = None

    async def test_session() -> AsyncIterator[AsyncSession]:
        savepoint = await session.begin_nested()
        try:
            yield session
        except BaseException:
            # a failed flush leaves the savepoint inactive but open: roll it back all the same
            if savepoint.is_active or session.in_nested_transaction():
                await savepoint.rollback()
            raise
        else:
            if savepoint.is_active:
                await savepoint.commit()

    app.dependency_overrides[get_session] = test_session
    return app
