"""Care automations (客户关怀): messages that go by themselves on a customer's occasion.

`automation_create/update/delete/activate` are the writes (validated, audited, soft-deleted). `automations_run` is
the hourly pass: for each active automation it finds who is due in set-based queries, a page of customers at a
time, stores one `Message` per customer and occasion — queued, or not sent with the rule's reason — and hands the
queued ones over. The unique (automation, customer, occasion) makes a pass idempotent: running it again, or a
later pass catching up, adds nothing twice. During the quiet hours the pass stores nothing; the first pass after
them does the day's work.

Occasions: ``birthday:<year>`` (29 February birthdays are greeted on 28 February in common years),
``festival:<key>:<year>`` (`days` before the festival), ``order:<id>`` (`days` after the order arrived),
``shipped:<order id>``, ``tier:<tier change id>``, ``points:<expiry date>``, ``winback:<YYYY-MM>`` and
``arrival:<product id>``.

An order has arrived when it was completed (`completed_at`); an order shipped but never marked completed counts as
arrived `ASSUMED_TRANSIT_DAYS` days after `shipped_at`. A missed pass catches up for `CATCH_UP_DAYS` days past the
due day, never longer: a care message a week late is no care.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import hooks
from kehu.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import check_version, move_to_recycle_bin, save_audited
from kehu.customers.models import Customer
from kehu.marketing import delivery, festivals, rules
from kehu.marketing.messaging import may_edit
from kehu.marketing.models import Automation, Channel, Message, MessageTemplate, Segment
from kehu.marketing.segments import compile_rules
from kehu.sales.models import Order, OrderLine, Product, ProductCategory
from kehu.users import scoping
from kehu.users.models import User
from kehu.users.services import primary_unit_of

log = logging.getLogger(__name__)

Trigger = Automation.Trigger

FIELDS = ("name", "trigger", "festival", "category", "days", "segment", "channel", "template")

# (lowest, highest) `days` per trigger; a trigger without days keeps 0.
DAYS_BOUNDS = {
    Trigger.FESTIVAL: (0, 60),
    Trigger.ORDER_DELIVERED: (0, 180),
    Trigger.POINTS_EXPIRING: (1, 90),
}
ASSUMED_TRANSIT_DAYS = 3  # shipped, never marked completed: taken as arrived this many days later
CATCH_UP_DAYS = 7  # how late a missed occasion is still sent
FIRST_LOOK_BACK = datetime.timedelta(
    days=1
)  # a new event-driven automation starts with the last day's events
WIN_BACK_SEGMENT = "churn:warned"
STATS_DAYS = 30


# --- writes -------------------------------------------------------------------------------------------------------


def _visible(actor: User, model, value):
    if value is None or value == "":
        return None
    if isinstance(value, model):
        value = value.pk
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return model.objects.filter(scoping.visible_q(actor, model), pk=value).first()


def _clean(actor: User, data: dict) -> dict:
    problems: dict[str, str] = {}
    name = (data.get("name") or "").strip()
    if not name:
        problems["name"] = _("Name the automation.")
    trigger = data.get("trigger")
    if trigger not in Trigger.values:
        problems["trigger"] = _("Choose what starts the automation.")
    channel = data.get("channel")
    if channel not in Channel.values:
        problems["channel"] = _("Choose e-mail or SMS.")
    template = _visible(actor, MessageTemplate, data.get("template"))
    if template is None:
        problems["template"] = _("Choose one of your templates.")
    elif channel in Channel.values and template.channel != channel:
        problems["template"] = _("This template is for another channel.")
    segment = None
    if data.get("segment") not in (None, ""):
        segment = _visible(actor, Segment, data.get("segment"))
        if segment is None:
            problems["segment"] = _("Choose one of your segments.")
    festival = (data.get("festival") or "").strip()
    if trigger == Trigger.FESTIVAL:
        if festival not in festivals.FESTIVALS:
            problems["festival"] = _("Choose a festival from the calendar.")
    else:
        festival = ""
    category = str(data.get("category") or "").strip()
    if trigger == Trigger.NEW_ARRIVALS:
        if not category.isdigit() or not ProductCategory.objects.filter(pk=int(category)).exists():
            problems["category"] = _("Choose the product category whose new arrivals are announced.")
    else:
        category = ""
    days = data.get("days")
    try:
        days = int(days) if days not in (None, "") else 0
    except (TypeError, ValueError):
        problems["days"] = _("Enter a whole number of days.")
        days = 0
    bounds = DAYS_BOUNDS.get(trigger)
    if bounds is None:
        days = 0
    elif not bounds[0] <= days <= bounds[1] and "days" not in problems:
        problems["days"] = _("Between %(low)s and %(high)s days.") % {"low": bounds[0], "high": bounds[1]}
    if problems:
        raise ValidationFailed(fields=problems)
    return {
        "name": name[:120],
        "trigger": trigger,
        "festival": festival,
        "category": category,
        "days": days,
        "segment": segment,
        "channel": channel,
        "template": template,
    }


@transaction.atomic
def automation_create(*, actor: User, data: dict) -> Automation:
    if not may_edit(actor):
        raise PermissionDenied()
    unit = primary_unit_of(actor)
    if unit is None:
        raise ValidationFailed(
            _("You belong to no unit, so an automation of yours would have nowhere to live.")
        )
    automation = Automation(
        owner=actor, org_unit=unit, active=bool(data.get("active")), **_clean(actor, data)
    )
    save_audited(automation, actor=actor, reason="created", bump_version=False)
    return automation


@transaction.atomic
def automation_update(*, actor: User, automation: Automation, data: dict, version: int | None) -> Automation:
    automation = Automation.objects.select_for_update().get(pk=automation.pk)
    if not may_edit(actor, automation):
        raise PermissionDenied()
    check_version(automation, version, fields=list(FIELDS))
    current = {field: getattr(automation, field) for field in FIELDS}
    clean = _clean(actor, {**current, **{k: v for k, v in data.items() if k in FIELDS}})
    if clean["trigger"] != automation.trigger:
        automation.cursor = {}  # another trigger reads other events
    for field, value in clean.items():
        setattr(automation, field, value)
    if "active" in data and data["active"] is not None:
        automation.active = bool(data["active"])
    save_audited(automation, actor=actor, reason="edited")
    return automation


@transaction.atomic
def automation_activate(*, actor: User, automation: Automation, active: bool = True) -> Automation:
    """Switch the automation on (it sends from the next hourly pass) or off."""
    automation = Automation.objects.select_for_update().get(pk=automation.pk)
    if not may_edit(actor, automation):
        raise PermissionDenied()
    if automation.active != active:
        automation.active = active
        save_audited(automation, actor=actor, reason="activated" if active else "deactivated")
    return automation


@transaction.atomic
def automation_delete(*, actor: User, automation: Automation) -> None:
    automation = Automation.objects.select_for_update().get(pk=automation.pk)
    if not may_edit(actor, automation):
        raise PermissionDenied()
    automation.active = False
    move_to_recycle_bin(automation, actor=actor)


# --- reads --------------------------------------------------------------------------------------------------------


def automation_list(*, actor: User, now: datetime.datetime | None = None) -> QuerySet:
    """The automations the actor sees, with `sent` and `suppressed` counts of the last 30 days."""
    since = (now or timezone.now()) - datetime.timedelta(days=STATS_DAYS)
    recent = Q(messages__created_at__gte=since)
    return (
        Automation.objects.filter(scoping.visible_q(actor, Automation))
        .select_related("template", "segment", "owner")
        .annotate(
            sent=Count("messages", filter=recent & Q(messages__status=Message.Status.SENT)),
            suppressed=Count("messages", filter=recent & Q(messages__status=Message.Status.SUPPRESSED)),
        )
        .order_by("name", "id")
    )


def automation_get_for(*, actor: User, automation_id: int) -> Automation:
    found = automation_list(actor=actor).filter(pk=automation_id).first()
    if found is None:
        raise NotFound()
    return found


def automation_log(*, actor: User, automation: Automation, cursor: str | None = None, size: int = 50) -> Page:
    """The automation's messages to the customers the actor sees, newest first."""
    messages = Message.objects.filter(automation=automation).filter(scoping.visible_q(actor, Message))
    page = keyset_page(
        messages.select_related("customer"), ordering=["-id"], cursor=cursor, size=min(max(size, 1), 200)
    )
    return page


