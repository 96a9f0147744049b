from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from services.roster.leave import service
from services.roster.leave.schemas import (
    LeaveApprove,
    LeaveCreate,
    LeaveDeny,
    LeaveRead,
    LeaveStatus,
)
from shared.app import SessionDep
from shared.auth import CurrentUser
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/leave-requests", tags=["leave"])


def _timezone(request: Request) -> str:
    return request.app.state.settings.center_timezone


@router.post("", status_code=status.HTTP_201_CREATED, summary="Request leave for yourself")
async def request_leave(body: LeaveCreate, session: SessionDep, user: CurrentUser) -> LeaveRead:
    return service.to_read(await service.request(session, user, body))


@router.get("", summary="List leave requests the caller may see")
async def list_leave(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    agent_id: Annotated[str | None, Query()] = None,
    status: Annotated[LeaveStatus | None, Query()] = None,
) -> Page[LeaveRead]:
    rows, next_cursor = await service.list_visible(
        session, user, page, agent_id=agent_id, status=status
    )
    return Page(items=[service.to_read(r) for r in rows], next_cursor=next_cursor)


@router.get("/{leave_id}", summary="Read a leave request")
async def get_leave(leave_id: str, session: SessionDep, user: CurrentUser) -> LeaveRead:
    return service.to_read(await service.get_visible(session, user, leave_id))


@router.post("/{leave_id}/approve", summary="Approve (clears the agent's schedules those days)")
async def approve_leave(
    leave_id: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    body: LeaveApprove | None = None,
) -> LeaveRead:
    leave = await service.decide(
        session,
        user,
        leave_id,
        approve=True,
        reason=body.reason if body else None,
        timezone=_timezone(request),
    )
    return service.to_read(leave)


@router.post("/{leave_id}/deny", summary="Deny, with a reason")
async def deny_leave(
    leave_id: str, body: LeaveDeny, request: Request, session: SessionDep, user: CurrentUser
) -> LeaveRead:
    leave = await service.decide(
        session, user, leave_id, approve=False, reason=body.reason, timezone=_timezone(request)
    )
    return service.to_read(leave)


@router.post("/{leave_id}/cancel", summary="Withdraw your own pending request")
async def cancel_leave(leave_id: str, session: SessionDep, user: CurrentUser) -> LeaveRead:
    return service.to_read(await service.cancel(session, user, leave_id))
