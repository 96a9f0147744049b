"""Leave requests: an agent asks, their team lead (or a manager) decides.

Approving leave empties the agent's schedules on those days (see
``schedules.service.clear_for_leave``), and approved leave blocks scheduling them again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.access import can_read_personal
from services.roster.db import outbox
from services.roster.leave import repository
from services.roster.leave.models import LeaveRequest
from services.roster.leave.schemas import LeaveCreate, LeaveRead
from services.roster.people import repository as people_repo
from services.roster.schedules import service as schedules_service
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, NotFound, RuleViolation
from shared.events import EventType, make_event
from shared.events.roster import LeaveDecided
from shared.pagination import PageParams


def to_read(leave: LeaveRequest) -> LeaveRead:
    return LeaveRead.model_validate(leave, from_attributes=True)


async def _agent_team(session: AsyncSession, agent_id: str) -> str | None:
    agent = await people_repo.get(session, agent_id)
    return agent.team_id if agent else None


async def get_visible(
    session: AsyncSession, principal: Principal, leave_id: str, *, for_update: bool = False
) -> LeaveRequest:
    leave = await repository.get(session, leave_id, for_update=for_update)
    if leave is None or not can_read_personal(
        principal, leave.agent_id, await _agent_team(session, leave.agent_id)
    ):
        raise NotFound(f"Leave request {leave_id} not found.")
    return leave


async def request(session: AsyncSession, principal: Principal, data: LeaveCreate) -> LeaveRequest:
    """Anyone asks for their own leave; nobody files a request in someone else's name."""
    person = await people_repo.get(session, principal.id)
    if person is None or person.status == "departed":
        raise Forbidden("Only current staff request leave.")
    if await repository.overlapping(session, person.id, data.start_date, data.end_date):
        raise RuleViolation(
            "overlapping_leave", "A pending or approved request already covers some of these days."
        )
    leave = LeaveRequest(
        agent_id=person.id,
        kind=data.kind,
        start_date=data.start_date,
        end_date=data.end_date,
        note=data.note,
        status="pending",
    )
    session.add(leave)
    await session.flush()
    await session.refresh(leave)
    return leave


async def decide(
    session: AsyncSession,
    principal: Principal,
    leave_id: str,
    *,
    approve: bool,
    reason: str | None,
    timezone: str,
) -> LeaveRequest:
    leave = await get_visible(session, principal, leave_id, for_update=True)
    team_id = await _agent_team(session, leave.agent_id)
    if (
        not (principal.sees_everything or principal.leads(team_id))
        or principal.id == leave.agent_id
    ):
        raise Forbidden("The agent's team lead, a manager or an admin decides leave.")
    if leave.status != "pending":
        raise Conflict(f"This request is already {leave.status}.")
    now = datetime.now(UTC)
    leave.status = "approved" if approve else "denied"
    leave.decided_by = principal.id
    leave.decided_at = now
    leave.decision_reason = reason
    leave.updated_at = now
    await session.flush()
    if approve:
        await schedules_service.clear_for_leave(
            session, leave.agent_id, leave.start_date, leave.end_date, timezone
        )
    data = LeaveDecided(
        leave_request_id=leave.id,
        agent_id=leave.agent_id,
        team_id=team_id,
        kind=leave.kind,
        start_date=leave.start_date,
        end_date=leave.end_date,
        status=leave.status,  # type: ignore[arg-type]
        reason=reason,
        decided_by=principal.id,
        decided_at=now,
    )
    await outbox.add(session, make_event(EventType.LEAVE_DECIDED, data, source="roster"))
    return leave


async def cancel(session: AsyncSession, principal: Principal, leave_id: str) -> LeaveRequest:
    leave = await get_visible(session, principal, leave_id, for_update=True)
    if leave.agent_id != principal.id:
        raise Forbidden("Only the person who asked cancels a request.")
    if leave.status != "pending":
        raise Conflict(f"This request is already {leave.status}.")
    leave.status = "cancelled"
    leave.updated_at = datetime.now(UTC)
    await session.flush()
    return leave


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    agent_id: str | None,
    status: str | None,
) -> tuple[list[LeaveRequest], str | None]:
    if principal.sees_everything:
        team_ids: list[str] | None = None
    else:
        team_ids = sorted(principal.team_ids) if principal.role == Role.TEAM_LEAD else []
    rows = await repository.list_requests(
        session,
        team_ids=team_ids,
        self_id=principal.id,
        agent_id=agent_id,
        status=status,
        after_id=page.after[0] if page.after else None,
        limit=page.limit,
    )
    return page.page(rows, key=lambda r: [r.id])
