"""When a condition deserves a human look (issue 3 §3). Pure functions, no I/O.

Each rule answers "does the condition hold?" from facts the service gathers; the service then
fires a signal once per episode: when the condition starts to hold, never again while it keeps
holding.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence

HARD_CALL_TAGS = frozenset({"abusive_customer", "abusive", "complaint", "escalation"})


def hard_tags(tags: Iterable[str]) -> list[str]:
    return sorted(HARD_CALL_TAGS.intersection(tags))


def streak_triggers(times: Sequence[int], *, window_us: int, min_count: int) -> list[int]:
    """Moments a streak starts: ``min_count`` hard calls within ``window_us``.

    A streak lasts while the trailing window holds ``min_count`` calls; the next one can only
    start after it has ended, so one long bad spell fires once.
    """
    triggers: list[int] = []
    ordered = sorted(times)
    active_until: int | None = None
    for i, at in enumerate(ordered):
        in_window = [t for t in ordered[: i + 1] if t > at - window_us]
        if len(in_window) >= min_count:
            if active_until is None or at > active_until:
                triggers.append(at)
            # the spell lasts until the oldest of the last ``min_count`` calls leaves the window
            active_until = in_window[-min_count] + window_us
    return triggers


def csat_dropped(scores_oldest_first: Sequence[int], *, window: int, threshold: float) -> bool:
    """The rolling average of the last ``window`` surveys is at or below ``threshold``."""
    if len(scores_oldest_first) < window:
        return False
    return statistics.fmean(scores_oldest_first[-window:]) <= threshold


def aht_drifted(
    agent_handle_s: Sequence[float],
    team_handle_s: Sequence[float],
    *,
    factor: float,
    min_contacts: int,
) -> tuple[bool, float | None, float | None]:
    """Rolling AHT above ``factor`` times the team's median handle time, over enough contacts."""
    if len(agent_handle_s) < min_contacts or not team_handle_s:
        return False, None, None
    aht = statistics.fmean(agent_handle_s)
    median = statistics.median(team_handle_s)
    return aht > factor * median, aht, median


def long_aux_threshold_s(reason: str, thresholds: dict[str, float], default_s: float) -> float:
    return thresholds.get(reason, default_s)
