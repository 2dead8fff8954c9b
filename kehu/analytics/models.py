"""Customer scores computed from purchases, stored with the time they were computed (recomputed by a job, never
aggregated inside a request), and the settings that say how they are computed."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import TimeStampedModel
from kehu.customers.models import Customer
from kehu.users.scoping import ScopeSpec


class RfmClass(models.TextChoices):
    """The eight classes of Chinese retail practice: recency, frequency and money each high or low."""

    IMPORTANT_VALUE = "important_value", _("Important value (R↑ F↑ M↑)")
    IMPORTANT_DEVELOP = "important_develop", _("Important to develop (R↑ F↓ M↑)")
    IMPORTANT_KEEP = "important_keep", _("Important to keep (R↓ F↑ M↑)")
    IMPORTANT_WIN_BACK = "important_win_back", _("Important to win back (R↓ F↓ M↑)")
    GENERAL_VALUE = "general_value", _("General value (R↑ F↑ M↓)")
    GENERAL_DEVELOP = "general_develop", _("General to develop (R↑ F↓ M↓)")
    GENERAL_KEEP = "general_keep", _("General to keep (R↓ F↑ M↓)")
    GENERAL_WIN_BACK = "general_win_back", _("General to win back (R↓ F↓ M↓)")


class RfmGroup(models.TextChoices):
    """The familiar named groups, from the 1-5 scores (rules in `kehu.analytics.scores.GROUP_RULES`)."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalists")
    NEW = "new", pgettext_lazy("customer group", "New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANNOT_LOSE = "cannot_lose", _("Cannot lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", pgettext_lazy("customer group", "Lost")


class Lifecycle(models.TextChoices):
    """Where a customer is in the relationship (seed 002): 考察期 → 形成期 → 稳定期 → 退化期."""

    EXPLORATION = "exploration", _("Exploration (考察期)")
    FORMATION = "formation", _("Formation (形成期)")
    STABLE = "stable", _("Stable (稳定期)")
    DECLINE = "decline", _("Decline (退化期)")


class ScoreSettings(TimeStampedModel):
    """How scores are computed (one row). Quintiles score each customer against the others; thresholds are the
    seller's own lines (R < 60 days, F ≥ 5, M ≥ 500 CNY …). The eight classes compare against the averages or
    against the thresholds."""

    class Method(models.TextChoices):
        QUINTILES = "quintiles", _("Quintiles (each score a fifth of the customers)")
        THRESHOLDS = "thresholds", _("My thresholds")

    method = models.CharField(
        _("1-5 scores by"), max_length=12, choices=Method.choices, default=Method.QUINTILES
    )
    # Four ascending bounds per measure for scores 2, 3, 4 and 5 (recency: days, the fewer the better).
    recency_days = models.JSONField(_("recency bounds (days)"), default=list)
    frequency_bounds = models.JSONField(_("frequency bounds (orders)"), default=list)
    monetary_bounds = models.JSONField(_("monetary bounds (CNY)"), default=list)
    classes_by_thresholds = models.BooleanField(
        _("eight classes by my thresholds, not the averages"), default=False
    )
    recent_days = models.PositiveIntegerField(_("recent: bought within (days)"), default=60)
    frequent_orders = models.PositiveIntegerField(_("frequent: at least (orders)"), default=5)
    big_spend = models.DecimalField(
        _("high spend: at least (CNY)"), max_digits=14, decimal_places=2, default=500
    )
    lapse_days = models.PositiveIntegerField(_("in decline after (days without a purchase)"), default=180)
    stable_orders = models.PositiveIntegerField(_("stable from (purchases)"), default=5)
    abc_a = models.PositiveSmallIntegerField(_("A: share of sales (%)"), default=75)
    abc_b = models.PositiveSmallIntegerField(_("B: share of sales (%)"), default=20)

    class Meta:
        verbose_name = _("score settings")
        verbose_name_plural = _("score settings")


class CustomerScore(models.Model):
    """A customer's RFM and ABC as of `computed_at`, from their completed orders net of refunds."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="customer_score"
    )
    computed_at = models.DateTimeField(_("computed at"))
    recency_days = models.IntegerField(_("days since the last purchase"))
    frequency = models.IntegerField(_("purchases"))
    monetary = models.DecimalField(_("spent"), max_digits=16, decimal_places=2)
    r = models.PositiveSmallIntegerField("R")
    f = models.PositiveSmallIntegerField("F")
    m = models.PositiveSmallIntegerField("M")
    rfm_class = models.CharField(_("RFM class"), max_length=20, choices=RfmClass.choices)
    rfm_group = models.CharField(_("RFM group"), max_length=20, choices=RfmGroup.choices)
    abc = models.CharField("ABC", max_length=1)
    lifecycle = models.CharField(_("lifecycle stage"), max_length=12, choices=Lifecycle.choices)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        indexes = [
            models.Index(fields=["rfm_class"], name="score_class"),
            models.Index(fields=["rfm_group"], name="score_group"),
            models.Index(fields=["abc"], name="score_abc"),
            models.Index(fields=["lifecycle"], name="score_lifecycle"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.r}{self.f}{self.m}"


class ScoreMonth(models.Model):
    """Where a customer stood in a month (the last computation of that month), for segment migration over time."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("month"))  # its first day
    rfm_class = models.CharField(_("RFM class"), max_length=20, choices=RfmClass.choices)
    rfm_group = models.CharField(_("RFM group"), max_length=20, choices=RfmGroup.choices)
    abc = models.CharField("ABC", max_length=1)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        verbose_name = _("monthly segment")
        verbose_name_plural = _("monthly segments")
        constraints = [models.UniqueConstraint(fields=["month", "customer"], name="score_month_once")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m} {self.rfm_class}"
