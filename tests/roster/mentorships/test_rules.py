"""Mentorship rules as pure functions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.roster.mentorships.rules import Candidate, pairing_violation

TODAY = date(2026, 11, 22)


def person(pid: str, status: str = "active", tenure: int | None = 400) -> Candidate:
    return Candidate(pid, status, TODAY - timedelta(days=tenure) if tenure is not None else None)


def rule(mentor: Candidate, mentee: Candidate) -> str | None:
    violation = pairing_violation(
        mentor, mentee, TODAY, mentor_min_tenure_days=180, mentee_max_tenure_days=90
    )
    return violation[0] if violation else None


@pytest.mark.parametrize(
    ("mentor", "mentee", "expected"),
    [
        (person("m", tenure=180), person("n", "onboarding", 10), None),
        (person("m", tenure=179), person("n", "onboarding", 10), "mentor_tenure"),
        (person("m", tenure=None), person("n", "onboarding", 10), "mentor_tenure"),
        (person("m", "on_leave"), person("n", "onboarding", 10), "mentor_active"),
        (person("m", "onboarding"), person("n", "onboarding", 10), "mentor_active"),
        (person("m"), person("n", "active", 90), None),
        (person("m"), person("n", "active", 91), "mentee_eligible"),
        (person("m"), person("n", "onboarding", 200), None),
        (person("m"), person("n", "departed", 10), "mentee_eligible"),
        (person("m"), person("m", "onboarding", 10), "not_self"),
    ],
)
def test_pairing_rules(mentor, mentee, expected) -> None:
    assert rule(mentor, mentee) == expected
