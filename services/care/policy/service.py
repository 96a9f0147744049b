"""Degree-of-care policy per team: the settings' defaults until a manager sets the team's own."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.care.access import check_team
from services.care.directory.models import Team
from services.care.policy.models import CarePolicy
from services.care.policy.schemas import PolicyRead, PolicyWrite
from services.care.settings import CareSettings
from services.care.tasks.rules import Policy
from shared.auth import Principal
from shared.errors import Forbidden, NotFound


def default_policy(settings: CareSettings) -> Policy:
    return Policy(
        touch_interval_days=settings.touch_interval_days,
        max_interventions=settings.max_interventions,
        intervention_window_days=settings.intervention_window_days,
        checkin_interval_days=settings.checkin_interval_days,
        rule_cooldown_hours=dict(settings.rule_cooldown_hours),
    )


def _from_row(row: CarePolicy) -> Policy:
    return Policy(
        touch_interval_days=row.touch_interval_days,
        max_interventions=row.max_interventions,
        intervention_window_days=row.intervention_window_days,
        checkin_interval_days=row.checkin_interval_days,
        rule_cooldown_hours=dict(row.rule_cooldown_hours),
    )


async def policies_for(
    session: AsyncSession, settings: CareSettings, team_ids: Iterable[str | None]
) -> dict[str | None, Policy]:
    """Each team's effective policy (``None``, no team, gets the defaults)."""
    team_ids = list(team_ids)
    wanted = {t for t in team_ids if t is not None}
    rows = (
        await session.scalars(select(CarePolicy).where(CarePolicy.team_id.in_(wanted)))
        if wanted
        else []
    )
    found = {row.team_id: _from_row(row) for row in rows}
    default = default_policy(settings)
    return {t: found.get(t, default) if t else default for t in {*team_ids}}


async def policy_for(session: AsyncSession, settings: CareSettings, team_id: str | None) -> Policy:
    return (await policies_for(session, settings, [team_id]))[team_id]


async def read(
    session: AsyncSession, settings: CareSettings, principal: Principal, team_id: str
) -> PolicyRead:
    check_team(principal, team_id)
    if await session.get(Team, team_id) is None:
        raise NotFound(f"No team {team_id}.")
    row = await session.get(CarePolicy, team_id, populate_existing=True)
    policy = _from_row(row) if row else default_policy(settings)
    return PolicyRead(
        team_id=team_id,
        source="team" if row else "default",
        touch_interval_days=policy.touch_interval_days,
        max_interventions=policy.max_interventions,
        intervention_window_days=policy.intervention_window_days,
        checkin_interval_days=policy.checkin_interval_days,
        rule_cooldown_hours=policy.rule_cooldown_hours,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


async def write(
    session: AsyncSession,
    settings: CareSettings,
    principal: Principal,
    team_id: str,
    data: PolicyWrite,
) -> PolicyRead:
    check_team(principal, team_id)
    if not principal.sees_everything:
        raise Forbidden("Managers and admins set a team's care policy.")
    if await session.get(Team, team_id) is None:
        raise NotFound(f"No team {team_id}.")
    values = data.model_dump() | {"updated_by": principal.id}
    stmt = insert(CarePolicy).values(team_id=team_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[CarePolicy.team_id], set_=values)
    )
    return await read(session, settings, principal, team_id)
