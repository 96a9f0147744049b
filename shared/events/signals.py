"""Signals on ``metrics.signals``: threshold crossings that deserve a human look (care's input)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from shared.events.envelope import EventData

SignalKind = Literal[
    "long_aux",
    "hard_call",
    "hard_call_streak",
    "aht_drift",
    "adherence_breach",
    "absent",
    "late_login",
    "team_qa_pattern",
    "csat_drop",
]


class SignalRaised(EventData):
    """One episode of a condition; ``episode`` is stable, so the same episode never fires twice."""

    key_fields: ClassVar[tuple[str, ...]] = ("agent_id", "team_id")
    kind: SignalKind
    episode: str
    agent_id: str | None = None
    team_id: str | None = None
    detected_at: datetime
    facts: dict[str, Any]
