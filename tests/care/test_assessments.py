"""Team-lead assessments: the quadrant and colour tips (pure), then the API — visible to the
agent's team lead, managers and admins only (agents never, not even their own), history newest
first with pagination, the latest per agent of a team, and validation."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.care.assessments import models, quadrant
from services.care.assessments.models import Assessment
from services.care.directory.service import apply_roster_batch
from shared.events import EventType
from tests.care.conftest import T0, person_event

PATH = "/v1/care/assessments"

# --- pure -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ability", "cooperation", "name", "approach"),
    [
        (3, 3, "core", "delegate"),
        (5, 5, "core", "delegate"),
        (2, 3, "learner", "guide"),
        (1, 5, "learner", "guide"),
        (3, 2, "maverick", "win over"),
        (5, 1, "maverick", "win over"),
        (2, 2, "drifter", "encourage"),
        (1, 1, "drifter", "encourage"),
    ],
)
def test_quadrant_boundaries(ability: int, cooperation: int, name: str, approach: str) -> None:
    q = quadrant.quadrant(ability, cooperation)
    assert (q.name, q.approach) == (name, approach)
    assert len(q.advice) > 100 and q.advice.count("\n") == 0


def test_every_score_lands_in_exactly_one_quadrant() -> None:
    grid = {(a, c): quadrant.quadrant(a, c).name for a in range(1, 6) for c in range(1, 6)}
    assert sum(1 for n in grid.values() if n == "core") == 9
    assert sum(1 for n in grid.values() if n == "drifter") == 4
    assert sum(1 for n in grid.values() if n == "learner") == 6
    assert sum(1 for n in grid.values() if n == "maverick") == 6


@pytest.mark.parametrize(("ability", "cooperation"), [(0, 3), (6, 3), (3, 0), (3, 6)])
def test_quadrant_refuses_out_of_range_scores(ability: int, cooperation: int) -> None:
    with pytest.raises(ValueError):
        quadrant.quadrant(ability, cooperation)


def test_colour_tips() -> None:
    assert quadrant.COLOURS == models.COLOURS
    assert quadrant.colour_tips(None) == []
    tips = {c: quadrant.colour_tips(c) for c in quadrant.COLOURS}
    for colour, lines in tips.items():
        assert len(lines) >= 3 and lines[0].lower().startswith(colour)
    assert len({line for lines in tips.values() for line in lines}) == sum(map(len, tips.values()))
    with pytest.raises(ValueError):
        quadrant.colour_tips("purple")


def test_pure_modules_import_no_framework() -> None:
    code = (
        "import sys, services.care.assessments.quadrant, services.care.risk.model;"
        "print(sorted(m for m in ('fastapi', 'sqlalchemy', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- API ----------------------------------------------------------------------------------------


def body(agent_id: str = "A1", **overrides) -> dict:
    data = {"agent_id": agent_id, "ability": 4, "cooperation": 2, "colour": "blue", "note": "n"}
    data.update(overrides)
    return data


async def count(cdb) -> int:
    return await cdb.scalar(select(func.count()).select_from(Assessment))


async def test_lead_assesses_an_agent_of_their_team(floor, care_client) -> None:
    before = datetime.now(UTC)
    response = await care_client.post(PATH, json=body(), headers=floor.lead())
    assert response.status_code == 201, response.text
    got = response.json()
    assert set(got) == {
        "id",
        "agent_id",
        "team_id",
        "author_id",
        "ability",
        "cooperation",
        "quadrant",
        "approach",
        "advice",
        "colour",
        "colour_tips",
        "note",
        "assessed_at",
    }
    assert (got["agent_id"], got["team_id"], got["author_id"]) == ("A1", "T1", "L1")
    assert (got["ability"], got["cooperation"]) == (4, 2)
    assert (got["quadrant"], got["approach"]) == ("maverick", "win over")
    assert got["advice"] == quadrant.MAVERICK.advice
    assert got["colour"] == "blue" and got["colour_tips"] == quadrant.colour_tips("blue")
    assert got["note"] == "n"
    assert datetime.fromisoformat(got["assessed_at"]) >= before

    plain = await care_client.post(
        PATH, json=body(ability=3, cooperation=3, colour=None, note=None), headers=floor.lead()
    )
    assert plain.status_code == 201, plain.text
    assert (plain.json()["quadrant"], plain.json()["colour_tips"]) == ("core", [])


@pytest.mark.parametrize(
    ("who", "agent_id", "expected"),
    [
        ("agent_self", "A1", 404),
        ("agent_peer", "A2", 404),
        ("lead", "A1", 201),
        ("lead", "N1", 201),
        ("lead", "B1", 404),
        ("other_lead", "A1", 404),
        ("other_lead", "B1", 201),
        ("manager", "A1", 201),
        ("admin", "B1", 201),
        ("ops", "A1", 404),
        ("qa", "A1", 404),
        ("trainer", "A1", 404),
        ("manager", "L1", 404),  # not an agent
        ("manager", "NOPE", 404),
        ("lead", "L1", 403),  # nobody assesses themselves
    ],
)
async def test_write_access(floor, care_client, cdb, who: str, agent_id: str, expected) -> None:
    headers = headers_for(floor, who)
    response = await care_client.post(PATH, json=body(agent_id), headers=headers)
    assert response.status_code == expected, response.text
    assert await count(cdb) == (1 if expected == 201 else 0)


def headers_for(floor, who: str) -> dict[str, str]:
    return {
        "agent_self": floor.agent("A1"),
        "agent_peer": floor.agent("A1"),
        "agent": floor.agent("A1"),
        "lead": floor.lead(),
        "other_lead": floor.lead("L2", ("T2",)),
        "manager": floor.role("M", "manager"),
        "admin": floor.role("AD", "admin"),
        "ops": floor.role("OP", "ops"),
        "qa": floor.role("QA", "qa"),
        "trainer": floor.role("TR", "trainer"),
    }[who]


async def test_departed_agents_are_not_assessed(floor, care_client, cdb) -> None:
    await apply_roster_batch(cdb, [person_event("D1", team_id="T1", status="departed")])
    response = await care_client.post(PATH, json=body("D1"), headers=floor.lead())
    assert response.status_code == 422
    assert response.json()["rule"] == "agent_departed"
    assert await count(cdb) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ability": 0}, "body.ability"),
        ({"ability": 6}, "body.ability"),
        ({"cooperation": 0}, "body.cooperation"),
        ({"cooperation": 6}, "body.cooperation"),
        ({"ability": 3.5}, "body.ability"),
        ({"ability": True}, "body.ability"),
        ({"ability": "4"}, "body.ability"),
        ({"colour": "purple"}, "body.colour"),
        ({"colour": "Red"}, "body.colour"),
        ({"agent_id": None}, "body.agent_id"),
        ({"note": "x" * 4001}, "body.note"),
    ],
)
async def test_validation(floor, care_client, cdb, overrides: dict, field: str) -> None:
    response = await care_client.post(PATH, json=body(**overrides), headers=floor.lead())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}
    assert await count(cdb) == 0


def assessment(agent: str, at: datetime, ability: int = 3, cooperation: int = 3, team="T1"):
    return Assessment(
        agent_id=agent,
        team_id=team,
        author_id="L1",
        ability=ability,
        cooperation=cooperation,
        colour=None,
        note=None,
        assessed_at=at,
    )


async def test_history_newest_first_paginated(floor, care_client, cdb) -> None:
    cdb.add_all(
        [
            assessment("A1", T0 + timedelta(days=1), 1, 1),
            assessment("A1", T0 + timedelta(days=3), 4, 4),
            assessment("A1", T0 + timedelta(days=2), 2, 4),
            assessment("A2", T0 + timedelta(days=4), 5, 5),
        ]
    )
    await cdb.flush()
    headers = floor.lead()
    first = await care_client.get(PATH, params={"agent_id": "A1", "limit": 2}, headers=headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [i["quadrant"] for i in page["items"]] == ["core", "learner"]
    assert page["next_cursor"]
    second = await care_client.get(
        PATH, params={"agent_id": "A1", "limit": 2, "cursor": page["next_cursor"]}, headers=headers
    )
    assert [i["quadrant"] for i in second.json()["items"]] == ["drifter"]
    assert second.json()["next_cursor"] is None
    bad = await care_client.get(
        PATH, params={"agent_id": "A1", "cursor": "WyJ4Il0"}, headers=headers
    )
    assert bad.status_code == 422
    missing = await care_client.get(PATH, headers=headers)
    assert missing.status_code == 422


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent", 404),  # never their own
        ("lead", 200),
        ("other_lead", 404),
        ("manager", 200),
        ("admin", 200),
        ("ops", 404),
        ("qa", 404),
        ("trainer", 404),
    ],
)
async def test_history_access(floor, care_client, cdb, who: str, expected: int) -> None:
    cdb.add(assessment("A1", T0))
    await cdb.flush()
    response = await care_client.get(
        PATH, params={"agent_id": "A1"}, headers=headers_for(floor, who)
    )
    assert response.status_code == expected, response.text
    if expected == 200:
        assert [i["agent_id"] for i in response.json()["items"]] == ["A1"]


async def test_history_follows_the_agent_to_a_new_team(floor, care_client, cdb) -> None:
    cdb.add(assessment("A1", T0))
    await cdb.flush()
    moved = person_event(
        "A1", team_id="T2", at=T0 + timedelta(days=1), type_=EventType.PERSON_UPDATED
    )
    await apply_roster_batch(cdb, [moved])
    params = {"agent_id": "A1"}
    new_lead = await care_client.get(PATH, params=params, headers=floor.lead("L2", ("T2",)))
    assert [i["team_id"] for i in new_lead.json()["items"]] == ["T1"]
    assert (await care_client.get(PATH, params=params, headers=floor.lead())).status_code == 404


async def test_latest_per_agent_of_a_team(floor, care_client, cdb) -> None:
    cdb.add_all(
        [
            assessment("A1", T0 + timedelta(days=1), 1, 1),
            assessment("A1", T0 + timedelta(days=2), 4, 2),
            assessment("N1", T0 + timedelta(days=1), 2, 5),
            assessment("B1", T0 + timedelta(days=3), 5, 5, team="T2"),
        ]
    )
    await cdb.flush()
    response = await care_client.get(
        f"{PATH}/latest", params={"team_id": "T1"}, headers=floor.lead()
    )
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["team_id"] == "T1"
    grid = {a["agent_id"]: a["assessment"] for a in got["agents"]}
    assert [a["agent_id"] for a in got["agents"]] == ["A1", "A2", "A3", "N1"]
    assert grid["A1"]["quadrant"] == "maverick" and grid["N1"]["quadrant"] == "learner"
    assert grid["A2"] is None and grid["A3"] is None
    assert got["agents"][0]["name"] == "Person A1"


@pytest.mark.parametrize(
    ("who", "team_id", "expected"),
    [
        ("agent", "T1", 404),
        ("lead", "T1", 200),
        ("lead", "T2", 404),
        ("other_lead", "T2", 200),
        ("manager", "T2", 200),
        ("manager", "NOPE", 404),
        ("admin", "T1", 200),
        ("ops", "T1", 404),
        ("qa", "T1", 404),
    ],
)
async def test_latest_access(floor, care_client, who: str, team_id: str, expected: int) -> None:
    response = await care_client.get(
        f"{PATH}/latest", params={"team_id": team_id}, headers=headers_for(floor, who)
    )
    assert response.status_code == expected, response.text


async def test_agents_never_see_assessments_anywhere(floor, care_client) -> None:
    created = await care_client.post(PATH, json=body(), headers=floor.lead())
    assert created.status_code == 201
    mine = floor.agent("A1")
    assert (await care_client.get(PATH, params={"agent_id": "A1"}, headers=mine)).status_code == 404
    latest = await care_client.get(f"{PATH}/latest", params={"team_id": "T1"}, headers=mine)
    assert latest.status_code == 404
    assert created.json()["id"] not in latest.text
