"""The degree of care per agent (pure; issue 4 §4).

- ``under_cared``: no meaningful touch (one-on-one, coaching, recognition, care action) for
  longer than the team policy's ``touch_interval_days`` (14), counted from the last touch or,
  for someone never touched, from when care first knew them. Neglect is checked first.
- ``over_cared``: more than ``max_interventions`` (3) non-urgent interventions in the rolling
  ``intervention_window_days`` (7). An intervention is a non-urgent task opened for the agent
  or a record (not recognition) written without a task; urgent help never counts.
- ``balanced`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Literal

from services.care.tasks.rules import Policy

State = Literal["under_cared", "balanced", "over_cared"]


@dataclass(frozen=True)
class CareHistory:
    known_since: datetime
    last_touch_at: datetime | None
    interventions: tuple[datetime, ...]


def days_since_touch(history: CareHistory, now: datetime) -> float:
    since = max(history.last_touch_at, history.known_since) if history.last_touch_at else None
    return (now - (since or history.known_since)) / timedelta(days=1)


def interventions_in_window(history: CareHistory, policy: Policy, now: datetime) -> int:
    return sum(1 for t in history.interventions if now - policy.window < t <= now)


def state(history: CareHistory, policy: Policy, now: datetime) -> State:
    if days_since_touch(history, now) > policy.touch_interval_days:
        return "under_cared"
    if interventions_in_window(history, policy, now) > policy.max_interventions:
        return "over_cared"
    return "balanced"


def median_days(values: Iterable[float]) -> float | None:
    values = list(values)
    return round(median(values), 1) if values else None
