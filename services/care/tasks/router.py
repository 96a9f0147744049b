from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.care.tasks import service
from services.care.tasks.schemas import (
    TaskComplete,
    TaskDismiss,
    TaskRead,
    TaskStatus,
    TriggerRead,
)
from shared.app import SessionDep
from shared.auth import CurrentUser
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/care/tasks", tags=["care: tasks"])

IdQuery = Annotated[str | None, Query(max_length=36)]


@router.get("", summary="Care tasks the caller oversees, newest first")
async def list_tasks(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    status: Annotated[TaskStatus | None, Query()] = None,
    agent_id: IdQuery = None,
    team_id: IdQuery = None,
    rule: Annotated[str | None, Query(max_length=32)] = None,
) -> Page[TaskRead]:
    items, cursor = await service.list_visible(
        session, user, page, status=status, agent_id=agent_id, team_id=team_id, rule=rule
    )
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/suppressed",
    summary="Triggers merged into an open task, deferred by the cap, or inside a cool-down",
)
async def list_suppressed(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    agent_id: IdQuery = None,
    team_id: IdQuery = None,
) -> Page[TriggerRead]:
    items, cursor = await service.list_suppressed(
        session, user, page, agent_id=agent_id, team_id=team_id
    )
    return Page(items=items, next_cursor=cursor)


@router.get("/{task_id}", summary="Read a care task")
async def get_task(task_id: str, session: SessionDep, user: CurrentUser) -> TaskRead:
    return service.to_read(await service.get_visible(session, user, task_id))


@router.post("/{task_id}/complete", summary="Done, with the care record that answered it")
async def complete_task(
    task_id: str, body: TaskComplete, session: SessionDep, user: CurrentUser
) -> TaskRead:
    return await service.complete(session, user, task_id, body.record_id)


@router.post("/{task_id}/dismiss", summary="Dismiss, with a reason")
async def dismiss_task(
    task_id: str, body: TaskDismiss, session: SessionDep, user: CurrentUser
) -> TaskRead:
    return await service.dismiss(session, user, task_id, body.reason)
