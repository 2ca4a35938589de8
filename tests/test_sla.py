"""Business-time math: hours, weekends, Vietnamese public holidays (Tết), round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carectl.config import Config, ConfigError, ServiceConfig, SlaPolicy
from carectl.service import sla

H = 3600


def ict(*args: int) -> datetime:
    """A wall-clock time in Vietnam (UTC+7, no DST), as an aware UTC datetime."""
    return datetime(*args, tzinfo=UTC) - timedelta(hours=7)


@pytest.fixture
def cal() -> sla.Calendar:
    return sla.calendar(Config(database="x"))  # VN, Asia/Ho_Chi_Minh, Mon-Fri 08:00-17:00


def test_within_a_day(cal):
    assert cal.add(ict(2026, 3, 2, 9, 0), 2 * H) == ict(2026, 3, 2, 11, 0)
    assert cal.elapsed(ict(2026, 3, 2, 9, 0), ict(2026, 3, 2, 11, 30)) == int(2.5 * H)


def test_before_and_after_hours_start_at_the_next_opening(cal):
    assert cal.add(ict(2026, 3, 2, 6, 0), 30 * 60) == ict(2026, 3, 2, 8, 30)
    assert cal.add(ict(2026, 3, 2, 18, 0), 30 * 60) == ict(2026, 3, 3, 8, 30)
    assert cal.elapsed(ict(2026, 3, 2, 17, 30), ict(2026, 3, 3, 7, 59)) == 0


def test_over_a_weekend(cal):
    friday_4pm = ict(2026, 11, 20, 16, 0)
    assert cal.add(friday_4pm, 2 * H) == ict(2026, 11, 23, 9, 0)  # Monday 09:00
    assert cal.elapsed(friday_4pm, ict(2026, 11, 23, 9, 0)) == 2 * H
    assert cal.add(ict(2026, 11, 21, 10, 0), 0) == ict(2026, 11, 23, 8, 0)  # Saturday -> Monday


def test_tet_holidays_stop_the_clock(cal):
    # Tết 2026: Mon 16 Feb (eve) .. Fri 20 Feb are public holidays, then a weekend.
    friday_4pm = ict(2026, 2, 13, 16, 0)
    assert cal.add(friday_4pm, 2 * H) == ict(2026, 2, 23, 9, 0)
    assert cal.elapsed(friday_4pm, ict(2026, 2, 23, 9, 0)) == 2 * H
    assert cal.elapsed(ict(2026, 2, 16, 8, 0), ict(2026, 2, 20, 17, 0)) == 0


def test_a_region_without_tet_works_through_it():
    cfg = Config(database="x", service=ServiceConfig(holidays_region="GB"))
    cal = sla.calendar(cfg)
    assert cal.add(ict(2026, 2, 13, 16, 0), 2 * H) == ict(2026, 2, 16, 9, 0)


def test_custom_hours_and_saturday_mornings_off():
    cfg = Config(
        database="x", service=ServiceConfig(day_start="09:00", day_end="12:00", workdays=[6])
    )
    cal = sla.calendar(cfg)
    assert cal.add(ict(2026, 3, 2, 10, 0), 4 * H) == ict(2026, 3, 14, 10, 0)  # two Saturdays


def test_add_and_elapsed_are_inverse(cal):
    start = ict(2026, 2, 12, 15, 17)
    for seconds in (0, 59, H, 9 * H, 9 * H + 1, 40 * H, 100 * H):
        assert cal.elapsed(start, cal.add(start, seconds)) == seconds


def test_unknown_holiday_region():
    with pytest.raises(ValueError, match="no public holiday calendar"):
        sla.calendar(Config(database="x", service=ServiceConfig(holidays_region="XX")))


def test_policy_first_match_wins():
    cfg = Config(database="x")
    assert sla.policy(cfg, "urgent", "complaint").first_response_minutes == 30
    assert sla.policy(cfg, "normal", "complaint").resolution_minutes == 960
    assert sla.policy(cfg, "low", "billing").resolution_minutes == 1440
    assert sla.policy(Config(database="x", sla=[]), "low", "x") == SlaPolicy()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"day_start": "8am"}, "HH:MM"),
        ({"day_start": "18:00"}, "before"),
        ({"workdays": [0]}, "ISO weekdays"),
    ],
)
def test_bad_service_config(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ServiceConfig(**kwargs)
