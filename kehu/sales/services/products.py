"""Writes for an opportunity's product lines; the opportunity's amount follows its lines."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.records import check_version, save_audited
from kehu.sales.models import Opportunity, OpportunityLine, Product
from kehu.sales.money import to_cents
from kehu.sales.selectors.products import prices_for
from kehu.users import scoping

LARGEST = Decimal(10) ** 12  # a quantity or price beyond this is a typing slip, and would overflow the amount


def _fits(value: Decimal, places: int) -> bool:
    """A finite number within range and with no more decimal places than its column keeps."""
    return value.is_finite() and abs(value) < LARGEST and value == value.quantize(Decimal(1).scaleb(-places))


def line_amount(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """quantity × unit price less the discount, rounded half up to the cent once, at the end."""
    return to_cents(quantity * unit_price * (Decimal(100) - discount) / Decimal(100))


def line_tax(amount: Decimal, tax_rate: Decimal) -> Decimal:
    """The tax on a line's amount, rounded half up to the cent."""
    return to_cents(amount * tax_rate / Decimal(100))


@transaction.atomic
def opportunity_lines_set(
    *, actor, opportunity: Opportunity, lines: list[dict], version: int | None
) -> Opportunity:
    """Replace the opportunity's product lines ({"product", "quantity", "unit_price"?, "discount"?}). A line
    without a unit price takes the customer's price-list price, which must be in the opportunity's currency.
    With lines, the opportunity's amount is their sum."""
    opportunity = Opportunity.objects.select_for_update().select_related("customer").get(pk=opportunity.pk)
    if not scoping.can_edit(actor, opportunity):
        raise PermissionDenied()
    if not opportunity.is_open:
        raise ValidationFailed(_("A closed opportunity's products can no longer change."))
    check_version(opportunity, version, fields=["amount"])
    today = timezone.localdate()
    made, errors = [], {}
    unpriced = [line["product"] for line in lines if line.get("unit_price") is None]
    prices = prices_for(customer=opportunity.customer, products=unpriced, on=today) if unpriced else {}
    for index, line in enumerate(lines):
        product: Product = line["product"]
        quantity = Decimal(line.get("quantity") or 0)
        discount = Decimal(line.get("discount") or 0)
        unit_price = line.get("unit_price")
        unusable = {
            name: value
            for name, value, places in (
                ("quantity", quantity, 3),
                ("discount", discount, 2),
                ("unit_price", unit_price, 2),
            )
            if value is not None and not _fits(Decimal(value), places)
        }
        if unusable:
            for name in unusable:
                errors[f"lines.{index}.{name}"] = _(
                    "Enter a number with at most %(places)s decimal places."
                ) % {"places": 3 if name == "quantity" else 2}
            continue
        if quantity <= 0:
            errors[f"lines.{index}.quantity"] = _("Enter a quantity above zero.")
        if not Decimal(0) <= discount <= Decimal(100):
            errors[f"lines.{index}.discount"] = _("A discount is between 0 and 100%.")
        if unit_price is None:
            price = prices[product.pk]
            if price.currency != opportunity.currency:
                errors[f"lines.{index}.unit_price"] = _(
                    "The price list is in %(list)s and the opportunity in %(deal)s: enter the unit price."
                ) % {"list": price.currency, "deal": opportunity.currency}
                continue
            unit_price = price.unit_price
        unit_price = Decimal(unit_price)
        if unit_price < 0:
            errors[f"lines.{index}.unit_price"] = _("A price cannot be negative.")
        made.append(
            OpportunityLine(
                opportunity=opportunity,
                product=product,
                position=index,
                quantity=quantity,
                unit_price=unit_price,
                discount=discount,
                amount=line_amount(quantity, unit_price, discount),
            )
        )
    if errors:
        raise ValidationFailed(fields=errors)
    opportunity.lines.all().delete()
    OpportunityLine.objects.bulk_create(made)
    if made:
        opportunity.amount = sum((line.amount for line in made), Decimal(0))
    save_audited(opportunity, actor=actor, reason="products")
    return opportunity
