"""Contracts (合同) with attachments, and their approval (审批) by a chain of steps chosen by amount."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kehu.core.models import SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.customers.models import Customer
from kehu.sales.models.opportunities import CURRENCIES, BilingualName, Opportunity
from kehu.sales.models.products import Money
from kehu.sales.models.quotes import Quote
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec


class Contract(SoftDeleteModel, VersionedModel, TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("contract status", "Draft")
        PENDING = "pending", pgettext_lazy("contract status", "Pending approval")
        ACTIVE = "active", pgettext_lazy("contract status", "Active")
        COMPLETED = "completed", pgettext_lazy("contract status", "Completed")
        TERMINATED = "terminated", pgettext_lazy("contract status", "Terminated")

    number = models.CharField(_("number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    quote = models.ForeignKey(
        Quote,
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    amount = models.DecimalField(_("amount"), **Money)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="CNY")
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    start_on = models.DateField(_("starts"), null=True, blank=True)
    end_on = models.DateField(_("ends"), null=True, blank=True)
    terms = models.TextField(_("terms"), blank=True)
    status_reason = models.CharField(_("reason"), max_length=255, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(_("active since"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "status"], name="contract_owner"),
            models.Index(fields=["org_unit", "status"], name="contract_unit"),
            models.Index(fields=["customer", "status"], name="contract_customer"),
            models.Index(fields=["-updated_at", "-id"], name="contract_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


def contract_attachment_path(instance, filename: str) -> str:
    return f"contracts/{instance.contract_id}/{filename}"


class ContractAttachment(TimeStampedModel):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=contract_attachment_path, max_length=255)
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


class ApprovalStep(BilingualName, TimeStampedModel):
    """One step of the contract approval chain. A contract needs every active step whose threshold its amount
    (in the company currency) reaches, in `position` order: e.g. the manager above 100k, the director above 1M."""

    class Approver(models.TextChoices):
        MANAGER = "manager", _("Manager of the contract's unit")
        DIRECTOR = "director", _("Manager of the unit above (director)")
        USER = "user", _("A named person")

    min_amount = models.DecimalField(
        _("from amount"), help_text=_("In the company currency; 0 means every contract."), **Money
    )
    approver = models.CharField(_("approver"), max_length=10, choices=Approver.choices)
    approver_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("named approver"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["position", "min_amount", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(approver="user") | models.Q(approver_user__isnull=False),
                name="approval_step_named_user",
            ),
        ]


class ContractApproval(models.Model):
    """One approver's decision on one submission (`round`) of a contract. Steps are decided in order: a step
    waits until the one before it is approved; a rejection ends the round and returns the contract to draft."""

    class Status(models.TextChoices):
        WAITING = "waiting", pgettext_lazy("approval status", "Waiting")
        PENDING = "pending", pgettext_lazy("approval status", "Pending")
        APPROVED = "approved", pgettext_lazy("approval status", "Approved")
        REJECTED = "rejected", pgettext_lazy("approval status", "Rejected")
        CANCELLED = "cancelled", pgettext_lazy("approval status", "Cancelled")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="approvals")
    round = models.PositiveSmallIntegerField(default=1)
    position = models.PositiveSmallIntegerField(default=0)
    step = models.ForeignKey(ApprovalStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    step_name = models.CharField(_("step"), max_length=100)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approver"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    comment = models.TextField(_("comment"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    task = models.ForeignKey(
        "activities.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    SCOPE = ScopeSpec(via="contract", also_users=("approver",))

    class Meta:
        ordering = ["contract", "round", "position", "id"]
        indexes = [models.Index(fields=["approver", "status"], name="approval_inbox")]
        constraints = [
            models.UniqueConstraint(fields=["contract", "round", "position"], name="approval_once_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}/{self.round}/{self.position}"
