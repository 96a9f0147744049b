from __future__ import annotations

from fastapi import APIRouter

from services.roster.preferences import service
from services.roster.preferences.schemas import PreferencesRead, PreferencesWrite
from shared.app import SessionDep
from shared.auth import CurrentUser

router = APIRouter(prefix="/v1/people/{person_id}/preferences", tags=["preferences"])


@router.get("", summary="Read a person's shift preferences")
async def get_preferences(
    person_id: str, session: SessionDep, user: CurrentUser
) -> PreferencesRead:
    return await service.get(session, user, person_id)


@router.put("", summary="State shift preferences (the person themself)")
async def put_preferences(
    person_id: str, body: PreferencesWrite, session: SessionDep, user: CurrentUser
) -> PreferencesRead:
    return await service.put(session, user, person_id, body)
