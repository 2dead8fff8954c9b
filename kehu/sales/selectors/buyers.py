"""Reads for a buyer's profile: what a person bought, in which shops under which nicks, where it was sent.

The customer is reached through the customers' own scoped selector and the orders through `order_scope`, so a
profile shows exactly the orders the actor may see. Aggregates read only this customer's orders (through the
`order_customer` index), never the whole table.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, Sum
from django.utils import translation

from kehu.core.exceptions import NotFound
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get_for
from kehu.sales.models import BuyerIdentity, BuyerLinkSuggestion, BuyerStats, Order, OrderLine
from kehu.sales.selectors.orders import order_scope
from kehu.users import scoping
from kehu.users.models import User

FAVOURITES = 5
RECEIVERS = 10


@dataclass
class BuyerProfile:
    customer: Customer
    stats: BuyerStats | None
    identities: list[BuyerIdentity]
    favourite_products: list[dict]
    favourite_categories: list[dict]
    receivers: list[dict]
    refunds: list[Order]
    suggestions: list[BuyerLinkSuggestion] = field(default_factory=list)


def _lines_of(actor: User, customer: Customer):
    return OrderLine.objects.filter(order__in=order_scope(actor).filter(customer=customer).values("pk"))


def favourite_products(*, actor: User, customer: Customer, limit: int = FAVOURITES) -> list[dict]:
    """What the buyer bought most often: by the number of orders, then the quantity."""
    return list(
        _lines_of(actor, customer)
        .values("product_id", "title")
        .annotate(
            orders=Count("order_id", distinct=True),
            quantity=Sum("quantity"),
            amount=Sum("amount"),
            refunded=Sum("refunded_amount"),
        )
        .order_by("-orders", "-quantity", "title")[:limit]
    )


def favourite_categories(*, actor: User, customer: Customer, limit: int = FAVOURITES) -> list[dict]:
    """The product categories the buyer spends most in, each with its name in the reader's language."""
    rows = list(
        _lines_of(actor, customer)
        .filter(product__isnull=False)
        .values("product__category_id", "product__category__name", "product__category__name_en")
        .annotate(orders=Count("order_id", distinct=True), amount=Sum("amount"))
        .order_by("-orders", "-amount")[:limit]
    )
    english = not (translation.get_language() or "zh").startswith("zh")
    for row in rows:
        row["label"] = (english and row["product__category__name_en"]) or row["product__category__name"]
    return rows


def receivers(*, actor: User, customer: Customer, limit: int = RECEIVERS) -> list[dict]:
    """Who the buyer's parcels went to and where, most recent first, with how many orders each."""
    return list(
        order_scope(actor)
        .filter(customer=customer)
        .exclude(receiver_name="", receiver_phone="", delivery_address="")
        .values("receiver_name", "receiver_phone", "delivery_address", "receiver_masked")
        .annotate(orders=Count("id"), last=Max("ordered_at"))
        .order_by("-last")[:limit]
    )


def refunds(*, actor: User, customer: Customer, limit: int = 20) -> list[Order]:
    """Orders with money given back (a refund on the order or on any of its lines) or closed after payment."""
    return list(
        order_scope(actor)
        .filter(customer=customer)
        .filter(Q(refunded_amount__gt=0) | Q(status=Order.Status.CLOSED, paid_at__isnull=False))
        .select_related("shop")
        .order_by("-ordered_at", "-id")[:limit]
    )


def link_suggestions(*, actor: User, customer: Customer) -> list[BuyerLinkSuggestion]:
    """Pending suggestions that this buyer is one person with another buyer the actor may also see."""
    pending = _visible_pairs(actor).filter(
        Q(customer=customer) | Q(other=customer), status=BuyerLinkSuggestion.Status.PENDING
    )
    return list(pending.select_related("customer", "other"))


def _visible_pairs(actor: User):
    """Suggestions both of whose customers the actor may see (and neither in the recycle bin), in one query."""
    return BuyerLinkSuggestion.objects.filter(
        scoping.visible_q(actor, Customer, prefix="customer__"),
        scoping.visible_q(actor, Customer, prefix="other__"),
        customer__deleted_at__isnull=True,
        other__deleted_at__isnull=True,
    )


def buyer_figures(*, customer: Customer) -> tuple[bool, BuyerStats | None]:
    """Whether the (already visible) customer is a marketplace buyer or has purchase figures, and the figures."""
    stats = BuyerStats.objects.filter(customer=customer).first()
    return stats is not None or customer.buyer_identities.exists(), stats


def buyer_profile(*, actor: User, customer_id) -> BuyerProfile:
    customer = customer_get_for(actor=actor, customer_id=customer_id)
    return BuyerProfile(
        customer=customer,
        stats=BuyerStats.objects.filter(customer=customer).first(),
        identities=list(
            BuyerIdentity.objects.filter(customer=customer).select_related("shop").order_by("-last_order_at")
        ),
        favourite_products=favourite_products(actor=actor, customer=customer),
        favourite_categories=favourite_categories(actor=actor, customer=customer),
        receivers=receivers(actor=actor, customer=customer),
        refunds=refunds(actor=actor, customer=customer),
        suggestions=link_suggestions(actor=actor, customer=customer),
    )


def buyer_orders(*, actor: User, customer: Customer, cursor: str | None = None, size: int = 20) -> Page:
    """The buyer's orders, newest first, with their lines and shop (one query each per page)."""
    qs = order_scope(actor).filter(customer=customer).select_related("shop").prefetch_related("lines")
    return keyset_page(qs, ordering=["-ordered_at", "-id"], cursor=cursor, size=size)


def suggestion_get_for(*, actor: User, suggestion_id) -> BuyerLinkSuggestion:
    suggestion = (
        _visible_pairs(actor).select_related("customer", "other").filter(pk=record_id(suggestion_id)).first()
    )
    if suggestion is None:
        raise NotFound()
    return suggestion
