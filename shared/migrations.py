"""Alembic plumbing shared by every service's ``migrations/env.py`` (async, online or offline)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.settings import ServiceSettings


def run_migrations(metadata: MetaData, settings: ServiceSettings) -> None:
    """Run the current Alembic command against the service's own database."""
    config = context.config
    url = config.attributes.get("database_url") or settings.sqlalchemy_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection, metadata)
        return

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(_run_sync, metadata)
            await conn.commit()
        await engine.dispose()

    asyncio.run(run_async())


def _run_sync(connection: Connection, metadata: MetaData) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
