"""Applies ``roster.changes`` person snapshots to the gateway's identity table, and reads it.

A snapshot carries the person's whole ``external_ids`` (``{"asterisk": "Agent/1001",
"amazon-connect": "<user id>"}``: system → external id). Applying one replaces what the
table says about that person, unless a newer snapshot of them was applied already; an external
id passes to another person only with a snapshot newer than the one that gave it to its holder.
So redelivery and reordering change nothing (the inbox also applies each event id once).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, func, not_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.cti.identities.models import CtiIdentity, CtiPerson
from shared.events import CloudEvent
from shared.events.roster import PersonSnapshot

Fingerprint = tuple[int, datetime | None]


async def apply_roster_batch(session: AsyncSession, events: list[CloudEvent]) -> None:
    for event in sorted(events, key=lambda e: (e.time, e.id)):
        if isinstance(event.data, PersonSnapshot):
            await apply_person(session, event.data, event.time)


async def apply_person(session: AsyncSession, person: PersonSnapshot, at: datetime) -> None:
    stmt = insert(CtiPerson).values(person_id=person.person_id, as_of=at)
    newest = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[CtiPerson.person_id],
            set_={"as_of": at, "changed_at": func.now()},
            where=CtiPerson.as_of <= at,
        ).returning(CtiPerson.person_id)
    )
    if newest is None:
        return  # a newer snapshot of this person is already applied
    ids = {(system, external) for system, external in person.external_ids.items()}
    gone = and_(CtiIdentity.person_id == person.person_id, CtiIdentity.as_of <= at)
    if ids:
        gone = and_(gone, not_(tuple_(CtiIdentity.system, CtiIdentity.external_id).in_(ids)))
    await session.execute(delete(CtiIdentity).where(gone))
    for system, external in sorted(ids):
        claim = insert(CtiIdentity).values(
            system=system, external_id=external, person_id=person.person_id, as_of=at
        )
        await session.execute(
            claim.on_conflict_do_update(
                index_elements=[CtiIdentity.system, CtiIdentity.external_id],
                set_={"person_id": person.person_id, "as_of": at},
                where=CtiIdentity.as_of <= at,
            )
        )


async def load(session: AsyncSession) -> dict[tuple[str, str], str]:
    rows = await session.execute(
        select(CtiIdentity.system, CtiIdentity.external_id, CtiIdentity.person_id)
    )
    return {(system, external): person for system, external, person in rows}


async def fingerprint(session: AsyncSession) -> Fingerprint:
    """Moves whenever a snapshot is applied (cheap: one aggregate over the people table)."""
    row = (await session.execute(select(func.count(), func.max(CtiPerson.changed_at)))).one()
    return row[0], row[1]
