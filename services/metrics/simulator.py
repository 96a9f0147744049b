"""CTI traffic simulator: the demo center's agents follow their schedules and take calls.

``python -m services.metrics.simulator`` reads today's agents and published schedules from
the roster API, simulates the whole day deterministically for a seed, publishes every event
whose time has come (a backfill from the first shift start), then follows the clock, publishing
each event as its moment passes. ``make run`` starts it unless ``DEMO=0``. It publishes
canonical CloudEvents straight to ``cti.events`` (the gateway will take this over).

The model: per-queue Poisson arrivals whose rate follows a time-of-day curve (a morning and an
afternoon peak); callers abandon after an exponential patience; an available agent of the
queue's team answers the longest-waiting caller; talk times are log-normal (median ~4 min),
some calls are held, ACW ~40 s; a few calls are hard (tagged), some get a survey, a QA review
or a complaint. Agents log in around their shift start (some late, a few absent), take their
scheduled breaks, lunch, training and meetings as aux, and log out at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import math
import os
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaProducer

from shared.events import CloudEvent, EventType, cti, make_event
from shared.messaging.kafka import ensure_topics, new_producer

SOURCE = "cti/simulator"
AUX_KINDS = {
    "break": "break",
    "lunch": "lunch",
    "training": "training",
    "meeting": "meeting",
    "coaching": "coaching",
}


@dataclass(frozen=True)
class Activity:
    kind: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class SimAgent:
    agent_id: str
    queue_id: str
    activities: tuple[Activity, ...]


@dataclass(order=True)
class _Job:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    payload: dict = field(compare=False, default_factory=dict)


def arrival_rate_per_min(moment: datetime, timezone: str, peak_per_min: float) -> float:
    """Calls per minute for one queue: a morning peak at 10:00 and an afternoon one at 15:00."""
    local = moment.astimezone(ZoneInfo(timezone))
    hour = local.hour + local.minute / 60
    if hour < 7 or hour > 21:
        return 0.0
    morning = math.exp(-((hour - 10) ** 2) / 4)
    afternoon = 0.8 * math.exp(-((hour - 15) ** 2) / 5)
    return peak_per_min * max(0.15, morning + afternoon)


class DaySimulation:
    """Deterministic for a seed: the same agents, schedules and seed give the same events."""

    def __init__(
        self, agents: list[SimAgent], *, seed: int, timezone: str, peak_calls_per_min: float = 1.2
    ) -> None:
        self.agents = sorted(agents, key=lambda a: a.agent_id)
        self.rng = random.Random(seed)
        self.timezone = timezone
        self.peak = peak_calls_per_min
        self.events: list[CloudEvent] = []
        self._jobs: list[_Job] = []
        self._seq = 0
        self._ids = 0
        self._available: dict[str, set[str]] = {}
        self._on_shift: set[str] = set()
        self._busy: set[str] = set()
        self._leaving: set[str] = set()
        self._waiting: dict[str, deque[tuple[str, datetime]]] = {}
        self._abandoned: set[str] = set()

    def _schedule(self, at: datetime, kind: str, **payload) -> None:
        self._seq += 1
        heapq.heappush(self._jobs, _Job(at, self._seq, kind, payload))

    def _emit(self, type_: EventType, data, at: datetime) -> None:
        self._ids += 1
        self.events.append(
            make_event(type_, data, source=SOURCE, time=at, id=f"sim-{self._seed_tag}-{self._ids}")
        )

    def run(self, start: datetime, end: datetime) -> list[CloudEvent]:
        self._seed_tag = f"{start.date().isoformat()}-{self.rng.randint(0, 10**6)}"
        queues = sorted({a.queue_id for a in self.agents})
        for queue in queues:
            self._available[queue] = set()
            self._waiting[queue] = deque()
            self._schedule(start, "arrival", queue=queue)
        for agent in self.agents:
            self._plan_agent(agent)
        while self._jobs and self._jobs[0].at < end:
            job = heapq.heappop(self._jobs)
            getattr(self, f"_on_{job.kind}")(job.at, **job.payload)
        self.events.sort(key=lambda e: (e.time, e.id))
        return self.events

    # -- agents ------------------------------------------------------------------------------

    def _plan_agent(self, agent: SimAgent) -> None:
        if not agent.activities or self.rng.random() < 0.03:
            return  # absent today
        shift_start = min(a.start for a in agent.activities)
        shift_end = max(a.end for a in agent.activities)
        late = self.rng.random() < 0.1
        offset = (
            timedelta(minutes=self.rng.uniform(3, 20))
            if late
            else -timedelta(minutes=self.rng.uniform(0, 6))
        )
        self._schedule(shift_start + offset, "login", agent=agent)
        for activity in agent.activities:
            if activity.kind in AUX_KINDS:
                self._schedule(activity.start, "aux", agent=agent, reason=AUX_KINDS[activity.kind])
                self._schedule(activity.end, "ready", agent=agent)
        self._schedule(shift_end + timedelta(minutes=self.rng.uniform(0, 4)), "logout", agent=agent)

    def _on_login(self, at: datetime, agent: SimAgent) -> None:
        self._on_shift.add(agent.agent_id)
        self._emit(EventType.AGENT_LOGGED_IN, cti.AgentLoggedIn(agent_id=agent.agent_id), at)
        self._make_available(at, agent)

    def _on_aux(self, at: datetime, agent: SimAgent, reason: str) -> None:
        if agent.agent_id not in self._on_shift:
            return
        self._available[agent.queue_id].discard(agent.agent_id)
        self._emit(
            EventType.AGENT_STATE_CHANGED,
            cti.AgentStateChanged(agent_id=agent.agent_id, state="aux", reason=reason),
            at,
        )

    def _on_ready(self, at: datetime, agent: SimAgent) -> None:
        if agent.agent_id not in self._on_shift:
            return
        self._emit(
            EventType.AGENT_STATE_CHANGED,
            cti.AgentStateChanged(agent_id=agent.agent_id, state="available"),
            at,
        )
        self._make_available(at, agent)

    def _on_logout(self, at: datetime, agent: SimAgent) -> None:
        if agent.agent_id in self._busy:
            self._leaving.add(agent.agent_id)  # finishes the call first
            return
        self._on_shift.discard(agent.agent_id)
        self._available[agent.queue_id].discard(agent.agent_id)
        self._emit(EventType.AGENT_LOGGED_OUT, cti.AgentLoggedOut(agent_id=agent.agent_id), at)

    def _make_available(self, at: datetime, agent: SimAgent) -> None:
        if agent.agent_id in self._busy:
            return
        self._available[agent.queue_id].add(agent.agent_id)
        self._connect(at, agent.queue_id)

    # -- calls -------------------------------------------------------------------------------

    def _on_arrival(self, at: datetime, queue: str) -> None:
        rate = arrival_rate_per_min(at, self.timezone, self.peak)
        gap = self.rng.expovariate(rate) if rate > 0 else 30.0
        self._schedule(at + timedelta(minutes=gap), "arrival", queue=queue)
        if rate <= 0:
            return
        call_id = f"call-{self._seq}-{self.rng.randint(0, 10**9)}"
        self._emit(EventType.CALL_OFFERED, cti.CallOffered(call_id=call_id, queue_id=queue), at)
        self._waiting[queue].append((call_id, at))
        patience = timedelta(seconds=self.rng.expovariate(1 / 90))
        self._schedule(at + patience, "patience", queue=queue, call_id=call_id)
        self._connect(at, queue)

    def _on_patience(self, at: datetime, queue: str, call_id: str) -> None:
        waiting = self._waiting[queue]
        if any(c == call_id for c, _ in waiting):
            self._waiting[queue] = deque((c, t) for c, t in waiting if c != call_id)
            self._abandoned.add(call_id)
            self._emit(
                EventType.CALL_ABANDONED, cti.CallAbandoned(call_id=call_id, queue_id=queue), at
            )

    def _connect(self, at: datetime, queue: str) -> None:
        while self._waiting[queue] and self._available[queue]:
            call_id, _offered = self._waiting[queue].popleft()
            agent_id = sorted(self._available[queue])[
                self.rng.randrange(len(self._available[queue]))
            ]
            self._available[queue].discard(agent_id)
            self._busy.add(agent_id)
            answer_at = at + timedelta(seconds=self.rng.uniform(1, 4))
            self._schedule(answer_at, "answer", queue=queue, call_id=call_id, agent_id=agent_id)

    def _on_answer(self, at: datetime, queue: str, call_id: str, agent_id: str) -> None:
        ids = {"call_id": call_id, "agent_id": agent_id}
        self._emit(EventType.CALL_ANSWERED, cti.CallAnswered(queue_id=queue, **ids), at)
        talk = timedelta(seconds=min(1800, self.rng.lognormvariate(math.log(240), 0.5)))
        cursor = at
        if self.rng.random() < 0.15:
            hold_at = at + talk / 2
            hold = timedelta(seconds=self.rng.uniform(20, 120))
            self._emit(EventType.CALL_HELD, cti.CallHeld(**ids), hold_at)
            self._emit(EventType.CALL_RESUMED, cti.CallResumed(**ids), hold_at + hold)
            cursor = at + hold
        ended = cursor + talk
        self._emit(EventType.CALL_ENDED, cti.CallEnded(**ids), ended)
        wrapped = ended + timedelta(seconds=self.rng.uniform(20, 70))
        self._emit(EventType.CALL_WRAPUP_ENDED, cti.CallWrapupEnded(**ids), wrapped)
        hard = self.rng.random() < 0.04
        if hard:
            tag = self.rng.choice(["abusive_customer", "complaint", "escalation"])
            self._emit(EventType.CALL_TAGGED, cti.CallTagged(tags=[tag], **ids), ended)
        if self.rng.random() < 0.2:
            csat = self.rng.choices(
                [1, 2, 3, 4, 5], weights=[3, 4, 10, 35, 48] if not hard else [30, 30, 20, 15, 5]
            )[0]
            fcr = self.rng.random() < (0.75 if csat >= 4 else 0.4)
            self._emit(
                EventType.SURVEY_COMPLETED,
                cti.SurveyCompleted(csat=csat, fcr=fcr, **ids),
                wrapped + timedelta(minutes=self.rng.uniform(2, 30)),
            )
        if self.rng.random() < 0.03:
            errors = self.rng.sample(
                ["greeting", "verification", "hold_etiquette", "closing"],
                k=self.rng.choice([0, 0, 1, 2]),
            )
            self._emit(
                EventType.QA_EVALUATION_COMPLETED,
                cti.QaEvaluationCompleted(
                    score=round(self.rng.uniform(60, 100), 1), errors=errors, **ids
                ),
                wrapped + timedelta(minutes=self.rng.uniform(20, 120)),
            )
        if hard and self.rng.random() < 0.3:
            self._emit(
                EventType.COMPLAINT_RECEIVED,
                cti.ComplaintReceived(
                    call_id=call_id,
                    agent_id=agent_id,
                    severity="high",
                    escalated=self.rng.random() < 0.3,
                ),
                wrapped + timedelta(minutes=self.rng.uniform(5, 60)),
            )
        self._schedule(wrapped, "free", queue=queue, agent_id=agent_id)

    def _on_free(self, at: datetime, queue: str, agent_id: str) -> None:
        self._busy.discard(agent_id)
        if agent_id in self._leaving:
            self._leaving.discard(agent_id)
            self._on_logout(at, self._agent(agent_id))
            return
        if agent_id in self._on_shift and not self._in_aux_now(agent_id, at):
            self._available[queue].add(agent_id)
            self._connect(at, queue)

    def _agent(self, agent_id: str) -> SimAgent:
        return next(a for a in self.agents if a.agent_id == agent_id)

    def _in_aux_now(self, agent_id: str, at: datetime) -> bool:
        agent = self._agent(agent_id)
        return any(a.kind in AUX_KINDS and a.start <= at < a.end for a in agent.activities)


async def load_center(
    roster_url: str, employee_no: str, password: str, day: date
) -> list[SimAgent]:
    """Today's agents with their published schedules, through the roster API."""
    async with httpx.AsyncClient(base_url=roster_url, timeout=30) as client:
        token = (
            await client.post(
                "/v1/auth/token", json={"employee_no": employee_no, "password": password}
            )
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        teams = await _all(client, "/v1/teams", headers, {})
        queue_of = {t["id"]: t["name"].lower().replace(" ", "-") for t in teams}
        people = await _all(client, "/v1/people", headers, {"role": "agent"})
        schedules = await _all(
            client, "/v1/schedules", headers, {"day": day.isoformat(), "status": "published"}
        )
    plans = {
        s["agent_id"]: tuple(
            Activity(
                a["kind"], datetime.fromisoformat(a["start"]), datetime.fromisoformat(a["end"])
            )
            for a in s["activities"]
        )
        for s in schedules
    }
    return [
        SimAgent(p["id"], queue_of.get(p["team_id"], "general"), plans.get(p["id"], ()))
        for p in people
        if p["status"] != "departed" and p["id"] in plans
    ]


async def _all(client: httpx.AsyncClient, path: str, headers: dict, params: dict) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        page_params = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, headers=headers, params=page_params)
        response.raise_for_status()
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def publish(producer: AIOKafkaProducer, events: list[CloudEvent]) -> None:
    futures = [
        await producer.send("cti.events", value=e.to_json(), key=e.key.encode() if e.key else None)
        for e in events
    ]
    await asyncio.gather(*futures)


