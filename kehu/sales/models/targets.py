"""Quotas per rep and unit, commission rules with attainment tiers and the monthly statements they produce,
and sales expenses (销售费用) with manager approval."""

from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kehu.core.models import SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.customers.models import Customer
from kehu.sales.models.opportunities import CURRENCIES, BilingualName, Opportunity
from kehu.sales.models.products import Money, Percent
from kehu.users.models import OrgUnit, Role
from kehu.users.scoping import ScopeSpec


class Quota(TimeStampedModel):
    """A target for one rep (`user` set) or one whole unit (`user` empty) over a month or a quarter, in the
    company currency. `org_unit` is the rep's unit, so the rep's managers see it."""

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")

    class Measure(models.TextChoices):
        WON = "won", _("Amount won")
        RECEIVED = "received", _("Payments received")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+"
    )
    period = models.CharField(_("period"), max_length=8, choices=Period.choices, default=Period.MONTH)
    starts_on = models.DateField(_("from"), help_text=_("The first day of the month or quarter."))
    measure = models.CharField(_("measure"), max_length=8, choices=Measure.choices, default=Measure.WON)
    amount = models.DecimalField(_("target"), **Money)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    SCOPE = ScopeSpec(owner="user", unit="org_unit")

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["-starts_on", "org_unit", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "period", "starts_on", "measure"],
                condition=models.Q(user__isnull=False),
                name="quota_once_per_rep",
            ),
            models.UniqueConstraint(
                fields=["org_unit", "period", "starts_on", "measure"],
                condition=models.Q(user__isnull=True),
                name="quota_once_per_unit",
            ),
        ]
        indexes = [models.Index(fields=["starts_on", "measure"], name="quota_period")]

    def __str__(self) -> str:
        return f"{self.user_id or self.org_unit_id} {self.starts_on} {self.measure}"


class CommissionRule(BilingualName, TimeStampedModel):
    """A percentage of the payments a rep received in a month, by tiers of quota attainment. The rule for a rep
    is their own if one names them, else the one for their role; the newest valid on the month applies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_marginal = models.BooleanField(
        _("marginal tiers"),
        default=False,
        help_text=_(
            "Marginal: each slice of the payments is paid at its own tier's rate. Otherwise the whole month "
            "is paid at the rate of the highest tier reached."
        ),
    )

    class Meta:
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        ordering = ["-valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(role=""),
                name="commission_rule_for_someone",
            ),
        ]


class CommissionTier(models.Model):
    rule = models.ForeignKey(CommissionRule, on_delete=models.CASCADE, related_name="tiers")
    from_attainment = models.DecimalField(_("from attainment (%)"), max_digits=7, decimal_places=2, default=0)
    rate = models.DecimalField(_("rate (%)"), **Percent)

    class Meta:
        ordering = ["rule", "from_attainment"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "from_attainment"], name="commission_tier_once"),
        ]

    def __str__(self) -> str:
        return f"≥{self.from_attainment}%: {self.rate}%"


class CommissionStatement(TimeStampedModel):
    """A rep's commission for one month, computed from the receipts recorded for their contracts. Recomputing
    gives the same figures from the same receipts; a confirmed statement is kept as it was."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("statement status", "Draft")
        CONFIRMED = "confirmed", pgettext_lazy("statement status", "Confirmed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"))
    rule = models.ForeignKey(
        CommissionRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    base = models.DecimalField(_("payments received"), **Money)
    quota = models.DecimalField(_("quota"), null=True, blank=True, **Money)
    attainment = models.DecimalField(
        _("attainment (%)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    commission = models.DecimalField(_("commission"), **Money)
    lines = models.JSONField(_("lines"), default=list)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    computed_at = models.DateTimeField(_("computed at"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    SCOPE = ScopeSpec(owner="user", unit="org_unit")

    class Meta:
        verbose_name = _("commission statement")
        verbose_name_plural = _("commission statements")
        ordering = ["-month", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "month"], name="commission_statement_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.month:%Y-%m}"


def expense_receipt_path(instance, filename: str) -> str:
    return f"expenses/{instance.owner_id}/{filename}"


class Expense(SoftDeleteModel, VersionedModel, TimeStampedModel):
    class Category(models.TextChoices):
        TRAVEL = "travel", _("Travel")
        TRANSPORT = "transport", _("Local transport")
        MEALS = "meals", _("Meals and entertainment")
        GIFTS = "gifts", _("Gifts")
        SAMPLES = "samples", _("Samples")
        EVENTS = "events", _("Events and exhibitions")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("expense status", "Submitted")
        APPROVED = "approved", pgettext_lazy("expense status", "Approved")
        REJECTED = "rejected", pgettext_lazy("expense status", "Rejected")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("spent by"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expenses",
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expenses",
    )
    spent_on = models.DateField(_("date"))
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    amount = models.DecimalField(_("amount"), **Money)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="CNY")
    description = models.CharField(_("description"), max_length=255)
    receipt = models.FileField(
        _("receipt"),
        upload_to=expense_receipt_path,
        blank=True,
        validators=[FileExtensionValidator(["pdf", "png", "jpg", "jpeg", "webp", "ofd"])],
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    decision_comment = models.CharField(_("comment"), max_length=255, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")

    class Meta:
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        ordering = ["-spent_on", "-id"]
        indexes = [
            models.Index(fields=["owner", "-spent_on"], name="expense_owner"),
            models.Index(fields=["org_unit", "status", "-spent_on"], name="expense_unit"),
            models.Index(fields=["opportunity"], name="expense_opportunity"),
        ]

    def __str__(self) -> str:
        return f"{self.spent_on} {self.amount}"
