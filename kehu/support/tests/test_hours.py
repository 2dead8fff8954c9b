"""Working-time arithmetic against a table of hand-computed cases: weekends, lunch breaks, a week-long
holiday, 调休 working weekends, and times outside the working day."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from kehu.core.exceptions import ValidationFailed
from kehu.support.hours import Hours, parse_periods

SH = ZoneInfo("Asia/Shanghai")
WEEK = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-12:00, 13:00-18:00")  # 8 hours a day
NATIONAL_DAY = [datetime.date(2026, 10, d) for d in range(1, 8)]  # Thu 1 … Wed 7
WORKED_WEEKENDS = [datetime.date(2026, 9, 20), datetime.date(2026, 10, 10)]  # Sun 20 Sep, Sat 10 Oct


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def hours():
    return Hours.from_text(WEEK, holidays=NATIONAL_DAY, workdays=WORKED_WEEKENDS, tz="Asia/Shanghai")


H = 3600


@pytest.mark.parametrize(
    ("start", "seconds", "due", "why"),
    [
        ("2026-11-24 10:00", 4 * H, "2026-11-24 15:00", "2 h before lunch, 2 h after"),
        ("2026-11-24 07:00", 30 * 60, "2026-11-24 09:30", "before opening: the clock starts at 09:00"),
        ("2026-11-24 12:30", 1 * H, "2026-11-24 14:00", "in the lunch break: starts at 13:00"),
        ("2026-11-24 17:00", 1 * H, "2026-11-24 18:00", "ends exactly at closing time"),
        ("2026-11-24 20:00", 1 * H, "2026-11-25 10:00", "after closing: next morning"),
        ("2026-11-27 17:00", 2 * H, "2026-11-30 10:00", "Friday 1 h, Monday 1 h"),
        ("2026-11-28 08:00", 1 * H, "2026-11-30 10:00", "Saturday: nothing until Monday"),
        ("2026-11-24 09:00", 16 * H, "2026-11-25 18:00", "two full days"),
        ("2026-11-24 09:00", 8 * H + 1, "2026-11-25 09:00:01", "one second into the next day"),
        ("2026-09-30 17:00", 2 * H, "2026-10-08 10:00", "Wednesday 1 h, then the 7-day holiday"),
        ("2026-10-09 17:00", 2 * H, "2026-10-10 10:00", "Friday 1 h, then 调休 Saturday"),
        ("2026-10-10 17:30", 1 * H, "2026-10-12 09:30", "调休 Saturday 0.5 h, Sunday off, Monday"),
        ("2026-09-19 10:00", 1 * H, "2026-09-20 10:00", "Saturday off, 调休 Sunday from 09:00"),
        ("2026-10-03 11:00", 1 * H, "2026-10-08 10:00", "inside the holiday: waits for its end"),
        ("2026-11-24 10:00", 0, "2026-11-24 10:00", "no time: the start itself"),
    ],
)
def test_add_working_time(hours, start, seconds, due, why):
    assert hours.add(at(start), seconds) == at(due), why


@pytest.mark.parametrize(
    ("a", "b", "seconds", "why"),
    [
        ("2026-11-24 10:00", "2026-11-24 15:00", 4 * H, "lunch left out"),
        ("2026-11-27 17:00", "2026-11-30 10:00", 2 * H, "the weekend left out"),
        ("2026-11-28 08:00", "2026-11-29 20:00", 0, "a whole weekend"),
        ("2026-09-30 17:00", "2026-10-08 10:00", 2 * H, "the holiday left out"),
        ("2026-10-09 09:00", "2026-10-12 09:00", 16 * H, "Friday and 调休 Saturday"),
        ("2026-11-24 15:00", "2026-11-24 10:00", -4 * H, "backwards is negative"),
        ("2026-11-24 12:10", "2026-11-24 12:50", 0, "inside lunch"),
    ],
)
def test_working_time_between(hours, a, b, seconds, why):
    assert hours.between(at(a), at(b)) == seconds, why


def test_add_and_between_agree_on_every_hour_of_a_fortnight(hours):
    start = at("2026-09-28 00:00")
    for offset in range(0, 14 * 24 * 60, 37):  # every 37 minutes over two weeks across the holiday
        moment = start + datetime.timedelta(minutes=offset)
        due = hours.add(moment, 5 * H)
        assert hours.between(moment, due) == 5 * H, moment
        assert hours.is_open(due - datetime.timedelta(seconds=1)), moment


def test_times_in_another_zone_are_read_in_the_calendars(hours):
    utc = datetime.datetime(2026, 11, 24, 1, 0, tzinfo=datetime.UTC)  # 09:00 in Shanghai
    assert hours.add(utc, H) == at("2026-11-24 10:00")


def test_periods_are_parsed_and_bad_ones_refused():
    assert parse_periods("09:00-12:00，13:30-18:00") == (
        (datetime.time(9), datetime.time(12)),
        (datetime.time(13, 30), datetime.time(18)),
    )
    assert parse_periods("") == ()
    with pytest.raises(ValidationFailed, match="09:00-12:00"):
        parse_periods("9 to 5")
    with pytest.raises(ValidationFailed):
        parse_periods("13:00-12:00")
    with pytest.raises(ValidationFailed):
        parse_periods("09:00-13:00, 12:00-18:00")


def test_a_calendar_without_hours_is_refused():
    with pytest.raises(ValidationFailed):
        Hours.from_text({}, tz="Asia/Shanghai").add(at("2026-11-24 10:00"), H)
