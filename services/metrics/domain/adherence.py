"""Schedule adherence and attendance (DESIGN §4), pure.

* ``adherence`` = seconds whose actual state matches the scheduled activity / scheduled
  seconds: ``work`` ↔ logged in and not in unscheduled aux; ``break``/``lunch`` ↔ aux with
  that reason or logged out; ``training``/``meeting``/``coaching`` ↔ aux with that reason.
  Aux ``care_break`` inside a break granted through the care service (``care.events``) never
  counts against adherence; outside a granted window it is unscheduled aux like any other.
* A scheduled shift (the span of the day's activities) is attended if the agent was logged in
  at any moment of it; ``late_s`` = first login - shift start when positive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.metrics.domain.timeline import AUX, Segment

CARE_BREAK = "care_break"
OFF_PHONE_OK_LOGGED_OUT = frozenset({"break", "lunch"})


@dataclass(frozen=True, slots=True)
class Planned:
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class DayAdherence:
    scheduled_us: int
    adherent_us: int
    attended: bool
    late_us: int


Window = tuple[int, int]
"""A granted care break, ``[start_us, end_us)``."""


def matches(kind: str, segment: Segment | None) -> bool:
    if kind == "work":
        return segment is not None and segment.state != AUX
    if segment is None:  # logged out
        return kind in OFF_PHONE_OK_LOGGED_OUT
    return segment.state == AUX and segment.reason == kind


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def sanctioned_us(start: int, end: int, granted: Sequence[Window]) -> int:
    """How much of ``[start, end)`` lies inside granted care breaks (overlaps merged)."""
    total, reached = 0, start
    for lo, hi in sorted(granted):
        lo, hi = max(lo, reached), min(hi, end)
        if hi > lo:
            total += hi - lo
            reached = hi
    return total


def in_granted_break(segment: Segment | None, at: int, granted: Sequence[Window]) -> bool:
    return (
        segment is not None
        and segment.state == AUX
        and segment.reason == CARE_BREAK
        and any(lo <= at < hi for lo, hi in granted)
    )


def day_adherence(
    segments: Iterable[Segment], plan: Sequence[Planned], granted: Sequence[Window] = ()
) -> DayAdherence:
    """Adherence and attendance of one agent for one day's published schedule; ``granted``
    are the agent's care breaks granted through the care service."""
    ordered = sorted(segments, key=lambda s: s.start)
    scheduled = sum(p.end - p.start for p in plan)
    adherent = 0
    for activity in plan:
        covered = 0
        for segment in ordered:
            part = _overlap(activity.start, activity.end, segment.start, segment.end)
            if part:
                covered += part
                if matches(activity.kind, segment):
                    adherent += part
                elif segment.state == AUX and segment.reason == CARE_BREAK:
                    adherent += sanctioned_us(
                        max(activity.start, segment.start), min(activity.end, segment.end), granted
                    )
        if matches(activity.kind, None):
            adherent += (activity.end - activity.start) - covered
    if not plan:
        return DayAdherence(0, 0, attended=False, late_us=0)
    shift_start = min(p.start for p in plan)
    shift_end = max(p.end for p in plan)
    during = [s for s in ordered if s.end > shift_start and s.start < shift_end]
    attended = bool(during)
    late = max(0, during[0].start - shift_start) if attended else 0
    return DayAdherence(scheduled, adherent, attended, late)
