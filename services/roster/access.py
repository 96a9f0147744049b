"""Who may see and change which roster objects (DESIGN §6).

- agents: their own person record, schedule, leave and preferences;
- team leads: the people of the teams they lead (and themselves);
- managers and admins: everything;
- ops, qa and trainers: read the directory (people, teams) and schedules, change nothing.

What a caller may not see is reported as 404, never as 403, so ids cannot be probed.
"""

from __future__ import annotations

from shared.auth import Principal, Role

DIRECTORY_READERS = frozenset({Role.OPS, Role.QA, Role.TRAINER})


def can_read_person(principal: Principal, person_id: str, team_id: str | None) -> bool:
    if principal.sees_everything or principal.id == person_id:
        return True
    if principal.role in DIRECTORY_READERS:
        return True
    return principal.leads(team_id)


def can_manage_person(principal: Principal, person_id: str, team_id: str | None) -> bool:
    """Change a person's record, schedule, leave decisions: their lead or a manager/admin."""
    if principal.sees_everything:
        return True
    return principal.leads(team_id) and principal.id != person_id


def can_read_personal(principal: Principal, person_id: str, team_id: str | None) -> bool:
    """Leave and preferences: the person, their lead, managers and admins; nobody else."""
    return principal.sees_everything or principal.id == person_id or principal.leads(team_id)


def can_read_schedule(principal: Principal, person_id: str, team_id: str | None) -> bool:
    if principal.role == Role.OPS:
        return True
    return can_read_personal(principal, person_id, team_id)
