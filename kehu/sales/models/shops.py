"""Online shops and the marketplace identities of their buyers.

A shop belongs to an org unit; its orders and the buyers they bring are that unit's. A buyer is known to a
platform by a nick in one shop: `BuyerIdentity` ties (platform, shop, nick) to one individual Customer, so one
person with two nicks or two shops can be one customer without losing where each order came from."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.customers.models import Customer
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec


class Shop(TimeStampedModel):
    class Platform(models.TextChoices):
        TAOBAO = "taobao", _("Taobao")
        TMALL = "tmall", _("Tmall")
        JD = "jd", _("JD")
        PDD = "pdd", _("Pinduoduo")
        OWN_SITE = "own_site", _("Own web shop")
        OFFLINE = "offline", _("Offline store")

    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    name = models.CharField(_("name"), max_length=100)
    external_id = models.CharField(
        _("platform shop id"),
        max_length=64,
        blank=True,
        help_text=_("店铺Id in Taobao exports, for example."),
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("owning unit"), on_delete=models.PROTECT, related_name="shops"
    )
    is_active = models.BooleanField(_("active"), default=True)

    # Managed by the managers of the owning unit (and system admins); buyers and orders carry their own scope.
    SCOPE = ScopeSpec(unit="org_unit")

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["platform", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"],
                condition=~models.Q(external_id=""),
                name="shop_external_id_once",
            ),
            models.UniqueConstraint(fields=["platform", "name"], name="shop_name_once_per_platform"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} · {self.name}"


class BuyerIdentity(TimeStampedModel):
    """(platform, shop, buyer nick) → the customer. The nick is NFKC-normalised and trimmed; masked nicks are
    never stored as identities."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="buyers")
    platform = models.CharField(_("platform"), max_length=10, choices=Shop.Platform.choices)
    nick = models.CharField(_("buyer nick"), max_length=100)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="buyer_identities"
    )
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True)
    # The buyer's own receiver, from the first order that showed it unmasked: the evidence for linking nicks
    # (same mobile and same name) and for telling gift orders (another receiver) apart.
    receiver_name = models.CharField(_("receiver"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        verbose_name = _("buyer identity")
        verbose_name_plural = _("buyer identities")
        constraints = [models.UniqueConstraint(fields=["shop", "nick"], name="buyer_identity_once_per_shop")]
        indexes = [
            models.Index(fields=["customer"], name="buyer_identity_customer"),
            models.Index(fields=["mobile"], condition=~models.Q(mobile=""), name="buyer_identity_mobile"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.shop_id}:{self.nick}"


class BuyerStats(models.Model):
    """A buyer's purchase figures, kept up to date by every order import from the changed orders alone
    (`kehu.sales.buyer_stats`). Purchases are completed orders (交易成功); money is what the buyer paid net
    of refunds; recency is the payment time."""

    # Plain integers: an import adds signed differences (`INSERT … ON CONFLICT DO UPDATE`), and the database
    # checks the inserted candidate row before it finds the conflict.
    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="buyer_stats"
    )
    order_count = models.IntegerField(_("purchases"), default=0)
    total_paid = models.DecimalField(_("total paid"), max_digits=16, decimal_places=2, default=0)
    paid_orders = models.IntegerField(_("paid orders"), default=0)
    refund_orders = models.IntegerField(_("orders with a refund"), default=0)
    refunded_total = models.DecimalField(_("refunded"), max_digits=16, decimal_places=2, default=0)
    first_purchase_at = models.DateTimeField(_("first purchase"), null=True, blank=True)
    last_purchase_at = models.DateTimeField(_("last purchase"), null=True, blank=True)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        verbose_name = _("purchase statistics")
        verbose_name_plural = _("purchase statistics")

    def __str__(self) -> str:
        return str(self.customer_id)

    @property
    def average_order_value(self):
        if not self.order_count:
            return None
        return (Decimal(self.total_paid) / self.order_count).quantize(Decimal("0.01"))

    @property
    def return_rate(self):
        return self.refund_orders / self.paid_orders if self.paid_orders else None


class BuyerLinkSuggestion(TimeStampedModel):
    """Two buyers who may be one person (the same unmasked mobile, but another receiver name: families share
    phones), waiting for someone to confirm (the customers are then merged) or dismiss it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        verbose_name = _("suggested buyer link")
        verbose_name_plural = _("suggested buyer links")
        constraints = [models.UniqueConstraint(fields=["customer", "other"], name="buyer_link_once")]

    def __str__(self) -> str:
        return f"{self.customer_id}~{self.other_id}"
