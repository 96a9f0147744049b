"""Shift preferences: stated by the person, read by their lead, validated."""

from __future__ import annotations

import pytest

PREFS = {
    "preferred_start_windows": [{"start": "08:00", "end": "10:00", "days": ["mon", "tue"]}],
    "preferred_days_off": ["sat", "sun"],
    "max_consecutive_late_shifts": 2,
}


async def test_agent_states_and_lead_reads(client, token_for, floor) -> None:
    lead, team, agent = floor
    path = f"/v1/people/{agent.id}/preferences"
    empty = await client.get(path, headers=token_for(agent, team_ids=[team.id]))
    assert empty.status_code == 200
    assert empty.json()["preferred_days_off"] == [] and empty.json()["updated_at"] is None
    put = await client.put(path, json=PREFS, headers=token_for(agent, team_ids=[team.id]))
    assert put.status_code == 200, put.text
    read = (await client.get(path, headers=token_for(lead, team_ids=[team.id]))).json()
    assert read["preferred_start_windows"] == [
        {"start": "08:00:00", "end": "10:00:00", "days": ["mon", "tue"]}
    ]
    assert (read["preferred_days_off"], read["max_consecutive_late_shifts"]) == (["sat", "sun"], 2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"preferred_start_windows": [{"start": "10:00", "end": "08:00"}]},
            "body.preferred_start_windows.0",
        ),
        ({"preferred_days_off": ["sat", "sat"]}, "body.preferred_days_off"),
        ({"preferred_days_off": ["someday"]}, "body.preferred_days_off.0"),
        ({"max_consecutive_late_shifts": 9}, "body.max_consecutive_late_shifts"),
    ],
)
async def test_validation(client, token_for, floor, body, field) -> None:
    _, team, agent = floor
    response = await client.put(
        f"/v1/people/{agent.id}/preferences",
        json=body,
        headers=token_for(agent, team_ids=[team.id]),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_access(client, token_for, factory, floor) -> None:
    lead, team, agent = floor
    path = f"/v1/people/{agent.id}/preferences"
    colleague = await factory.person(team=team)
    ops = await factory.person(role="ops")
    manager = await factory.person(role="manager")
    assert (
        await client.get(path, headers=token_for(colleague, team_ids=[team.id]))
    ).status_code == 404
    assert (await client.get(path, headers=token_for(ops))).status_code == 404
    assert (
        await client.put(path, json=PREFS, headers=token_for(lead, team_ids=[team.id]))
    ).status_code == 403
    assert (await client.put(path, json=PREFS, headers=token_for(manager))).status_code == 200
    assert (await client.get(path)).status_code == 401
    assert (
        await client.get("/v1/people/nope/preferences", headers=token_for(manager))
    ).status_code == 404
