"""The service desk: tickets (complaints, after-sale, questions) with their timeline, categories, routing rules,
service-level policies, working calendars and the escalations the scheduler records."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kehu.core.models import SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.core.search import SearchTextField
from kehu.customers.models import Contact, Customer, Tag
from kehu.sales.models import Order, OrderLine, Product
from kehu.sales.models.opportunities import BilingualName
from kehu.sales.models.products import Money
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec


class Severity(models.IntegerChoices):
    """How upset the customer is (seed: complaints are handled at the level their anger calls for)."""

    FURIOUS = 1, _("1 · Furious")
    ANGRY = 2, _("2 · Angry")
    UNHAPPY = 3, _("3 · Unhappy")
    CALM = 4, _("4 · Calm")


SEVERITY_GUIDANCE = {
    Severity.FURIOUS: _(
        "Threatens to go to the platform, a regulator or the press, demands compensation, or has complained "
        "before without result. A senior agent calls back within the hour."
    ),
    Severity.ANGRY: _("Raises their voice, contacts us again and again, or talks of a bad review."),
    Severity.UNHAPPY: _("Disappointed but reasonable; expects a fix."),
    Severity.CALM: _("Calm; wants an answer or information."),
}


class TicketType(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    COMPLAINT = "complaint", _("Complaint")
    AFTER_SALE = "after_sale", _("After-sale")
    SUGGESTION = "suggestion", _("Suggestion")
    DISPUTE = "dispute", _("Dispute")


class Channel(models.TextChoices):
    PHONE = "phone", pgettext_lazy("ticket channel", "Phone")
    WEB_FORM = "web_form", _("Web form")
    EMAIL = "email", pgettext_lazy("ticket channel", "E-mail")
    MARKETPLACE = "marketplace", _("Marketplace message")
    WECHAT = "wechat", _("WeChat")
    WALK_IN = "walk_in", _("Walk-in")
    API = "api", pgettext_lazy("ticket channel", "API")


class Priority(models.IntegerChoices):
    LOW = 1, pgettext_lazy("priority", "Low")
    NORMAL = 2, pgettext_lazy("priority", "Normal")
    HIGH = 3, pgettext_lazy("priority", "High")
    URGENT = 4, pgettext_lazy("priority", "Urgent")


class Category(BilingualName, TimeStampedModel):
    """A node of the ticket category tree (质量问题 › 破损)."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")

    def lineage(self) -> list["Category"]:
        """This category and its parents, the top one first."""
        nodes, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            nodes.append(node)
            node = node.parent
        return list(reversed(nodes))

    @property
    def path_label(self) -> str:
        return " › ".join(c.label for c in self.lineage())


