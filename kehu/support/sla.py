"""Service-level clocks: which policy a ticket falls under, when its first response and resolution are due in
its team's working hours, how the clocks stand now, and the escalation ladder the scheduler climbs.

Both clocks start when the ticket is opened. Working time spent waiting on the customer is added to the ticket's
`paused_seconds` when it leaves that state, and every due moment is `opened + target + paused` in working time,
so a due moment is always recomputed from the ticket's own fields; nothing accumulates drift. A ticket reopened
after resolution keeps its clocks: it is as late as it was.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from kehu.support.hours import Hours, default_hours
from kehu.support.models import CalendarDay, Escalation, SlaPolicy, Ticket, WorkCalendar
from kehu.users.models import OrgUnit

CLOCKS = (Escalation.Clock.FIRST_RESPONSE, Escalation.Clock.RESOLUTION)


class HoursBook:
    """The working hours of units, each calendar read once per book (one request, one scheduler pass)."""

    def __init__(self):
        self._by_calendar: dict[int | None, Hours] = {}
        self._calendar_of_unit: dict[int, int | None] = {}
        self._calendars: dict[int | None, WorkCalendar] | None = None

    def _load(self) -> dict[int | None, WorkCalendar]:
        if self._calendars is None:
            calendars = list(WorkCalendar.objects.all())
            self._calendars = {c.unit_id: c for c in calendars}
        return self._calendars

    def _hours(self, calendar: WorkCalendar | None) -> Hours:
        key = calendar.pk if calendar else None
        if key not in self._by_calendar:
            self._by_calendar[key] = calendar_hours(calendar) if calendar else default_hours()
        return self._by_calendar[key]

    def for_unit(self, unit: OrgUnit | None) -> Hours:
        """The calendar of the unit, else of the nearest unit above it that has one, else the company's."""
        calendars = self._load()
        if unit is None:
            return self._hours(calendars.get(None))
        if unit.pk not in self._calendar_of_unit:
            chain = list(reversed(unit.ancestor_ids)) or [unit.pk]  # the unit itself first
            found = next((calendars[u] for u in chain if u in calendars), calendars.get(None))
            self._calendar_of_unit[unit.pk] = found
        return self._hours(self._calendar_of_unit[unit.pk])


def calendar_hours(calendar: WorkCalendar) -> Hours:
    days = list(CalendarDay.objects.filter(calendar=calendar).values_list("date", "kind"))
    return Hours.from_text(
        {day: getattr(calendar, day) for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        holidays=[d for d, kind in days if kind == CalendarDay.Kind.HOLIDAY],
        workdays=[d for d, kind in days if kind == CalendarDay.Kind.WORKDAY],
    )


def match_policy(ticket: Ticket) -> SlaPolicy | None:
    """The most specific active policy whose criteria the ticket meets (ties: the oldest)."""
    level = ticket.customer.level if ticket.customer_id else ""
    candidates = SlaPolicy.objects.filter(
        Q(ticket_type="") | Q(ticket_type=ticket.ticket_type),
        Q(severity__isnull=True) | Q(severity=ticket.severity),
        Q(customer_level="") | Q(customer_level=level),
        active=True,
    ).order_by("id")
    return max(candidates, key=lambda p: p.specificity, default=None)


def _target_seconds(policy: SlaPolicy, clock: str) -> int:
    minutes = (
        policy.first_response_minutes
        if clock == Escalation.Clock.FIRST_RESPONSE
        else policy.resolution_minutes
    )
    return minutes * 60


def moment(ticket: Ticket, hours: Hours, clock: str, percent: float = 100) -> datetime.datetime | None:
    """When `percent` of the clock's target is used up (working time, pauses left out)."""
    if ticket.sla_policy is None:
        return None
    spent = _target_seconds(ticket.sla_policy, clock) * percent / 100
    return hours.add(ticket.created_at, spent + ticket.paused_seconds)


def _stopped(ticket: Ticket, clock: str) -> bool:
    if clock == Escalation.Clock.FIRST_RESPONSE:
        return ticket.first_responded_at is not None or ticket.resolved_at is not None
    return ticket.resolved_at is not None


def steps(policy: SlaPolicy | None) -> list[dict]:
    """The policy's escalation steps, checked and ordered by percentage."""
    if policy is None:
        return []
    valid = [s for s in policy.escalation or [] if isinstance(s, dict) and int(s.get("percent") or 0) > 0]
    return sorted(valid, key=lambda s: int(s["percent"]))


def refresh(ticket: Ticket, hours: Hours) -> None:
    """Set the due moments and the next escalation moment from the ticket's policy and state (not saved)."""
    ticket.first_response_due = moment(ticket, hours, Escalation.Clock.FIRST_RESPONSE)
    ticket.resolution_due = moment(ticket, hours, Escalation.Clock.RESOLUTION)
    ticket.next_escalation_at = next_escalation(ticket, hours)


def next_escalation(ticket: Ticket, hours: Hours, *, taken: set[tuple[str, int]] | None = None):
    """The earliest step not yet taken on a running clock; None while the ticket waits or is done."""
    if ticket.sla_policy is None or ticket.paused_at is not None or not ticket.is_open:
        return None
    if taken is None:
        taken = (
            set(Escalation.objects.filter(ticket=ticket).values_list("clock", "step")) if ticket.pk else set()
        )
    pending = [
        moment(ticket, hours, clock, int(step["percent"]))
        for clock in CLOCKS
        if not _stopped(ticket, clock)
        for index, step in enumerate(steps(ticket.sla_policy))
        if (clock, index) not in taken
    ]
    return min(pending, default=None)


def due_steps(ticket: Ticket, hours: Hours, now: datetime.datetime, taken: set[tuple[str, int]]):
    """(clock, index, step) of every step whose moment has come and that was not taken yet."""
    for clock in CLOCKS:
        if _stopped(ticket, clock):
            continue
        for index, step in enumerate(steps(ticket.sla_policy)):
            if (clock, index) not in taken and moment(ticket, hours, clock, int(step["percent"])) <= now:
                yield clock, index, step


@dataclass
class ClockState:
    clock: str
    due: datetime.datetime | None
    done_at: datetime.datetime | None
    paused: bool
    seconds_left: float | None  # working seconds; negative once overdue
    late: bool = False  # still running and past the due moment (outside working hours too)

    @property
    def breached(self) -> bool:
        if self.due is None:
            return False
        if self.done_at is not None:
            return self.done_at > self.due
        return self.late

    @property
    def state(self) -> str:
        if self.due is None:
            return "none"
        if self.done_at is not None:
            return "breached" if self.breached else "met"
        if self.paused:
            return "paused"
        return "overdue" if self.breached else "running"


def clock_states(ticket: Ticket, hours: Hours, now: datetime.datetime | None = None) -> list[ClockState]:
    now = now or timezone.now()
    # While waiting, the clocks stand still at the moment the wait began.
    at = ticket.paused_at or now
    states = []
    for clock, due, done in (
        (Escalation.Clock.FIRST_RESPONSE, ticket.first_response_due, ticket.first_responded_at),
        (Escalation.Clock.RESOLUTION, ticket.resolution_due, ticket.resolved_at),
    ):
        if clock == Escalation.Clock.FIRST_RESPONSE and done is None and ticket.resolved_at is not None:
            done = ticket.resolved_at
        left = None if (due is None or done is not None) else hours.between(at, due)
        states.append(
            ClockState(
                clock=clock,
                due=due,
                done_at=done,
                paused=ticket.paused_at is not None,
                seconds_left=left,
                late=left is not None and at > due,
            )
        )
    return states
