"""Service quality per agent and per team: tickets handled, first-response and resolution times (median, p90),
service-level compliance, reopen rate, satisfaction and escalations; and the quality records (质检记录) a lead
logs against an agent, which the agent acknowledges.

Figures cover the tickets opened in the period that the reader sees. Times are wall-clock hours from opening;
compliance counts a ticket once both its clocks are met (a clock still running past its due moment is a miss).
Satisfaction counts the ratings answered in the period, kept with the agent and team at the time; only a 5
counts as fully satisfied."""

import datetime
import statistics
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import hooks
from kehu.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from kehu.core.records import record_id as record_id_of
from kehu.support.models import Escalation, QualityRecord, Rating, ServiceAgent, Ticket
from kehu.support.selectors import category_paths, ticket_scope
from kehu.users import scoping
from kehu.users.models import OrgUnit, User

GROUPS = ("agent", "team", "category")
KEYS = {"agent": "assignee_id", "team": "team_id", "category": "category_id"}


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class QualityRow:
    key: int | None
    label: str = ""
    handled: int = 0
    resolved: int = 0
    reopened: int = 0
    met: int = 0
    measured: int = 0
    escalations: int = 0
    scores: list[int] = field(default_factory=list)
    mistakes: int = 0
    level: str = ""  # the agent's level (junior → senior), per agent only
    first_response_hours: list[float] = field(default_factory=list, repr=False)
    resolution_hours: list[float] = field(default_factory=list, repr=False)

    @property
    def first_response_median(self) -> float | None:
        return round(statistics.median(self.first_response_hours), 1) if self.first_response_hours else None

    @property
    def first_response_p90(self) -> float | None:
        value = _percentile(self.first_response_hours, 0.9)
        return None if value is None else round(value, 1)

    @property
    def resolution_median(self) -> float | None:
        return round(statistics.median(self.resolution_hours), 1) if self.resolution_hours else None

    @property
    def resolution_p90(self) -> float | None:
        value = _percentile(self.resolution_hours, 0.9)
        return None if value is None else round(value, 1)

    @property
    def compliance(self) -> float | None:
        return round(100 * self.met / self.measured, 1) if self.measured else None

    @property
    def reopen_rate(self) -> float | None:
        return round(100 * self.reopened / self.resolved, 1) if self.resolved else None

    @property
    def satisfaction(self) -> float | None:
        return round(sum(self.scores) / len(self.scores), 2) if self.scores else None

    @property
    def fully_satisfied(self) -> float | None:
        return round(100 * self.scores.count(5) / len(self.scores), 1) if self.scores else None


def _hours(start: datetime.datetime, end: datetime.datetime | None) -> float | None:
    return None if end is None else max(0.0, (end - start).total_seconds() / 3600)


def _met(row: dict, now: datetime.datetime) -> bool | None:
    """Both clocks met; None when the ticket had no service level."""
    verdicts = []
    for due, done in (
        (row["first_response_due"], row["first_responded_at"] or row["resolved_at"]),
        (row["resolution_due"], row["resolved_at"]),
    ):
        if due is None:
            continue
        verdicts.append(done <= due if done is not None else now <= due)
    return all(verdicts) if verdicts else None


def service_quality(
    *, actor: User, by: str, start: datetime.datetime, end: datetime.datetime, now=None
) -> list[QualityRow]:
    """One row per agent (assignee), team or category over the tickets opened in [start, end) that the actor
    sees."""
    if by not in GROUPS:
        raise ValidationFailed(fields={"by": _("Unknown grouping.")})
    now = now or timezone.now()
    key = KEYS[by]
    tickets = ticket_scope(actor).filter(created_at__gte=start, created_at__lt=end)
    rows: dict[int | None, QualityRow] = {}

    def row_for(value) -> QualityRow:
        if value not in rows:
            rows[value] = QualityRow(key=value)
        return rows[value]

    fields = (
        key,
        "created_at",
        "first_responded_at",
        "resolved_at",
        "first_response_due",
        "resolution_due",
        "reopen_count",
    )
    for values in tickets.values(*fields).iterator(chunk_size=5000):
        row = row_for(values[key])
        row.handled += 1
        if values["resolved_at"] is not None or values["reopen_count"]:
            row.resolved += 1  # resolved at least once
        if values["reopen_count"]:
            row.reopened += 1
        for hours, bucket in (
            (_hours(values["created_at"], values["first_responded_at"]), row.first_response_hours),
            (_hours(values["created_at"], values["resolved_at"]), row.resolution_hours),
        ):
            if hours is not None:
                bucket.append(hours)
        met = _met(values, now)
        if met is not None:
            row.measured += 1
            row.met += int(met)
    escalated = (
        Escalation.objects.filter(ticket__in=tickets)
        .values(f"ticket__{key}")
        .annotate(n=Count("id"))
        .values_list(f"ticket__{key}", "n")
    )
    for value, count in escalated:
        row_for(value).escalations = count
    rating_key = "agent_id" if by == "agent" else key
    ratings = Rating.objects.filter(
        ticket__in=ticket_scope(actor), answered_at__gte=start, answered_at__lt=end
    ).values_list(rating_key, "score")
    for value, score in ratings:
        row_for(value).scores.append(score)
    if by == "agent":
        mistakes = (
            QualityRecord.objects.filter(
                _records_q(actor),
                agent_id__in=[k for k in rows if k],
                created_at__gte=start,
                created_at__lt=end,
            )
            .values("agent_id")
            .annotate(n=Count("id"))
            .values_list("agent_id", "n")
        )
        for value, count in mistakes:
            rows[value].mistakes = count
        names = {user.pk: str(user) for user in User.objects.filter(pk__in=[k for k in rows if k])}
        for agent in ServiceAgent.objects.filter(pk__in=[k for k in rows if k]):
            rows[agent.pk].level = agent.get_level_display()
    elif by == "team":
        names = {unit.pk: unit.name for unit in OrgUnit.objects.filter(pk__in=[k for k in rows if k])}
    else:
        names = category_paths([k for k in rows if k])
    for value, row in rows.items():
        row.label = names.get(value) or {"agent": _("Unassigned"), "category": _("Uncategorised")}.get(
            by, "—"
        )
    return sorted(rows.values(), key=lambda row: (-row.handled, row.label))


