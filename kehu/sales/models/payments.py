"""Payment plans (回款计划), receipts (回款) allocated to instalments, and invoices issued, per contract."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import TimeStampedModel
from kehu.sales.models.contracts import Contract
from kehu.sales.models.products import Money
from kehu.users.scoping import ScopeSpec


class PaymentInstalment(TimeStampedModel):
    """One planned payment. `received` is the sum of the live allocations to it, kept by the receipt services;
    `is_settled` is true once `received` reaches `amount`. Amounts are in the contract's currency."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="instalments")
    position = models.PositiveSmallIntegerField(_("instalment"), default=1)
    due_on = models.DateField(_("due"))
    amount = models.DecimalField(_("amount"), **Money)
    received = models.DecimalField(_("received"), default=0, **Money)
    is_settled = models.BooleanField(_("settled"), default=False)
    note = models.CharField(_("note"), max_length=255, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    SCOPE = ScopeSpec(via="contract")

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["contract", "position", "due_on", "id"]
        indexes = [
            # Aging, overdue flags and expected cash read the open instalments by due date.
            models.Index(fields=["is_settled", "due_on"], name="instalment_open_due"),
            models.Index(fields=["contract", "position"], name="instalment_contract"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}#{self.position}"

    @property
    def outstanding(self):
        return self.amount - self.received


class Receipt(TimeStampedModel):
    """Money received against a contract. Voiding keeps the row (nothing is lost) and takes back its
    allocations; the instalments' `received` is recomputed."""

    class Method(models.TextChoices):
        BANK = "bank", _("Bank transfer")
        CASH = "cash", _("Cash")
        CHEQUE = "cheque", _("Cheque")
        ACCEPTANCE = "acceptance", _("Bank acceptance bill")
        ALIPAY = "alipay", _("Alipay")
        WECHAT = "wechat", _("WeChat Pay")
        OTHER = "other", _("Other")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="receipts")
    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(_("amount"), **Money)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, default=Method.BANK)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.CharField(_("reason"), max_length=255, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    SCOPE = ScopeSpec(via="contract")

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["contract", "received_on"], name="receipt_contract"),
            models.Index(fields=["received_on"], name="receipt_day"),  # money received per month
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.received_on} {self.amount}"


class ReceiptAllocation(models.Model):
    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="allocations")
    instalment = models.ForeignKey(PaymentInstalment, on_delete=models.CASCADE, related_name="allocations")
    amount = models.DecimalField(_("amount"), **Money)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["receipt", "instalment"], name="allocation_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="allocation_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_id}→{self.instalment_id}: {self.amount}"


class Invoice(TimeStampedModel):
    """An invoice (发票) issued against a contract; the contract shows invoiced against received."""

    class Kind(models.TextChoices):
        VAT_SPECIAL = "special", _("VAT special invoice (专票)")
        VAT_NORMAL = "normal", _("VAT ordinary invoice (普票)")
        ELECTRONIC = "electronic", _("Fully digital e-invoice (数电票)")
        OTHER = "other", _("Other")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(_("invoice number"), max_length=40)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.VAT_SPECIAL)
    amount = models.DecimalField(_("amount"), **Money)
    issued_on = models.DateField(_("issued on"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True, editable=False)
    void_reason = models.CharField(_("reason"), max_length=255, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    SCOPE = ScopeSpec(via="contract")

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["number"], name="invoice_number_once")]
        indexes = [models.Index(fields=["contract", "issued_on"], name="invoice_contract")]

    def __str__(self) -> str:
        return self.number
