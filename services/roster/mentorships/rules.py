"""Who may mentor whom (师徒制): pure rules, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Candidate:
    id: str
    status: str
    hire_date: date | None


def tenure_days(person: Candidate, today: date) -> int | None:
    return (today - person.hire_date).days if person.hire_date else None


def pairing_violation(
    mentor: Candidate,
    mentee: Candidate,
    today: date,
    *,
    mentor_min_tenure_days: int,
    mentee_max_tenure_days: int,
) -> tuple[str, str] | None:
    """The first rule a proposed pairing breaks, as ``(rule, explanation)``, or ``None``."""
    if mentor.id == mentee.id:
        return "not_self", "A person cannot mentor themself."
    if mentor.status != "active":
        return "mentor_active", "The mentor must be an active member of staff."
    mentor_tenure = tenure_days(mentor, today)
    if mentor_tenure is None or mentor_tenure < mentor_min_tenure_days:
        return (
            "mentor_tenure",
            f"The mentor needs at least {mentor_min_tenure_days} days of tenure.",
        )
    if mentee.status == "departed":
        return "mentee_eligible", "A departed person cannot be mentored."
    mentee_tenure = tenure_days(mentee, today)
    new_hire = mentee_tenure is not None and mentee_tenure <= mentee_max_tenure_days
    if mentee.status != "onboarding" and not new_hire:
        return (
            "mentee_eligible",
            f"The mentee must be onboarding or within {mentee_max_tenure_days} days of hire.",
        )
    return None
