"""The festival calendar: known dates, lookups by day and windows that cross a year boundary."""

import datetime

import pytest
from django.utils import translation
from lunardate import LunarDate

from kehu.marketing.festivals import FESTIVALS, festival_date, festivals_on, upcoming

SUPPORTED_YEARS = range(1901, 2100)
LUNAR_DAYS = {
    "spring_festival": (1, 1),
    "lantern_festival": (1, 15),
    "dragon_boat": (5, 5),
    "qixi": (7, 7),
    "mid_autumn": (8, 15),
    "double_ninth": (9, 9),
    "laba": (12, 8),
}


def keys(festivals):
    return [festival.key for festival in festivals]


@pytest.mark.parametrize(
    ("key", "year", "expected"),
    [
        ("spring_festival", 2024, "2024-02-10"),
        ("spring_festival", 2025, "2025-01-29"),
        ("spring_festival", 2026, "2026-02-17"),
        ("spring_festival", 2027, "2027-02-06"),
        ("spring_festival", 2028, "2028-01-26"),
        ("mid_autumn", 2024, "2024-09-17"),
        ("mid_autumn", 2025, "2025-10-06"),
        ("mid_autumn", 2026, "2026-09-25"),
        ("mid_autumn", 2027, "2027-09-15"),
        ("dragon_boat", 2024, "2024-06-10"),
        ("dragon_boat", 2025, "2025-05-31"),
        ("dragon_boat", 2026, "2026-06-19"),
        ("lantern_festival", 2025, "2025-02-12"),
        ("lantern_festival", 2026, "2026-03-03"),
        ("new_years_eve", 2025, "2025-01-28"),
        ("new_years_eve", 2026, "2026-02-16"),
        ("qixi", 2026, "2026-08-19"),
        ("double_ninth", 2026, "2026-10-18"),
        ("laba", 2026, "2026-01-26"),
        ("qingming", 2024, "2024-04-04"),
        ("qingming", 2025, "2025-04-04"),
        ("qingming", 2026, "2026-04-05"),
        ("qingming", 2027, "2027-04-05"),
        ("qingming", 2028, "2028-04-04"),
        ("mothers_day", 2024, "2024-05-12"),
        ("mothers_day", 2026, "2026-05-10"),
        ("fathers_day", 2024, "2024-06-16"),
        ("fathers_day", 2026, "2026-06-21"),
        ("new_year", 2026, "2026-01-01"),
        ("mid_year_sale", 2026, "2026-06-18"),
        ("double_eleven", 2026, "2026-11-11"),
        ("christmas", 2026, "2026-12-25"),
    ],
)
def test_known_festival_dates(key, year, expected):
    """Given a festival and a year from published calendars, when its date is asked, then it matches."""
    assert festival_date(key, year) == datetime.date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2009, "2009-04-04"), (2038, "2038-04-05"), (2042, "2042-04-04"), (2071, "2071-04-05")],
)
def test_qingming_in_years_when_the_solar_term_falls_near_midnight(year, expected):
    """Given a year whose Qingming moment lies within half an hour of midnight (checked against an
    ephemeris), when its date is asked, then the formula still lands on the right day."""
    assert festival_date("qingming", year) == datetime.date.fromisoformat(expected)


def test_qingming_falls_on_april_4_5_or_6_in_every_supported_year():
    """Given every supported year, when Qingming is computed, then it is a real April day near the 5th."""
    assert {festival_date("qingming", year) - datetime.date(year, 4, 5) for year in SUPPORTED_YEARS} <= {
        datetime.timedelta(days=offset) for offset in (-1, 0, 1)
    }


def test_lunar_festivals_fall_on_their_lunar_day_in_every_supported_year():
    """Given every supported year, when a lunar festival's date is read back as a lunar date, then it is the
    festival's month and day, outside any leap month."""
    for year in SUPPORTED_YEARS:
        for key, (month, day) in LUNAR_DAYS.items():
            lunar = LunarDate.from_solar_date(*festival_date(key, year).timetuple()[:3])
            assert (lunar.month, lunar.day, lunar.is_leap_month) == (month, day, False), (key, year)


