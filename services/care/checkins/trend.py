"""Check-in trend maths, free of I/O so it is unit-tested directly and shared with the risk model.

Days are the center's local days (a check-in at 23:30 local belongs to that evening, whatever
UTC says). A direction needs three check-ins: strictly rising, strictly falling, else steady.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Direction = Literal["rising", "falling", "steady"]

DIRECTION_SPAN = 3
"""How many of the latest check-ins decide a direction."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One check-in as the trend sees it."""

    created_at: datetime
    mood: int
    stress: int


@dataclass(frozen=True, slots=True)
class DailyPoint:
    date: date
    mood: float
    stress: float


def local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def window_start(now: datetime, days: int, timezone: str) -> datetime:
    """Local midnight opening a window of ``days`` local days that ends with today."""
    tz = ZoneInfo(timezone)
    first = now.astimezone(tz).date() - timedelta(days=days - 1)
    return datetime.combine(first, time.min, tzinfo=tz)


def daily_points(samples: Iterable[Sample], timezone: str) -> list[DailyPoint]:
    """Average mood and stress per local day (two decimals), oldest day first; days without a
    check-in have no point rather than a made-up one."""
    by_day: dict[date, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_day[local_day(sample.created_at, timezone)].append(sample)
    return [
        DailyPoint(
            date=day,
            mood=round(sum(s.mood for s in group) / len(group), 2),
            stress=round(sum(s.stress for s in group) / len(group), 2),
        )
        for day, group in sorted(by_day.items())
    ]


def direction(values_oldest_first: Sequence[int]) -> Direction | None:
    """Direction of the last three values; ``None`` with fewer than three."""
    if len(values_oldest_first) < DIRECTION_SPAN:
        return None
    a, b, c = values_oldest_first[-DIRECTION_SPAN:]
    if a < b < c:
        return "rising"
    if a > b > c:
        return "falling"
    return "steady"


def mood_falling(moods_oldest_first: list[int]) -> bool:
    """True when the last three moods strictly decrease (a risk factor)."""
    return direction(moods_oldest_first) == "falling"