async def run(args: argparse.Namespace) -> None:
    tz = ZoneInfo(args.timezone)
    today = datetime.now(tz).date()
    agents = await load_center(args.roster_url, args.employee_no, args.password, today)
    start = datetime.combine(today, datetime.min.time(), tzinfo=tz)
    events = DaySimulation(
        agents, seed=args.seed, timezone=args.timezone, peak_calls_per_min=args.peak_calls_per_min
    ).run(start, start + timedelta(days=1))
    print(f"simulator: {len(agents)} agents, {len(events)} events for {today}", flush=True)
    await ensure_topics(
        args.bootstrap, ["cti.events", "cti.events.dlq"], partitions=args.partitions
    )
    producer = new_producer(args.bootstrap, client_id="cti-simulator")
    await producer.start()
    try:
        cursor = 0
        while cursor < len(events):
            now = datetime.now(UTC)
            due = cursor
            while due < len(events) and events[due].time <= now:
                due += 1
            if due > cursor:
                await publish(producer, events[cursor:due])
                cursor = due
            if args.backfill_only:
                break
            await asyncio.sleep(1.0)
    finally:
        await producer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="CallPulse CTI traffic simulator")
    parser.add_argument(
        "--roster-url", default=os.environ.get("SIMULATOR_ROSTER_URL", "http://127.0.0.1:8001")
    )
    parser.add_argument("--employee-no", default=os.environ.get("ADMIN_EMPLOYEE_NO", "admin"))
    parser.add_argument("--password", default=os.environ.get("ADMIN_PASSWORD", "callpulse-admin"))
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--partitions", type=int, default=int(os.environ.get("KAFKA_TOPIC_PARTITIONS", "6"))
    )
    parser.add_argument("--timezone", default=os.environ.get("CENTER_TIMEZONE", "UTC"))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SIMULATOR_SEED", "7")))
    parser.add_argument("--peak-calls-per-min", type=float, default=1.2)
    parser.add_argument("--backfill-only", action="store_true", help="publish up to now, then exit")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
