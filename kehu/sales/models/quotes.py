"""Quotes (报价单) made from an opportunity: numbered, versioned, priced from the customer's price list."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kehu.core.models import SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.customers.models import Contact, Customer
from kehu.sales.models.opportunities import CURRENCIES, Opportunity
from kehu.sales.models.products import Money, Percent, PriceList, Product
from kehu.users.scoping import ScopeSpec


class Quote(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """One revision of a quote. A new revision copies the lines under the same number with `revision` + 1 and
    supersedes the one before; only the newest revision can be sent or accepted.

    Unit prices exclude tax: line amount = quantity × unit price × (1 − discount), tax = amount × tax rate,
    total = subtotal + tax."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("quote status", "Draft")
        SENT = "sent", pgettext_lazy("quote status", "Sent")
        ACCEPTED = "accepted", pgettext_lazy("quote status", "Accepted")
        REJECTED = "rejected", pgettext_lazy("quote status", "Rejected")
        EXPIRED = "expired", pgettext_lazy("quote status", "Expired")
        SUPERSEDED = "superseded", pgettext_lazy("quote status", "Superseded")

    class Language(models.TextChoices):
        ZH = "zh-hans", "中文"
        EN = "en", "English"

    number = models.CharField(_("number"), max_length=40)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.PROTECT, related_name="quotes"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="quotes"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("addressed to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    title = models.CharField(_("title"), max_length=200)
    language = models.CharField(
        _("document language"), max_length=8, choices=Language.choices, default=Language.ZH
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="CNY")
    price_list = models.ForeignKey(
        PriceList,
        verbose_name=_("price list"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_on = models.DateField(_("date"))
    valid_until = models.DateField(_("valid until"))
    subtotal = models.DecimalField(_("subtotal"), default=0, **Money)
    tax_total = models.DecimalField(_("tax"), default=0, **Money)
    total = models.DecimalField(_("total"), default=0, **Money)
    terms = models.TextField(_("terms"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_note = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    SCOPE = ScopeSpec(via="opportunity")

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="quote_number_revision_once"),
        ]
        indexes = [
            models.Index(fields=["opportunity", "-revision"], name="quote_opportunity"),
            models.Index(fields=["status", "valid_until"], name="quote_status_valid"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.number} v{self.revision}" if self.revision > 1 else self.number

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(0)]
    )
    unit = models.CharField(pgettext_lazy("of measure", "unit"), max_length=16, blank=True)
    unit_price = models.DecimalField(_("unit price"), **Money)
    discount = models.DecimalField(_("discount (%)"), default=0, **Percent)
    tax_rate = models.DecimalField(_("tax rate (%)"), default=0, **Percent)
    amount = models.DecimalField(_("amount"), **Money)
    tax_amount = models.DecimalField(_("tax"), default=0, **Money)

    class Meta:
        ordering = ["quote", "position", "id"]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"
