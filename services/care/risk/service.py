"""Attrition risk for the agents a caller oversees: load the facts in a few set-based queries,
then score each agent with the pure model (``risk.model``, where the factors are defined)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.care.access import check_team, led_teams
from services.care.directory.models import Person
from services.care.risk import model, repository
from services.care.risk.schemas import AgentRiskRead, RiskFactorRead, RiskReport
from services.care.settings import CareSettings
from shared.auth import Principal
from shared.errors import NotFound


async def team_risk(
    session: AsyncSession,
    principal: Principal,
    settings: CareSettings,
    team_id: str | None,
    now: datetime,
) -> RiskReport:
    """Leads see their teams, managers and admins all (or one); everyone else gets a 404.

    Without ``team_id`` a manager also sees agents between teams: nobody's agent is the one
    most easily missed.
    """
    weights = model.effective_weights(settings.risk_weights)
    if team_id is not None:
        check_team(principal, team_id)
        if not await repository.team_exists(session, team_id):
            raise NotFound(f"No care data for team {team_id}.")
        team_ids: list[str] | None = [team_id]
    else:
        led = led_teams(principal)
        team_ids = None if led is None else sorted(led)
    facts = await _facts(session, team_ids, now)
    local_now = now.astimezone(ZoneInfo(settings.center_timezone))
    rows = []
    for person, agent_facts in facts:
        risk = model.assess(agent_facts, weights, local_now)
        rows.append(
            AgentRiskRead(
                agent_id=person.id,
                name=person.name,
                team_id=person.team_id,
                score=risk.score,
                factors=[
                    RiskFactorRead(
                        factor=f.factor,
                        weight=f.weight,
                        active=f.active,
                        contribution=f.contribution,
                        evidence=f.evidence,
                    )
                    for f in risk.factors
                ],
            )
        )
    rows.sort(key=lambda r: (-r.score, r.name, r.agent_id))
    return RiskReport(as_of=now, team_id=team_id, weights=weights, agents=rows)


async def _facts(
    session: AsyncSession, team_ids: list[str] | None, now: datetime
) -> list[tuple[Person, model.AgentFacts]]:
    people = await repository.agents(session, team_ids)
    if not people:
        return []
    checkins: dict[str, list[model.CheckInFact]] = defaultdict(list)
    for agent_id, at, mood, stress in await repository.last_checkins(
        session, team_ids, now, model.MOOD_RUN
    ):
        checkins[agent_id].append(model.CheckInFact(at=at, mood=mood, stress=stress))
    hard_calls: dict[str, list[model.HardCall]] = defaultdict(list)
    breaches: dict[str, list[datetime]] = defaultdict(list)
    for agent_id, kind, at, facts in await repository.signals(
        session, team_ids, ("hard_call", "adherence_breach"), now - model.SIGNAL_LOOKBACK, now
    ):
        if kind == "hard_call":
            tags = facts.get("tags") if isinstance(facts, dict) else None
            hard_calls[agent_id].append(
                model.HardCall(at=at, tags=frozenset(t for t in tags or () if isinstance(t, str)))
            )
        else:
            breaches[agent_id].append(at)
    records = await repository.last_records(session, team_ids, now)
    denied = await repository.last_denied_leave(session, team_ids, now)
    return [
        (
            person,
            model.AgentFacts(
                hire_date=person.hire_date,
                known_since=person.known_since,
                checkins=tuple(checkins[person.id]),
                hard_calls=tuple(hard_calls[person.id]),
                adherence_breaches=tuple(breaches[person.id]),
                last_recognition_at=records.get(person.id, (None, None))[0],
                last_warning_at=records.get(person.id, (None, None))[1],
                last_leave_denied_at=denied.get(person.id),
            ),
        )
        for person in people
    ]