def category_choices() -> list[tuple[str, str]]:
    return [
        (str(c.pk), " / ".join(c.path_labels())) for c in ProductCategory.objects.select_related("parent")
    ]


# --- the pass -----------------------------------------------------------------------------------------------------


def automations_run(*, now: datetime.datetime | None = None) -> dict[int, int]:
    """The hourly pass over the active automations. Returns {automation id: messages stored}."""
    now = now or timezone.now()
    if rules.in_quiet_hours(now):
        return {}
    done = {}
    for automation_id in list(Automation.objects.filter(active=True).values_list("pk", flat=True)):
        automation = (
            Automation.objects.select_related("owner", "segment", "template__sms_template")
            .filter(pk=automation_id, active=True)
            .first()
        )
        if automation is None:
            continue
        try:
            done[automation.pk] = automation_run(automation, now=now)
        except Exception:  # one broken automation must not stop the others' care
            log.exception("care automation %s failed", automation.pk)
    return done


def automation_run(automation: Automation, *, now: datetime.datetime) -> int:
    """One automation's pass: store who is due, advance the cursor, then hand the queued messages over."""
    stored, cursor = _RUNNERS[automation.trigger](automation, now)
    Automation.objects.filter(pk=automation.pk).update(last_run_at=now, cursor=cursor)
    automation.last_run_at, automation.cursor = now, cursor
    pending = Message.objects.filter(automation=automation)
    delivery.release_stalled(pending)
    delivery.send_pending(pending)
    return stored


