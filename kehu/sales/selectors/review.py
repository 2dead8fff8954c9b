"""The manager's weekly review (周报) and the stage funnel report. Every figure is read through the data scope;
each metric is one query grouped by user, however many reps a unit has."""

import datetime
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities.models import Task, TimelineEntry
from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.records import record_id
from kehu.sales.models import Lead, Opportunity, Pipeline, Stage, StageChange
from kehu.sales.selectors.opportunities import opportunity_scope
from kehu.users import scoping
from kehu.users.models import Membership, OrgUnit, Role, User
from kehu.users.selectors import unit_subtree_ids
from kehu.users.services import ROLE_PRIORITY

# Timeline kinds that count as a follow-up logged by a rep (tasks are plans, system entries are events).
FOLLOWUP_KINDS = (
    TimelineEntry.Kind.NOTE,
    TimelineEntry.Kind.CALL,
    TimelineEntry.Kind.VISIT,
    TimelineEntry.Kind.MEETING,
    TimelineEntry.Kind.EMAIL,
)
SELLING_ROLES = {
    Role.SALES_REP,
    Role.MANAGER,
}  # members shown as a row of their unit even with nothing to show
DEALS_SHOWN = 200


# --- weeks --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    monday: datetime.date

    @property
    def sunday(self) -> datetime.date:
        return self.monday + datetime.timedelta(days=6)

    @property
    def start(self) -> datetime.datetime:
        """Monday 00:00 in the company's time zone (settings.TIME_ZONE, Asia/Shanghai)."""
        return timezone.make_aware(datetime.datetime.combine(self.monday, datetime.time.min))

    @property
    def end(self) -> datetime.datetime:
        return timezone.make_aware(
            datetime.datetime.combine(self.monday + datetime.timedelta(days=7), datetime.time.min)
        )

    @property
    def code(self) -> str:
        year, week, _day = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def previous(self) -> "Week":
        return Week(self.monday - datetime.timedelta(days=7))

    @property
    def next(self) -> "Week":
        return Week(self.monday + datetime.timedelta(days=7))

    def contains(self, moment: datetime.datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def week_of(day: datetime.date) -> Week:
    return Week(day - datetime.timedelta(days=day.weekday()))


def parse_week(raw: str | None) -> Week:
    """ "2026-W10" (ISO week) → that week; empty → the current week (local date)."""
    raw = (raw or "").strip()
    if not raw:
        return week_of(timezone.localdate())
    try:
        year, number = raw.upper().split("-W")
        return Week(datetime.date.fromisocalendar(int(year), int(number), 1))
    except ValueError as exc:
        raise ValidationFailed(fields={"week": _("Enter a week as YYYY-Www, e.g. 2026-W10.")}) from exc


# --- figures ------------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    new_leads: int = 0
    followups: int = 0
    calls: int = 0
    visits: int = 0
    stage_moves: int = 0
    won: int = 0
    lost: int = 0
    overdue_followups: int = 0
    overdue_tasks: int = 0

    def add(self, other: "Figures") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _week_q(name: str, week: Week) -> Q:
    return Q(**{f"{name}__gte": week.start, f"{name}__lt": week.end})


def overdue_followup_q(now: datetime.datetime, pipelines: list[Pipeline]) -> tuple[dict, Q]:
    """Open opportunities whose last touch (the customer's last follow-up, else the opportunity's creation, or
    the last stage move if later) is older than their pipeline's follow-up days, now. Returns the aliases to
    add and the condition. Each pipeline's cutoff is computed here, so the rule is portable SQL."""
    cutoff = Case(
        *[
            When(pipeline_id=p.pk, then=Value(now - datetime.timedelta(days=p.followup_days)))
            for p in pipelines
        ],
        default=Value(now - datetime.timedelta(days=30)),
        output_field=DateTimeField(),
    )
    last_touch = Greatest(Coalesce(F("customer__last_followup_at"), F("created_at")), F("stage_entered_at"))
    return (
        {"last_touch": last_touch, "followup_cutoff": cutoff},
        Q(status=Stage.Outcome.OPEN, last_touch__lt=F("followup_cutoff")),
    )


def figures_by_user(
    *, actor: User, user_ids, week: Week, now: datetime.datetime | None = None
) -> dict[int, Figures]:
    """Each figure of the week for each user in `user_ids` (a list or a subquery), one grouped query per source
    table; only records the actor sees count."""
    now = now or timezone.now()
    out: dict[int, Figures] = {}

    def at(user_id) -> Figures:
        return out.setdefault(user_id, Figures())

    leads = (
        Lead.objects.filter(scoping.visible_q(actor, Lead), owner_id__in=user_ids)
        .filter(_week_q("created_at", week))
        .values("owner_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in leads:
        at(row["owner_id"]).new_leads = row["n"]

    entries = (
        TimelineEntry.objects.filter(
            scoping.visible_q(actor, TimelineEntry), author_id__in=user_ids, kind__in=FOLLOWUP_KINDS
        )
        .filter(_week_q("occurred_at", week))
        .values("author_id")
        .annotate(
            n=Count("id"),
            calls=Count("id", filter=Q(kind=TimelineEntry.Kind.CALL)),
            visits=Count("id", filter=Q(kind=TimelineEntry.Kind.VISIT)),
        )
        .order_by()
    )
    for row in entries:
        figures = at(row["author_id"])
        figures.followups, figures.calls, figures.visits = row["n"], row["calls"], row["visits"]

    moves = (
        StageChange.objects.filter(
            scoping.visible_q(actor, Opportunity, prefix="opportunity__"),
            opportunity__deleted_at__isnull=True,
            changed_by_id__in=user_ids,
            from_stage__isnull=False,  # opening an opportunity is not a move
        )
        .filter(_week_q("changed_at", week))
        .values("changed_by_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in moves:
        at(row["changed_by_id"]).stage_moves = row["n"]

    aliases, overdue = overdue_followup_q(now, list(Pipeline.objects.all()))
    closed = _week_q("closed_at", week)
    deals = (
        opportunity_scope(actor)
        .filter(owner_id__in=user_ids)
        .alias(**aliases)
        .filter(closed | overdue)
        .values("owner_id")
        .annotate(
            won=Count("id", filter=closed & Q(status=Stage.Outcome.WON)),
            lost=Count("id", filter=closed & Q(status=Stage.Outcome.LOST)),
            overdue=Count("id", filter=overdue),
        )
        .order_by()
    )
    for row in deals:
        figures = at(row["owner_id"])
        figures.won, figures.lost, figures.overdue_followups = row["won"], row["lost"], row["overdue"]

    tasks = (
        Task.objects.filter(
            scoping.visible_q(actor, Task),
            assignee_id__in=user_ids,
            status=Task.Status.OPEN,
            due_at__lt=now,
        )
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in tasks:
        at(row["assignee_id"]).overdue_tasks = row["n"]
    return out


# --- the review page ----------------------------------------------------------------------------------------------


@dataclass
class Row:
    figures: Figures
    unit: OrgUnit | None = None  # a unit row aggregates its whole subtree
    user: User | None = None  # a rep row

    @property
    def label(self) -> str:
        return str(self.unit if self.unit is not None else self.user)


@dataclass
class DealWeek:
    """What happened to one of the rep's deals in the week."""

    opportunity: Opportunity
    moves: list = field(default_factory=list)  # StageChange
    followups: list = field(default_factory=list)  # TimelineEntry on the deal's customer, by the rep
    won: bool = False
    lost: bool = False

    @property
    def active(self) -> bool:
        return bool(self.moves or self.followups or self.won or self.lost)


@dataclass
class Review:
    week: Week
    rows: list[Row]
    total: Figures
    unit: OrgUnit | None = None
    trail: list[OrgUnit] = field(default_factory=list)  # from the top unit the actor sees down to `unit`
    rep: User | None = None
    deals: list[DealWeek] = field(default_factory=list)
    is_manager_view: bool = False
    followup_days: dict[str, int] = field(default_factory=dict)


def _visible_units(actor: User) -> dict[int, OrgUnit]:
    scope = scoping.scope_for(actor)
    qs = OrgUnit.objects.all() if scope.is_system_admin else OrgUnit.objects.filter(pk__in=scope.read_units)
    return {unit.pk: unit for unit in qs.order_by("path")}


def _primary(memberships: list[Membership], units: dict[int, OrgUnit]) -> dict[int, Membership]:
    """Each user's membership that places them (as `primary_unit_of` does: hands-on roles first, deepest)."""
    chosen: dict[int, Membership] = {}
    for m in sorted(
        memberships, key=lambda m: (ROLE_PRIORITY.index(m.role), -units[m.unit_id].depth, m.unit_id)
    ):
        chosen.setdefault(m.user_id, m)
    return chosen


def _rep_review(actor: User, week: Week, rep_id, now) -> Review:
    """A rep who manages nobody: their own row and deals only."""
    if rep_id not in (None, "") and record_id(rep_id) != actor.pk:
        raise NotFound()
    figures = figures_by_user(actor=actor, user_ids=[actor.pk], week=week, now=now).get(actor.pk, Figures())
    return Review(
        week=week,
        rows=[Row(figures=figures, user=actor)],
        total=figures,
        rep=actor,
        deals=rep_deals(actor=actor, rep=actor, week=week, now=now),
    )


def review(*, actor: User, week: Week, unit_id=None, rep_id=None, now=None) -> Review:
    """The week's figures: for a manager (or admin) one row per child unit of `unit` (default: the top of
    what they see) and one per rep placed directly in it; `rep_id` shows that rep's deals instead."""
    now = now or timezone.now()
    scope = scoping.scope_for(actor)
    if not (scope.is_system_admin or scope.read_units):
        return _rep_review(actor, week, rep_id, now)
    units = _visible_units(actor)
    roots = [u for u in units.values() if u.parent_id not in units]
    if unit_id not in (None, ""):
        current = units.get(record_id(unit_id))
        if current is None:
            raise NotFound()
    else:
        current = roots[0] if len(roots) == 1 else None
    below = [u for u in units.values() if current is None or u.path.startswith(current.path)]
    memberships = list(
        Membership.objects.filter(unit_id__in=[u.pk for u in below]).select_related("user").order_by("id")
    )
    placed = _primary(memberships, units)
    trail = [units[i] for i in current.ancestor_ids if i in units] if current is not None else []

    if rep_id not in (None, ""):
        membership = placed.get(record_id(rep_id))
        if membership is None:
            raise NotFound()
        rep = membership.user
        figures = figures_by_user(actor=actor, user_ids=[rep.pk], week=week, now=now).get(rep.pk, Figures())
        return Review(
            week=week,
            rows=[Row(figures=figures, user=rep)],
            total=figures,
            unit=units[membership.unit_id],
            trail=[units[i] for i in units[membership.unit_id].ancestor_ids if i in units],
            rep=rep,
            deals=rep_deals(actor=actor, rep=rep, week=week, now=now),
            is_manager_view=True,
        )

    children = [u for u in units.values() if (u.parent_id == current.pk if current else u in roots)]
    by_user = figures_by_user(actor=actor, user_ids=list(placed), week=week, now=now)
    unit_rows = {child.pk: Row(figures=Figures(), unit=child) for child in children}
    rep_rows: list[Row] = []
    total = Figures()
    for user_id, membership in placed.items():
        figures = by_user.get(user_id, Figures())
        total.add(figures)
        unit = units[membership.unit_id]
        if current is not None and unit.pk == current.pk:
            if figures.any or (membership.role in SELLING_ROLES and membership.user.is_active):
                rep_rows.append(Row(figures=figures, user=membership.user))
            continue
        child = next((c for c in children if unit.path.startswith(c.path)), None)
        if child is not None:
            unit_rows[child.pk].figures.add(figures)
    rep_rows.sort(key=lambda r: str(r.user))
    return Review(
        week=week,
        rows=[*unit_rows.values(), *rep_rows],
        total=total,
        unit=current,
        trail=trail,
        is_manager_view=True,
    )


def rep_deals(*, actor: User, rep: User, week: Week, now=None) -> list[DealWeek]:
    """The rep's open deals and those closed in the week, each with its stage moves, its close and the rep's
    follow-ups on its customer during the week; deals where something happened come first."""
    moves = list(
        StageChange.objects.filter(
            scoping.visible_q(actor, Opportunity, prefix="opportunity__"),
            opportunity__owner=rep,
            opportunity__deleted_at__isnull=True,
            from_stage__isnull=False,
        )
        .filter(_week_q("changed_at", week))
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )
    entries = list(
        TimelineEntry.objects.filter(
            scoping.visible_q(actor, TimelineEntry), author=rep, kind__in=FOLLOWUP_KINDS
        )
        .filter(_week_q("occurred_at", week))
        .order_by("occurred_at", "id")
    )
    moved = {m.opportunity_id for m in moves}
    opportunities = list(
        opportunity_scope(actor)
        .filter(owner=rep)
        .filter(Q(status=Stage.Outcome.OPEN) | _week_q("closed_at", week) | Q(pk__in=moved))
        .select_related("customer", "stage", "pipeline")
        .order_by("-updated_at", "-id")[:DEALS_SHOWN]
    )
    deals = []
    for opportunity in opportunities:
        closed = week.contains(opportunity.closed_at)
        deals.append(
            DealWeek(
                opportunity=opportunity,
                moves=[m for m in moves if m.opportunity_id == opportunity.pk],
                followups=[e for e in entries if e.customer_id == opportunity.customer_id],
                won=closed and opportunity.status == Stage.Outcome.WON,
                lost=closed and opportunity.status == Stage.Outcome.LOST,
            )
        )
    deals.sort(key=lambda d: not d.active)  # stable: keeps the newest first within each group
    return deals


# --- the stage funnel ---------------------------------------------------------------------------------------------


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class FunnelStep:
    stage: Stage
    reached: int
    to_next: Decimal | None  # % of those that reached this stage that reached the next
    from_first: Decimal | None  # % of those that reached the first stage
    avg_days: Decimal | None  # average time spent in the stage by those that left it
    width: Decimal  # bar width, % of the opportunities created


@dataclass
class Funnel:
    pipeline: Pipeline
    since: datetime.date
    until: datetime.date
    total: int
    won: int
    lost: int
    won_rate: Decimal | None
    steps: list[FunnelStep]
    unit_id: int | None = None
    owner_id: int | None = None


def funnel_period(
    since: datetime.date | None, until: datetime.date | None
) -> tuple[datetime.date, datetime.date]:
    until = until or timezone.localdate()
    since = since or (until - datetime.timedelta(days=89))
    if since > until:
        raise ValidationFailed(fields={"from": _("The start is after the end.")})
    return since, until


def funnel(
    *,
    actor: User,
    pipeline: Pipeline,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    unit_id: int | None = None,
    owner_id: int | None = None,
) -> Funnel:
    """Opportunities of the pipeline created in the period (both days included) that the actor sees: per stage
    in order (the open stages, then the won one) how many reached it — entered it, were created in it, or went
    beyond it —, the conversions, the average days spent in it, and the won rate."""
    since, until = funnel_period(since, until)
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min)
    )
    opportunities = opportunity_scope(actor).filter(
        pipeline=pipeline, created_at__gte=start, created_at__lt=end
    )
    if unit_id:
        subtree = unit_subtree_ids(unit_id=unit_id)
        opportunities = (
            opportunities.none() if subtree is None else opportunities.filter(org_unit_id__in=subtree)
        )
    if owner_id:
        opportunities = opportunities.filter(owner_id=owner_id)

    stages = sorted(pipeline.stages.all(), key=lambda s: (s.position, s.pk))
    steps = [s for s in stages if s.outcome == Stage.Outcome.OPEN] + [
        s for s in stages if s.outcome == Stage.Outcome.WON
    ]
    rank = Case(
        *[When(to_stage_id=s.pk, then=Value(i)) for i, s in enumerate(steps)],
        default=Value(-1),
        output_field=IntegerField(),
    )
    furthest = (
        StageChange.objects.filter(opportunity_id=OuterRef("pk"))
        .annotate(rank=rank)
        .order_by("-rank")
        .values("rank")[:1]
    )
    counts = (
        opportunities.annotate(furthest=Coalesce(Subquery(furthest), Value(-1)))
        .values("furthest")
        .annotate(n=Count("id"))
        .order_by()
    )
    at_rank = {row["furthest"]: row["n"] for row in counts}
    reached = [sum(n for r, n in at_rank.items() if r >= i) for i in range(len(steps))]
    totals = opportunities.aggregate(
        total=Count("id"),
        won=Count("id", filter=Q(status=Stage.Outcome.WON)),
        lost=Count("id", filter=Q(status=Stage.Outcome.LOST)),
    )
    averages = {
        row["from_stage_id"]: row["avg"]
        for row in StageChange.objects.filter(
            opportunity_id__in=opportunities.values("pk"),
            from_stage_id__in=[s.pk for s in steps],
            seconds_in_from__isnull=False,
        )
        .values("from_stage_id")
        .annotate(avg=Avg("seconds_in_from"))
        .order_by()
    }
    first = reached[0] if reached else 0
    out = []
    for i, stage in enumerate(steps):
        seconds = averages.get(stage.pk)
        out.append(
            FunnelStep(
                stage=stage,
                reached=reached[i],
                to_next=_percent(reached[i + 1], reached[i]) if i + 1 < len(steps) else None,
                from_first=_percent(reached[i], first),
                avg_days=(
                    (Decimal(seconds) / 86400).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
                    if seconds is not None
                    else None
                ),
                width=_percent(reached[i], totals["total"]) or Decimal(0),
            )
        )
    return Funnel(
        pipeline=pipeline,
        since=since,
        until=until,
        total=totals["total"],
        won=totals["won"],
        lost=totals["lost"],
        won_rate=_percent(totals["won"], totals["total"]),
        steps=out,
        unit_id=unit_id,
        owner_id=owner_id,
    )


def followup_days_in_use() -> list[int]:
    """The follow-up spans of the active pipelines, for the page's explanation of "overdue"."""
    return sorted(set(Pipeline.objects.filter(is_active=True).values_list("followup_days", flat=True)))
