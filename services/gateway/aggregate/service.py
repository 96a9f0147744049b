"""What a client needs in one round trip, fetched from the services concurrently.

Each part is fetched with the caller's own token, so a service shows it only if the caller may
see it (``hidden`` otherwise), and within ``part_timeout_s`` (``unavailable`` otherwise): one
slow or failing service never holds the rest back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import orjson

from services.gateway.upstreams import Upstreams
from shared.errors import NotFound, ServiceUnavailable, Unauthorized

Status = Literal["ok", "hidden", "unavailable"]


@dataclass(frozen=True)
class Part:
    status: Status
    data: Any = None


@dataclass(frozen=True)
class Fetcher:
    upstreams: Upstreams
    headers: Mapping[str, str]
    timeout_s: float

    async def part(
        self,
        service: str,
        path: str,
        params: Mapping[str, str] | None = None,
        pick: Callable[[Any], Any] = lambda body: body,
    ) -> Part:
        try:
            response = await self.upstreams.get_within(
                self.timeout_s, service, path, headers=self.headers, params=params
            )
        except (TimeoutError, ServiceUnavailable):
            return Part("unavailable")
        if response.status_code == 401:
            raise Unauthorized("Invalid bearer token.")
        if response.status_code in (403, 404):
            return Part("hidden")
        if response.status_code >= 400:
            return Part("unavailable")
        return Part("ok", pick(orjson.loads(response.content)))


def segment(value: str) -> str:
    """An id as one path segment of an upstream URL, whatever characters it holds."""
    return quote(value, safe="")


def today(timezone: str, now: datetime) -> tuple[str, str]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(now.astimezone(zone).date(), time.min, tzinfo=zone)
    return start.isoformat(), (start + timedelta(days=1)).isoformat()


def _one(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any] | None:
    return next((item for item in items if item.get(key) == value), None)


def _render(parts: dict[str, Part]) -> dict[str, Any]:
    body: dict[str, Any] = {name: part.data for name, part in parts.items()}
    body["parts"] = {name: part.status for name, part in parts.items()}
    return body


async def person_overview(
    fetch: Fetcher, caller_id: str, person_id: str, timezone: str, now: datetime
) -> dict[str, Any]:
    """The real-time state and the risk are read by the person's team, so they follow the
    profile; the other parts are in flight meanwhile."""
    start, end = today(timezone, now)
    day = {"start": start, "end": end, "granularity": "day"}
    own = caller_id == person_id

    async def profile_then_team_parts() -> tuple[Part, Part | None, Part | None]:
        profile = await fetch.part("roster", f"/v1/people/{segment(person_id)}")
        if profile.status != "ok":
            return profile, None, None
        team_id = profile.data.get("team_id")
        realtime, risk = await asyncio.gather(
            fetch.part(
                "metrics",
                "/v1/realtime/agents",
                {"team_id": team_id} if team_id and not own else None,
                lambda agents: _one(agents, "agent_id", person_id),
            ),
            fetch.part(
                "care",
                "/v1/care/risk",
                {"team_id": team_id} if team_id else None,
                lambda b: _one(b["agents"], "agent_id", person_id),
            ),
        )
        return profile, realtime, risk

    (profile, realtime, risk), kpis, tasks, checkins = await asyncio.gather(
        profile_then_team_parts(),
        fetch.part(
            "metrics", f"/v1/metrics/agents/{segment(person_id)}", day, lambda b: b["total"]
        ),
        fetch.part(
            "care",
            "/v1/care/tasks",
            {"agent_id": person_id, "status": "open", "limit": "50"},
            lambda b: b["items"],
        ),
        fetch.part(
            "care",
            "/v1/care/checkins",
            {"agent_id": person_id, "limit": "1"},
            lambda b: b["items"][0] if b["items"] else None,
        ),
    )
    if profile.status == "hidden":
        raise NotFound(f"No person {person_id}.")
    if realtime is None or risk is None:
        raise ServiceUnavailable("The roster service is unavailable.", service="roster")
    return _render(
        {
            "profile": profile,
            "kpis_today": kpis,
            "realtime": realtime,
            "open_care_tasks": tasks,
            "last_checkin": checkins,
            "risk": risk,
        }
    )


async def team_dashboard(
    fetch: Fetcher, team_id: str, timezone: str, now: datetime
) -> dict[str, Any]:
    start, end = today(timezone, now)
    team, kpis, states, balance, tasks = await asyncio.gather(
        fetch.part("roster", f"/v1/teams/{segment(team_id)}"),
        fetch.part(
            "metrics",
            f"/v1/metrics/teams/{segment(team_id)}",
            {"start": start, "end": end, "granularity": "day"},
            lambda b: b["total"],
        ),
        fetch.part("metrics", "/v1/realtime/agents", {"team_id": team_id}),
        fetch.part("care", "/v1/care/balance", {"team_id": team_id}, lambda b: b["summary"]),
        fetch.part(
            "care",
            "/v1/care/tasks",
            {"team_id": team_id, "status": "open", "limit": "200"},
            lambda b: b["items"],
        ),
    )
    if team.status == "hidden":
        raise NotFound(f"No team {team_id}.")
    if team.status == "unavailable":
        raise ServiceUnavailable("The roster service is unavailable.", service="roster")
    return _render(
        {
            "team": team,
            "kpis_today": kpis,
            "agent_states": states,
            "care_balance": balance,
            "open_care_tasks": tasks,
        }
    )
