"""Leads (线索) and how they find an owner: territories, assignment rules, web capture forms."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kehu.core.models import Region, SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.core.search import SearchTextField
from kehu.customers.models import Contact, Customer
from kehu.sales.models.opportunities import Opportunity
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec


class Territory(TimeStampedModel):
    """Provinces, cities and industries that a set of reps covers. A lead (or customer) falls in a territory
    when its city is listed, or its province is listed and no city of that province is; listed industries, when
    any, must match too."""

    name = models.CharField(_("name"), max_length=100)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="territories"
    )
    provinces = models.ManyToManyField(
        Region, verbose_name=_("provinces"), blank=True, related_name="+", limit_choices_to={"level": 1}
    )
    cities = models.ManyToManyField(
        Region, verbose_name=_("cities"), blank=True, related_name="+", limit_choices_to={"level": 2}
    )
    industries = models.JSONField(
        _("industries"), default=list, blank=True, help_text=_("A list of industry names; empty means any.")
    )
    reps = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("reps"), blank=True, related_name="territories"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")

    def __str__(self) -> str:
        return self.name


class LeadAssignmentRule(TimeStampedModel):
    """How the new leads of a unit's subtree get an owner. The rules of the lead's unit are tried first, then
    those of the units above it, each unit's in `position` order; the first rule that matches decides."""

    class Method(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round-robin among the reps of a team")
        TERRITORY = "territory", _("The reps of the matching territory, in turn")
        POOL = "pool", _("The lead pool")

    name = models.CharField(_("name"), max_length=100)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("applies to leads of"), on_delete=models.CASCADE, related_name="lead_rules"
    )
    method = models.CharField(_("assign to"), max_length=16, choices=Method.choices)
    team = models.ForeignKey(
        OrgUnit,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "Round-robin: the team whose reps take turns. Pool: whose pool (default: the lead's unit)."
        ),
    )
    sources = models.JSONField(
        _("only leads from these sources"), default=list, blank=True, help_text=_("Empty means any source.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["unit", "position", "id"]
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")

    def __str__(self) -> str:
        return self.name


def _form_token() -> str:
    return secrets.token_urlsafe(12)


class LeadCaptureForm(TimeStampedModel):
    """A public web-to-lead form of one unit, embeddable in any web site; its leads follow the unit's rules."""

    name = models.CharField(_("name"), max_length=100)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="lead_forms"
    )
    token = models.CharField(
        _("address key"), max_length=32, unique=True, default=_form_token, editable=False
    )
    title = models.CharField(_("title shown"), max_length=200, blank=True)
    intro = models.TextField(_("introduction"), blank=True)
    source = models.CharField(
        _("source"), max_length=16, choices=Customer.Source.choices, default=Customer.Source.WEBSITE
    )
    campaign = models.CharField(_("campaign"), max_length=100, blank=True)
    ask_consent = models.BooleanField(_("ask for consent"), default=False)
    consent_text = models.CharField(
        _("consent text"), max_length=500, blank=True, help_text=_("Shown next to the consent checkbox.")
    )
    thank_you = models.CharField(_("thank-you message"), max_length=500, blank=True)
    submissions_per_hour = models.PositiveSmallIntegerField(
        _("submissions per hour from one address"), default=5
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lead capture form")
        verbose_name_plural = _("lead capture forms")

    def __str__(self) -> str:
        return self.name


class LeadCaptureSubmission(models.Model):
    """Every post to a capture form, kept briefly: it is how the rate limit counts, and how spam is seen."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        INVALID = "invalid", _("Invalid")
        SPAM = "spam", _("Caught by the bot trap")
        THROTTLED = "throttled", _("Too many from one address")

    form = models.ForeignKey(LeadCaptureForm, on_delete=models.CASCADE, related_name="submissions")
    address = models.CharField(max_length=64)  # a keyed hash of the client IP, never the IP itself
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["form", "address", "at"], name="lead_capture_rate")]

    def __str__(self) -> str:
        return f"{self.form_id} {self.outcome} {self.at:%Y-%m-%d %H:%M}"


class Lead(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """A person or company that may become a customer (线索). Unowned leads sit in their unit's lead pool."""

    class Status(models.TextChoices):
        NEW = "new", pgettext_lazy("lead status", "New")
        CONTACTED = "contacted", pgettext_lazy("lead status", "Contacted")
        QUALIFIED = "qualified", pgettext_lazy("lead status", "Qualified")
        DISQUALIFIED = "disqualified", pgettext_lazy("lead status", "Disqualified")
        CONVERTED = "converted", pgettext_lazy("lead status", "Converted")

    OPEN = (Status.NEW, Status.CONTACTED, Status.QUALIFIED)

    name = models.CharField(pgettext_lazy("person", "name"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(pgettext_lazy("job title", "title"), max_length=100, blank=True)
    phone = models.CharField(_("mobile"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Customer.Source.choices, blank=True)
    campaign = models.CharField(_("campaign"), max_length=100, blank=True)
    province = models.ForeignKey(
        Region, verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    city = models.ForeignKey(
        Region, verbose_name=_("city"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    disqualified_reason = models.CharField(_("reason for disqualifying"), max_length=255, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), default=0, validators=[MaxValueValidator(100)])
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )
    last_touched_at = models.DateTimeField(_("last touched"), null=True, blank=True, editable=False)
    assigned_at = models.DateTimeField(_("owned since"), null=True, blank=True, editable=False)
    pooled_at = models.DateTimeField(_("moved to pool at"), null=True, blank=True, editable=False)
    pool_reason = models.CharField(_("pool reason"), max_length=255, blank=True, editable=False)
    consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True, editable=False)
    consent_text = models.CharField(_("consent text"), max_length=500, blank=True, editable=False)
    capture_form = models.ForeignKey(
        LeadCaptureForm,
        verbose_name=_("capture form"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        editable=False,
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True, editable=False)
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("became customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        editable=False,
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("became contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("became opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Derived by the services: collision keys and search tokens.
    company_key = models.CharField(max_length=200, db_index=True, editable=False, default="")
    phone_key = models.CharField(max_length=32, db_index=True, editable=False, default="")
    email_key = models.CharField(max_length=254, db_index=True, editable=False, default="")
    search_text = SearchTextField(editable=False, default="")

    history = HistoricalRecords(
        excluded_fields=[
            "search_text",
            "company_key",
            "phone_key",
            "email_key",
            "updated_at",
            "last_touched_at",
        ]
    )

    SCOPE = ScopeSpec(owner="owner", unit="org_unit", pool=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["owner", "-updated_at", "-id"], name="lead_owner_updated"),
            models.Index(fields=["org_unit", "-updated_at", "-id"], name="lead_unit_updated"),
            models.Index(fields=["-updated_at", "-id"], name="lead_updated"),
            models.Index(fields=["status", "-updated_at", "-id"], name="lead_status_updated"),
            models.Index(fields=["org_unit", "owner", "pooled_at"], name="lead_pool"),
            models.Index(fields=["status", "last_touched_at"], name="lead_touched"),
            models.Index(fields=["created_at", "source"], name="lead_created_source"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(name="", company=""), name="lead_has_a_name_or_company"
            ),
        ]

    def __str__(self) -> str:
        if self.name and self.company:
            return f"{self.name} · {self.company}"
        return self.name or self.company

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def in_pool(self) -> bool:
        return self.owner_id is None


class LeadActivity(models.Model):
    """One line of a lead's timeline: a logged call, visit or note, or something that happened to it."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit")
        EMAIL = "email", pgettext_lazy("follow-up type", "E-mail")
        MESSAGE = "message", _("Message")
        SYSTEM = "system", _("System event")

    LOGGABLE = (Kind.NOTE, Kind.CALL, Kind.VISIT, Kind.EMAIL, Kind.MESSAGE)

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    content = models.TextField(_("content"), blank=True)
    event = models.CharField(_("event"), max_length=32, blank=True)
    event_data = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("time"))

    SCOPE = ScopeSpec(via="lead")

    class Meta:
        verbose_name = _("lead activity")
        verbose_name_plural = _("lead activities")
        indexes = [models.Index(fields=["lead", "-occurred_at", "-id"], name="lead_activity_lead")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.occurred_at:%Y-%m-%d}"
