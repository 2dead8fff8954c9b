"""Business-hours arithmetic for service-level clocks.

A `Hours` knows the working periods of each weekday, the public holidays (no work) and the 调休 working days
(a weekend day worked in exchange for a longer holiday, on the standard working day's hours), all in one time
zone. Two operations serve every SLA clock:

- `add(start, seconds)`: the moment `seconds` of working time after `start`;
- `between(a, b)`: the working seconds from `a` to `b` (negative when `b` is earlier).

Both walk day by day over the periods, so a clock across a week-long holiday costs a few dozen steps.
"""

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from kehu.core.exceptions import ValidationFailed

Period = tuple[datetime.time, datetime.time]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WEEK = dict.fromkeys(WEEKDAYS[:5], "09:00-18:00")
SEARCH_DAYS = 3660  # a calendar with no working day in ten years is refused rather than searched forever


def parse_periods(raw: str) -> tuple[Period, ...]:
    """ "09:00-12:00, 13:30-18:00" → ((09:00, 12:00), (13:30, 18:00)); "" → () (a day off)."""
    periods: list[Period] = []
    for part in (raw or "").replace("，", ",").replace(" ", ",").split(","):
        if not part:
            continue
        try:
            start, end = (datetime.time.fromisoformat(t.strip()) for t in part.split("-"))
        except ValueError as exc:
            raise ValidationFailed(
                _("“%(value)s” is not a period like 09:00-12:00.") % {"value": part}
            ) from exc
        if end <= start or (periods and start < periods[-1][1]):
            raise ValidationFailed(
                _("Periods must end after they start and follow each other: “%(value)s”.") % {"value": raw}
            )
        periods.append((start, end))
    return tuple(periods)


def format_periods(periods: tuple[Period, ...]) -> str:
    return ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in periods)


@dataclass(frozen=True)
class Hours:
    week: dict[int, tuple[Period, ...]]  # weekday (0 = Monday) → its periods
    holidays: frozenset[datetime.date] = frozenset()
    workdays: frozenset[datetime.date] = frozenset()  # 调休: worked on the standard day's hours
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))

    @classmethod
    def from_text(cls, week: dict[str, str], *, holidays=(), workdays=(), tz: str | None = None) -> "Hours":
        return cls(
            week={i: parse_periods(week.get(day, "")) for i, day in enumerate(WEEKDAYS)},
            holidays=frozenset(holidays),
            workdays=frozenset(workdays),
            tz=ZoneInfo(tz or settings.TIME_ZONE),
        )

    @property
    def standard(self) -> tuple[Period, ...]:
        """The hours of a 调休 working day: those of the first weekday that has any."""
        return next((self.week[d] for d in range(7) if self.week.get(d)), ())

    def periods(self, day: datetime.date) -> tuple[Period, ...]:
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.week.get(day.weekday()) or self.standard
        return self.week.get(day.weekday(), ())

    def _spans(self, day: datetime.date):
        for start, end in self.periods(day):
            yield (
                datetime.datetime.combine(day, start, tzinfo=self.tz),
                datetime.datetime.combine(day, end, tzinfo=self.tz),
            )

    def _check_has_hours(self) -> None:
        if not any(self.week.get(d) for d in range(7)) and not self.workdays:
            raise ValidationFailed(_("The working calendar has no working hours."))

    def add(self, start: datetime.datetime, seconds: float) -> datetime.datetime:
        """The moment `seconds` of working time after `start`. Zero gives `start` itself."""
        if seconds <= 0:
            return start
        self._check_has_hours()
        local = start.astimezone(self.tz)
        remaining = datetime.timedelta(seconds=seconds)
        day = local.date()
        for _step in range(SEARCH_DAYS):
            for span_start, span_end in self._spans(day):
                begin = max(span_start, local)
                if span_end <= begin:
                    continue
                if remaining <= span_end - begin:
                    return begin + remaining
                remaining -= span_end - begin
            day += datetime.timedelta(days=1)
        raise ValidationFailed(_("The working calendar has no working hours."))

    def between(self, a: datetime.datetime, b: datetime.datetime) -> float:
        """Working seconds from `a` to `b`; negative when `b` is before `a`."""
        if b < a:
            return -self.between(b, a)
        a, b = a.astimezone(self.tz), b.astimezone(self.tz)
        total = datetime.timedelta()
        day = a.date()
        while day <= b.date():
            for span_start, span_end in self._spans(day):
                begin, end = max(span_start, a), min(span_end, b)
                if end > begin:
                    total += end - begin
            day += datetime.timedelta(days=1)
        return total.total_seconds()

    def is_open(self, moment: datetime.datetime) -> bool:
        local = moment.astimezone(self.tz)
        return any(s <= local < e for s, e in self._spans(local.date()))


def default_hours() -> Hours:
    return Hours.from_text(DEFAULT_WEEK)
