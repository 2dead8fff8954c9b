"""The rules without a database: expiry dates, rounding of points, the first-in-first-out walk, review dates."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

from kehu.loyalty import rules

d = datetime.date


def test_expiry_dates():
    year_end = SimpleNamespace(expiry="next_year_end", expiry_months=12)
    months = SimpleNamespace(expiry="months", expiry_months=1)
    never = SimpleNamespace(expiry="never", expiry_months=12)
    assert rules.expiry_for(d(2025, 1, 1), year_end) == d(2026, 12, 31)
    assert rules.expiry_for(d(2025, 12, 31), year_end) == d(2026, 12, 31)
    assert rules.expiry_for(d(2025, 1, 31), months) == d(2025, 2, 27)  # usable through 27 Feb, gone on 28 Feb
    assert rules.expiry_for(d(2025, 1, 31), never) is None


def test_points_are_rounded_down():
    assert rules.points_for(Decimal("99.99"), Decimal("1")) == 99
    assert rules.points_for(Decimal("10.00"), Decimal("1.5")) == 15
    assert rules.points_for(Decimal("0"), Decimal("1")) == 0


def test_deductions_take_the_soonest_expiring_points_first():
    lots = [(d(2026, 12, 31), 100), (d(2025, 12, 31), 50)]
    assert rules.next_expiry(lots, 0) == (d(2025, 12, 31), 50)
    assert rules.next_expiry(lots, 50) == (d(2026, 12, 31), 100)
    assert rules.next_expiry(lots, 70) == (d(2026, 12, 31), 80)
    assert rules.next_expiry(lots, 150) == (None, 0)


def test_review_dates():
    assert rules.last_review_day(d(2026, 1, 1), 1, 1) == d(2026, 1, 1)
    assert rules.last_review_day(d(2025, 12, 31), 1, 1) == d(2025, 1, 1)
    assert rules.a_year_before(d(2028, 2, 29)) == d(2027, 2, 28)


def test_codes_are_unambiguous_and_normalised():
    code = rules.new_code(10)
    assert len(code) == 10 and not set(code) & set("0O1IL")
    assert rules.normal_code(" vip-2026 x ") == "VIP2026X"
