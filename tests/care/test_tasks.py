"""Signals and roster changes into care tasks, through the degree-of-care gate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.care.db import OutboxMessage
from services.care.directory.service import apply_roster_batch
from services.care.tasks import triggers
from services.care.tasks.models import CareTask, TaskTrigger
from services.care.tasks.rules import SIGNAL_RULES
from shared.events import EventType, make_event
from shared.events.roster import ScheduledActivity, SchedulePublished
from shared.events.signals import SignalRaised
from tests.care.conftest import T0, mentorship_event

AT = T0 + timedelta(days=1, hours=2)


def signal(kind: str, episode: str, *, agent="A1", team="T1", at=AT, facts=None, id=None):
    data = SignalRaised(
        kind=kind,
        episode=episode,
        agent_id=agent if kind != "team_qa_pattern" else None,
        team_id=team,
        detected_at=at,
        facts=facts or {},
    )
    return make_event(EventType.SIGNAL_RAISED, data, source="metrics", time=at, id=id)


async def tasks_of(cdb, **where) -> list[CareTask]:
    query = select(CareTask).order_by(CareTask.created_at, CareTask.id)
    for name, value in where.items():
        query = query.where(getattr(CareTask, name) == value)
    return list(await cdb.scalars(query))


async def care_events(cdb, type_: str) -> int:
    return await cdb.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.event_type == type_)
    )


async def test_hard_call_opens_one_urgent_task_for_the_lead(cdb, floor, care_settings):
    event = signal("hard_call", "call-1", facts={"call_id": "call-1", "tags": ["abusive_customer"]})
    await triggers.apply_signal_batch(cdb, [event], care_settings)
    [task] = await tasks_of(cdb)
    assert (task.rule, task.agent_id, task.team_id, task.assignee_id) == (
        "hard_call",
        "A1",
        "T1",
        "L1",
    )
    assert task.urgent and task.status == "open"
    assert task.due_at == AT + timedelta(minutes=10)
    assert task.facts["tags"] == ["abusive_customer"]
    assert task.facts["check_in_by"] == "2026-11-04T00:00:00+00:00"  # no shift known: the day
    assert "care break" in task.suggested_action and "abusive_customer" in task.suggested_action
    assert await care_events(cdb, "care.task.opened") == 1


async def test_hard_call_check_in_is_due_by_the_end_of_the_shift(cdb, floor, care_settings):
    shift = SchedulePublished(
        schedule_id="s1",
        agent_id="A1",
        team_id="T1",
        day=AT.date(),
        timezone="UTC",
        version=1,
        activities=[
            ScheduledActivity(
                kind="work", start=AT - timedelta(hours=2), end=AT + timedelta(hours=1)
            ),
            ScheduledActivity(
                kind="break", start=AT + timedelta(hours=1), end=AT + timedelta(hours=2)
            ),
            ScheduledActivity(
                kind="work", start=AT + timedelta(hours=2), end=AT + timedelta(hours=5)
            ),
        ],
    )
    await apply_roster_batch(
        cdb, [make_event(EventType.SCHEDULE_PUBLISHED, shift, source="roster")]
    )
    await triggers.apply_signal_batch(cdb, [signal("hard_call", "c")], care_settings)
    [task] = await tasks_of(cdb)
    assert task.facts["check_in_by"] == (AT + timedelta(hours=5)).isoformat()
    assert f"by {(AT + timedelta(hours=5)).isoformat()}" in task.suggested_action


async def test_the_same_episode_opens_one_task_however_often_it_arrives(cdb, floor, care_settings):
    first = signal("hard_call", "call-1", facts={"tags": ["complaint"]})
    again_new_id = signal("hard_call", "call-1", facts={"tags": ["complaint"]})
    await triggers.apply_signal_batch(cdb, [first, again_new_id], care_settings)
    await triggers.apply_signal_batch(cdb, [first], care_settings)
    assert len(await tasks_of(cdb)) == 1
    assert await care_events(cdb, "care.task.opened") == 1


@pytest.mark.parametrize("kind", sorted(SIGNAL_RULES))
async def test_each_signal_rule_opens_exactly_one_task_per_episode(cdb, floor, care_settings, kind):
    events = [signal(kind, "ep-1"), signal(kind, "ep-1"), signal(kind, "ep-1")]
    await triggers.apply_signal_batch(cdb, events, care_settings)
    [task] = await tasks_of(cdb)
    assert task.rule == kind and task.assignee_id == "L1" and task.status == "open"
    assert task.agent_id == (None if kind == "team_qa_pattern" else "A1")


async def test_adherence_breach_is_kept_for_risk_but_opens_no_task(cdb, floor, care_settings):
    await triggers.apply_signal_batch(cdb, [signal("adherence_breach", "e")], care_settings)
    assert await tasks_of(cdb) == []


async def test_the_cap_merges_then_defers_and_never_drops(cdb, floor, care_settings):
    for n, kind in enumerate(("long_aux", "absent", "late_login")):
        await triggers.apply_signal_batch(
            cdb, [signal(kind, f"e{n}", at=AT + timedelta(hours=n))], care_settings
        )
    opened = await tasks_of(cdb, status="open")
    assert len(opened) == 3
    # a fourth non-urgent trigger within 7 days merges into the newest open task
    await triggers.apply_signal_batch(
        cdb, [signal("csat_drop", "e3", at=AT + timedelta(hours=4))], care_settings
    )
    assert len(await tasks_of(cdb)) == 3
    newest = opened[-1]
    await cdb.refresh(newest)
    assert [m["rule"] for m in newest.merged] == ["csat_drop"]
    merged = await cdb.get(TaskTrigger, "signal:csat_drop:A1:e3")
    assert merged is not None and merged.outcome == "merged" and merged.task_id == newest.id
    # urgent help always passes
    await triggers.apply_signal_batch(
        cdb, [signal("hard_call", "c1", at=AT + timedelta(hours=5))], care_settings
    )
    assert len(await tasks_of(cdb, rule="hard_call")) == 1
    # with nothing open to merge into, the next one is deferred until the cap frees
    for task in await tasks_of(cdb, status="open"):
        task.status = "done"
    await cdb.flush()
    await triggers.apply_signal_batch(
        cdb, [signal("aht_drift", "e4", at=AT + timedelta(hours=6))], care_settings
    )
    [deferred] = await tasks_of(cdb, status="deferred")
    assert deferred.available_at == AT + timedelta(days=7)  # the first intervention leaves
    assert deferred.opened_at is None
    # the scan opens it when its time comes, not before
    await triggers.scan(cdb, care_settings, AT + timedelta(days=6))
    assert (await cdb.get(CareTask, deferred.id)).status == "deferred"
    opened_at = AT + timedelta(days=7, minutes=1)
    await triggers.scan(cdb, care_settings, opened_at)
    await cdb.refresh(deferred)
    assert (deferred.status, deferred.opened_at) == ("open", opened_at)
    assert deferred.due_at == opened_at + timedelta(days=2)


async def test_cool_down_per_rule(cdb, floor, care_settings):
    await triggers.apply_signal_batch(cdb, [signal("aht_drift", "a")], care_settings)
    [task] = await tasks_of(cdb)
    await triggers.apply_signal_batch(
        cdb, [signal("aht_drift", "b", at=AT + timedelta(hours=5))], care_settings
    )
    await cdb.refresh(task)
    assert len(task.merged) == 1 and task.merged[0]["reason"].startswith("cool-down")
    task.status = "dismissed"
    await cdb.flush()
    await triggers.apply_signal_batch(
        cdb, [signal("aht_drift", "c", at=AT + timedelta(hours=71))], care_settings
    )
    cooled = await cdb.get(TaskTrigger, "signal:aht_drift:A1:c")
    assert cooled is not None and cooled.outcome == "cooled_down" and cooled.task_id == task.id
    await triggers.apply_signal_batch(
        cdb, [signal("aht_drift", "d", at=AT + timedelta(hours=73))], care_settings
    )
    assert len(await tasks_of(cdb, rule="aht_drift")) == 2


async def test_new_hire_mentor_tasks(cdb, floor, care_settings):
    day = timedelta(days=1)
    await triggers.scan(cdb, care_settings, T0 + 2 * day)
    assert await tasks_of(cdb, agent_id="N1") == []
    await triggers.scan(cdb, care_settings, T0 + 3 * day)
    [assign] = await tasks_of(cdb, agent_id="N1")
    assert assign.rule == "assign_mentor" and assign.assignee_id == "L1"
    await triggers.scan(cdb, care_settings, T0 + 3 * day + timedelta(hours=1))
    assert len(await tasks_of(cdb, agent_id="N1")) == 1  # once
    # a mentor assigned closes it
    mentorship = [mentorship_event("A2", "N1", at=T0 + 4 * day)]
    await apply_roster_batch(cdb, mentorship)
    await triggers.apply_roster_triggers(cdb, mentorship, care_settings)
    await cdb.refresh(assign)
    assert assign.status == "dismissed" and "mentor was assigned" in assign.dismiss_reason
    # day-7 check-in opens a day ahead, names the mentor
    await triggers.scan(cdb, care_settings, T0 + 6 * day)
    [checkin] = await tasks_of(cdb, agent_id="N1", rule="mentor_checkin")
    assert checkin.facts["day"] == 7 and checkin.facts["mentor_id"] == "A2"
    assert "Person A2" in checkin.suggested_action
    await triggers.scan(cdb, care_settings, T0 + 29 * day)
    assert sorted(t.facts["day"] for t in await tasks_of(cdb, rule="mentor_checkin")) == [7, 30]


async def test_no_touch_and_no_checkin_lapses_open_once_per_lapse(cdb, floor, care_settings):
    now = T0 + timedelta(days=14, hours=1)
    await triggers.scan(cdb, care_settings, now)
    await triggers.scan(cdb, care_settings, now + timedelta(hours=1))
    a1 = await tasks_of(cdb, agent_id="A1")
    assert sorted(t.rule for t in a1) == ["checkin_request", "under_cared"]
    assert all(t.facts["days_without"] == 14 for t in a1)
    # leads, managers and other roles are not the subject of these rules
    assert await tasks_of(cdb, agent_id="L1") == []


async def test_departure_closes_pending_tasks(cdb, floor, care_settings):
    from tests.care.conftest import person_event

    await triggers.apply_signal_batch(cdb, [signal("long_aux", "x")], care_settings)
    gone = [
        person_event(
            "A1",
            team_id=None,
            status="departed",
            at=AT + timedelta(hours=1),
            type_=EventType.PERSON_DEPARTED,
        )
    ]
    await apply_roster_batch(cdb, gone)
    await triggers.apply_roster_triggers(cdb, gone, care_settings)
    [task] = await tasks_of(cdb)
    assert task.status == "dismissed" and task.dismiss_reason == "the person departed"
    await triggers.apply_signal_batch(cdb, [signal("long_aux", "y")], care_settings)
    assert len(await tasks_of(cdb)) == 1


async def test_task_api_access_and_lifecycle(cdb, floor, care_settings, care_client):
    await triggers.apply_signal_batch(
        cdb, [signal("hard_call", "c", facts={"tags": ["escalation"]})], care_settings
    )
    [task] = await tasks_of(cdb)
    lead = floor.lead()
    listed = (await care_client.get("/v1/care/tasks?status=open", headers=lead)).json()
    assert [t["id"] for t in listed["items"]] == [task.id]
    assert listed["items"][0]["suggested_action"] == task.suggested_action
    for who in (floor.role("M", "manager"), floor.role("AD", "admin")):
        assert (await care_client.get(f"/v1/care/tasks/{task.id}", headers=who)).status_code == 200
    for who in (
        floor.agent("A1"),
        floor.agent("A2"),
        floor.lead("L2", ("T2",)),
        floor.role("OP", "ops"),
        floor.role("QA", "qa"),
    ):
        assert (await care_client.get(f"/v1/care/tasks/{task.id}", headers=who)).status_code == 404
    other = (await care_client.get("/v1/care/tasks", headers=floor.lead("L2", ("T2",)))).json()
    assert other["items"] == []
    assert (await care_client.get("/v1/care/tasks", headers=floor.agent())).status_code == 404
    # done needs the record that answered it
    done = await care_client.post(f"/v1/care/tasks/{task.id}/complete", json={}, headers=lead)
    assert done.status_code == 422 and done.json()["rule"] == "record_required"
    grant = await care_client.post(
        "/v1/care/care-breaks", json={"agent_id": "A1", "task_id": task.id}, headers=lead
    )
    assert grant.status_code == 201, grant.text
    closed = (await care_client.get(f"/v1/care/tasks/{task.id}", headers=lead)).json()
    assert closed["status"] == "done" and closed["record_id"] == grant.json()["id"]
    again = await care_client.post(
        f"/v1/care/tasks/{task.id}/dismiss", json={"reason": "dup"}, headers=lead
    )
    assert again.status_code == 422 and again.json()["rule"] == "task_closed"
    assert await care_events(cdb, "care.task.closed") == 1
    assert await care_events(cdb, "care.care_break.granted") == 1


async def test_dismiss_and_suppressed_listing(cdb, floor, care_settings, care_client):
    await triggers.apply_signal_batch(cdb, [signal("aht_drift", "a")], care_settings)
    await triggers.apply_signal_batch(
        cdb, [signal("aht_drift", "b", at=AT + timedelta(hours=1))], care_settings
    )
    [task] = await tasks_of(cdb)
    lead = floor.lead()
    bad = await care_client.post(f"/v1/care/tasks/{task.id}/dismiss", json={}, headers=lead)
    assert bad.status_code == 422
    ok = await care_client.post(
        f"/v1/care/tasks/{task.id}/dismiss",
        json={"reason": "talked yesterday already"},
        headers=lead,
    )
    assert ok.json()["status"] == "dismissed"
    suppressed = (await care_client.get("/v1/care/tasks/suppressed", headers=lead)).json()
    [item] = suppressed["items"]
    assert (item["outcome"], item["task_id"], item["rule"]) == ("merged", task.id, "aht_drift")
    assert item["reason"].startswith("cool-down")
    hidden = await care_client.get("/v1/care/tasks/suppressed", headers=floor.lead("L2", ("T2",)))
    assert hidden.json()["items"] == []


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (("A1", "agent", ["T1"]), 404),
        (("A2", "agent", ["T1"]), 404),
        (("L2", "team_lead", ["T2"]), 404),
        (("OP", "ops", []), 404),
        (("QA", "qa", []), 404),
        (("L1", "team_lead", ["T1"]), 200),
        (("M", "manager", []), 200),
        (("AD", "admin", []), 200),
    ],
)
async def test_who_may_close_a_task(cdb, floor, care_settings, care_client, who, status):
    await triggers.apply_signal_batch(cdb, [signal("long_aux", "x")], care_settings)
    [task] = await tasks_of(cdb)
    response = await care_client.post(
        f"/v1/care/tasks/{task.id}/dismiss",
        json={"reason": "already handled at the briefing"},
        headers=floor.headers(*who),
    )
    assert response.status_code == status
    await cdb.refresh(task)
    assert task.status == ("dismissed" if status == 200 else "open")
    if status == 200:
        assert (task.closed_by, task.dismiss_reason) == (who[0], "already handled at the briefing")


async def test_team_task_is_for_the_teams_lead(cdb, floor, care_settings, care_client):
    await triggers.apply_signal_batch(
        cdb, [signal("team_qa_pattern", "p", facts={"error_category": "greeting"})], care_settings
    )
    [task] = await tasks_of(cdb)
    assert "greeting" in task.suggested_action and "whole team's lesson" in task.suggested_action
    ok = await care_client.get(f"/v1/care/tasks/{task.id}", headers=floor.lead())
    assert ok.status_code == 200 and ok.json()["agent_id"] is None
    other = await care_client.get(f"/v1/care/tasks/{task.id}", headers=floor.lead("L2", ("T2",)))
    assert other.status_code == 404
    done = await care_client.post(
        f"/v1/care/tasks/{task.id}/complete", json={}, headers=floor.lead()
    )
    assert done.status_code == 200 and done.json()["status"] == "done"


async def test_a_nul_character_in_an_id_or_filter_is_refused_not_a_crash(care_client, floor):
    """Found by fuzzing the gateway: ids and filters reach PostgreSQL, which refuses U+0000."""
    lead = floor.lead()
    for path in ("/v1/care/tasks/%00", "/v1/care/tasks/suppressed?agent_id=%00"):
        resp = await care_client.get(path, headers=lead)
        assert resp.status_code == 422, (path, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
