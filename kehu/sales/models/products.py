"""Products in a category tree, price lists per customer level or territory, and an opportunity's product lines."""

from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import TimeStampedModel
from kehu.customers.models import Customer
from kehu.sales.models.leads import Territory
from kehu.sales.models.opportunities import CURRENCIES, BilingualName, Opportunity

Money = {"max_digits": 16, "decimal_places": 2, "validators": [MinValueValidator(0)]}
Percent = {"max_digits": 5, "decimal_places": 2, "validators": [MinValueValidator(0), MaxValueValidator(100)]}


class ProductCategory(BilingualName, TimeStampedModel):
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")

    def path_labels(self) -> list[str]:
        """The labels from the top category down to this one."""
        labels, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            labels.append(node.label)
            node = node.parent
        return list(reversed(labels))


def product_image_path(instance, filename: str) -> str:
    return f"products/{instance.sku}/{filename}"


class Product(BilingualName, TimeStampedModel):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    unit = models.CharField(
        pgettext_lazy("of measure", "unit"), max_length=16, default="个", help_text=_("台, 套, 个, hour …")
    )
    list_price = models.DecimalField(_("list price"), default=0, **Money)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="CNY")
    cost = models.DecimalField(_("cost"), default=0, **Money)
    tax_rate = models.DecimalField(_("tax rate (%)"), default=13, **Percent)
    description = models.TextField(_("description"), blank=True)
    image = models.FileField(
        _("image"),
        upload_to=product_image_path,
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "webp"])],
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [models.Index(fields=["is_active", "category", "sku"], name="product_active")]

    def __str__(self) -> str:
        return f"{self.sku} {self.label}"


class PriceList(BilingualName, TimeStampedModel):
    """Prices for customers of a level, of a territory, or both. The most specific list valid on the day applies:
    level and territory, then territory, then level, then a list for everyone; within a list a product's own
    price or discount wins over the list's general discount."""

    customer_level = models.CharField(
        _("customer level"), max_length=8, choices=Customer.Level.choices, blank=True
    )
    territory = models.ForeignKey(
        Territory,
        verbose_name=_("territory"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="CNY")
    discount = models.DecimalField(_("discount on every product (%)"), default=0, **Percent)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")

    def applies_on(self, day) -> bool:
        return (
            self.is_active
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="+"
    )
    price = models.DecimalField(_("fixed price"), null=True, blank=True, **Money)
    discount = models.DecimalField(_("discount (%)"), null=True, blank=True, **Percent)

    class Meta:
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product"], name="price_list_product_once"),
            models.CheckConstraint(
                condition=models.Q(price__isnull=False) ^ models.Q(discount__isnull=False),
                name="price_list_item_price_or_discount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.price_list_id}:{self.product_id}"


class OpportunityLine(models.Model):
    """A product on an opportunity. `amount` = quantity × unit price × (1 − discount), kept by the service."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(0)]
    )
    unit_price = models.DecimalField(_("unit price"), **Money)
    discount = models.DecimalField(_("discount (%)"), default=0, **Percent)
    amount = models.DecimalField(_("amount"), **Money)

    class Meta:
        ordering = ["opportunity", "position", "id"]
        verbose_name = _("opportunity line")
        verbose_name_plural = _("opportunity lines")

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"
