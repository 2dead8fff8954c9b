"""Reads for products and prices: the catalogue and the price a customer pays for a product on a day."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from kehu.core.exceptions import NotFound
from kehu.core.records import record_id
from kehu.customers.models import Customer
from kehu.sales.models import Opportunity, OpportunityLine, PriceList, PriceListItem, Product
from kehu.sales.money import to_cents
from kehu.sales.selectors.leads import territory_rank


def product_list(*, q: str = "", category: int | None = None, active_only: bool = True) -> QuerySet:
    """The catalogue is shared by everyone in the company: products carry no owner and no scope."""
    qs = Product.objects.select_related("category")
    if active_only:
        qs = qs.filter(is_active=True)
    if category:
        qs = qs.filter(Q(category_id=category) | Q(category__parent_id=category))
    if q:
        qs = qs.filter(Q(sku__icontains=q) | Q(name__icontains=q) | Q(name_en__icontains=q))
    return qs.order_by("sku")


def product_get(*, product_id, active_only: bool = True) -> Product:
    product = product_list(active_only=active_only).filter(pk=record_id(product_id)).first()
    if product is None:
        raise NotFound()
    return product


@dataclass(frozen=True)
class Price:
    unit_price: Decimal
    currency: str
    list_price: Decimal
    price_list: PriceList | None


def _specificity(price_list: PriceList) -> int:
    return (2 if price_list.territory_id else 0) + (1 if price_list.customer_level else 0)


def price_list_for(*, customer: Customer, on: datetime.date) -> PriceList | None:
    """The price list that applies to the customer on the day: the most specific active list whose level and
    territory (each when set) match the customer; ties go to the lower position. A list's territory applies
    wherever the customer belongs in the organisation."""
    candidates = (
        PriceList.objects.filter(is_active=True)
        .filter(Q(customer_level="") | Q(customer_level=customer.level))
        .select_related("territory")
        .prefetch_related("territory__cities", "territory__provinces")
        .order_by("position", "id")
    )
    place = {"province_id": customer.province_id, "city_id": customer.city_id, "industry": customer.industry}
    found = [
        p
        for p in candidates
        if p.applies_on(on) and (p.territory is None or territory_rank(p.territory, **place) is not None)
    ]
    if not found:
        return None
    return max(found, key=lambda p: (_specificity(p), -p.position, -p.pk))


def prices_for(*, customer: Customer, products: list[Product], on: datetime.date) -> dict[int, Price]:
    """What the customer pays for one unit of each product (by product id): the list's own price for the
    product, else the product's list price less the item's or the list's discount; the product's list price when
    no list applies. One price-list lookup and one item query, whatever the number of products."""
    price_list = price_list_for(customer=customer, on=on)
    if price_list is None:
        return {p.pk: Price(p.list_price, p.currency, p.list_price, None) for p in products}
    items = {
        item.product_id: item
        for item in PriceListItem.objects.filter(price_list=price_list, product__in=[p.pk for p in products])
    }
    prices = {}
    for product in products:
        item = items.get(product.pk)
        if item is not None and item.price is not None:
            prices[product.pk] = Price(item.price, price_list.currency, product.list_price, price_list)
            continue
        discount = item.discount if item is not None else price_list.discount
        unit = to_cents(product.list_price * (Decimal(100) - discount) / Decimal(100))
        prices[product.pk] = Price(unit, product.currency, product.list_price, price_list)
    return prices


def price_for(*, customer: Customer, product: Product, on: datetime.date) -> Price:
    return prices_for(customer=customer, products=[product], on=on)[product.pk]


def opportunity_lines(*, opportunity: Opportunity) -> list[OpportunityLine]:
    return list(opportunity.lines.select_related("product").order_by("position", "id"))
