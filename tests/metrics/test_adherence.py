"""Adherence and attendance on hand-computed days."""

from __future__ import annotations

from services.metrics.domain.adherence import Planned, day_adherence
from services.metrics.domain.timeline import Segment, to_us
from tests.metrics.events import at

M = 60_000_000


def t(clock: str) -> int:
    return to_us(at(clock))


PLAN = [
    Planned("work", t("09:00"), t("11:00")),
    Planned("break", t("11:00"), t("11:15")),
    Planned("work", t("11:15"), t("12:00")),
    Planned("training", t("12:00"), t("13:00")),
]


def seg(start: str, end: str, state: str, reason: str | None = None) -> Segment:
    return Segment(t(start), t(end), state, reason)


def test_a_perfect_day() -> None:
    day = day_adherence(
        [
            seg("08:55", "10:00", "available"),
            seg("10:00", "11:00", "talk"),
            seg("11:00", "11:15", "aux", "break"),
            seg("11:15", "12:00", "acw"),
            seg("12:00", "13:00", "aux", "training"),
        ],
        PLAN,
    )
    assert (day.scheduled_us, day.adherent_us, day.attended, day.late_us) == (
        240 * M,
        240 * M,
        True,
        0,
    )


def test_late_login_unscheduled_aux_and_logged_out_break() -> None:
    day = day_adherence(
        [
            seg("09:10", "10:00", "available"),  # 10 minutes late
            seg("10:00", "10:20", "aux", "personal"),  # not scheduled: out of adherence
            seg("10:20", "11:00", "talk"),
            # 11:00-11:15 logged out: fine for a break
            seg("11:15", "11:50", "available"),
            seg("11:50", "12:05", "aux", "care_break"),  # granted through care: sanctioned
            seg("12:05", "13:00", "aux", "meeting"),  # training scheduled: meeting does not match
        ],
        PLAN,
        granted=[(t("11:50"), t("12:05"))],
    )
    assert day.late_us == 10 * M and day.attended
    adherent = (50 + 40) + 15 + (35 + 10) + 5  # work, break, work + care, care in training
    assert day.adherent_us == adherent * M
    assert day.scheduled_us == 240 * M


def test_absent_and_no_schedule() -> None:
    absent = day_adherence([seg("14:00", "15:00", "available")], PLAN)
    assert (absent.attended, absent.late_us) == (False, 0)
    assert absent.adherent_us == 15 * M  # the scheduled break, logged out, still adheres
    assert day_adherence([seg("09:00", "10:00", "available")], []).scheduled_us == 0


def test_care_break_counts_only_inside_the_granted_window() -> None:
    segments = [
        seg("09:00", "09:30", "available"),
        seg("09:30", "10:00", "aux", "care_break"),
        seg("10:00", "11:00", "available"),
    ]
    plan = [Planned("work", t("09:00"), t("11:00"))]
    not_granted = day_adherence(segments, plan)
    assert not_granted.adherent_us == 90 * M  # an ungranted care break is unscheduled aux
    granted = day_adherence(segments, plan, [(t("09:30"), t("09:45"))])
    assert granted.adherent_us == 105 * M  # 15 granted minutes; the overrun counts against
    overlapping = [(t("09:30"), t("09:45")), (t("09:40"), t("09:50")), (t("10:30"), t("10:40"))]
    assert day_adherence(segments, plan, overlapping).adherent_us == 110 * M  # merged, clipped
