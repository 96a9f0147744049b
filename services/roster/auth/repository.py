"""Failed sign-ins per employee number (``login_throttle``), shared by every replica."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.people.models import LoginThrottle


async def locked_until(session: AsyncSession, employee_no: str) -> datetime | None:
    """Also row-locks the employee number's record, so concurrent attempts for it queue up."""
    return await session.scalar(
        select(LoginThrottle.locked_until)
        .where(LoginThrottle.employee_no == employee_no)
        .with_for_update()
    )


async def record_failure(
    session: AsyncSession,
    employee_no: str,
    *,
    now: datetime,
    window: timedelta,
    max_failures: int,
) -> None:
    """Count a failure in the current window (a new window once the last one is over) and lock
    the employee number for ``window`` when the count reaches ``max_failures``."""
    window_over = LoginThrottle.first_failure_at <= now - window
    failures = case((window_over, 1), else_=LoginThrottle.failures + 1)
    upsert = insert(LoginThrottle).values(
        employee_no=employee_no,
        failures=1,
        first_failure_at=now,
        locked_until=now + window if max_failures <= 1 else None,
    )
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=[LoginThrottle.employee_no],
            set_={
                "failures": failures,
                "first_failure_at": case((window_over, now), else_=LoginThrottle.first_failure_at),
                "locked_until": case((failures >= max_failures, now + window), else_=None),
            },
        )
    )


async def clear(session: AsyncSession, employee_no: str) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.employee_no == employee_no))
