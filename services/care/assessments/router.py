from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from services.care.assessments import service
from services.care.assessments.schemas import AssessmentCreate, AssessmentRead, TeamLatest
from shared.app import SessionDep
from shared.auth import CurrentUser
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/care/assessments", tags=["care: assessments"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Assess an agent (leads only)")
async def create_assessment(
    body: AssessmentCreate, session: SessionDep, user: CurrentUser
) -> AssessmentRead:
    return service.to_read(await service.create(session, user, body, datetime.now(UTC)))


@router.get("", summary="An agent's assessments, newest first")
async def list_assessments(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    agent_id: Annotated[str, Query(min_length=1)],
) -> Page[AssessmentRead]:
    rows, next_cursor = await service.history(session, user, agent_id, page)
    return Page(items=[service.to_read(a) for a in rows], next_cursor=next_cursor)


@router.get("/latest", summary="The latest assessment of each agent of a team (quadrant grid)")
async def latest_assessments(
    session: SessionDep, user: CurrentUser, team_id: Annotated[str, Query(min_length=1)]
) -> TeamLatest:
    return await service.latest_for_team(session, user, team_id)
