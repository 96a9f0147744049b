"""The identities in memory, for the adapters' resolvers (no query per record).

Every gateway replica keeps its own copy and refreshes it from the table the roster consumer
writes (whichever replica consumed the change): each ``identities_refresh_s`` it compares the
table's fingerprint and reloads when it moved, and reloads regardless every
``FULL_RELOAD_S`` (two replicas' consumers committing out of order could leave the
fingerprint where a reader saw it last).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.cti.identities import service
from services.gateway.settings import GatewaySettings

log = structlog.get_logger("cti.identities")

FULL_RELOAD_S = 30.0


class IdentityDirectory:
    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], str] = {}
        self._fingerprint: service.Fingerprint | None = None
        self._loaded_at = float("-inf")

    def resolve(self, system: str, external_id: str, /) -> str | None:
        """The person behind ``external_id`` in CTI ``system``, or None (a resolver)."""
        return self._ids.get((system, external_id))

    async def refresh(self, sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
        """Reload when the table changed (or a full reload is due); True when it reloaded."""
        async with sessionmaker() as session:
            current = await service.fingerprint(session)
            stale = time.monotonic() - self._loaded_at > FULL_RELOAD_S
            if current == self._fingerprint and not stale:
                return False
            self._ids = await service.load(session)
        self._fingerprint = current
        self._loaded_at = time.monotonic()
        return True


def identities_resource(
    settings: GatewaySettings,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def keep_directory(app: FastAPI) -> AsyncIterator[None]:
        directory = IdentityDirectory()
        app.state.cti_identities = directory

        async def keep_fresh() -> None:
            while True:
                try:
                    if await directory.refresh(app.state.sessionmaker):
                        log.debug("identities reloaded")
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database is away: keep what we have
                    log.warning("identities refresh failed", error=str(exc))
                await asyncio.sleep(settings.identities_refresh_s)

        task = asyncio.create_task(keep_fresh(), name="cti-identities")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return keep_directory