def audience(automation: Automation, now: datetime.datetime) -> QuerySet:
    """The customers the automation may reach: the owner's, narrowed to its segment."""
    customers = Customer.objects.filter(scoping.visible_q(automation.owner, Customer))
    if automation.segment_id is not None and automation.segment.deleted_at is None:
        customers = customers.filter(compile_rules(automation.segment.rules, now=now))
    return customers


def _store(
    automation: Automation,
    customers: QuerySet,
    occasion: str,
    now: datetime.datetime,
) -> int:
    """A message for each of the customers (one occasion), a page at a time, skipping those who have it."""
    customers = customers.exclude(
        Exists(Message.objects.filter(automation=automation, occasion=occasion, customer_id=OuterRef("pk")))
    )
    stored = 0
    seen: set[str] = set()
    for page in delivery.customer_pages(customers):
        screened = rules.screen(
            page, channel=automation.channel, now=now, transactional=automation.transactional, seen=seen
        )
        with transaction.atomic():
            delivery.queue(
                screened,
                template_of=lambda _id: automation.template,
                occasion_of=lambda _id: occasion,
                channel=automation.channel,
                now=now,
                automation=automation,
                transactional=automation.transactional,
            )
        stored += len(screened)
    return stored


def _store_events(
    automation: Automation, events: Iterable[tuple[int, str]], now: datetime.datetime, audience_q: QuerySet
) -> int:
    """A message per (customer id, occasion) event, for the events whose customer is in the audience; a customer
    with several events in one batch gets one message for each."""
    events = list(dict.fromkeys(events))
    stored = 0
    for start in range(0, len(events), delivery.BATCH):
        batch = events[start : start + delivery.BATCH]
        ids = {customer_id for customer_id, _occasion in batch}
        have = set(
            Message.objects.filter(
                automation=automation, customer_id__in=ids, occasion__in={o for _c, o in batch}
            ).values_list("customer_id", "occasion")
        )
        batch = [event for event in batch if event not in have]
        rows = {
            row[0]: row
            for row in audience_q.filter(pk__in={c for c, _o in batch}).values_list(
                "pk", "email", "phone", "phone2"
            )
        }
        by_customer: dict[int, list[str]] = defaultdict(list)
        for customer_id, occasion in batch:
            if customer_id in rows:
                by_customer[customer_id].append(occasion)
        if not by_customer:
            continue
        screened = {
            r.customer_id: r
            for r in rules.screen(
                [rows[c] for c in by_customer],
                channel=automation.channel,
                now=now,
                transactional=automation.transactional,
            )
        }
        rounds = max(len(occasions) for occasions in by_customer.values())
        with transaction.atomic():
            for n in range(rounds):  # each round holds a customer at most once
                occasion_of = {c: occasions[n] for c, occasions in by_customer.items() if len(occasions) > n}
                delivery.queue(
                    [screened[c] for c in occasion_of],
                    template_of=lambda _id: automation.template,
                    occasion_of=occasion_of.__getitem__,
                    channel=automation.channel,
                    now=now,
                    automation=automation,
                    transactional=automation.transactional,
                )
                stored += len(occasion_of)
    return stored


