"""Marketing: segments of customers defined by rules and counted in SQL, with snapshots taken of their members."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kehu.core.models import SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.customers.models import Customer
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec


class Segment(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """A saved rule tree over customers (`kehu.marketing.segments` validates and compiles it). Its members are
    the customers matching the rules that the reader may see: a rep's segment of "VIP buyers in Zhejiang" holds
    the rep's own, a manager's the whole region's."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    rules = models.JSONField(_("rules"), default=dict)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class SegmentSnapshot(models.Model):
    """The members of a segment at a moment, as the one who took it saw them (a static list for a campaign
    that must not change while it runs)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(_("taken at"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rules = models.JSONField(default=dict)  # the rules as they were
    size = models.PositiveIntegerField(_("customers"))

    SCOPE = ScopeSpec(via="segment")

    class Meta:
        ordering = ["-taken_at", "-id"]
        verbose_name = _("segment snapshot")
        verbose_name_plural = _("segment snapshots")

    def __str__(self) -> str:
        return f"{self.segment} @ {self.taken_at:%Y-%m-%d %H:%M}"


class SnapshotMember(models.Model):
    snapshot = models.ForeignKey(SegmentSnapshot, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "customer"], name="snapshot_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}:{self.customer_id}"


# --- messages to customers ----------------------------------------------------------------------------------------


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class Consent(TimeStampedModel):
    """Whether a customer agreed to marketing on a channel, where that was said and when. One row per customer
    and channel; its history keeps every change. No row means no consent: marketing goes only to those who said
    yes."""

    class Status(models.TextChoices):
        GRANTED = "granted", _("Agreed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    source = models.CharField(_("source"), max_length=120)
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    SCOPE = ScopeSpec(via="customer")
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"], name="consent_once_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.channel}:{self.status}"


class Suppression(models.Model):
    """An address that gets no marketing, whoever it belongs to: it unsubscribed, bounced, complained, or was
    entered by hand."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        MANUAL = "manual", _("Added by hand")

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=254)  # normalised e-mail or mobile number
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="suppression_once")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.address}"