# --- quality records ----------------------------------------------------------------------------------------------


def may_log_for(actor: User, agent: User) -> bool:
    """Leads log records for agents of units they manage; system admins for anyone. Not for oneself."""
    if actor.pk == agent.pk or not actor.is_active:
        return False
    scope = scoping.scope_for(actor)
    return scope.is_system_admin or agent.memberships.filter(unit_id__in=scope.assign_units).exists()


@transaction.atomic
def quality_record_log(
    *, actor: User, agent: User, data: dict, ticket: Ticket | None = None
) -> QualityRecord:
    if not may_log_for(actor, agent):
        raise PermissionDenied()
    category, note = data.get("category", ""), (data.get("note") or "").strip()
    errors = {}
    if category not in QualityRecord.Category.values:
        errors["category"] = _("Choose what kind of mistake.")
    if not note:
        errors["note"] = _("Say what happened.")
    if errors:
        raise ValidationFailed(fields=errors)
    record = QualityRecord.objects.create(
        agent=agent, ticket=ticket, category=category, note=note, logged_by=actor
    )
    hooks.emit(
        "notify",
        recipient=agent,
        kind="quality_record_logged",
        params={"by": str(actor), "category": str(record.get_category_display())},
        url="/analytics/service/",
    )
    return record


def quality_record_log_for(*, actor: User, agent_id, ticket_number: str, data: dict) -> QualityRecord:
    """Log a record from a form that names the agent by id and the ticket, if any, by its number."""
    agent = next((user for user in agents_to_review(actor=actor) if str(user.pk) == str(agent_id)), None)
    if agent is None:
        raise ValidationFailed(fields={"agent": _("Choose an agent.")})
    ticket = None
    if (ticket_number or "").strip():
        ticket = ticket_scope(actor).filter(number=ticket_number.strip()).first()
        if ticket is None:
            raise ValidationFailed(fields={"ticket": _("Ticket not found.")})
    return quality_record_log(actor=actor, agent=agent, ticket=ticket, data=data)


@transaction.atomic
def quality_record_acknowledge(*, actor: User, record: QualityRecord, comment: str = "") -> QualityRecord:
    """The agent confirms they have seen the record, with their side of it."""
    record = QualityRecord.objects.select_for_update().get(pk=record.pk)
    if record.agent_id != actor.pk:
        raise PermissionDenied()
    if record.acknowledged_at is not None:
        raise Conflict(_("This record is already acknowledged."))
    record.acknowledged_at = timezone.now()
    record.agent_comment = (comment or "").strip()
    record.save(update_fields=["acknowledged_at", "agent_comment", "updated_at"])
    return record


def _records_q(actor: User) -> Q:
    """Records about the actor and those the actor logged; a system admin sees all."""
    return Q() if scoping.scope_for(actor).is_system_admin else Q(agent=actor) | Q(logged_by=actor)


def quality_records_for(*, actor: User, limit: int = 100) -> list[QualityRecord]:
    return list(
        QualityRecord.objects.filter(_records_q(actor))
        .select_related("agent", "logged_by", "ticket")
        .order_by("-id")[:limit]
    )


def quality_record_get(*, actor: User, record_id) -> QualityRecord:
    found = QualityRecord.objects.filter(_records_q(actor), pk=record_id_of(record_id)).first()
    if found is None:
        raise NotFound()
    return found


def agents_to_review(*, actor: User) -> list[User]:
    """Agents the actor may log records for: members of the units the actor manages."""
    scope = scoping.scope_for(actor)
    users = User.objects.filter(is_active=True).exclude(pk=actor.pk)
    if not scope.is_system_admin:
        users = users.filter(memberships__unit_id__in=scope.assign_units)
    return list(users.distinct().order_by("display_name", "username"))
