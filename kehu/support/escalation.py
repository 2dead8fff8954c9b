"""The escalation ladder, climbed by the scheduler every minute.

A pass takes the tickets whose next escalation moment has come, a batch at a time in one transaction with
their rows locked (other passes skip them), and for each takes every step now due: an `Escalation` row (unique
per ticket, clock and step, so a repeated or restarted pass never takes a step twice), a timeline event, the
notifications, the priority raised or the ticket re-routed when the step says so, and the moment of the next
step. Rows are written in bulk per batch; a million tickets with a few thousand due take seconds.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from kehu.activities.services import notifications_send_many
from kehu.support import routing, sla
from kehu.support.models import Escalation, Priority, Ticket, TicketEvent
from kehu.support.services import event_build, ticket_notification
from kehu.users import scoping
from kehu.users.models import OrgUnit, User

S = Ticket.Status
BATCH = 200
AUDITED = ["priority", "escalation_level", "team", "assignee", "status", "updated_at"]


@dataclass
class _Batch:
    """What one batch writes, gathered before the inserts."""

    escalations: list[Escalation] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)
    notifications: list[dict] = field(default_factory=list)
    changed: list[Ticket] = field(default_factory=list)  # a step taken: audited
    moved: list[Ticket] = field(default_factory=list)  # only the next escalation moment changed
    rerouted: bool = False


class EscalationPass:
    """One pass at a moment; working hours, team leads and teams are read once per pass."""

    def __init__(self, now):
        self.now = now
        self.hours = sla.HoursBook()
        self._leads: dict[int, list[User]] = {}
        self._teams: dict[int, OrgUnit | None] = {}
        self.taken = 0

    def run(self, *, batch: int = BATCH) -> int:
        """Batches in the order the moments came (the due index serves it); a ticket done moves past `now`, and
        the (moment, id) key after the last one skips those a concurrent pass holds."""
        after = Q()
        while True:
            with transaction.atomic():
                tickets = list(
                    Ticket.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("sla_policy", "team", "assignee")
                    .filter(after, next_escalation_at__lte=self.now)
                    .order_by("next_escalation_at", "pk")[:batch]
                )
                if not tickets:
                    return self.taken
                last_at, last_id = tickets[-1].next_escalation_at, tickets[-1].pk  # before the pass moves it
                after = Q(next_escalation_at__gt=last_at) | Q(next_escalation_at=last_at, pk__gt=last_id)
                self._escalate(tickets)

    def _escalate(self, tickets: list[Ticket]) -> None:
        taken: dict[int, set[tuple[str, int]]] = {t.pk: set() for t in tickets}
        for ticket_id, clock, step in Escalation.objects.filter(ticket_id__in=list(taken)).values_list(
            "ticket_id", "clock", "step"
        ):
            taken[ticket_id].add((clock, step))
        out = _Batch()
        for ticket in tickets:
            hours = self.hours.for_unit(ticket.team)
            done = taken[ticket.pk]
            steps = list(sla.due_steps(ticket, hours, self.now, done))
            for clock, index, step in steps:
                self._step(ticket, clock, index, step, out)
                done.add((clock, index))
            ticket.next_escalation_at = sla.next_escalation(ticket, hours, taken=done)
            (out.changed if steps else out.moved).append(ticket)
        Escalation.objects.bulk_create(out.escalations)
        TicketEvent.objects.bulk_create(out.events)
        if out.notifications:
            notifications_send_many(out.notifications)
        if out.rerouted:
            scoping.records_changed()  # bulk writes send no signals
        if out.changed:
            stamp = timezone.now()
            for ticket in out.changed:
                ticket.updated_at = stamp
            bulk_update_with_history(out.changed, Ticket, [*AUDITED, "next_escalation_at"])
        if out.moved:
            Ticket.objects.bulk_update(out.moved, ["next_escalation_at"])
        self.taken += len(out.escalations)

    def _step(self, ticket: Ticket, clock: str, index: int, step: dict, out: _Batch) -> None:
        percent = int(step["percent"])
        recipients = self._recipients(ticket, step.get("notify", "assignee"))
        raised = bool(step.get("raise_priority")) and ticket.priority < Priority.URGENT
        out.escalations.append(
            Escalation(
                ticket=ticket,
                clock=clock,
                step=index,
                percent=percent,
                notified=[u.pk for u in recipients],
                raised_priority=raised,
                created_at=self.now,
            )
        )
        if raised:
            ticket.priority += 1
        ticket.escalation_level += 1
        out.events.append(
            self._event(
                ticket,
                TicketEvent.Kind.ESCALATED,
                {
                    "clock": clock,
                    "percent": percent,
                    "notified": [str(u) for u in recipients],
                    "raised_priority": raised,
                },
            )
        )
        self._notify(out, recipients, ticket, clock, percent)
        self._reroute(ticket, step.get("reroute_to"), clock, percent, out)

    def _reroute(self, ticket: Ticket, team_id, clock: str, percent: int, out: _Batch) -> None:
        """A step that moves the ticket to another team's queue: nobody there has it yet, so it goes back to
        new and the team's leads hear of it. Its clocks keep the promise already made to the customer."""
        if team_id is None or team_id == ticket.team_id:
            return
        if team_id not in self._teams:
            self._teams[team_id] = OrgUnit.objects.filter(pk=team_id).first()
        team = self._teams[team_id]
        if team is None:
            return
        ticket.team, ticket.assignee = team, None
        out.rerouted = True
        if ticket.status in (S.ASSIGNED, S.IN_PROGRESS):
            ticket.status = S.NEW
        data = {
            "to": "",
            "team": str(team),
            "rule": "",
            "escalation": True,
            "clock": clock,
            "percent": percent,
        }
        out.events.append(self._event(ticket, TicketEvent.Kind.ASSIGNED, data))
        self._notify(out, self._team_leads(team.pk), ticket, clock, percent)

    def _recipients(self, ticket: Ticket, notify: str) -> list[User]:
        """The assignee (when there is one), else the team's leads, else the managers above; or from the
        leads or the managers up as the step says."""
        if notify == "assignee" and ticket.assignee_id:
            return [ticket.assignee]
        leads = self._team_leads(ticket.team_id)
        above = routing.managers_above(ticket.team, leads_of=self._team_leads)
        if notify in ("assignee", "team_lead"):
            return leads or above
        return above or leads

    def _team_leads(self, unit_id: int) -> list[User]:
        if unit_id not in self._leads:
            self._leads[unit_id] = routing.team_leads(unit_id)
        return self._leads[unit_id]

    def _event(self, ticket: Ticket, kind: str, data: dict) -> TicketEvent:
        return event_build(ticket, kind, data=data, now=self.now)

    @staticmethod
    def _notify(out: _Batch, users: list[User], ticket: Ticket, clock: str, percent: int) -> None:
        for user in users:
            if user.is_active:
                out.notifications.append(
                    ticket_notification(user, f"ticket_escalated_{clock}", ticket, percent=percent)
                )


def tickets_escalate_due(*, now=None, batch: int = BATCH) -> int:
    """The scheduler's pass: every ticket whose next escalation moment has come takes the steps due. Returns
    the number of steps taken."""
    return EscalationPass(now or timezone.now()).run(batch=batch)
