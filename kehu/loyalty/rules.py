"""The programme's rules that need no database: when earned points expire, which points a deduction takes, how
many points an amount earns, when a member is due for review, and the codes we hand out.

**Which points go first (FIFO).** Every deduction — a redemption, a reversal for a refund, a negative adjustment,
an expiry — takes the points that expire soonest; points that never expire go last. With the default rule
(points expire at the end of the year after they were earned) that is oldest first. So the points expiring on
a day are what the earnings due by then exceed all deductions so far:

    expiring(D) = max(0, Σ earnings expiring on or before D − Σ deductions)

which needs no record of which deduction took which earning, and stays right however often it is computed.
"""

import calendar
import datetime
import secrets
from decimal import ROUND_FLOOR, Decimal

# Codes are read aloud and typed from paper: no 0/O, 1/I/L, and nothing else that looks alike.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
COUPON_CODE_LENGTH = 10
REFERRAL_CODE_LENGTH = 8


def new_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normal_code(raw: str) -> str:
    """A typed code as stored: upper case, without spaces and dashes."""
    return "".join((raw or "").split()).replace("-", "").upper()


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_for(earned_on: datetime.date, settings) -> datetime.date | None:
    """The last day points earned on `earned_on` may be used (they are gone the day after)."""
    if settings.expiry == "never":
        return None
    if settings.expiry == "months":
        return add_months(earned_on, settings.expiry_months) - datetime.timedelta(days=1)
    return datetime.date(earned_on.year + 1, 12, 31)


def points_for(amount: Decimal, rate: Decimal) -> int:
    """Whole points for an amount at a rate (points per yuan), rounded down: ¥99.90 at 1 point earns 99."""
    if amount <= 0 or rate <= 0:
        return 0
    return int((amount * rate).to_integral_value(rounding=ROUND_FLOOR))


def next_expiry(lots: list[tuple[datetime.date, int]], deducted: int) -> tuple[datetime.date | None, int]:
    """The next day points expire and how many, given the dated earnings (by day) and the deductions so far
    (a positive number): deductions take the soonest-expiring points first."""
    left = deducted
    for day, points in sorted(lots):
        taken = min(points, left)
        left -= taken
        if points > taken:
            return day, points - taken
    return None, 0


def last_review_day(today: datetime.date, month: int, day: int) -> datetime.date:
    """The most recent fixed review date on or before today."""
    this_year = datetime.date(today.year, month, day)
    return this_year if this_year <= today else datetime.date(today.year - 1, month, day)


def a_year_before(today: datetime.date) -> datetime.date:
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)