class WorkCalendar(TimeStampedModel):
    """Working hours of a unit (or, without a unit, of the company) for service-level clocks. Each weekday holds
    periods like "09:00-12:00, 13:00-18:00"; an empty day is a day off."""

    name = models.CharField(_("name"), max_length=100)
    unit = models.OneToOneField(
        OrgUnit,
        verbose_name=_("org unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="work_calendar",
        help_text=_("Leave empty for the company's calendar, used by units without their own."),
    )
    mon = models.CharField(_("Monday"), max_length=100, blank=True, default="09:00-18:00")
    tue = models.CharField(_("Tuesday"), max_length=100, blank=True, default="09:00-18:00")
    wed = models.CharField(_("Wednesday"), max_length=100, blank=True, default="09:00-18:00")
    thu = models.CharField(_("Thursday"), max_length=100, blank=True, default="09:00-18:00")
    fri = models.CharField(_("Friday"), max_length=100, blank=True, default="09:00-18:00")
    sat = models.CharField(_("Saturday"), max_length=100, blank=True)
    sun = models.CharField(_("Sunday"), max_length=100, blank=True)

    def clean(self):
        from kehu.core.exceptions import ValidationFailed
        from kehu.support.hours import WEEKDAYS, parse_periods

        errors = {}
        for day in WEEKDAYS:
            try:
                parse_periods(getattr(self, day))
            except ValidationFailed as exc:
                errors[day] = str(exc.message)
        if errors:
            raise ValidationError(errors)

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    """A public holiday (no work) or a 调休 working day (a weekend day worked) of a calendar."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Working day (调休)")

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_once")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


ESCALATION_TARGETS = ("assignee", "team_lead", "manager")


def default_escalation() -> list[dict]:
    return [
        {"percent": 75, "notify": "assignee"},
        {"percent": 100, "notify": "team_lead", "raise_priority": True},
        {"percent": 150, "notify": "manager"},
    ]


class SlaPolicy(TimeStampedModel):
    """Service-level targets in working minutes for tickets of a type × severity × customer level (an empty
    criterion matches any); the most specific active policy applies. `escalation` lists the steps taken at
    percentages of each target: whom to notify (assignee, team_lead, manager) and whether to raise priority."""

    name = models.CharField(_("name"), max_length=100)
    ticket_type = models.CharField(_("type"), max_length=16, choices=TicketType.choices, blank=True)
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, null=True, blank=True
    )
    customer_level = models.CharField(
        _("customer level"), max_length=8, choices=Customer.Level.choices, blank=True
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (working minutes)"), validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (working minutes)"), validators=[MinValueValidator(1)]
    )
    escalation = models.JSONField(_("escalation steps"), default=default_escalation, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        steps = self.escalation or []
        valid = isinstance(steps, list) and all(
            isinstance(step, dict)
            and isinstance(step.get("percent"), int)
            and 1 <= step["percent"] <= 1000
            and step.get("notify", "assignee") in ESCALATION_TARGETS
            and (step.get("reroute_to") is None or isinstance(step["reroute_to"], int))
            for step in steps
        )
        if not valid:
            raise ValidationError(
                {
                    "escalation": _(
                        'A list of steps like {"percent": 75, "notify": "assignee"}; notify is assignee, '
                        'team_lead or manager; "raise_priority": true raises the priority; "reroute_to": the id '
                        "of a team moves the ticket to that team's queue."
                    )
                }
            )
        teams = {step["reroute_to"] for step in steps if step.get("reroute_to") is not None}
        if teams and OrgUnit.objects.filter(pk__in=teams).count() != len(teams):
            raise ValidationError({"escalation": _("A team to re-route to does not exist.")})

    @property
    def specificity(self) -> int:
        return sum(bool(v) for v in (self.ticket_type, self.severity, self.customer_level))


class ServiceAgent(TimeStampedModel):
    """A user's service-desk profile: their level (seed: junior → senior) and whether they take tickets now."""

    class Level(models.TextChoices):
        JUNIOR = "junior", _("Junior")
        INTERMEDIATE = "intermediate", _("Intermediate")
        SENIOR = "senior", _("Senior")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_agent", primary_key=True
    )
    level = models.CharField(_("level"), max_length=12, choices=Level.choices, default=Level.JUNIOR)
    on_shift = models.BooleanField(
        _("on shift"), default=True, help_text=_("Routing assigns tickets only to agents on shift.")
    )

    class Meta:
        verbose_name = _("service agent")
        verbose_name_plural = _("service agents")

    def __str__(self) -> str:
        return str(self.user)


