"""Who may see which stream event (DESIGN §6). The stream never shows more than the REST API:

- ``agent_state`` follows ``GET /v1/realtime/agents``: everyone sees their own state; team leads
  the agents of the teams they lead (``team_ids`` in their token); ops, QA, managers and admins
  every agent. Agents and trainers see no one else.
- ``queue_snapshot`` follows ``GET /v1/realtime/queues``: team leads, ops, QA, managers and
  admins. Queue figures are not personal, but they are floor management data the metrics
  service keeps from agents and trainers, and the stream keeps them too.
- ``care_task`` follows the care service's task rules: managers and admins every task, team
  leads the tasks of their teams and those assigned to them, and never the agent the task is
  about. Ops, QA, trainers and agents never see care tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.auth import Principal, Role


class Kind(StrEnum):
    AGENT_STATE = "agent_state"
    QUEUE_SNAPSHOT = "queue_snapshot"
    CARE_TASK = "care_task"


@dataclass(frozen=True, slots=True)
class Audience:
    """What an event is about, as far as deciding who may see it goes."""

    agent_id: str | None = None
    team_id: str | None = None
    assignee_id: str | None = None


FLOOR_ROLES = frozenset({Role.OPS, Role.QA, Role.MANAGER, Role.ADMIN})
"""Read every agent's real-time state and every queue."""
QUEUE_ROLES = FLOOR_ROLES | {Role.TEAM_LEAD}
CARE_TASK_ROLES = frozenset({Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN})


def may_see(principal: Principal, kind: Kind, audience: Audience) -> bool:
    if kind is Kind.AGENT_STATE:
        return (
            principal.role in FLOOR_ROLES
            or principal.id == audience.agent_id
            or principal.leads(audience.team_id)
        )
    if kind is Kind.QUEUE_SNAPSHOT:
        return principal.role in QUEUE_ROLES
    return (
        principal.role in CARE_TASK_ROLES
        and principal.id != audience.agent_id
        and (
            principal.sees_everything
            or principal.leads(audience.team_id)
            or principal.id == audience.assignee_id
        )
    )
