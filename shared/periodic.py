"""A job that runs every few seconds in its own transaction, one replica at a time.

Time-driven rules (e.g. "still on break after 15 minutes") need a clock as well as events.
A transaction-scoped advisory lock keeps replicas from scanning at the same moment; the jobs
themselves must still be idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger("periodic")

Job = Callable[[AsyncSession, datetime], Awaitable[None]]


class PeriodicJob:
    def __init__(
        self,
        *,
        name: str,
        interval_s: float,
        job: Job,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        self.name = name
        self._interval_s = interval_s
        self._job = job
        self._sessionmaker = sessionmaker
        self._lock_key = zlib.crc32(f"periodic:{name}".encode())
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"periodic-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run_once(self, now: datetime | None = None) -> bool:
        """Run the job unless another replica holds the lock; True when it ran."""
        async with self._sessionmaker() as session, session.begin():
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(self._lock_key))):
                return False
            await self._job(session, now or datetime.now(UTC))
            return True

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("periodic job failed", job=self.name, error=str(exc))
            await asyncio.sleep(self._interval_s)
