"""Pipelines and their stages, opportunities (商机) with contacts and stage history, and exchange rates."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kehu.core.models import SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.customers.models import Contact, Customer
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec

# ISO 4217 codes offered in forms; amounts keep the currency they were entered in.
CURRENCIES = [
    ("CNY", _("Chinese yuan (CNY)")),
    ("USD", _("US dollar (USD)")),
    ("EUR", _("Euro (EUR)")),
    ("HKD", _("Hong Kong dollar (HKD)")),
    ("JPY", _("Japanese yen (JPY)")),
    ("GBP", _("Pound sterling (GBP)")),
    ("TWD", _("New Taiwan dollar (TWD)")),
    ("KRW", _("South Korean won (KRW)")),
    ("SGD", _("Singapore dollar (SGD)")),
]


class BilingualName(models.Model):
    """Configuration records carry their name in Chinese and in English; `label` picks the reader's."""

    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.name_en and not (translation.get_language() or "zh").startswith("zh"):
            return self.name_en
        return self.name


class ExchangeRate(TimeStampedModel):
    """How many units of the company currency one unit of `currency` is worth from `valid_from` on."""

    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES)
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(
        _("rate"), max_digits=18, decimal_places=8, validators=[MinValueValidator(0.00000001)]
    )

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="exchange_rate_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.valid_from}: {self.rate}"


class Pipeline(BilingualName, TimeStampedModel):
    """A sales process (new business, renewal, wholesale …) with its own ordered stages."""

    units = models.ManyToManyField(
        OrgUnit,
        verbose_name=_("limited to units"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty for every unit; otherwise the pipeline serves these units and those below."),
    )
    followup_days = models.PositiveSmallIntegerField(
        _("follow-up every (days)"),
        default=30,
        validators=[MinValueValidator(1)],
        help_text=_("An open opportunity whose customer has no follow-up for this long is flagged."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]


# Opportunity fields a stage may require before an opportunity enters it.
REQUIRABLE_FIELDS = ["amount", "expected_close_on", "next_step", "contacts", "competitors", "description"]


class Stage(BilingualName, TimeStampedModel):
    class Outcome(models.TextChoices):
        OPEN = "open", pgettext_lazy("opportunity status", "Open")
        WON = "won", pgettext_lazy("opportunity status", "Won")
        LOST = "lost", pgettext_lazy("opportunity status", "Lost")

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=10, validators=[MaxValueValidator(100)]
    )
    outcome = models.CharField(_("outcome"), max_length=4, choices=Outcome.choices, default=Outcome.OPEN)
    required_fields = models.JSONField(
        _("required to enter"),
        default=list,
        blank=True,
        help_text=_("Opportunity fields that must be filled before an opportunity enters this stage."),
    )

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "position", "id"]

    @property
    def is_closed(self) -> bool:
        return self.outcome != self.Outcome.OPEN


class Opportunity(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """A deal being worked (商机): on one pipeline, at one stage, owned by one rep."""

    Status = Stage.Outcome

    class ForecastCategory(models.TextChoices):
        PIPELINE = "pipeline", _("Pipeline")
        BEST_CASE = "best_case", _("Best case")
        COMMIT = "commit", _("Commit")
        OMITTED = "omitted", _("Omitted")

    class Source(models.TextChoices):
        NONE = "", _("—")
        EXISTING = "existing", _("Existing customer")
        REFERRAL = "referral", _("Referral")
        WEBSITE = "website", _("Website")
        EXHIBITION = "exhibition", _("Exhibition")
        CAMPAIGN = "campaign", _("Campaign")
        COLD_CALL = "cold_call", _("Cold call")
        PARTNER = "partner", _("Partner")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="opportunities"
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=4, choices=Stage.Outcome.choices, default=Stage.Outcome.OPEN, editable=False
    )
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="CNY")
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    expected_close_on = models.DateField(_("expected close"), null=True, blank=True)
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
        help_text=_("Commit: the rep is sure it closes this period. Best case: it could, if things go well."),
    )
    source = models.CharField(
        pgettext_lazy("opportunity", "source"), max_length=16, choices=Source.choices, blank=True
    )
    next_step = models.CharField(_("next step"), max_length=255, blank=True)
    competitors = models.CharField(_("competitors"), max_length=255, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=255, blank=True)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts"), through="OpportunityContact", blank=True, related_name="+"
    )
    stage_entered_at = models.DateTimeField(_("in this stage since"), editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    stale_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at", "stale_notified_at"])

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            # The board: one pipeline's stages, cards by expected close date; totals per stage.
            models.Index(fields=["pipeline", "stage", "expected_close_on", "id"], name="opp_board"),
            models.Index(fields=["owner", "status", "expected_close_on"], name="opp_owner"),
            models.Index(fields=["org_unit", "status", "expected_close_on"], name="opp_unit"),
            models.Index(fields=["-updated_at", "-id"], name="opp_updated"),
            models.Index(fields=["customer", "status"], name="opp_customer"),
            models.Index(fields=["status", "expected_close_on"], name="opp_status_close"),
            # Won and lost by close month (forecast, commissions, reviews).
            models.Index(fields=["status", "closed_at"], name="opp_status_closed"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="opportunity_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == Stage.Outcome.OPEN

    @classmethod
    def field_label(cls, name: str) -> str:
        return str(cls._meta.get_field(name).verbose_name)


class OpportunityContact(models.Model):
    class Role(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        INFLUENCER = "influencer", _("Influencer")
        EVALUATOR = "evaluator", _("Technical evaluator")
        USER = "user", _("User")
        PURCHASING = "purchasing", _("Purchasing")
        OTHER = "other", _("Other")

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="contact_roles")
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.OTHER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "contact"], name="opportunity_contact_once"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_role_display()})"


class StageChange(models.Model):
    """One move of an opportunity between stages; `seconds_in_from` is how long it stayed in the stage it left."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    seconds_in_from = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["opportunity", "changed_at"], name="stage_change_opportunity")]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"
