"""Overview and dashboard: parts fetched concurrently, each only if the caller may see it,
and a slow service marked unavailable instead of holding the rest back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from services.care.tasks import triggers
from shared.events import EventType, make_event
from shared.events.signals import SignalRaised


async def hard_call(stack) -> None:
    signal = SignalRaised(
        kind="hard_call",
        episode="call-1",
        agent_id="A1",
        team_id="T1",
        detected_at=datetime.now(UTC),
        facts={"tags": ["abusive_customer"]},
    )
    await triggers.apply_signal_batch(
        stack.sessions["care"],
        [make_event(EventType.SIGNAL_RAISED, signal, source="metrics")],
        stack.settings["care"],
    )


async def test_overview_for_the_agents_lead(stack, gateway_client):
    await hard_call(stack)
    async with gateway_client() as client:
        response = await client.get(
            "/v1/people/A1/overview", headers=stack.headers("L1", "team_lead", ["T1"])
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["parts"] == {
        "profile": "ok",
        "kpis_today": "ok",
        "realtime": "ok",
        "open_care_tasks": "ok",
        "last_checkin": "ok",
        "risk": "ok",
    }
    assert body["profile"]["id"] == "A1"
    assert [t["rule"] for t in body["open_care_tasks"]] == ["hard_call"]
    assert body["last_checkin"] is None
    assert body["risk"]["agent_id"] == "A1" and 0 <= body["risk"]["score"] <= 100
    assert "logged_in_s" in body["kpis_today"]


async def test_overview_shows_each_part_only_to_who_may_see_it(stack, gateway_client):
    await hard_call(stack)
    async with gateway_client() as client:
        own = (
            await client.get("/v1/people/A1/overview", headers=stack.headers("A1", "agent", ["T1"]))
        ).json()
        ops = (
            await client.get("/v1/people/A1/overview", headers=stack.headers("OP", "ops"))
        ).json()
        stranger = await client.get(
            "/v1/people/A1/overview", headers=stack.headers("B1", "agent", ["T2"])
        )
    # the agent: own profile, figures and check-ins; tasks and risk are the lead's tools
    assert own["parts"]["profile"] == own["parts"]["kpis_today"] == "ok"
    assert own["parts"]["open_care_tasks"] == own["parts"]["risk"] == "hidden"
    assert own["open_care_tasks"] is None and own["risk"] is None
    # ops: figures yes, care never
    assert ops["parts"]["kpis_today"] == "ok"
    assert {ops["parts"][p] for p in ("open_care_tasks", "last_checkin", "risk")} == {"hidden"}
    assert stranger.status_code == 404


class Slow(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, delay_s: float) -> None:
        self.inner, self.delay_s = inner, delay_s

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(self.delay_s)
        return await self.inner.handle_async_request(request)


async def test_a_slow_service_does_not_hold_the_rest(stack, gateway_client):
    slow_metrics = lambda service, t: Slow(t, 5.0) if service == "metrics" else t  # noqa: E731
    async with gateway_client(slow_metrics, part_timeout_s=0.3) as client:
        started = time.monotonic()
        response = await client.get("/v1/teams/T1/dashboard", headers=stack.headers("M", "manager"))
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    body = response.json()
    assert body["parts"]["kpis_today"] == body["parts"]["agent_states"] == "unavailable"
    assert body["parts"]["team"] == body["parts"]["care_balance"] == "ok"
    assert body["care_balance"]["agents"] == 4
    assert elapsed < 2.0


async def test_dashboard_for_the_lead_and_refused_elsewhere(stack, gateway_client):
    """Ops see the team (the directory) and its figures, never its care data."""
    await hard_call(stack)
    async with gateway_client() as client:
        lead = await client.get(
            "/v1/teams/T1/dashboard", headers=stack.headers("L1", "team_lead", ["T1"])
        )
        other = await client.get(
            "/v1/teams/T1/dashboard", headers=stack.headers("L2", "team_lead", ["T2"])
        )
        ops = (
            await client.get("/v1/teams/T1/dashboard", headers=stack.headers("OP", "ops"))
        ).json()
    assert lead.status_code == 200
    body = lead.json()
    assert set(body["parts"].values()) == {"ok"}
    assert body["team"]["id"] == "T1" and len(body["open_care_tasks"]) == 1
    assert other.status_code == 404  # another team's lead may not see the team at all
    assert ops["parts"]["team"] == ops["parts"]["kpis_today"] == "ok"
    assert ops["parts"]["care_balance"] == ops["parts"]["open_care_tasks"] == "hidden"


async def test_ids_with_any_characters_are_a_404_not_an_error(stack, gateway_client):
    """Found by fuzzing: the parts' upstream URLs were built from the raw id (500)."""
    manager = stack.headers("M", "manager")
    async with gateway_client() as client:
        for path in ("/v1/people/%1F/overview", "/v1/teams/a%2Fb%20c/dashboard"):
            response = await client.get(path, headers=manager)
            assert response.status_code == 404, (path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")


class Recording(httpx.AsyncBaseTransport):
    """Slow, and counts the requests that finished and those that were cancelled."""

    def __init__(self, inner: httpx.AsyncBaseTransport, delay_s: float) -> None:
        self.inner, self.delay_s = inner, delay_s
        self.finished = self.cancelled = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            await asyncio.sleep(self.delay_s)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        response = await self.inner.handle_async_request(request)
        self.finished += 1
        return response


def slow_care(delay_s: float) -> tuple[dict[str, Recording], Callable]:
    holder: dict[str, Recording] = {}

    def wrap(service: str, transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        if service != "care":
            return transport
        holder["care"] = Recording(transport, delay_s)
        return holder["care"]

    return holder, wrap


async def test_a_part_past_its_timeout_finishes_in_the_background(stack, gateway_client):
    """Not cancelled: cancelling requests in flight leaks slots of httpx's own connection pool
    (encode/httpcore#1093), after which every part would wait for the pool and time out."""
    holder, wrap = slow_care(0.4)
    lead = stack.headers("L1", "team_lead", ["T1"])
    async with gateway_client(wrap, part_timeout_s=0.1) as client:
        response = await client.get("/v1/people/A1/overview", headers=lead)
        parts = response.json()["parts"]
        assert parts["open_care_tasks"] == parts["last_checkin"] == parts["risk"] == "unavailable"
        assert parts["profile"] == parts["kpis_today"] == "ok"
        await asyncio.sleep(1.0)
        recording = holder["care"]
        assert (recording.finished, recording.cancelled) == (3, 0)  # tasks, check-in, risk


async def test_requests_still_running_at_shutdown_are_cancelled(stack, gateway_client):
    holder, wrap = slow_care(30)
    lead = stack.headers("L1", "team_lead", ["T1"])
    async with gateway_client(wrap, part_timeout_s=0.1) as client:
        response = await client.get("/v1/people/A1/overview", headers=lead)
        assert response.json()["parts"]["risk"] == "unavailable"
    recording = holder["care"]
    assert (recording.finished, recording.cancelled) == (0, 3)


async def test_team_parts_follow_the_profile_not_the_slowest_part(stack, gateway_client):
    """Today's KPIs and the real-time state each take 0.4 s: in parallel, not one after the
    other (the state waits for the profile only)."""
    slow = lambda service, t: Slow(t, 0.4) if service == "metrics" else t  # noqa: E731
    async with gateway_client(slow, part_timeout_s=2.0) as client:
        started = time.monotonic()
        response = await client.get(
            "/v1/people/A1/overview", headers=stack.headers("L1", "team_lead", ["T1"])
        )
        elapsed = time.monotonic() - started
    assert set(response.json()["parts"].values()) == {"ok"}
    assert elapsed < 0.75