class MessageTemplate(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """What a campaign or care automation sends: an e-mail's subject and body in Chinese and English with
    mail-merge variables, or, for SMS, the provider-approved template it uses."""

    name = models.CharField(_("name"), max_length=120)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=200, blank=True)
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_zh = models.TextField(_("text (Chinese)"), blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    sms_template = models.ForeignKey(
        "core.SmsTemplate",
        verbose_name=_("approved SMS template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self) -> str:
        return self.name


class Material(SoftDeleteModel, TimeStampedModel):
    """An image, document or piece of text the team shares for its mailings."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        DOCUMENT = "document", _("Document")
        TEXT = "text", _("Text")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="marketing/%Y/%m/", blank=True)
    text = models.TextField(_("text"), blank=True)
    tags = models.CharField(_("tags"), max_length=200, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("material")
        verbose_name_plural = _("material library")

    def __str__(self) -> str:
        return self.name


class Campaign(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """A mailing to the customers of one or more segments, now, at a time or again and again, in up to two
    variants; its results are read from its messages."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("campaign status", "Draft")
        SCHEDULED = "scheduled", pgettext_lazy("campaign status", "Scheduled")
        SENDING = "sending", pgettext_lazy("campaign status", "Sending")
        SENT = "sent", pgettext_lazy("campaign status", "Sent")
        PAUSED = "paused", pgettext_lazy("campaign status", "Paused")
        CANCELLED = "cancelled", pgettext_lazy("campaign status", "Cancelled")

    class Schedule(models.TextChoices):
        NOW = "now", _("Now")
        AT = "at", _("At a time")
        RECURRING = "recurring", _("Recurring")

    class Every(models.TextChoices):
        DAY = "day", _("Every day")
        WEEK = "week", _("Every week")
        MONTH = "month", _("Every month")

    name = models.CharField(_("name"), max_length=120)
    goal = models.CharField(_("goal"), max_length=255, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    segments = models.ManyToManyField(Segment, verbose_name=_("segments"), related_name="campaigns")
    template = models.ForeignKey(
        MessageTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="campaigns"
    )
    template_b = models.ForeignKey(
        MessageTemplate,
        verbose_name=_("variant B template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    share_b = models.PositiveSmallIntegerField(_("variant B share (%)"), default=0)
    schedule = models.CharField(_("schedule"), max_length=10, choices=Schedule.choices, default=Schedule.NOW)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    every = models.CharField(_("repeat"), max_length=8, choices=Every.choices, blank=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True, db_index=True)
    budget = models.DecimalField(_("budget"), max_digits=12, decimal_places=2, null=True, blank=True)
    coupon = models.ForeignKey(
        "loyalty.CouponDefinition",
        verbose_name=_("coupon for each recipient"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    survey = models.ForeignKey(
        "surveys.Survey",
        verbose_name=_("survey to invite to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    attribution_days = models.PositiveSmallIntegerField(_("orders count within (days)"), default=7)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")
    history = HistoricalRecords(excluded_fields=["updated_at", "next_run_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.name


class Automation(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """Care (客户关怀) that sends by itself: on a birthday, before a festival, some days after an order arrived,
    when an order ships, a tier goes up, points are about to expire, a customer is warned of churning, or a
    category the customer bought gets something new. Each customer gets each occasion once."""

    class Trigger(models.TextChoices):
        BIRTHDAY = "birthday", _("Birthday")
        FESTIVAL = "festival", _("Festival")
        ORDER_DELIVERED = "order_delivered", _("Days after an order arrived")
        SHIPMENT = "shipment", _("Order shipped")
        TIER_UPGRADE = "tier_upgrade", _("Membership tier went up")
        POINTS_EXPIRING = "points_expiring", _("Points about to expire")
        WIN_BACK = "win_back", _("Churn warning (win-back)")
        NEW_ARRIVALS = "new_arrivals", _("New arrivals in a category bought before")

    name = models.CharField(_("name"), max_length=120)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    festival = models.CharField(_("festival"), max_length=30, blank=True)
    category = models.CharField(_("product category"), max_length=100, blank=True)
    days = models.SmallIntegerField(_("days"), default=0)  # before a festival/expiry, after an order arrived
    segment = models.ForeignKey(
        Segment, verbose_name=_("only customers in"), null=True, blank=True, on_delete=models.PROTECT
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    template = models.ForeignKey(
        MessageTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="automations"
    )
    active = models.BooleanField(_("active"), default=False)
    cursor = models.JSONField(default=dict, blank=True)  # how far the trigger's events have been read
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")
    history = HistoricalRecords(excluded_fields=["updated_at", "cursor", "last_run_at"])

    TRANSACTIONAL = (Trigger.SHIPMENT,)  # a service message: no consent, cap or complaint rule

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("care automation")
        verbose_name_plural = _("care automations")

    def __str__(self) -> str:
        return self.name

    @property
    def transactional(self) -> bool:
        return self.trigger in self.TRANSACTIONAL


class CampaignRun(models.Model):
    """One sending of a campaign (a recurring one runs many times)."""

    class Status(models.TextChoices):
        PREPARING = "preparing", _("Preparing")
        SENDING = "sending", pgettext_lazy("campaign status", "Sending")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", pgettext_lazy("campaign status", "Cancelled")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PREPARING)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    audience = models.PositiveIntegerField(_("audience"), default=0)

    SCOPE = ScopeSpec(via="campaign")

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("campaign run")
        verbose_name_plural = _("campaign runs")

    def __str__(self) -> str:
        return f"{self.campaign_id}@{self.started_at:%Y-%m-%d %H:%M}"


class Message(models.Model):
    """One message to one customer from a campaign run or an automation: sent, or suppressed with the reason,
    and what the customer did with it (opened, clicked, unsubscribed)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Handing over")
        SENT = "sent", _("Sent")
        BOUNCED = "bounced", _("Bounced")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Not sent")

    class Reason(models.TextChoices):
        NO_CONSENT = "no_consent", _("No consent for this channel")
        SUPPRESSED = "suppressed", _("On the suppression list")
        NO_ADDRESS = "no_address", _("No address for this channel")
        BAD_ADDRESS = "bad_address", _("Address not valid")
        FREQUENCY_CAP = "frequency_cap", _("Frequency cap reached")
        OPEN_COMPLAINT = "open_complaint", _("Has an open complaint")
        DUPLICATE = "duplicate", _("Same address already in this mailing")
        DAILY_CAP = "daily_cap", _("Daily SMS cap of the number reached")
        BUDGET = "budget", _("Budget used up")
        VARIANT = "variant", _("Customer left the campaign's segments")

    run = models.ForeignKey(
        CampaignRun, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    automation = models.ForeignKey(
        Automation, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    occasion = models.CharField(_("occasion"), max_length=80, blank=True)
    variant = models.CharField(_("variant"), max_length=1, default="A")
    template = models.ForeignKey(MessageTemplate, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=254, blank=True)
    transactional = models.BooleanField(default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices, blank=True)
    token = models.CharField(max_length=24, unique=True)
    context = models.JSONField(default=dict, blank=True)  # merge values fixed when queued (coupon code …)
    created_at = models.DateTimeField(_("queued"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    clicks = models.PositiveIntegerField(_("clicks"), default=0)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    segments = models.PositiveSmallIntegerField(_("SMS segments"), default=0)
    error = models.CharField(_("error"), max_length=255, blank=True)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["customer", "sent_at"], name="message_customer_sent"),
            models.Index(fields=["campaign", "status"], name="message_campaign_status"),
            models.Index(fields=["run", "status", "id"], name="message_run_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["automation", "customer", "occasion"],
                condition=models.Q(automation__isnull=False),
                name="message_occasion_once",
            ),
            models.UniqueConstraint(
                fields=["run", "customer"], condition=models.Q(run__isnull=False), name="message_run_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.customer_id}:{self.status}"
