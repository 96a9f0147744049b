"""Team policies and the balance endpoint (states computed from real rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.care.balance import service as balance_service
from services.care.records.models import CareRecord
from services.care.tasks.models import CareTask, TaskTrigger
from shared.auth import Principal, Role

NOW = datetime.now(UTC)


def record(agent, kind, days_ago, category="wellbeing", task_id=None):
    return CareRecord(
        agent_id=agent,
        team_id="T1",
        author_id="L1",
        kind=kind,
        category=category,
        occurred_at=NOW - timedelta(days=days_ago),
        summary="s",
        task_id=task_id,
    )


async def test_policy_defaults_then_a_managers_own(care_client, floor):
    lead = floor.lead()
    got = (await care_client.get("/v1/care/policies/T1", headers=lead)).json()
    assert got["source"] == "default" and got["touch_interval_days"] == 14
    assert got["max_interventions"] == 3 and got["intervention_window_days"] == 7
    body = {
        "touch_interval_days": 10,
        "max_interventions": 2,
        "intervention_window_days": 7,
        "checkin_interval_days": 7,
        "rule_cooldown_hours": {"aht_drift": 48},
    }
    refused = await care_client.put("/v1/care/policies/T1", json=body, headers=lead)
    assert refused.status_code == 403
    manager = floor.role("M", "manager")
    saved = await care_client.put("/v1/care/policies/T1", json=body, headers=manager)
    assert saved.status_code == 200, saved.text
    assert saved.json()["source"] == "team" and saved.json()["updated_by"] == "M"
    again = (await care_client.get("/v1/care/policies/T1", headers=lead)).json()
    assert again["touch_interval_days"] == 10 and again["rule_cooldown_hours"] == {"aht_drift": 48}
    for bad in (
        {**body, "max_interventions": 0},
        {**body, "rule_cooldown_hours": {"hard_call": 1}},  # urgent rules have no cool-down
        {**body, "rule_cooldown_hours": {"aht_drift": -1}},
    ):
        assert (
            await care_client.put("/v1/care/policies/T1", json=bad, headers=manager)
        ).status_code == 422
    assert (
        await care_client.get("/v1/care/policies/T1", headers=floor.lead("L2", ("T2",)))
    ).status_code == 404
    assert (await care_client.get("/v1/care/policies/T1", headers=floor.agent())).status_code == 404
    assert (await care_client.get("/v1/care/policies/T9", headers=manager)).status_code == 404


async def test_balance_states_and_summary(care_client, floor, cdb, care_settings):
    # A1: touched 3 days ago → balanced; A2: last touch 20 days ago → under-cared;
    # A3: touched, but 4 interventions without a task this week → over-cared.
    cdb.add_all(
        [
            record("A1", "recognition", 3, category="career"),
            record("A2", "one_on_one", 20),
            record("A3", "one_on_one", 1),
            record("A3", "coaching", 2, category="career"),
            record("A3", "warning", 3, category="career"),
            record("A3", "training_referral", 4, category="career"),
        ]
    )
    cdb.add(
        CareTask(
            rule="long_aux",
            agent_id="A2",
            team_id="T1",
            assignee_id="L1",
            urgent=False,
            status="open",
            facts={},
            merged=[],
            suggested_action="talk",
            due_at=NOW + timedelta(days=1),
            available_at=NOW - timedelta(hours=1),
            opened_at=NOW - timedelta(hours=1),
        )
    )
    cdb.add(
        TaskTrigger(
            key="k1",
            rule="csat_drop",
            agent_id="A2",
            team_id="T1",
            occurred_at=NOW - timedelta(hours=2),
            facts={},
            outcome="merged",
            reason="cap",
        )
    )
    await cdb.flush()
    response = await care_client.get("/v1/care/balance?team_id=T1", headers=floor.lead())
    assert response.status_code == 200, response.text
    body = response.json()
    by_agent = {a["agent_id"]: a for a in body["agents"]}
    assert by_agent["A1"]["state"] == "balanced"
    assert by_agent["A1"]["touches_30d"] == {"career": 1, "needs": 0, "wellbeing": 0}
    assert by_agent["A1"]["last_touch_kind"] == "recognition"
    assert by_agent["A2"]["state"] == "under_cared"
    assert by_agent["A2"]["open_tasks"] == 1 and by_agent["A2"]["suppressed_30d"] == 1
    assert by_agent["A2"]["interventions_in_window"] == 1  # the open non-urgent task
    assert by_agent["A3"]["state"] == "over_cared"
    assert by_agent["A3"]["interventions_in_window"] == 4
    assert by_agent["A3"]["touches_30d"] == {"career": 1, "needs": 0, "wellbeing": 1}
    # N1 joined on T0 (weeks ago) and was never touched
    assert by_agent["N1"]["state"] == "under_cared"
    summary = body["summary"]
    assert (
        summary["agents"],
        summary["under_cared"],
        summary["balanced"],
        summary["over_cared"],
    ) == (
        4,
        2,
        1,
        1,
    )
    assert [t["team_id"] for t in body["teams"]] == ["T1"]
    for who in (floor.agent(), floor.lead("L2", ("T2",)), floor.role("OP", "ops")):
        assert (
            await care_client.get("/v1/care/balance?team_id=T1", headers=who)
        ).status_code == 404
    everything = await balance_service.balance(
        cdb, care_settings, Principal("M", Role.MANAGER), None, NOW
    )
    assert {a.agent_id for a in everything.agents} == {"A1", "A2", "A3", "N1", "B1"}
