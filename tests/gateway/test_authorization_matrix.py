"""Object-level authorization through the gateway, as a full matrix: every role against each
kind of resource that belongs to themselves, to their own team, or to another team.

``Y`` means the data is returned (200); ``N`` means it is not: 404 (or 403 where the
resource's existence is public). Never data. The expectations follow DESIGN §6 and the issues:
agents see their own profile, schedule, figures, care records (no private notes) and
check-ins; team leads everything about the agents of their teams; managers and admins all;
ops metrics and real-time, never care data; QA QA and metrics; ops, QA and trainers read the
directory.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.care.checkins.models import CheckIn
from services.care.records.models import CareRecord
from services.care.tasks.models import CareTask

CALLERS = {
    # role: (caller id, caller's teams, subject for own / own team / other team)
    "agent": ("A1", ["T1"], ("A1", "A2", "B1")),
    "team_lead": ("L1", ["T1"], ("L1", "A1", "B1")),
    "manager": ("M", [], ("M", "A1", "B1")),
    "admin": ("AD", [], ("AD", "A1", "B1")),
    "ops": ("OP", [], ("OP", "A1", "B1")),
    "qa": ("QA", [], ("QA", "A1", "B1")),
    "trainer": ("TR", [], ("TR", "A1", "B1")),
}
NOW = datetime.now(UTC)
DAY = {"start": (NOW - timedelta(days=1)).isoformat(), "end": (NOW + timedelta(days=1)).isoformat()}

# resource: (path template, query, {role: "own team other"})
PERSON_RESOURCES = {
    "profile": (
        "/v1/people/{s}",
        None,
        {
            "agent": "YNN",
            "team_lead": "YYN",
            "manager": "YYY",
            "admin": "YYY",
            "ops": "YYY",
            "qa": "YYY",
            "trainer": "YYY",
        },
    ),
    "overview": (
        "/v1/people/{s}/overview",
        None,
        {
            "agent": "YNN",
            "team_lead": "YYN",
            "manager": "YYY",
            "admin": "YYY",
            "ops": "YYY",
            "qa": "YYY",
            "trainer": "YYY",
        },
    ),
    "figures": (
        "/v1/metrics/agents/{s}",
        DAY,
        {
            "agent": "YNN",
            "team_lead": "YYN",
            "manager": "YYY",
            "admin": "YYY",
            "ops": "YYY",
            "qa": "YYY",
            "trainer": "YNN",
        },
    ),
    "care records": (
        "/v1/care/records?agent_id={s}",
        None,
        {
            "agent": "YNN",
            "team_lead": "YYN",
            "manager": "YYY",
            "admin": "YYY",
            "ops": "NNN",
            "qa": "NNN",
            "trainer": "NNN",
        },
    ),
    "care record": (
        "/v1/care/records/rec-{s}",
        None,
        {
            "agent": "YNN",
            "team_lead": "YYN",
            "manager": "YYY",
            "admin": "YYY",
            "ops": "NNN",
            "qa": "NNN",
            "trainer": "NNN",
        },
    ),
    "check-ins": (
        "/v1/care/checkins?agent_id={s}",
        None,
        {
            "agent": "YNN",
            "team_lead": "YYN",
            "manager": "YYY",
            "admin": "YYY",
            "ops": "YNN",
            "qa": "YNN",
            "trainer": "NNN",  # the trainer is unknown to care
        },
    ),
    "care task": (
        "/v1/care/tasks/task-{s}",
        None,
        {
            # a leader's tool: nobody sees tasks about themselves, agents none at all
            "agent": "NNN",
            "team_lead": "NYN",
            "manager": "NYY",
            "admin": "NYY",
            "ops": "NNN",
            "qa": "NNN",
            "trainer": "NNN",
        },
    ),
    "assessments": (
        "/v1/care/assessments?agent_id={s}",
        None,
        {
            "agent": "NNN",
            "team_lead": "NYN",
            "manager": "NYY",
            "admin": "NYY",
            "ops": "NNN",
            "qa": "NNN",
            "trainer": "NNN",
        },
    ),
}
TEAM_RESOURCES = {
    # (own team, other team); "own team" is T1 for everyone (managers and others have none)
    "team": (
        "/v1/teams/{t}",
        None,
        {
            "agent": "YN",
            "team_lead": "YN",
            "manager": "YY",
            "admin": "YY",
            "ops": "YY",
            "qa": "YY",
            "trainer": "YY",
        },
    ),
    "team figures": (
        "/v1/metrics/teams/{t}",
        DAY,
        {
            "agent": "NN",
            "team_lead": "YN",
            "manager": "YY",
            "admin": "YY",
            "ops": "YY",
            "qa": "YY",
            "trainer": "NN",
        },
    ),
    "dashboard": (
        "/v1/teams/{t}/dashboard",
        None,
        {
            "agent": "YN",
            "team_lead": "YN",
            "manager": "YY",
            "admin": "YY",
            "ops": "YY",
            "qa": "YY",
            "trainer": "YY",
        },
    ),
    "care balance": (
        "/v1/care/balance?team_id={t}",
        None,
        {
            "agent": "NN",
            "team_lead": "YN",
            "manager": "YY",
            "admin": "YY",
            "ops": "NN",
            "qa": "NN",
            "trainer": "NN",
        },
    ),
    "risk": (
        "/v1/care/risk?team_id={t}",
        None,
        {
            "agent": "NN",
            "team_lead": "YN",
            "manager": "YY",
            "admin": "YY",
            "ops": "NN",
            "qa": "NN",
            "trainer": "NN",
        },
    ),
    "care policy": (
        "/v1/care/policies/{t}",
        None,
        {
            "agent": "NN",
            "team_lead": "YN",
            "manager": "YY",
            "admin": "YY",
            "ops": "NN",
            "qa": "NN",
            "trainer": "NN",
        },
    ),
}


async def seed_care(stack) -> None:
    care = stack.sessions["care"]
    subjects = {s for _, _, subjects in CALLERS.values() for s in subjects} | {"A2"}
    for subject in sorted(subjects):
        care.add(
            CareRecord(
                id=f"rec-{subject}",
                agent_id=subject,
                author_id="M" if subject == "AD" else "AD",
                kind="one_on_one",
                category="wellbeing",
                occurred_at=NOW - timedelta(days=1),
                summary="Weekly one-on-one",
                private_notes="private",
            )
        )
        care.add(CheckIn(agent_id=subject, mood=4, stress=2, created_at=NOW - timedelta(hours=3)))
        care.add(
            CareTask(
                id=f"task-{subject}",
                rule="long_aux",
                agent_id=subject,
                team_id={"A1": "T1", "A2": "T1", "B1": "T2"}.get(subject),
                assignee_id={"A1": "L1", "A2": "L1", "B1": "L2"}.get(subject),
                urgent=False,
                status="open",
                facts={},
                merged=[],
                suggested_action="Talk privately, facts first.",
                due_at=NOW + timedelta(days=1),
                available_at=NOW,
                opened_at=NOW,
            )
        )
    await care.flush()


async def test_the_full_matrix(stack, gateway_client):
    await seed_care(stack)
    mismatches = []
    async with gateway_client() as client:
        for role, (caller, teams, subjects) in CALLERS.items():
            headers = stack.headers(caller, role, teams)
            for name, (template, query, expected) in PERSON_RESOURCES.items():
                for relation, subject, allowed in zip(
                    ("own", "own team", "other team"), subjects, expected[role], strict=True
                ):
                    response = await client.get(
                        template.format(s=subject), params=query, headers=headers
                    )
                    check(mismatches, role, name, relation, allowed, response)
            for name, (template, query, expected) in TEAM_RESOURCES.items():
                for relation, team, allowed in zip(
                    ("own team", "other team"), ("T1", "T2"), expected[role], strict=True
                ):
                    response = await client.get(
                        template.format(t=team), params=query, headers=headers
                    )
                    check(mismatches, role, name, relation, allowed, response)
    assert not mismatches, "\n".join(mismatches)


def check(mismatches: list[str], role, name, relation, allowed: str, response) -> None:
    if allowed == "Y":
        ok = response.status_code == 200
        if ok and name == "care record" and role == "agent":
            ok = response.json()["private_notes"] is None
        if ok and name == "care records" and role == "agent":
            ok = all(r["private_notes"] is None for r in response.json()["items"])
    else:
        ok = response.status_code in (403, 404) and response.headers["content-type"].startswith(
            "application/problem+json"
        )
    if not ok:
        mismatches.append(
            f"{role:9} {name:13} {relation:10} expected {allowed}: "
            f"{response.status_code} {response.text[:120]}"
        )
