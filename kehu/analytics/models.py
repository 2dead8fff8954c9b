"""Customer scores computed from purchases, stored with the time they were computed (recomputed by a job, never
aggregated inside a request), and the settings that say how they are computed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

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


class CustomerClass(models.TextChoices):
    """Seed 002's classes (rules in `kehu.analytics.scores`): potential customers have not bought yet."""

    POTENTIAL = "potential", _("Potential")
    NEW = "new", pgettext_lazy("customer class", "New")
    FREQUENT = "frequent", _("Frequent")
    LOYAL = "loyal", pgettext_lazy("customer class", "Loyal")
    OLD = "old", _("Returning")


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
    new_days = models.PositiveIntegerField(_("new customer: first purchase within (days)"), default=90)
    loyal_days = models.PositiveIntegerField(_("loyal customer: buying for at least (days)"), default=365)
    # Lifetime value (kehu.analytics.values).
    holdout_days = models.PositiveIntegerField(_("check the model on the last (days)"), default=90)
    yearly_discount = models.DecimalField(
        _("discount rate per year (%)"), max_digits=5, decimal_places=2, default=10
    )
    min_customers = models.PositiveIntegerField(_("predict from at least (customers)"), default=100)
    min_repeaters = models.PositiveIntegerField(_("… of whom bought again at least"), default=20)
    # Churn warning.
    churn_gap_factor = models.DecimalField(
        _("warn after k × the usual time between purchases: k"), max_digits=4, decimal_places=1, default=2
    )
    churn_one_time_days = models.PositiveIntegerField(_("one-time buyers: warn after (days)"), default=90)
    churn_window_days = models.PositiveIntegerField(
        _("warn within (days) of crossing the line; longer lapses count as lost"), default=30
    )
    churn_min_value = models.DecimalField(
        _("warn only for a value at risk of at least (CNY)"), max_digits=14, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("score settings")
        verbose_name_plural = _("score settings")


class ScoreRun(models.Model):
    """The last full computation of the scores (one row): when, how many customers, and where it drew the lines
    (`scores.cutoffs`) that place the customers scored again after an import until the next full run."""

    computed_at = models.DateTimeField(_("computed at"))
    customers = models.PositiveIntegerField(_("customers scored"), default=0)
    cutoffs = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("score computation")
        verbose_name_plural = _("score computations")

    def __str__(self) -> str:
        return f"{self.computed_at:%Y-%m-%d %H:%M}"


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
    customer_class = models.CharField(
        _("customer class"), max_length=10, choices=CustomerClass.choices, default=CustomerClass.OLD
    )
    first_purchase_at = models.DateTimeField(_("first purchase"), null=True)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        indexes = [
            models.Index(fields=["rfm_class"], name="score_class"),
            models.Index(fields=["rfm_group"], name="score_group"),
            models.Index(fields=["abc"], name="score_abc"),
            models.Index(fields=["lifecycle"], name="score_lifecycle"),
            models.Index(fields=["customer_class"], name="score_customer_class"),
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


class ValueModel(models.Model):
    """A fitted BG/NBD + Gamma-Gamma model for one shop (or across all shops when `shop` is empty), with how it
    did on the held-out last days. When the data is too thin `status` says so and the parameters stay empty."""

    class Status(models.TextChoices):
        FITTED = "fitted", _("Fitted")
        TOO_LITTLE = "too_little", _("Too little data")
        FAILED = "failed", _("Could not be fitted")

    shop = models.ForeignKey(
        "sales.Shop",
        verbose_name=_("shop"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    fitted_at = models.DateTimeField(_("fitted at"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    needs = models.JSONField(_("minimum data"), default=dict)  # {customers, repeaters} in force when fitted
    customers = models.PositiveIntegerField(_("customers used"), default=0)
    repeaters = models.PositiveIntegerField(_("customers who bought again"), default=0)
    bgnbd = models.JSONField(_("BG/NBD parameters"), default=dict)  # r, alpha (days), a, b
    gamma_gamma = models.JSONField(_("Gamma-Gamma parameters"), default=dict)  # p, q, gamma (CNY)
    log_likelihood = models.FloatField(_("log-likelihood"), null=True)
    # {cutoff, days, bgnbd: {...}, rows: [[repeat purchases, customers, actual, predicted], …]}
    holdout = models.JSONField(_("check on held-out days"), default=dict)

    class Meta:
        verbose_name = _("lifetime value model")
        verbose_name_plural = _("lifetime value models")

    def __str__(self) -> str:
        return f"{self.shop_id or '*'} {self.status}"

    def explanation(self) -> str:
        """Why there is no model, in the reader's language."""
        return explain(self.status, self.customers, self.repeaters, self.needs)

    def holdout_explanation(self) -> str:
        """Why the held-out check could not be made, if it could not."""
        h = self.holdout or {}
        return (
            explain(h["status"], h["customers"], h["repeaters"], h.get("needs", {})) if "status" in h else ""
        )


def explain(status: str, customers: int, repeaters: int, needs: dict) -> str:
    if status == ValueModel.Status.TOO_LITTLE:
        return gettext(
            "Predictions need at least %(customers)s buyers of whom %(repeaters)s bought again; "
            "there are %(have)s and %(again)s."
        ) % {
            "customers": needs.get("customers"),
            "repeaters": needs.get("repeaters"),
            "have": customers,
            "again": repeaters,
        }
    if status == ValueModel.Status.FAILED:
        return gettext(
            "The purchases are too uneven for a stable model; predictions resume with more orders."
        )
    return ""


class CustomerValue(models.Model):
    """A customer's predicted purchases and value, per shop and across shops (`shop` empty), from the latest
    model, with the history it was predicted from (days)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="customer_values")
    shop = models.ForeignKey("sales.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField(_("computed at"))
    repeat_purchases = models.IntegerField(_("repeat purchases"))
    active_days = models.IntegerField(_("days from the first purchase to the last"))
    age_days = models.IntegerField(_("days since the first purchase"))
    average_value = models.DecimalField(_("average repeat purchase"), max_digits=14, decimal_places=2)
    p_alive = models.FloatField(_("probability still a customer"), null=True)
    purchases_3 = models.FloatField(_("expected purchases, 3 months"), null=True)
    purchases_6 = models.FloatField(_("expected purchases, 6 months"), null=True)
    purchases_12 = models.FloatField(_("expected purchases, 12 months"), null=True)
    spend = models.DecimalField(_("expected spend per purchase"), max_digits=14, decimal_places=2, null=True)
    clv_3 = models.DecimalField(_("value, 3 months"), max_digits=16, decimal_places=2, null=True)
    clv_6 = models.DecimalField(_("value, 6 months"), max_digits=16, decimal_places=2, null=True)
    clv_12 = models.DecimalField(_("value, 12 months"), max_digits=16, decimal_places=2, null=True)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        verbose_name = _("predicted customer value")
        verbose_name_plural = _("predicted customer values")
        indexes = [
            models.Index(fields=["customer", "shop"], name="value_customer"),
            models.Index(fields=["shop", "clv_12"], name="value_shop_clv"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.clv_12}"


class ChurnWarning(TimeStampedModel):
    """A customer who has stayed away longer than their habit allows (流失预警), and what their owner did about
    it (流失管理): hold them back (暂缓流失, with a win-back task) or confirm the loss (确认流失, with a reason).
    The outcome follows from the orders: a purchase after the warning wins them back."""

    class Reason(models.TextChoices):
        RHYTHM = "rhythm", _("Overdue against their usual rhythm")
        ONE_TIME = "one_time", _("One-time buyer who has not come back")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("churn warning", "Open")
        RETAINING = "retaining", _("Win-back under way (暂缓流失)")
        LOST = "lost", _("Confirmed lost (确认流失)")
        WON_BACK = "won_back", _("Won back")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="churn_warnings"
    )
    raised_at = models.DateTimeField(_("raised at"))
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    usual_gap_days = models.PositiveIntegerField(_("usual days between purchases"), null=True, blank=True)
    days_since = models.PositiveIntegerField(_("days since the last purchase"))
    threshold_days = models.PositiveIntegerField(_("warned after (days)"))
    p_alive = models.FloatField(_("probability still a customer"), null=True, blank=True)
    value_at_risk = models.DecimalField(_("value at risk (a year)"), max_digits=14, decimal_places=2)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    measure = models.TextField(_("measure"), blank=True)
    lost_reason = models.CharField(_("why lost"), max_length=200, blank=True)
    task = models.ForeignKey(
        "activities.Task",
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    won_back_at = models.DateTimeField(_("won back at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    SCOPE = ScopeSpec(via="customer")

    class Meta:
        verbose_name = _("churn warning")
        verbose_name_plural = _("churn warnings")
        indexes = [models.Index(fields=["status", "-raised_at"], name="churn_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status__in=["open", "retaining"]),
                name="churn_one_pending_per_customer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.status}"


class PurchaseMonth(models.Model):
    """A customer's completed purchases (交易成功, net of refunds) in one month of local time and one shop (empty:
    orders outside a shop), with the month of their first purchase anywhere: the customer-month summary the cohorts,
    the seasonal sales and their drill-downs read. Rebuilt by the scores job."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    shop = models.ForeignKey("sales.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("month"))  # its first day
    cohort = models.DateField(_("first purchase month"))
    orders = models.IntegerField(_("purchases"))
    sales = models.DecimalField(_("sales"), max_digits=16, decimal_places=2)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        verbose_name = _("monthly purchases")
        verbose_name_plural = _("monthly purchases")
        indexes = [
            models.Index(fields=["cohort", "month"], name="purchase_month_cohort"),
            models.Index(fields=["customer", "month"], name="purchase_month_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}"


class ReportCell(models.Model):
    """The figures the report pages add up, per owner and org unit (so the data scope filters them as it filters
    the customers: owned, in the reader's units, or in a pool they may claim): `report` names the report, `key`
    and `key2` its dimensions. Rebuilt with the scores; a page reads a few hundred rows, never the orders."""

    class Report(models.TextChoices):
        MONTH = "month", _("Sales per month")  # key: month, key2: shop id or ""
        COHORT = "cohort", _("Cohorts")  # key: first purchase month, key2: months since
        PRODUCT = "product", _("Product sales")  # key: product id or "", key2: month
        COMPOSITION = "comp", _("Customer composition")  # key: dimension, key2: value
        SEGMENT = (
            "seg",
            _("Segments"),
        )  # key: rfm_class, rfm_group, abc, lifecycle or customer_class; key2: value
        PARETO = "pareto", _("Pareto")  # key: fiftieth of all buyers by money spent, the biggest first

    report = models.CharField(max_length=8, choices=Report.choices)
    key = models.CharField(max_length=40)
    key2 = models.CharField(max_length=40, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    org_unit = models.ForeignKey("users.OrgUnit", on_delete=models.CASCADE, related_name="+")
    customers = models.IntegerField(default=0)
    orders = models.IntegerField(default=0)
    quantity = models.DecimalField(max_digits=16, decimal_places=3, default=0)
    sales = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    SCOPE = ScopeSpec(owner="owner", unit="org_unit", pool=True)

    class Meta:
        indexes = [models.Index(fields=["report", "key"], name="report_cell_key")]

    def __str__(self) -> str:
        return f"{self.report} {self.key} {self.key2}"