def test_new_years_eve_is_the_last_day_of_the_twelfth_month():
    """Given years whose 12th lunar month has 29 days (2025, 2026) and 30 days (2024), when New Year's Eve
    is asked, then it is that month's last day, the eve of the Spring Festival."""
    for year, last_day in [(2024, 30), (2025, 29), (2026, 29)]:
        eve = festival_date("new_years_eve", year)
        lunar = LunarDate.from_solar_date(eve.year, eve.month, eve.day)
        assert (lunar.month, lunar.day) == (12, last_day)
        assert eve + datetime.timedelta(days=1) == festival_date("spring_festival", year)


def test_laba_can_fall_in_the_december_before_its_spring_festival():
    """Given 2023, whose Laba comes 23 days before its Spring Festival, when Laba is asked, then it is the
    date in December 2022."""
    assert festival_date("laba", 2023) == datetime.date(2022, 12, 30)
    assert festival_date("spring_festival", 2023) == datetime.date(2023, 1, 22)


def test_festivals_on_a_day_with_two_festivals():
    """Given 2020-10-01, both National Day and the Mid-Autumn Festival, when asked, then both are listed."""
    assert keys(festivals_on(datetime.date(2020, 10, 1))) == ["mid_autumn", "national_day"]


def test_festivals_on_an_ordinary_day_is_empty():
    """Given a day without a festival, when asked, then nothing is listed."""
    assert festivals_on(datetime.date(2026, 3, 17)) == []


def test_upcoming_crosses_the_year_boundary_in_date_order():
    """Given 58 days from 2025-12-20, up to the day before New Year's Eve 2026, when asked, then next year's
    festivals follow this year's in date order."""
    found = upcoming(datetime.date(2025, 12, 20), days=58)

    assert [(day.isoformat(), festival.key) for day, festival in found] == [
        ("2025-12-25", "christmas"),
        ("2026-01-01", "new_year"),
        ("2026-01-26", "laba"),
        ("2026-02-14", "valentines"),
    ]


def test_upcoming_finds_a_laba_in_december_that_belongs_to_next_year():
    """Given a window in late December 2022, when asked, then Laba 2023 (2022-12-30) is listed."""
    found = upcoming(datetime.date(2022, 12, 20), days=13)

    assert [(day.isoformat(), festival.key) for day, festival in found] == [
        ("2022-12-25", "christmas"),
        ("2022-12-30", "laba"),
        ("2023-01-01", "new_year"),
    ]


def test_upcoming_over_a_whole_year_lists_every_festival_once():
    """Given all of 2026, when asked, then each festival appears exactly once."""
    found = upcoming(datetime.date(2026, 1, 1), days=365)

    assert sorted(festival.key for _day, festival in found) == sorted(FESTIVALS)


def test_upcoming_of_no_days_is_empty():
    """Given a window of zero days, when asked, then nothing is listed."""
    assert upcoming(datetime.date(2026, 2, 17), days=0) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: festival_date("tomb_sweeping", 2026), "Unknown festival 'tomb_sweeping'"),
        (lambda: festival_date("spring_festival", 2100), "1901 to 2099, not 2100"),
        (lambda: festival_date("laba", 1900), "1901 to 2099, not 1900"),
        (lambda: festivals_on(datetime.date(1900, 6, 1)), "not 1900"),
        (lambda: upcoming(datetime.date(2099, 12, 20), days=30), "not 2100"),
        (lambda: upcoming(datetime.date(2026, 1, 1), days=-1), "cannot be negative"),
    ],
    ids=[
        "unknown key",
        "after 2099",
        "laba before 1901",
        "day before 1901",
        "window past 2099",
        "negative days",
    ],
)
def test_unknown_festivals_and_unsupported_years_are_refused(call, message):
    """Given an unknown key, a year lunardate cannot cover or a negative window, when asked, then a
    ValueError says why."""
    with pytest.raises(ValueError, match=message):
        call()


def test_festivals_have_stable_ascii_keys_and_translatable_labels():
    """Given the calendar, when read, then each entry is filed under its own ASCII key and its label is a
    translatable English name."""
    for key, festival in FESTIVALS.items():
        assert festival.key == key
        assert key.isascii()
        assert key.isidentifier()
        assert festival.kind in {"lunar", "solar", "rule"}
    with translation.override("en"):
        assert str(FESTIVALS["spring_festival"].label) == "Spring Festival"
