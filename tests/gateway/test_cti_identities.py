"""The roster's external CTI ids in the gateway: person snapshots from ``roster.changes``
applied order-proof to its tables, and end to end, an agent created in the roster (its own
event, on the real broker) resolved by the adapters once the gateway's consumer has it."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from services.gateway.cti.identities.service import apply_roster_batch, load
from services.roster.db import OutboxMessage as RosterOutbox
from shared.events import EventType, make_event, parse_event
from shared.events.roster import PersonSnapshot
from tests.conftest import rolled_back_session
from tests.gateway.test_apikeys import create_key, key_header
from tests.gateway.test_cti_ingest import T0, watch


def snapshot(
    person_id: str, external_ids: dict[str, str], minute: int, type_=EventType.PERSON_UPDATED
):
    return make_event(
        type_,
        PersonSnapshot(
            person_id=person_id,
            employee_no=f"E-{person_id}",
            name=person_id,
            role="agent",
            status="active",
            external_ids=external_ids,
        ),
        source="roster",
        time=T0 + timedelta(minutes=minute),
    )


async def test_identities_follow_the_newest_snapshot_of_each_person(stack_engines) -> None:
    first = snapshot(
        "P1", {"asterisk": "PJSIP/1", "amazon-connect": "u-1"}, 0, EventType.PERSON_CREATED
    )
    renumbered = snapshot("P1", {"asterisk": "PJSIP/11"}, 1)
    successor = snapshot("P2", {"asterisk": "PJSIP/1"}, 2, EventType.PERSON_CREATED)
    departed = snapshot("P3", {"asterisk": "PJSIP/3"}, 3, EventType.PERSON_DEPARTED)
    async with rolled_back_session(stack_engines["gateway"]) as session:
        await apply_roster_batch(session, [successor, renumbered])  # out of order
        await apply_roster_batch(session, [departed, renumbered])  # a redelivery too
        await apply_roster_batch(session, [first])  # late and older: changes nothing
        ids = await load(session)
    assert {k: v for k, v in ids.items() if v in ("P1", "P2", "P3")} == {
        ("asterisk", "PJSIP/11"): "P1",
        ("asterisk", "PJSIP/1"): "P2",
        ("asterisk", "PJSIP/3"): "P3",  # late events of a departed agent still resolve
    }


async def test_an_id_moves_only_with_a_newer_snapshot(stack_engines) -> None:
    async with rolled_back_session(stack_engines["gateway"]) as session:
        await apply_roster_batch(session, [snapshot("Q2", {"asterisk": "PJSIP/9"}, 5)])
        await apply_roster_batch(session, [snapshot("Q1", {"asterisk": "PJSIP/9"}, 4)])
        await apply_roster_batch(session, [snapshot("Q2", {}, 6)])
        ids = await load(session)
    assert ("asterisk", "PJSIP/9") not in ids  # Q1's claim was older than Q2's, which let go


@pytest.mark.broker
@pytest.mark.slow
async def test_an_agent_created_in_the_roster_is_resolved_by_its_external_id(
    stack, gateway_client, kafka_bootstrap
) -> None:
    extension = f"PJSIP/{uuid.uuid4().hex[:8]}"
    admin = stack.headers("AD", "admin")
    async with gateway_client(cti_identities_consumer=True, identities_refresh_s=0.2) as client:
        created = await client.post(
            "/v1/people",
            json={
                "employee_no": f"E-{extension[-8:]}",
                "name": "New Agent",
                "role": "agent",
                "external_ids": {"asterisk": extension},
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        person_id = created.json()["id"]
        # The roster's own event, as its outbox relay would publish it.
        outbox = (
            await stack.sessions["roster"].scalars(
                select(RosterOutbox).where(
                    RosterOutbox.key == person_id,
                    RosterOutbox.event_type == EventType.PERSON_CREATED.value,
                )
            )
        ).one()
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(
                outbox.topic, value=outbox.payload, key=outbox.key.encode()
            )
        finally:
            await producer.stop()

        headers = key_header(await create_key(client, stack, source="cti/asterisk-roster"))
        line = f"1795424400|NONE|support|{extension}|ADDMEMBER|\n"
        deadline = time.monotonic() + 30
        async with watch(kafka_bootstrap) as topic:
            while True:
                response = await client.post(
                    "/v1/cti/asterisk/queue-log", content=line.encode(), headers=headers
                )
                assert response.status_code == 202, response.text
                if not response.json()["unresolved_agents"] or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            published = [parse_event(r.value) for r in await topic.new_records()]

    assert response.json()["unresolved_agents"] == []
    assert person_id in {e.data.agent_id for e in published}  # the last attempt's
    # Unresolved or not, every attempt was the same event (one id): consumers apply it once.
    assert {e.id for e in published} == set(response.json()["event_ids"])