def _moment(cursor: dict, key: str, now: datetime.datetime, floor: datetime.timedelta) -> datetime.datetime:
    """Where an event cursor stands, never further back than `floor` before now."""
    oldest = now - floor
    value = cursor.get(key)
    if value:
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and timezone.is_aware(moment):
            return max(moment, oldest)
    return now - FIRST_LOOK_BACK if not cursor else oldest


def _run_birthday(automation: Automation, now: datetime.datetime) -> tuple[int, dict]:
    today = timezone.localdate(now)
    on_day = Q(birthday__month=today.month, birthday__day=today.day)
    leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    if today.month == 2 and today.day == 28 and not leap:
        on_day |= Q(birthday__month=2, birthday__day=29)
    customers = audience(automation, now).filter(on_day)
    return _store(automation, customers, f"birthday:{today.year}", now), automation.cursor


def _run_festival(automation: Automation, now: datetime.datetime) -> tuple[int, dict]:
    today = timezone.localdate(now)
    stored = 0
    for year in (today.year, today.year + 1):  # a January festival is greeted in December
        try:
            day = festivals.festival_date(automation.festival, year)
        except (KeyError, ValueError):
            continue
        if day - datetime.timedelta(days=automation.days) == today:
            occasion = f"festival:{automation.festival}:{year}"
            stored += _store(automation, audience(automation, now), occasion, now)
    return stored, automation.cursor


def arrived_q(start: datetime.datetime, end: datetime.datetime) -> Q:
    """Orders that arrived within [start, end): completed then, or shipped `ASSUMED_TRANSIT_DAYS` before and
    never marked completed."""
    transit = datetime.timedelta(days=ASSUMED_TRANSIT_DAYS)
    completed = Q(completed_at__gte=start, completed_at__lt=end)
    assumed = Q(
        completed_at__isnull=True,
        status=Order.Status.SHIPPED,
        shipped_at__gte=start - transit,
        shipped_at__lt=end - transit,
    )
    return (completed | assumed) & ~Q(status=Order.Status.CLOSED)


def _run_order_delivered(automation: Automation, now: datetime.datetime) -> tuple[int, dict]:
    due_before = now - datetime.timedelta(days=automation.days)  # arrived at least `days` ago …
    due_after = due_before - datetime.timedelta(days=CATCH_UP_DAYS)  # … and at most a week more
    orders = Order.objects.filter(arrived_q(due_after, due_before), customer__isnull=False)
    events = (
        (c, f"order:{pk}") for pk, c in orders.order_by("pk").values_list("pk", "customer_id").iterator()
    )
    return _store_events(automation, events, now, audience(automation, now)), automation.cursor


def _run_shipment(automation: Automation, now: datetime.datetime) -> tuple[int, dict]:
    since = _moment(automation.cursor, "shipped_at", now, datetime.timedelta(days=CATCH_UP_DAYS))
    orders = Order.objects.filter(shipped_at__gt=since, shipped_at__lte=now, customer__isnull=False).exclude(
        status=Order.Status.CLOSED
    )
    events = (
        (c, f"shipped:{pk}")
        for pk, c in orders.order_by("shipped_at", "pk").values_list("pk", "customer_id").iterator()
    )
    stored = _store_events(automation, events, now, audience(automation, now))
    return stored, {**automation.cursor, "shipped_at": now.isoformat()}


