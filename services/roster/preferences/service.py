"""Shift preferences: the "needs care" inputs (需求关怀) that planning honours.

They change no schedule by themselves and emit no event: planning reads them when it plans.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.access import can_read_personal
from services.roster.people import repository as people_repo
from services.roster.preferences.models import ShiftPreferences
from services.roster.preferences.schemas import PreferencesRead, PreferencesWrite, StartWindow
from shared.auth import Principal
from shared.errors import Forbidden, NotFound


async def _check_visible(session: AsyncSession, principal: Principal, person_id: str) -> None:
    person = await people_repo.get(session, person_id)
    if person is None or not can_read_personal(principal, person.id, person.team_id):
        raise NotFound(f"Person {person_id} not found.")


def to_read(person_id: str, prefs: ShiftPreferences | None) -> PreferencesRead:
    if prefs is None:
        return PreferencesRead(person_id=person_id, updated_at=None)
    return PreferencesRead(
        person_id=person_id,
        preferred_start_windows=[
            StartWindow.model_validate(w) for w in prefs.preferred_start_windows
        ],
        preferred_days_off=prefs.preferred_days_off,  # type: ignore[arg-type]
        max_consecutive_late_shifts=prefs.max_consecutive_late_shifts,
        updated_at=prefs.updated_at,
    )


async def get(session: AsyncSession, principal: Principal, person_id: str) -> PreferencesRead:
    await _check_visible(session, principal, person_id)
    return to_read(person_id, await session.get(ShiftPreferences, person_id))


async def put(
    session: AsyncSession, principal: Principal, person_id: str, data: PreferencesWrite
) -> PreferencesRead:
    """The person states their own preferences; managers and admins may record them too."""
    await _check_visible(session, principal, person_id)
    if principal.id != person_id and not principal.sees_everything:
        raise Forbidden("Preferences are stated by the person themself.")
    prefs = await session.get(ShiftPreferences, person_id, with_for_update=True)
    if prefs is None:
        prefs = ShiftPreferences(person_id=person_id)
        session.add(prefs)
    prefs.preferred_start_windows = [
        w.model_dump(mode="json") for w in data.preferred_start_windows
    ]
    prefs.preferred_days_off = list(data.preferred_days_off)
    prefs.max_consecutive_late_shifts = data.max_consecutive_late_shifts
    await session.flush()
    await session.refresh(prefs)
    return to_read(person_id, prefs)