class RoutingRule(TimeStampedModel):
    """The first active rule (by position) whose criteria all hold routes a new ticket to a team and/or an
    agent. Empty criteria match anything; `severity` matches tickets at least that severe."""

    class Method(models.TextChoices):
        TEAM = "team", _("Team queue (no assignee)")
        FIXED = "fixed", _("A named agent")
        ROUND_ROBIN = "round_robin", _("Round robin among agents on shift")
        LEAST_LOADED = "least_loaded", _("Least-loaded agent on shift")

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    ticket_type = models.CharField(_("type"), max_length=16, choices=TicketType.choices, blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category (and below)"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    severity = models.PositiveSmallIntegerField(
        _("severity at least"), choices=Severity.choices, null=True, blank=True
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    customer_level = models.CharField(
        _("customer level"), max_length=8, choices=Customer.Level.choices, blank=True
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(OrgUnit, verbose_name=_("team"), on_delete=models.CASCADE, related_name="+")
    method = models.CharField(_("assign to"), max_length=14, choices=Method.choices, default=Method.TEAM)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name


class Ticket(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """A complaint, question or after-sale case (工单). Its team and assignee decide who works it; the customer's
    owner sees it too. Service-level clocks run in the team's working hours; `paused_seconds` is the working time
    spent waiting on the customer, which the clocks do not count."""

    class Status(models.TextChoices):
        NEW = "new", pgettext_lazy("ticket status", "New")
        ASSIGNED = "assigned", pgettext_lazy("ticket status", "Assigned")
        IN_PROGRESS = "in_progress", pgettext_lazy("ticket status", "In progress")
        WAITING = "waiting", pgettext_lazy("ticket status", "Waiting on customer")
        RESOLVED = "resolved", pgettext_lazy("ticket status", "Resolved")
        CLOSED = "closed", pgettext_lazy("ticket status", "Closed")

    OPEN_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING)

    number = models.CharField(_("number"), max_length=32, unique=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    requester_name = models.CharField(_("requester"), max_length=100, blank=True)
    requester_email = models.EmailField(_("requester e-mail"), blank=True)
    requester_phone = models.CharField(_("requester phone"), max_length=40, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.PHONE)
    ticket_type = models.CharField(
        _("type"), max_length=16, choices=TicketType.choices, default=TicketType.CONSULTATION
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, default=Severity.CALM
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    order_lines = models.ManyToManyField(
        OrderLine, verbose_name=_("order lines"), blank=True, related_name="+"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(OrgUnit, verbose_name=_("team"), on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    resolution = models.TextField(_("resolution"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="tickets")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Service level: targets from the policy that matched, the clocks' state, what the scheduler did.
    sla_policy = models.ForeignKey(
        SlaPolicy,
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("waiting since"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0, editable=False)
    next_escalation_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalation_level = models.PositiveSmallIntegerField(_("escalations"), default=0, editable=False)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at", "next_escalation_at"])

    SCOPE = ScopeSpec(owner="assignee", unit="team", pool=True, via="customer", also_users=("created_by",))

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["team", "status", "-id"], name="ticket_team_status"),
            models.Index(fields=["assignee", "status", "-id"], name="ticket_assignee_status"),
            models.Index(fields=["customer", "-id"], name="ticket_customer"),
            # With deleted_at, SQLite counts the open tickets from the index alone (bench/tickets.py).
            models.Index(fields=["status", "deleted_at", "-id"], name="ticket_status"),
            models.Index(fields=["created_by", "status", "-id"], name="ticket_creator_status"),
            models.Index(fields=["-priority", "-id"], name="ticket_priority"),
            models.Index(
                fields=["next_escalation_at"],
                name="ticket_escalation_due",
                condition=models.Q(next_escalation_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def severity_guidance(self) -> str:
        return str(SEVERITY_GUIDANCE.get(self.severity, ""))


class TicketEvent(models.Model):
    """One item of a ticket's timeline: a reply to or from the customer, an internal note, or a change
    (status, assignment with reason, escalation). Only `public` items reach the complainant."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Opened")
        REPLY = "reply", _("Reply to customer")
        INBOUND = "inbound", _("Message from customer")
        NOTE = "note", _("Internal note")
        STATUS = "status", _("Status change")
        ASSIGNED = "assigned", _("Assignment")
        ESCALATED = "escalated", _("Escalation")
        CHANGED = "changed", _("Change")
        AFTER_SALE = "after_sale", _("After-sale")
        COMPENSATION = "compensation", _("Compensation")
        FOLLOW_UP = "follow_up", _("Follow-up visit")
        RATING = "rating", _("Satisfaction rating")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("text"), blank=True)
    public = models.BooleanField(_("visible to the customer"), default=False)
    data = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(_("time"), db_index=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticket_event_ticket"),
            # Inbound mail is matched by its Message-ID (threading, and never storing a message twice).
            models.Index(
                fields=["message_id"], name="ticket_event_message", condition=~models.Q(message_id="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"


def ticket_attachment_path(instance, filename: str) -> str:
    return f"tickets/{instance.event.ticket_id}/{instance.event_id}/{filename}"


class TicketAttachment(TimeStampedModel):
    event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=ticket_attachment_path, max_length=255)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Escalation(models.Model):
    """A step of a policy's escalation ladder the scheduler took for a ticket: one row per (ticket, clock,
    step), so a restarted or repeated pass never takes a step twice."""

    class Clock(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        RESOLUTION = "resolution", pgettext_lazy("service-level clock", "Resolution")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    clock = models.CharField(_("clock"), max_length=16, choices=Clock.choices)
    step = models.PositiveSmallIntegerField()
    percent = models.PositiveSmallIntegerField(
        _("percent of the target"), validators=[MaxValueValidator(1000)]
    )
    notified = models.JSONField(default=list)  # user ids
    raised_priority = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "clock", "step"], name="escalation_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_clock_display()} {self.percent}%"


# --- after-sale (退货 / 换货 / 退款 / 补发) ----------------------------------------------------------------------------


class ReturnReason(models.TextChoices):
    QUALITY = "quality", _("Quality problem")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")
    MISSING_ITEM = "missing_item", _("Item missing")
    DAMAGED = "damaged", _("Damaged in transit")
    SIZE = "size", _("Size does not fit")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    CHANGED_MIND = "changed_mind", _("Changed mind")


class AfterSale(VersionedModel, TimeStampedModel):
    """A return, exchange, refund or re-shipment (售后单) for some lines of one order, opened from a ticket. Its
    lines say which quantities come back and how much is refunded; together the requests of a line never
    exceed what was bought and paid. Who sees the ticket sees its after-sale requests."""

    class Kind(models.TextChoices):
        RETURN = "return", _("Return and refund")
        EXCHANGE = "exchange", _("Exchange")
        REFUND = "refund", _("Refund only")
        RESHIP = "reship", _("Re-ship")

    class Status(models.TextChoices):
        REQUESTED = "requested", pgettext_lazy("after-sale status", "Requested")
        APPROVED = "approved", pgettext_lazy("after-sale status", "Approved")
        RECEIVED = "received", pgettext_lazy("after-sale status", "Goods received")
        INSPECTED = "inspected", pgettext_lazy("after-sale status", "Inspected")
        REFUNDED = "refunded", pgettext_lazy("after-sale status", "Refunded")
        RESHIPPED = "reshipped", pgettext_lazy("after-sale status", "Shipped")
        REJECTED = "rejected", pgettext_lazy("after-sale status", "Rejected")
        CANCELLED = "cancelled", pgettext_lazy("after-sale status", "Cancelled")

    # Requests in these states no longer hold quantities or amounts of their lines.
    VOID_STATUSES = (Status.REJECTED, Status.CANCELLED)
    FINAL_STATUSES = (Status.REFUNDED, Status.RESHIPPED, Status.REJECTED, Status.CANCELLED)

    number = models.CharField(_("number"), max_length=32, unique=True)
    ticket = models.ForeignKey(
        "Ticket", verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="after_sales"
    )
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="after_sales",
    )
    kind = models.CharField(_("requested outcome"), max_length=12, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=ReturnReason.choices)
    note = models.TextField(_("buyer's description"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REQUESTED)
    refund_amount = models.DecimalField(_("refund"), default=0, **Money)
    return_carrier = models.CharField(_("return carrier"), max_length=40, blank=True)
    return_tracking = models.CharField(_("return tracking number"), max_length=64, blank=True)
    reship_tracking = models.CharField(_("shipment tracking number"), max_length=64, blank=True)
    inspection_passed = models.BooleanField(_("inspection passed"), null=True, blank=True)
    inspection_note = models.TextField(_("inspection note"), blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    SCOPE = ScopeSpec(via="ticket")

    class Meta:
        verbose_name = _("after-sale request")
        verbose_name_plural = _("after-sale requests")
        indexes = [
            models.Index(fields=["ticket", "-id"], name="after_sale_ticket"),
            models.Index(fields=["customer", "-id"], name="after_sale_customer"),
            models.Index(fields=["status", "-id"], name="after_sale_status"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    @property
    def is_void(self) -> bool:
        return self.status in self.VOID_STATUSES

    @property
    def takes_goods_back(self) -> bool:
        return self.kind in (self.Kind.RETURN, self.Kind.EXCHANGE)

    @property
    def refunds(self) -> bool:
        return self.kind in (self.Kind.RETURN, self.Kind.REFUND)


class AfterSaleLine(models.Model):
    after_sale = models.ForeignKey(AfterSale, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="after_sale_lines"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    refund_amount = models.DecimalField(_("refund"), default=0, **Money)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["after_sale", "order_line"], name="after_sale_line_once"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="after_sale_line_quantity"),
            models.CheckConstraint(condition=models.Q(refund_amount__gte=0), name="after_sale_line_refund"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line} × {self.quantity}"


# --- compensation, follow-up visits, satisfaction ---------------------------------------------------------------


class Compensation(TimeStampedModel):
    """Something given to make a complaint right, with what it cost. Coupons and points are recorded here; an
    apology letter keeps its text, printed as a PDF in the customer's language."""

    class Kind(models.TextChoices):
        COUPON = "coupon", _("Coupon")
        POINTS = "points", _("Points")
        GOODS = "goods", _("Goods re-sent")
        APOLOGY = "apology", _("Apology letter")
        REFUND = "refund", _("Refund")
        OTHER = "other", _("Other")

    ticket = models.ForeignKey("Ticket", on_delete=models.CASCADE, related_name="compensations")
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    cost = models.DecimalField(_("cost"), default=0, **Money)
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    letter = models.TextField(_("letter"), blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("compensation")
        verbose_name_plural = _("compensations")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(cost__gte=0), name="compensation_cost")]

    def __str__(self) -> str:
        return self.get_kind_display()


class FollowUp(TimeStampedModel):
    """A return visit (回访) after a ticket is closed: a task for the customer's owner, then how it went."""

    class Method(models.TextChoices):
        PHONE = "phone", _("Phone call")
        VISIT = "visit", _("Visit")
        WECHAT = "wechat", _("WeChat")
        SMS = "sms", _("SMS")

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        NEUTRAL = "neutral", _("Neutral")
        UNSATISFIED = "unsatisfied", _("Not satisfied")
        UNREACHABLE = "unreachable", _("Could not reach")

    ticket = models.ForeignKey("Ticket", on_delete=models.CASCADE, related_name="follow_ups")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.PROTECT, related_name="+"
    )
    task = models.ForeignKey(
        "activities.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["assignee", "done_at", "due_at"], name="follow_up_assignee")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.due_at:%Y-%m-%d}"


class Rating(models.Model):
    """The complainant's answer to "how satisfied are you?" (1–5) after a resolve: one per ticket, kept with the
    agent, team and category at the time so the figures do not move when the ticket is re-assigned."""

    ticket = models.OneToOneField("Ticket", on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="rating_score_range")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"

    @property
    def fully_satisfied(self) -> bool:
        return self.score == 5


class ReplyTemplate(TimeStampedModel):
    """A prepared reply (话术) with placeholders, and optionally the status the ticket moves to once it is sent:
    a macro such as "ask for photos → waiting on customer"."""

    PLACEHOLDERS = ("customer", "contact", "number", "subject", "agent")
    FOLLOW_STATUSES = (Ticket.Status.WAITING, Ticket.Status.RESOLVED)

    name = models.CharField(_("name"), max_length=100)
    body = models.TextField(
        _("text"),
        help_text=_("Placeholders: {customer}, {contact}, {number}, {subject}, {agent}."),
    )
    then_status = models.CharField(
        _("then set the status to"),
        max_length=12,
        blank=True,
        choices=[(status.value, status.label) for status in FOLLOW_STATUSES],
    )
    team = models.ForeignKey(
        OrgUnit,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty: every team."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        try:
            self.body.format_map(dict.fromkeys(self.PLACEHOLDERS, ""))
        except (KeyError, ValueError, IndexError) as error:
            raise ValidationError(
                {
                    "body": _(
                        "Use only the placeholders {customer}, {contact}, {number}, {subject} and {agent}."
                    )
                }
            ) from error


class QualityRecord(TimeStampedModel):
    """A mistake a lead logged against an agent (服务质量记录), and the agent's acknowledgement."""

    class Category(models.TextChoices):
        WRONG_INFO = "wrong_info", _("Wrong information given")
        ATTITUDE = "attitude", _("Attitude")
        SLOW = "slow", _("Slow response")
        PROCESS = "process", _("Process not followed")
        OTHER = "other", _("Other")

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.PROTECT, related_name="+"
    )
    ticket = models.ForeignKey(
        "Ticket", verbose_name=_("ticket"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    note = models.TextField(_("what happened"))
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("logged by"), on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    agent_comment = models.TextField(_("agent's comment"), blank=True)

    class Meta:
        verbose_name = _("quality record")
        verbose_name_plural = _("quality records")
        ordering = ["-id"]
        indexes = [models.Index(fields=["agent", "-id"], name="quality_record_agent")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.get_category_display()}"


# --- knowledge base (问题 / 解决方案) --------------------------------------------------------------------------------


class Article(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """A problem and its solution (知识库文章). A Chinese article and its English version are linked through
    `translation_of` (the version points to the original). Internal articles are for staff; public ones may be
    shown to customers once published. `search_text` holds the tokens of `kehu.core.search` (Chinese words,
    pinyin and initials), which the services fill; `solved_count` counts the tickets it solved."""

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", _("Chinese")
        EN = "en", _("English")

    class Visibility(models.TextChoices):
        INTERNAL = "internal", pgettext_lazy("article visibility", "Internal")
        PUBLIC = "public", pgettext_lazy("article visibility", "Public")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("article status", "Draft")
        PUBLISHED = "published", pgettext_lazy("article status", "Published")

    title = models.CharField(_("title"), max_length=200)
    problem = models.TextField(_("problem"), blank=True)
    solution = models.TextField(_("solution"), blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    translation_of = models.ForeignKey(
        "self",
        verbose_name=_("translation of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="translations",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    solved_count = models.PositiveIntegerField(_("solved tickets"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    search_text = SearchTextField(editable=False, default="")

    history = HistoricalRecords(excluded_fields=["search_text", "solved_count", "updated_at"])

    class Meta:
        verbose_name = _("knowledge base article")
        verbose_name_plural = _("knowledge base articles")
        indexes = [
            models.Index(fields=["status", "visibility", "-id"], name="article_status"),
            models.Index(fields=["-solved_count", "-id"], name="article_solved"),
        ]
        constraints = [
            # One live version per language of an original.
            models.UniqueConstraint(
                fields=["translation_of", "language"],
                condition=models.Q(deleted_at__isnull=True, translation_of__isnull=False),
                name="article_one_translation_per_language",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class ArticleVersion(models.Model):
    """The text of an article as one save left it: one row per saved change, numbered from 1."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    problem = models.TextField(_("problem"), blank=True)
    solution = models.TextField(_("solution"), blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("edited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="article_version_once")]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


def article_attachment_path(instance, filename: str) -> str:
    return f"kb/{instance.article_id}/{filename}"


class ArticleAttachment(TimeStampedModel):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=article_attachment_path, max_length=255)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class TicketArticle(models.Model):
    """An article an agent linked to a ticket; `solved` once they said it solved the ticket (counted once)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="article_links")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("linked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    linked_at = models.DateTimeField(_("linked at"), default=timezone.now)
    solved = models.BooleanField(_("solved the ticket"), default=False)

    class Meta:
        ordering = ["linked_at", "id"]
        verbose_name = _("article linked to a ticket")
        verbose_name_plural = _("articles linked to tickets")
        constraints = [models.UniqueConstraint(fields=["ticket", "article"], name="ticket_article_once")]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.article_id}"