def _run_new_arrivals(automation: Automation, now: datetime.datetime) -> tuple[int, dict]:
    since = _moment(automation.cursor, "created_at", now, datetime.timedelta(days=CATCH_UP_DAYS))
    category = int(automation.category) if automation.category.isdigit() else 0
    products = Product.objects.filter(
        category_id=category, is_active=True, created_at__gt=since, created_at__lte=now
    ).order_by("created_at", "pk")
    stored = 0
    for product in products.values_list("pk", flat=True):
        bought = (
            OrderLine.objects.filter(
                order__customer_id=OuterRef("pk"),
                product__category_id=category,
                order__deleted_at__isnull=True,
            )
            .exclude(product_id=product)
            .exclude(order__status__in=(Order.Status.CLOSED, Order.Status.DRAFT))
        )
        customers = audience(automation, now).filter(Exists(bought))
        stored += _store(automation, customers, f"arrival:{product}", now)
    return stored, {**automation.cursor, "created_at": now.isoformat()}


def _run_win_back(automation: Automation, now: datetime.datetime) -> tuple[int, dict]:
    found = [
        r
        for r in hooks.emit("customer.segment", segment=WIN_BACK_SEGMENT, actor=automation.owner)
        if r is not None
    ]
    if not found:
        return 0, automation.cursor
    q = found[0][0]
    month = timezone.localdate(now).strftime("%Y-%m")
    return _store(automation, audience(automation, now).filter(q), f"winback:{month}", now), automation.cursor


# --- loyalty: tier upgrades and expiring points --------------------------------------------------------------------


def tier_upgrades_since(after_id: int) -> list[tuple[int, int]]:
    """(tier change id, customer id) of the tier upgrades after `after_id`, oldest first
    (`kehu.loyalty.selectors.tier_changes_since`)."""
    from kehu.loyalty.selectors import tier_changes_since

    return [(int(row["id"]), int(row["customer_id"])) for row in tier_changes_since(after_id)]


def points_expiring_before(before: datetime.date, today: datetime.date) -> list[tuple[int, str]]:
    """(customer id, occasion) of the members whose points expire by the end of `before`
    (`kehu.loyalty.selectors.points_expiring`). The occasion names the member's next expiry day, so each expiry
    is announced once; without one, the month of `before`."""
    from kehu.loyalty.models import Member
    from kehu.loyalty.selectors import points_expiring

    due = points_expiring(before)
    days = dict(
        Member.objects.filter(customer_id__in=list(due), expiring_on__gte=today).values_list(
            "customer_id", "expiring_on"
        )
    )
    return [
        (
            customer_id,
            f"points:{days[customer_id].isoformat()}" if customer_id in days else f"points:{before:%Y-%m}",
        )
        for customer_id in sorted(due)
    ]


def _run_tier_upgrade(automation: Automation, now: datetime.datetime) -> tuple[int, dict]:
    after = int(automation.cursor.get("after_id") or 0)
    changes = tier_upgrades_since(after)
    if not changes:
        return 0, automation.cursor
    stored = _store_events(
        automation, ((c, f"tier:{pk}") for pk, c in changes), now, audience(automation, now)
    )
    return stored, {**automation.cursor, "after_id": max(pk for pk, _c in changes)}


def _run_points_expiring(automation: Automation, now: datetime.datetime) -> tuple[int, dict]:
    today = timezone.localdate(now)
    events = points_expiring_before(today + datetime.timedelta(days=automation.days), today)
    return _store_events(automation, events, now, audience(automation, now)), automation.cursor


_RUNNERS = {
    Trigger.BIRTHDAY: _run_birthday,
    Trigger.FESTIVAL: _run_festival,
    Trigger.ORDER_DELIVERED: _run_order_delivered,
    Trigger.SHIPMENT: _run_shipment,
    Trigger.TIER_UPGRADE: _run_tier_upgrade,
    Trigger.POINTS_EXPIRING: _run_points_expiring,
    Trigger.WIN_BACK: _run_win_back,
    Trigger.NEW_ARRIVALS: _run_new_arrivals,
}
