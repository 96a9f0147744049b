"""Schedule rules, pure: activity shape, overlaps, go-live certification, the local day."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

GO_LIVE = "go_live"
MAX_ACTIVITY = timedelta(hours=16)


@dataclass(frozen=True)
class Activity:
    kind: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Cert:
    name: str
    passed_at: date
    expires_at: date | None


def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The instants a local calendar day begins and ends (DST days are 23 or 25 hours)."""
    tz = ZoneInfo(timezone)
    return (
        datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC),
    )


def schedule_violation(
    activities: Sequence[Activity], day: date, timezone: str
) -> tuple[str, str] | None:
    """Activities must start on the local day, last at most 16 h and never overlap.

    An activity may run past local midnight (a night shift belongs to the day it starts).
    """
    day_start, day_end = local_day_bounds(day, timezone)
    ordered = sorted(activities, key=lambda a: a.start)
    for activity in ordered:
        if activity.end <= activity.start:
            return "activity_order", f"A {activity.kind} activity must end after it starts."
        if not day_start <= activity.start < day_end:
            return (
                "activity_on_day",
                f"Every activity must start on {day.isoformat()} ({timezone}).",
            )
        if activity.end - activity.start > MAX_ACTIVITY:
            return "activity_length", "An activity may last at most 16 hours."
    for earlier, later in pairwise(ordered):
        if later.start < earlier.end:
            return (
                "no_overlap",
                f"{earlier.kind} ({earlier.start.isoformat()} to {earlier.end.isoformat()}) "
                f"overlaps "
                f"{later.kind} starting {later.start.isoformat()}.",
            )
    return None


def has_valid_go_live(certifications: Iterable[Cert], day: date) -> bool:
    return any(
        c.name == GO_LIVE and c.passed_at <= day and (c.expires_at is None or c.expires_at >= day)
        for c in certifications
    )
