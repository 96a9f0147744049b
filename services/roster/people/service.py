"""People: the roster's records of agents, leads and staff, and who may change what.

- Managers and admins create and change anyone; only admins grant or take away the admin and
  manager roles, and only admins depart an admin or a manager. The last active admin stays.
- Team leads create, change and depart the agents of the teams they lead, and keep them in one
  of those teams.
- Departure closes the record, never deletes it: the person leaves their team, the teams they
  lead lose their lead, their mentorships end.
- The personality colour and the departure reason are team-leader aids, shown only to the
  person's lead, managers and admins.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.access import can_manage_person, can_read_person
from services.roster.events import emit_mentorship_event, emit_person_event, emit_team_changed
from services.roster.mentorships import repository as mentorships_repo
from services.roster.people import repository
from services.roster.people.models import (
    LEAD_ROLES,
    Certification,
    Person,
    PersonExternalId,
    PersonSkill,
)
from services.roster.people.passwords import hash_password
from services.roster.people.schemas import (
    CertificationRead,
    PersonCreate,
    PersonRead,
    PersonUpdate,
    Skill,
)
from services.roster.teams import repository as teams_repo
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, NotFound, RuleViolation
from shared.events import EventType
from shared.pagination import PageParams

PRIVILEGED_ROLES = frozenset({"admin", "manager"})
NESTED_FIELDS = frozenset({"external_ids", "skills", "certifications"})


def _shows_private(principal: Principal, person: Person) -> bool:
    return principal.sees_everything or (
        principal.leads(person.team_id) and principal.id != person.id
    )


def to_read(principal: Principal, person: Person) -> PersonRead:
    private = _shows_private(principal, person)
    return PersonRead(
        id=person.id,
        employee_no=person.employee_no,
        name=person.name,
        email=person.email,
        role=person.role,  # type: ignore[arg-type]
        team_id=person.team_id,
        hire_date=person.hire_date,
        status=person.status,  # type: ignore[arg-type]
        personality_colour=person.personality_colour if private else None,  # type: ignore[arg-type]
        external_ids={e.source: e.external_id for e in person.external_ids},
        skills=[Skill(skill=s.skill, level=s.level) for s in person.skills],
        certifications=[CertificationRead.model_validate(c) for c in person.certifications],
        departed_at=person.departed_at,
        departure_reason=person.departure_reason if private else None,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


async def get_visible(
    session: AsyncSession, principal: Principal, person_id: str, *, for_update: bool = False
) -> Person:
    person = await repository.get(session, person_id, for_update=for_update)
    if person is None or not can_read_person(principal, person.id, person.team_id):
        raise NotFound(f"Person {person_id} not found.")
    return person


async def get_manageable(session: AsyncSession, principal: Principal, person_id: str) -> Person:
    person = await get_visible(session, principal, person_id, for_update=True)
    if not can_manage_person(principal, person.id, person.team_id):
        raise Forbidden("You may not change this person.")
    if not principal.sees_everything and person.role != "agent":
        raise Forbidden("Team leads manage agents only.")
    return person


async def _check_team(session: AsyncSession, principal: Principal, team_id: str | None) -> None:
    if not principal.sees_everything:
        if team_id is None:
            raise RuleViolation(
                "team_required", "Team leads keep their agents in a team they lead."
            )
        if team_id not in principal.team_ids:
            raise Forbidden("Team leads may only place people in teams they lead.")
    if team_id is not None and await teams_repo.get(session, team_id) is None:
        raise RuleViolation("unknown_team", f"Team {team_id} does not exist.")


def _check_role_change(principal: Principal, current: str | None, new: str) -> None:
    if principal.role != Role.ADMIN and PRIVILEGED_ROLES & {current, new}:
        raise Forbidden("Only admins grant or take away the admin and manager roles.")
    if not principal.sees_everything and new != "agent":
        raise Forbidden("Team leads manage agents only.")


async def _keep_an_admin(session: AsyncSession, person: Person) -> None:
    if person.role == "admin" and await repository.lock_active_admin_ids(session) == [person.id]:
        raise RuleViolation(
            "last_admin", "The last active admin can neither depart nor lose the admin role."
        )


async def _check_no_led_teams(session: AsyncSession, person: Person) -> None:
    led = await teams_repo.led_by(session, person.id)
    if led:
        raise RuleViolation(
            "leads_teams",
            f"This person leads team(s) {', '.join(led)}; give them another lead first.",
        )


async def _check_external_ids(
    session: AsyncSession, external_ids: dict[str, str], person_id: str | None
) -> None:
    for source, external_id in external_ids.items():
        owner = await repository.external_id_owner(session, source, external_id)
        if owner is not None and owner != person_id:
            raise Conflict(
                f"External id {external_id!r} of source {source!r} belongs to another person.",
                source=source,
            )


async def _flush_unique(session: AsyncSession) -> None:
    """The checks above give the precise 409; this one covers a concurrent request that took
    the same employee number or external id between the check and the write."""
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            "The employee number or an external id was taken by a concurrent change."
        ) from None


def _comparable(field: str, value: Any) -> Any:
    """A value that compares equal when writing it would change nothing; works on stored rows
    and requested models alike (skills and certifications share their attribute names)."""
    if field == "skills":
        return {s.skill: s.level for s in value or []}
    if field == "certifications":
        return Counter((c.name, c.passed_at, c.expires_at) for c in value or [])
    if field == "external_ids":
        return value or {}
    return value


def _stored(person: Person, field: str) -> Any:
    if field == "external_ids":
        return {e.source: e.external_id for e in person.external_ids}
    return _comparable(field, getattr(person, field))


def _replace_details(person: Person, data: PersonCreate | PersonUpdate, fields: set[str]) -> None:
    if "external_ids" in fields:
        person.external_ids = [
            PersonExternalId(source=s, external_id=e) for s, e in (data.external_ids or {}).items()
        ]
    if "skills" in fields:
        person.skills = [PersonSkill(skill=s.skill, level=s.level) for s in data.skills or []]
    if "certifications" in fields:
        person.certifications = [
            Certification(name=c.name, passed_at=c.passed_at, expires_at=c.expires_at)
            for c in data.certifications or []
        ]


async def create(session: AsyncSession, principal: Principal, data: PersonCreate) -> Person:
    if not (principal.sees_everything or principal.role == Role.TEAM_LEAD):
        raise Forbidden("Only managers, admins and team leads create people.")
    _check_role_change(principal, None, data.role)
    await _check_team(session, principal, data.team_id)
    if await repository.employee_no_taken(session, data.employee_no):
        raise Conflict(f"Employee number {data.employee_no!r} is already taken.")
    await _check_external_ids(session, data.external_ids or {}, None)
    person = Person(
        employee_no=data.employee_no,
        name=data.name,
        email=data.email,
        role=data.role,
        team_id=data.team_id,
        hire_date=data.hire_date,
        status=data.status,
        personality_colour=data.personality_colour,
        external_ids=[],
        skills=[],
        certifications=[],
    )
    _replace_details(person, data, set(NESTED_FIELDS))
    session.add(person)
    await _flush_unique(session)
    person = await _reload(session, person.id)
    await emit_person_event(session, EventType.PERSON_CREATED, person)
    await _emit_move(session, person.id, None, person.team_id)
    return person


async def update(
    session: AsyncSession, principal: Principal, person_id: str, data: PersonUpdate
) -> Person:
    person = await get_manageable(session, principal, person_id)
    if person.status == "departed":
        raise RuleViolation("person_departed", "A departed person's record is closed.")
    changes: dict[str, Any] = {field: getattr(data, field) for field in data.model_fields_set}
    for required in ("name", "role", "status"):
        if required in changes and changes[required] is None:
            raise RuleViolation(f"{required}_required", f"{required} cannot be removed.")
    changed = {
        field
        for field, value in changes.items()
        if _stored(person, field) != _comparable(field, value)
    }
    if not changed:
        return person
    if "role" in changed:
        _check_role_change(principal, person.role, changes["role"])
        if changes["role"] != "admin":
            await _keep_an_admin(session, person)
        if person.role in LEAD_ROLES and changes["role"] not in LEAD_ROLES:
            await _check_no_led_teams(session, person)
    old_team_id = person.team_id
    if "team_id" in changed:
        await _check_team(session, principal, changes["team_id"])
    if "external_ids" in changed:
        await _check_external_ids(session, data.external_ids or {}, person.id)
    for field in changed - NESTED_FIELDS:
        setattr(person, field, changes[field])
    _replace_details(person, data, changed)
    person.updated_at = datetime.now(UTC)
    await _flush_unique(session)
    person = await _reload(session, person.id)
    await emit_person_event(session, EventType.PERSON_UPDATED, person, changed=sorted(changed))
    await _emit_move(session, person.id, old_team_id, person.team_id)
    return person


async def depart(
    session: AsyncSession, principal: Principal, person_id: str, reason: str | None
) -> Person:
    person = await get_manageable(session, principal, person_id)
    if person.status == "departed":
        raise Conflict("This person has already departed.")
    if person.role in PRIVILEGED_ROLES and principal.role != Role.ADMIN:
        raise Forbidden("Only admins depart admins and managers.")
    await _keep_an_admin(session, person)
    now = datetime.now(UTC)
    old_team_id = person.team_id
    person.status = "departed"
    person.departed_at = now
    person.departure_reason = reason
    person.team_id = None
    await session.flush()
    for team_id in await teams_repo.led_by(session, person.id):
        team = await teams_repo.get(session, team_id, for_update=True)
        assert team is not None
        team.lead_id = None
        await emit_team_changed(session, team)
    for mentorship in await mentorships_repo.active_for(session, person.id):
        mentorship.ended_at = now
        mentorship.end_reason = "departed"
        await session.flush()
        await emit_mentorship_event(session, EventType.MENTORSHIP_ENDED, mentorship)
    person = await _reload(session, person.id)
    changed = ["status"] + (["team_id"] if old_team_id is not None else [])
    await emit_person_event(session, EventType.PERSON_DEPARTED, person, changed=changed)
    await _emit_move(session, person.id, old_team_id, None)
    return person


async def set_password(
    session: AsyncSession, principal: Principal, person_id: str, password: str
) -> None:
    if principal.role != Role.ADMIN:
        raise Forbidden("Only admins set passwords.")
    person = await get_visible(session, principal, person_id, for_update=True)
    person.password_hash = await hash_password(password)
    await session.flush()


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    team_id: str | None,
    role: str | None,
    status: str | None,
) -> tuple[list[Person], str | None]:
    if principal.sees_everything or principal.role in (Role.OPS, Role.QA, Role.TRAINER):
        team_ids, include_self = None, None
    else:
        team_ids = sorted(principal.team_ids) if principal.role == Role.TEAM_LEAD else []
        include_self = principal.id
    people = await repository.list_people(
        session,
        team_ids=team_ids,
        include_person_id=include_self,
        team_id=team_id,
        role=role,
        status=status,
        after_id=page.after[0] if page.after else None,
        limit=page.limit,
    )
    return page.page(people, key=lambda p: [p.id])


async def _reload(session: AsyncSession, person_id: str) -> Person:
    person = await repository.get(session, person_id, fresh=True)
    assert person is not None
    return person


async def _emit_move(
    session: AsyncSession, person_id: str, old_team_id: str | None, new_team_id: str | None
) -> None:
    """Tell the team a person left and the team they joined (``roster.team.changed``)."""
    if old_team_id == new_team_id:
        return
    if old_team_id is not None:
        old_team = await teams_repo.get(session, old_team_id)
        if old_team is not None:
            await emit_team_changed(session, old_team, left=[person_id])
    if new_team_id is not None:
        new_team = await teams_repo.get(session, new_team_id)
        assert new_team is not None
        await emit_team_changed(session, new_team, joined=[person_id])
