"""The festival calendar that care automations (客户关怀) greet customers on.

Lunar festivals come from the Chinese calendar (lunardate), solar ones fall on a fixed day, and rule-based
ones are computed: Mother's Day, Father's Day and the Qingming solar term.

A lunar festival's year is the year of the Spring Festival it belongs to, as people say it: Laba and New
Year's Eve of 2026 lead up to the Spring Festival of 2026. So Laba, in the 12th lunar month, sometimes falls
in the December before its year (Laba 2023 is 2022-12-30): a calendar year may hold two Labas or none.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from django.utils.translation import gettext_lazy as _
from lunardate import LunarDate

# lunardate knows the lunar years 1900-2099; Laba 1901 is the first to need the 12th month of 1900.
FIRST_YEAR = 1901
LAST_YEAR = 2099

DateRule = Callable[[int], datetime.date]


@dataclass(frozen=True)
class Festival:
    """A day to greet customers on: `key` is its stable id, `rule` gives its date in a year."""

    key: str
    label: str
    kind: Literal["lunar", "solar", "rule"]
    rule: DateRule = field(repr=False, compare=False)

    def date_in(self, year: int) -> datetime.date:
        """The Gregorian date of this festival in `year` (a lunar festival's year: see the module docstring)."""
        _check_year(year)
        return self.rule(year)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"Festival dates are known for the years {FIRST_YEAR} to {LAST_YEAR}, not {year}.")


def _lunar(month: int, day: int) -> DateRule:
    """A lunar month and day; the 12th month leads up to the next year's Spring Festival."""

    def rule(year: int) -> datetime.date:
        lunar_year = year - 1 if month == 12 else year
        return LunarDate(lunar_year, month, day).to_solar_date()

    return rule


def _new_years_eve(year: int) -> datetime.date:
    """The last day of the 12th lunar month, the 29th or the 30th: the day before the Spring Festival."""
    return LunarDate(year, 1, 1).to_solar_date() - datetime.timedelta(days=1)


def _solar(month: int, day: int) -> DateRule:
    return lambda year: datetime.date(year, month, day)


def _sunday(month: int, nth: int) -> DateRule:
    """The `nth` Sunday of `month`."""

    def rule(year: int) -> datetime.date:
        first = datetime.date(year, month, 1)
        first_sunday = first + datetime.timedelta(days=(6 - first.weekday()) % 7)
        return first_sunday + datetime.timedelta(weeks=nth - 1)

    return rule


def _qingming(year: int) -> datetime.date:
    """The Qingming solar term, when the sun reaches 15° of longitude (Beijing time): April 4, 5 or 6.

    The usual formula int(Y * 0.2422 + C) - int(Y / 4), with Y the year within its century and C set per
    century. Checked against an ephemeris for every year from 1901 to 2099: it needs no exception year.
    """
    in_century = year % 100
    century_constant = 5.59 if year < 2000 else 4.81
    return datetime.date(year, 4, int(in_century * 0.2422 + century_constant) - in_century // 4)


FESTIVALS: dict[str, Festival] = {
    festival.key: festival
    for festival in [
        Festival("new_year", _("New Year's Day"), "solar", _solar(1, 1)),
        Festival("laba", _("Laba Festival"), "lunar", _lunar(12, 8)),
        Festival("new_years_eve", _("Chinese New Year's Eve"), "lunar", _new_years_eve),
        Festival("spring_festival", _("Spring Festival"), "lunar", _lunar(1, 1)),
        Festival("lantern_festival", _("Lantern Festival"), "lunar", _lunar(1, 15)),
        Festival("valentines", _("Valentine's Day"), "solar", _solar(2, 14)),
        Festival("womens_day", _("Women's Day"), "solar", _solar(3, 8)),
        Festival("qingming", _("Qingming Festival"), "rule", _qingming),
        Festival("labour_day", _("Labour Day"), "solar", _solar(5, 1)),
        Festival("mothers_day", _("Mother's Day"), "rule", _sunday(5, 2)),
        Festival("childrens_day", _("Children's Day"), "solar", _solar(6, 1)),
        Festival("dragon_boat", _("Dragon Boat Festival"), "lunar", _lunar(5, 5)),
        Festival("mid_year_sale", _("618 Shopping Festival"), "solar", _solar(6, 18)),
        Festival("fathers_day", _("Father's Day"), "rule", _sunday(6, 3)),
        Festival("qixi", _("Qixi Festival"), "lunar", _lunar(7, 7)),
        Festival("mid_autumn", _("Mid-Autumn Festival"), "lunar", _lunar(8, 15)),
        Festival("national_day", _("National Day"), "solar", _solar(10, 1)),
        Festival("double_ninth", _("Double Ninth Festival"), "lunar", _lunar(9, 9)),
        Festival("double_eleven", _("Singles' Day (Double 11)"), "solar", _solar(11, 11)),
        Festival("double_twelve", _("Double 12"), "solar", _solar(12, 12)),
        Festival("christmas", _("Christmas"), "solar", _solar(12, 25)),
    ]
}


def festival_date(key: str, year: int) -> datetime.date:
    """The date of the festival `key` in `year`; ValueError for an unknown key or a year out of range."""
    try:
        festival = FESTIVALS[key]
    except KeyError:
        raise ValueError(f"Unknown festival {key!r}.") from None
    return festival.date_in(year)


def upcoming(start: datetime.date, days: int) -> list[tuple[datetime.date, Festival]]:
    """The festivals in the `days` days from `start` on, `start` included, sorted by date."""
    if days < 0:
        raise ValueError(f"The number of days cannot be negative, got {days}.")
    end = start + datetime.timedelta(days=days)
    last_day = max(start, end - datetime.timedelta(days=1))
    _check_year(start.year)
    _check_year(last_day.year)
    # A year's Laba may fall in the December before it, so the window's last year needs the next year too;
    # past LAST_YEAR that can only be Laba 2100, which falls in January 2100.
    years = range(start.year, min(last_day.year + 1, LAST_YEAR) + 1)
    found = [
        (day, festival)
        for year in years
        for festival in FESTIVALS.values()
        if start <= (day := festival.date_in(year)) < end
    ]
    return sorted(found, key=lambda pair: pair[0])


def festivals_on(day: datetime.date) -> list[Festival]:
    """All festivals that fall on `day`."""
    return [festival for _day, festival in upcoming(day, 1)]
