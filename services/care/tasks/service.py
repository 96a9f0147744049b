"""Care tasks (being written): signal and roster triggers, the periodic scan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.care.settings import CareSettings
from shared.events import CloudEvent


async def apply_signal_batch(
    session: AsyncSession, events: list[CloudEvent], settings: CareSettings
) -> None:
    raise NotImplementedError


async def apply_roster_triggers(
    session: AsyncSession, events: list[CloudEvent], settings: CareSettings
) -> None:
    raise NotImplementedError


async def scan(session: AsyncSession, settings: CareSettings, now: datetime) -> None:
    raise NotImplementedError
