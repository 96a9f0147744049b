"""Attrition risk: every factor on and off at its boundary (pure model), the facts the service
loads for a team (and only that team), hand-computed scores, weights from settings, access."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import update

from services.care.app import create_app
from services.care.checkins import trend
from services.care.checkins.models import CheckIn
from services.care.directory.models import LeaveDecision, Person
from services.care.directory.service import apply_roster_batch
from services.care.records.models import CareRecord
from services.care.risk import model, service
from services.care.risk.model import AgentFacts, CheckInFact, HardCall
from services.care.settings import CareSettings
from services.care.tasks.models import ReceivedSignal
from shared.auth import Principal, Role
from shared.ids import new_id
from tests.care.conftest import person_event
from tests.conftest import wire_app

DEFAULTS = dict(CareSettings.model_fields["risk_weights"].default)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
DAY = timedelta(days=1)

# A settled agent: long tenure, recognised ten days ago, nothing else going on.
QUIET = AgentFacts(
    hire_date=date(2024, 1, 8),
    known_since=NOW - 400 * DAY,
    last_recognition_at=NOW - 10 * DAY,
)


def active(facts: AgentFacts, weights: dict[str, float] = DEFAULTS, now: datetime = NOW) -> set:
    return {f.factor for f in model.assess(facts, weights, now).factors if f.active}


def score(facts: AgentFacts, weights: dict[str, float] = DEFAULTS) -> int:
    return model.assess(facts, weights, NOW).score


def checkins(*pairs: tuple[int, int], last_at: datetime = NOW - DAY) -> tuple[CheckInFact, ...]:
    """(mood, stress) pairs oldest first, one day apart, the last at ``last_at``."""
    n = len(pairs)
    return tuple(
        CheckInFact(at=last_at - (n - 1 - i) * DAY, mood=m, stress=s)
        for i, (m, s) in enumerate(pairs)
    )


def calls(*ages: timedelta, tags: tuple[str, ...] = ("abusive_customer",)) -> tuple:
    return tuple(HardCall(at=NOW - age, tags=frozenset(tags)) for age in ages)


# --- pure model ---------------------------------------------------------------------------


def test_quiet_agent_scores_zero_with_every_factor_listed() -> None:
    risk = model.assess(QUIET, DEFAULTS, NOW)
    assert risk.score == 0
    assert [f.factor for f in risk.factors] == list(model.FACTORS) == list(DEFAULTS)
    for f in risk.factors:
        assert (f.active, f.contribution, f.weight) == (False, 0.0, DEFAULTS[f.factor])
    assert set(DEFAULTS) == set(model.FACTORS)
    assert sum(DEFAULTS.values()) == 100


@pytest.mark.parametrize(
    ("facts", "on"),
    [
        # new_hire: tenure < 90 days; unknown hire date is not a new hire
        (replace(QUIET, hire_date=TODAY - timedelta(days=89)), True),
        (replace(QUIET, hire_date=TODAY - timedelta(days=90)), False),
        (replace(QUIET, hire_date=TODAY + timedelta(days=3)), True),
        (replace(QUIET, hire_date=None), False),
    ],
)
def test_new_hire_boundary(facts: AgentFacts, on: bool) -> None:
    assert ("new_hire" in active(facts)) is on
    assert score(facts) == (15 if on else 0)


def test_tenure_counts_days_in_the_center_time_zone() -> None:
    now = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # already the 23rd in Shanghai
    facts = replace(QUIET, hire_date=date(2026, 11, 23) - timedelta(days=90))
    assert "new_hire" in active(facts, now=now)
    assert "new_hire" not in active(facts, now=now.astimezone(ZoneInfo("Asia/Shanghai")))


@pytest.mark.parametrize(
    ("moods", "on"),
    [
        ((4, 3, 2), True),
        ((5, 4, 3), True),
        ((4, 3, 3), False),  # not strictly falling
        ((3, 4, 2), False),
        ((4, 2), False),  # fewer than three check-ins
        ((1, 4, 3, 2), True),  # only the last three count
        ((5, 4, 3, 4), False),
    ],
)
def test_mood_falling_over_the_last_three_checkins(moods: tuple[int, ...], on: bool) -> None:
    facts = replace(QUIET, checkins=checkins(*((m, 1) for m in moods)))
    assert active(facts) == ({"mood_falling"} if on else set())
    assert trend.mood_falling(list(moods)) is on


def test_mood_falling_orders_checkins_by_time_and_ignores_future_ones() -> None:
    shuffled = (
        CheckInFact(at=NOW - 1 * DAY, mood=2, stress=1),
        CheckInFact(at=NOW - 3 * DAY, mood=4, stress=1),
        CheckInFact(at=NOW - 2 * DAY, mood=3, stress=1),
    )
    assert active(replace(QUIET, checkins=shuffled)) == {"mood_falling"}
    later = (*shuffled, CheckInFact(at=NOW + timedelta(hours=1), mood=5, stress=5))
    assert active(replace(QUIET, checkins=later)) == {"mood_falling"}


@pytest.mark.parametrize(
    ("pairs", "on"),
    [
        (((3, 1), (3, 3)), False),
        (((3, 1), (3, 4)), True),
        (((3, 1), (3, 5)), True),
        (((3, 5), (3, 2)), False),  # only the latest check-in counts
        ((), False),
    ],
)
def test_high_stress_is_the_latest_checkin_at_4_or_more(pairs: tuple, on: bool) -> None:
    facts = replace(QUIET, checkins=checkins(*pairs))
    assert active(facts) == ({"high_stress"} if on else set())
    [factor] = [f for f in model.assess(facts, DEFAULTS, NOW).factors if f.factor == "high_stress"]
    assert factor.evidence["last_stress"] == (pairs[-1][1] if pairs else None)


@pytest.mark.parametrize(
    ("ages", "on", "count"),
    [
        ((DAY, 2 * DAY), False, 2),
        ((DAY, 2 * DAY, 6 * DAY), True, 3),
        ((DAY, 2 * DAY, 7 * DAY), True, 3),  # the window includes its start
        ((DAY, 2 * DAY, 7 * DAY + timedelta(minutes=1)), False, 2),
        ((DAY, 2 * DAY, -timedelta(minutes=5)), False, 2),  # not yet happened as of now
    ],
)
def test_hard_calls_three_in_seven_days(ages: tuple, on: bool, count: int) -> None:
    facts = replace(QUIET, hard_calls=calls(*ages))
    risk = model.assess(facts, DEFAULTS, NOW)
    [factor] = [f for f in risk.factors if f.factor == "hard_calls"]
    assert (factor.active, factor.evidence) == (on, {"hard_calls_7d": count})
    assert risk.score == (10 if on else 0)


@pytest.mark.parametrize(
    ("ages", "on"),
    [
        ((DAY,), False),
        ((DAY, 13 * DAY), True),
        ((DAY, 14 * DAY), True),
        ((DAY, 14 * DAY + timedelta(hours=1)), False),
    ],
)
def test_adherence_falling_two_breaches_in_fourteen_days(ages: tuple, on: bool) -> None:
    facts = replace(QUIET, adherence_breaches=tuple(NOW - a for a in ages))
    assert active(facts) == ({"adherence_falling"} if on else set())


@pytest.mark.parametrize(
    ("tags", "age", "on"),
    [
        (("abusive_customer",), DAY, False),
        (("complaint",), DAY, True),
        (("abusive_customer", "escalation"), 29 * DAY, True),
        (("complaint",), 30 * DAY, True),
        (("complaint",), 31 * DAY, False),
    ],
)
def test_complaints_are_complaint_or_escalation_tags_in_thirty_days(
    tags: tuple, age: timedelta, on: bool
) -> None:
    facts = replace(QUIET, hard_calls=calls(age, tags=tags))
    assert active(facts) == ({"complaints"} if on else set())


@pytest.mark.parametrize(
    ("last", "known_days", "on"),
    [
        (59, 400, False),
        (60, 400, False),
        (61, 400, True),
        (None, 400, True),
        (None, 10, True),  # a newcomer without any recognition counts too
        (5, 10, False),
    ],
)
def test_no_recognition_in_sixty_days(last: int | None, known_days: int, on: bool) -> None:
    facts = replace(
        QUIET,
        last_recognition_at=None if last is None else NOW - last * DAY,
        known_since=NOW - known_days * DAY,
    )
    risk = model.assess(facts, DEFAULTS, NOW)
    [factor] = [f for f in risk.factors if f.factor == "no_recognition"]
    assert factor.active is on
    assert factor.evidence == {"last_recognition_days_ago": last, "known_for_days": known_days}
    assert risk.score == (10 if on else 0)


@pytest.mark.parametrize(("days", "on"), [(0, True), (29, True), (30, True), (31, False)])
def test_recent_warning_and_denied_leave_within_thirty_days(days: int, on: bool) -> None:
    warned = replace(QUIET, last_warning_at=NOW - days * DAY)
    denied = replace(QUIET, last_leave_denied_at=NOW - days * DAY - timedelta(minutes=1))
    assert active(warned) == ({"recent_warning"} if on else set())
    assert active(denied) == ({"leave_denied"} if days < 30 else set())


def test_hand_computed_scores_with_default_weights() -> None:
    new_hire = replace(
        QUIET,
        hire_date=TODAY - timedelta(days=20),
        hard_calls=calls(DAY, 2 * DAY, 3 * DAY),
        last_leave_denied_at=NOW - 5 * DAY,
    )
    assert active(new_hire) == {"new_hire", "hard_calls", "leave_denied"}
    assert score(new_hire) == 15 + 10 + 5 == 30
    everything = replace(
        new_hire,
        checkins=checkins((4, 2), (3, 2), (2, 4)),
        hard_calls=calls(DAY, 2 * DAY, 3 * DAY, tags=("complaint",)),
        adherence_breaches=(NOW - DAY, NOW - 2 * DAY),
        last_recognition_at=None,
        last_warning_at=NOW - DAY,
    )
    assert active(everything) == set(model.FACTORS)
    assert score(everything) == 100


def test_custom_weights_change_the_score_and_missing_ones_weigh_nothing() -> None:
    facts = replace(
        QUIET,
        hire_date=TODAY - timedelta(days=20),
        hard_calls=calls(DAY, 2 * DAY, 3 * DAY),
        last_leave_denied_at=NOW - 5 * DAY,
    )
    custom = {**DEFAULTS, "new_hire": 40, "hard_calls": 25, "leave_denied": 1}
    assert score(facts, custom) == 66
    risk = model.assess(facts, {"new_hire": 30}, NOW)
    assert risk.score == 30
    assert {f.factor: f.weight for f in risk.factors}["hard_calls"] == 0
    assert [f.contribution for f in risk.factors if f.factor == "hard_calls"] == [0]


def test_score_is_capped_at_100_and_rounded_half_up() -> None:
    facts = replace(QUIET, hire_date=TODAY, last_recognition_at=None)
    assert score(facts, {"new_hire": 80, "no_recognition": 80}) == 100
    assert score(facts, {"new_hire": 1.25, "no_recognition": 1.25}) == 3  # 2.5 -> 3
    assert score(facts, {"new_hire": 1.2, "no_recognition": 1.2}) == 2


@pytest.mark.parametrize("weights", [{"new_hires": 10}, {"new_hire": -5}])
def test_misconfigured_weights_are_refused(weights: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        model.assess(QUIET, weights, NOW)


# --- service: facts from the database ---------------------------------------------------------


def record(agent: str, kind: str, at: datetime, team: str = "T1") -> CareRecord:
    return CareRecord(
        agent_id=agent,
        team_id=team,
        author_id="L1",
        kind=kind,
        category="career" if kind == "recognition" else "wellbeing",
        occurred_at=at,
        summary=kind,
    )


def signal(agent: str, kind: str, at: datetime, *, episode: str | None = None, tags=()):
    facts = {"call_id": episode, "tags": list(tags)} if kind == "hard_call" else {}
    return ReceivedSignal(
        id=new_id(),
        kind=kind,
        episode=episode or new_id(),
        agent_id=agent,
        team_id=None,
        detected_at=at,
        facts=facts,
    )


def checkin(agent: str, at: datetime, mood: int, stress: int) -> CheckIn:
    return CheckIn(agent_id=agent, team_id="T1", mood=mood, stress=stress, created_at=at)


def leave(agent: str, status: str, at: datetime) -> LeaveDecision:
    return LeaveDecision(leave_request_id=new_id(), agent_id=agent, status=status, decided_at=at)


async def seed_facts(cdb, now: datetime) -> None:
    """T1 as of ``now``: A1 40, A2 30, N1 30 (new hire), A3 0; B1 (T2) 30; D1 departed."""
    await apply_roster_batch(cdb, [person_event("D1", team_id="T1", status="departed")])
    # tenure relative to ``now``, so the API tests (on the wall clock) hold on any day
    await cdb.execute(
        update(Person).where(Person.id == "N1").values(hire_date=now.date() - 21 * DAY)
    )
    rows = [
        # N1: new hire (15) + 3 hard calls in 7 days (10) + leave denied 29 days ago (5) = 30
        record("N1", "recognition", now - 59 * DAY),
        *(signal("N1", "hard_call", now - d * DAY, tags=["abusive_customer"]) for d in (1, 2, 6)),
        leave("N1", "denied", now - 29 * DAY),
        leave("N1", "denied", now + DAY),  # after now: must not hide the one above
        # A1: mood falling (15) + high stress (15) + no recognition for 61 days (10) = 40
        record("A1", "recognition", now - 61 * DAY),
        checkin("A1", now - 3 * DAY, 4, 2),
        checkin("A1", now - 2 * DAY, 3, 2),
        checkin("A1", now - 1 * DAY, 2, 4),
        checkin("A1", now + timedelta(hours=1), 5, 1),  # after now: not counted
        signal("A1", "hard_call", now - 1 * DAY, episode="c1", tags=["abusive_customer"]),
        signal("A1", "hard_call", now - 1 * DAY, episode="c1", tags=["abusive_customer"]),
        signal("A1", "hard_call", now - 2 * DAY, episode="c2", tags=["abusive_customer"]),
        signal("A1", "hard_call", now - 8 * DAY, episode="c3", tags=["abusive_customer"]),
        signal("A1", "hard_call_streak", now - 1 * DAY),
        leave("A1", "denied", now - 31 * DAY),
        leave("A1", "approved", now - 1 * DAY),
        # A2: 2 adherence breaches (10) + an escalation (10) + a warning 29 days ago (10) = 30
        record("A2", "recognition", now - DAY),
        record("A2", "recognition", now + 2 * DAY),  # after now: must not hide the one above
        record("A2", "warning", now - 29 * DAY),
        signal("A2", "adherence_breach", now - 2 * DAY),
        signal("A2", "adherence_breach", now - 13 * DAY),
        signal("A2", "hard_call", now - 20 * DAY, tags=["escalation"]),
        checkin("A2", now - 3 * DAY, 3, 3),
        checkin("A2", now - 2 * DAY, 3, 3),
        checkin("A2", now - 1 * DAY, 2, 3),
        # A3: every fact just outside its window = 0
        record("A3", "recognition", now - 60 * DAY + timedelta(minutes=5)),
        record("A3", "warning", now - 31 * DAY),
        record("A3", "coaching", now - DAY),
        signal("A3", "adherence_breach", now - 2 * DAY),
        signal("A3", "adherence_breach", now - 15 * DAY),
        signal("A3", "hard_call", now - 31 * DAY, tags=["complaint"]),
        # B1 (T2): 3 hard calls (10), complaints (10), no recognition (10) = 30; D1 departed
        *(signal("B1", "hard_call", now - d * DAY, tags=["complaint"]) for d in (1, 2, 3)),
        checkin("D1", now - DAY, 1, 5),
    ]
    cdb.add_all(rows)
    await cdb.flush()


def scores(report) -> list[tuple[str, int]]:
    return [(a.agent_id, a.score) for a in report.agents]


async def test_service_loads_each_factor_for_the_team(floor, cdb, care_settings) -> None:
    await seed_facts(cdb, NOW)
    lead = Principal("L1", Role.TEAM_LEAD, frozenset({"T1"}))
    report = await service.team_risk(cdb, lead, care_settings, "T1", NOW)
    assert scores(report) == [("A1", 40), ("A2", 30), ("N1", 30), ("A3", 0)]
    by_agent = {a.agent_id: {f.factor: f for f in a.factors if f.active} for a in report.agents}
    assert set(by_agent["N1"]) == {"new_hire", "hard_calls", "leave_denied"}
    assert set(by_agent["A1"]) == {"mood_falling", "high_stress", "no_recognition"}
    assert set(by_agent["A2"]) == {"adherence_falling", "complaints", "recent_warning"}
    assert by_agent["A3"] == {}
    a1 = {f.factor: f for f in report.agents[0].factors}
    assert a1["hard_calls"].evidence == {"hard_calls_7d": 2}  # one call delivered twice
    assert a1["mood_falling"].evidence == {"last_moods": [4, 3, 2]}
    assert a1["no_recognition"].evidence["last_recognition_days_ago"] == 61
    assert by_agent["N1"]["new_hire"].evidence == {"hire_date": "2026-11-02", "tenure_days": 21}
    assert report.weights == DEFAULTS and report.as_of == NOW and report.team_id == "T1"


async def test_service_without_team_covers_what_the_caller_oversees(
    floor, cdb, care_settings
) -> None:
    await seed_facts(cdb, NOW)
    lead = Principal("L2", Role.TEAM_LEAD, frozenset({"T2"}))
    assert scores(await service.team_risk(cdb, lead, care_settings, None, NOW)) == [("B1", 30)]
    manager = Principal("M", Role.MANAGER)
    everyone = await service.team_risk(cdb, manager, care_settings, None, NOW)
    assert scores(everyone) == [("A1", 40), ("A2", 30), ("B1", 30), ("N1", 30), ("A3", 0)]


async def test_tenure_uses_the_center_time_zone(floor, cdb, care_settings) -> None:
    await seed_facts(cdb, NOW)
    settings = care_settings.model_copy(update={"center_timezone": "Pacific/Kiritimati"})
    report = await service.team_risk(cdb, Principal("M", Role.MANAGER), settings, "T1", NOW)
    [n1] = [a for a in report.agents if a.agent_id == "N1"]
    assert n1.factors[0].evidence["tenure_days"] == 22  # already tomorrow at UTC+14
    assert report.as_of == NOW


async def test_custom_weights_from_settings(floor, cdb, care_settings) -> None:
    await seed_facts(cdb, NOW)
    weights = {**DEFAULTS, "new_hire": 40, "hard_calls": 25, "leave_denied": 1}
    settings = care_settings.model_copy(update={"risk_weights": weights})
    report = await service.team_risk(cdb, Principal("AD", Role.ADMIN), settings, "T1", NOW)
    assert dict(scores(report))["N1"] == 66
    assert report.weights == weights


# --- API ----------------------------------------------------------------------------------------


async def test_api_shape(floor, cdb, care_client) -> None:
    await seed_facts(cdb, datetime.now(UTC))
    response = await care_client.get(
        "/v1/care/risk", params={"team_id": "T1"}, headers=floor.lead()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"as_of", "team_id", "weights", "agents"}
    assert body["team_id"] == "T1" and body["weights"] == DEFAULTS
    assert datetime.fromisoformat(body["as_of"]).tzinfo is not None
    assert [(a["agent_id"], a["score"]) for a in body["agents"]] == [
        ("A1", 40),
        ("A2", 30),
        ("N1", 30),
        ("A3", 0),
    ]
    for agent in body["agents"]:
        assert set(agent) == {"agent_id", "name", "team_id", "score", "factors"}
        assert agent["team_id"] == "T1" and agent["name"] == f"Person {agent['agent_id']}"
        assert [f["factor"] for f in agent["factors"]] == list(model.FACTORS)
        for f in agent["factors"]:
            assert set(f) == {"factor", "weight", "active", "contribution", "evidence"}
            assert f["contribution"] == (f["weight"] if f["active"] else 0)
        assert agent["score"] == round(sum(f["contribution"] for f in agent["factors"]))


async def test_api_reads_weights_from_the_app_settings(
    floor, cdb, care_settings, care_engine
) -> None:
    await seed_facts(cdb, datetime.now(UTC))
    weights = {**DEFAULTS, "new_hire": 40, "hard_calls": 25, "leave_denied": 1}
    settings = care_settings.model_copy(update={"risk_weights": weights})
    app = wire_app(create_app(settings), settings, care_engine, cdb)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://care") as client:
        response = await client.get("/v1/care/risk", params={"team_id": "T1"}, headers=floor.lead())
    assert response.status_code == 200, response.text
    assert response.json()["weights"]["new_hire"] == 40
    assert {a["agent_id"]: a["score"] for a in response.json()["agents"]}["N1"] == 66


@pytest.mark.parametrize(
    ("who", "team_id", "expected"),
    [
        ("agent", "T1", 404),
        ("agent", None, 404),
        ("lead", "T1", {"A1", "A2", "A3", "N1"}),
        ("lead", None, {"A1", "A2", "A3", "N1"}),
        ("other_lead", "T1", 404),
        ("other_lead", None, {"B1"}),
        ("manager", "T1", {"A1", "A2", "A3", "N1"}),
        ("manager", None, {"A1", "A2", "A3", "N1", "B1"}),
        ("manager", "NOPE", 404),
        ("admin", "T2", {"B1"}),
        ("ops", "T1", 404),
        ("ops", None, 404),
        ("qa", "T1", 404),
        ("trainer", None, 404),
    ],
)
async def test_access(floor, care_client, who: str, team_id: str | None, expected) -> None:
    headers = {
        "agent": floor.agent("A1"),
        "lead": floor.lead(),
        "other_lead": floor.lead("L2", ("T2",)),
        "manager": floor.role("M", "manager"),
        "admin": floor.role("AD", "admin"),
        "ops": floor.role("OP", "ops"),
        "qa": floor.role("QA", "qa"),
        "trainer": floor.role("TR", "trainer"),
    }[who]
    params = {"team_id": team_id} if team_id else {}
    response = await care_client.get("/v1/care/risk", params=params, headers=headers)
    if expected == 404:
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    else:
        assert response.status_code == 200, response.text
        assert {a["agent_id"] for a in response.json()["agents"]} == expected


async def test_requires_a_token(floor, care_client) -> None:
    assert (await care_client.get("/v1/care/risk")).status_code == 401
