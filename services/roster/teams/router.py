from __future__ import annotations

from fastapi import APIRouter, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.teams import service
from services.roster.teams.models import Team
from services.roster.teams.schemas import MembersAdd, TeamCreate, TeamRead, TeamUpdate
from shared.app import SessionDep
from shared.auth import CurrentUser
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/teams", tags=["teams"])


def _span_limit(request: Request) -> int:
    return request.app.state.settings.span_of_control_limit


async def _read(request: Request, session: AsyncSession, team: Team) -> TeamRead:
    return (await service.to_read(session, [team], _span_limit(request)))[0]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a team")
async def create_team(
    body: TeamCreate, request: Request, session: SessionDep, user: CurrentUser
) -> TeamRead:
    return await _read(request, session, await service.create(session, user, body))


@router.get("", summary="List the teams the caller may see")
async def list_teams(
    request: Request, session: SessionDep, user: CurrentUser, page: PageDep
) -> Page[TeamRead]:
    teams, next_cursor = await service.list_visible(session, user, page)
    items = await service.to_read(session, teams, _span_limit(request))
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{team_id}", summary="Read a team with its members and span of control")
async def get_team(
    team_id: str, request: Request, session: SessionDep, user: CurrentUser
) -> TeamRead:
    return await _read(request, session, await service.get_visible(session, user, team_id))


@router.patch("/{team_id}", summary="Rename a team or change its lead")
async def update_team(
    team_id: str, body: TeamUpdate, request: Request, session: SessionDep, user: CurrentUser
) -> TeamRead:
    return await _read(request, session, await service.update(session, user, team_id, body))


@router.post("/{team_id}/members", summary="Move people into the team")
async def add_members(
    team_id: str, body: MembersAdd, request: Request, session: SessionDep, user: CurrentUser
) -> TeamRead:
    return await _read(request, session, await service.add_members(session, user, team_id, body))


@router.delete("/{team_id}/members/{person_id}", summary="Take a person out of the team")
async def remove_member(
    team_id: str, person_id: str, request: Request, session: SessionDep, user: CurrentUser
) -> TeamRead:
    team = await service.remove_member(session, user, team_id, person_id)
    return await _read(request, session, team)
