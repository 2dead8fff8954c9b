"""Orders and order lines. B2B orders are made from contracts; marketplace imports fill the same tables."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kehu.core.models import SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.customers.models import Customer
from kehu.sales.models.contracts import Contract
from kehu.sales.models.opportunities import CURRENCIES, Opportunity
from kehu.sales.models.products import Money, Percent, Product
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec


class Order(SoftDeleteModel, VersionedModel, TimeStampedModel):
    class Channel(models.TextChoices):
        B2B = "b2b", _("Direct sale")
        TAOBAO = "taobao", _("Taobao")
        TMALL = "tmall", _("Tmall")
        JD = "jd", _("JD")
        PDD = "pdd", _("Pinduoduo")
        OWN_SITE = "own_site", _("Own web shop")
        OFFLINE = "offline", _("Offline store")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("order status", "Draft")
        UNPAID = "unpaid", pgettext_lazy("order status", "Awaiting payment")
        CONFIRMED = "confirmed", pgettext_lazy("order status", "Confirmed")
        PAID = "paid", pgettext_lazy("order status", "Paid")
        PARTLY_SHIPPED = "partly_shipped", pgettext_lazy("order status", "Partly shipped")
        SHIPPED = "shipped", pgettext_lazy("order status", "Shipped")
        COMPLETED = "completed", pgettext_lazy("order status", "Completed")
        CLOSED = "closed", pgettext_lazy("order status", "Cancelled")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.B2B)
    number = models.CharField(_("number"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # order_customer (customer, -ordered_at) serves
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="CNY")
    goods_amount = models.DecimalField(_("goods"), default=0, **Money)
    shipping_amount = models.DecimalField(_("shipping"), default=0, **Money)
    discount_amount = models.DecimalField(_("discount"), default=0, **Money)
    tax_amount = models.DecimalField(_("tax"), default=0, **Money)
    total_amount = models.DecimalField(_("total"), default=0, **Money)
    paid_amount = models.DecimalField(_("paid"), default=0, **Money)
    refunded_amount = models.DecimalField(_("refunded"), default=0, **Money)
    ordered_at = models.DateTimeField(_("ordered at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    delivery_address = models.CharField(_("delivery address"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Marketplace orders: where they came from and what the platform's export said.
    shop = models.ForeignKey(
        "sales.Shop",
        verbose_name=_("shop"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # order_shop serves
    )
    buyer_nick = models.CharField(_("buyer nick"), max_length=100, blank=True)
    platform_status = models.CharField(_("status on the platform"), max_length=40, blank=True)
    receiver_name = models.CharField(_("receiver"), max_length=100, blank=True)
    receiver_phone = models.CharField(_("receiver phone"), max_length=40, blank=True)
    receiver_masked = models.BooleanField(_("receiver masked by the platform"), default=False)
    logistics_company = models.CharField(_("logistics company"), max_length=60, blank=True)
    logistics_no = models.CharField(_("tracking number"), max_length=100, blank=True)
    buyer_message = models.TextField(_("buyer's message"), blank=True)
    exported_at = models.DateTimeField(
        _("as exported at"),
        null=True,
        blank=True,
        help_text=_("A later export updates the order; an older one does not."),
    )
    # A digest of the export's cells for this order: the same row imported again is recognised unread.
    import_digest = models.CharField(max_length=32, blank=True, editable=False)
    close_reason = models.CharField(_("close reason"), max_length=60, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # order_owner serves
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("org unit"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # order_unit serves
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at", "import_digest"])

    SCOPE = ScopeSpec(owner="owner", unit="org_unit", via="customer")  # who sees a customer sees its orders

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-ordered_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "number"], name="order_number_once_per_channel"),
        ]
        indexes = [
            models.Index(fields=["customer", "-ordered_at"], name="order_customer"),
            models.Index(fields=["owner", "-ordered_at"], name="order_owner"),
            models.Index(fields=["org_unit", "-ordered_at"], name="order_unit"),
            models.Index(fields=["-ordered_at", "-id"], name="order_recent"),
            models.Index(fields=["updated_at", "id"], name="order_changed"),  # the points pass reads changes
            models.Index(fields=["shop", "-ordered_at"], name="order_shop"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class OrderLine(models.Model):
    """A product on an order. `amount` = quantity × unit price × (1 − discount), before tax. `product` is empty
    for an imported line whose item is not (yet) in the catalogue; `title` and `sku` keep what the order said."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    title = models.CharField(_("item"), max_length=255)
    position = models.PositiveSmallIntegerField(default=0)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(0)]
    )
    unit_price = models.DecimalField(_("unit price"), **Money)
    discount = models.DecimalField(_("discount (%)"), default=0, **Percent)
    tax_rate = models.DecimalField(_("tax rate (%)"), default=0, **Percent)
    amount = models.DecimalField(_("amount"), **Money)
    refunded_amount = models.DecimalField(_("refunded"), default=0, **Money)
    sub_order_no = models.CharField(_("sub-order number"), max_length=64, blank=True)
    item_id = models.CharField(_("platform item id"), max_length=64, blank=True)
    attributes = models.CharField(_("attributes"), max_length=255, blank=True)
    platform_status = models.CharField(_("status on the platform"), max_length=40, blank=True)

    class Meta:
        ordering = ["order", "position", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        indexes = [models.Index(fields=["product", "order"], name="order_line_product")]

    def __str__(self) -> str:
        return f"{self.title} × {self.quantity}"
