"""Running totals the board, the forecast and the cash reports read instead of adding up every opportunity,
instalment and receipt on each request. Amounts are integers in cents (exact on SQLite, whose decimals are
floating point); `kehu.sales.rollups` keeps them in step with every write and can rebuild them from scratch.

Each row is one combination of the dimensions in `key`; the scope fields (owner, org unit) carry the same names
as on the records they sum, so `users.scoping.visible_q` filters them exactly as it filters those records."""

from django.conf import settings
from django.db import models

from kehu.sales.models.opportunities import Pipeline, Stage
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec


class OpportunityRollup(models.Model):
    """Live opportunities (not binned, customer not binned) by pipeline, stage, status, forecast category,
    owner, unit, currency, expected-close month and closed month."""

    key = models.CharField(max_length=120, unique=True)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=4)
    forecast_category = models.CharField(max_length=10)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    close_month = models.DateField(null=True)  # the first day of the expected close month
    closed_month = models.DateField(null=True)  # the first day of the month it was won or lost
    count = models.IntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)
    weighted_cents = models.BigIntegerField(default=0)  # Σ amount in cents × probability (%): divide by 100

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")

    class Meta:
        indexes = [
            models.Index(fields=["pipeline", "stage"], name="opp_rollup_board"),
            models.Index(fields=["status", "close_month"], name="opp_rollup_close"),
            models.Index(fields=["status", "closed_month"], name="opp_rollup_closed"),
        ]

    def __str__(self) -> str:
        return self.key


class CashRollup(models.Model):
    """Money planned and received on contracts, by owner, unit, currency, contract status and month: `due_cents`
    is what is still outstanding on unsettled instalments due in the month, `received_cents` what live receipts
    brought in during the month. Binned contracts count for nothing."""

    key = models.CharField(max_length=80, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    contract_status = models.CharField(max_length=10)
    month = models.DateField()
    open_count = models.IntegerField(default=0)
    due_cents = models.BigIntegerField(default=0)
    received_cents = models.BigIntegerField(default=0)

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")

    class Meta:
        indexes = [models.Index(fields=["month", "contract_status"], name="cash_rollup_month")]

    def __str__(self) -> str:
        return self.key
