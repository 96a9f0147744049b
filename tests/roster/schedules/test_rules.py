"""Schedule rules as pure functions: shape, local day (DST included), overlaps, go-live."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.roster.schedules.rules import (
    Activity,
    Cert,
    has_valid_go_live,
    local_day_bounds,
    schedule_violation,
)

DAY = date(2026, 11, 22)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def rule(*activities: Activity, timezone: str = "UTC") -> str | None:
    violation = schedule_violation(list(activities), DAY, timezone)
    return violation[0] if violation else None


def test_a_normal_day_passes() -> None:
    assert (
        rule(
            Activity("work", at(9), at(11)),
            Activity("break", at(11), at(11, 15)),
            Activity("work", at(11, 15), at(17)),
        )
        is None
    )


def test_touching_activities_do_not_overlap_but_crossing_ones_do() -> None:
    assert rule(Activity("work", at(9), at(12)), Activity("lunch", at(11, 59), at(12, 30))) == (
        "no_overlap"
    )
    assert rule(Activity("lunch", at(12), at(13)), Activity("work", at(9), at(12))) is None


def test_order_length_and_day() -> None:
    assert rule(Activity("work", at(10), at(9))) == "activity_order"
    assert rule(Activity("work", at(10), at(10))) == "activity_order"
    assert rule(Activity("work", at(1), at(18))) == "activity_length"
    assert rule(
        Activity("work", at(9, day=DAY + timedelta(days=1)), at(10, day=DAY + timedelta(days=1)))
    ) == ("activity_on_day")
    # a night shift starting on the day may run past midnight
    assert rule(Activity("work", at(22), at(6, day=DAY + timedelta(days=1)))) is None


def test_the_day_is_the_centers_local_day() -> None:
    # 23:30 UTC on the 21st is 07:30 on the 22nd in Shanghai
    early = Activity("work", datetime(2026, 11, 21, 23, 30, tzinfo=UTC), at(2))
    assert rule(early, timezone="Asia/Shanghai") is None
    assert rule(early, timezone="UTC") == "activity_on_day"


def test_dst_days_have_their_real_length() -> None:
    start, end = local_day_bounds(date(2026, 3, 29), "Europe/Berlin")
    assert end - start == timedelta(hours=23)


def test_go_live_certification_validity() -> None:
    cert = Cert("go_live", date(2026, 1, 1), date(2026, 12, 31))
    assert has_valid_go_live([cert], DAY)
    assert not has_valid_go_live([cert], date(2027, 1, 1))
    assert not has_valid_go_live([cert], date(2025, 12, 31))
    assert has_valid_go_live([Cert("go_live", date(2026, 1, 1), None)], DAY)
    assert not has_valid_go_live([Cert("billing_basics", date(2026, 1, 1), None)], DAY)
