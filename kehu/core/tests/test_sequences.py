"""Document numbers: patterns, yearly and monthly restarts, and a refused pattern."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from kehu.core.exceptions import ValidationFailed
from kehu.core.models import NumberSequence
from kehu.core.sequences import next_number, render

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year, month, day):
    return datetime.datetime(year, month, day, 10, tzinfo=SHANGHAI)


def test_numbers_count_up_and_restart_with_the_period():
    assert next_number("quote", now=at(2026, 11, 24)) == "QT202611-0001"
    assert next_number("quote", now=at(2026, 11, 25)) == "QT202611-0002"
    assert next_number("quote", now=at(2026, 12, 1)) == "QT202612-0003"  # yearly restart by default
    assert next_number("quote", now=at(2027, 1, 2)) == "QT202701-0001"


def test_a_configured_pattern_and_monthly_restart():
    NumberSequence.objects.create(key="contract", pattern="HT-{year}{month}{day}-{n:03}", reset="monthly")
    assert next_number("contract", now=at(2026, 11, 24)) == "HT-20261124-001"
    assert next_number("contract", now=at(2026, 11, 30)) == "HT-20261130-002"
    assert next_number("contract", now=at(2026, 12, 1)) == "HT-20261201-001"


def test_a_pattern_with_unknown_fields_is_refused():
    with pytest.raises(ValidationFailed):
        render("X{week}-{n}", 1, at(2026, 1, 1))
