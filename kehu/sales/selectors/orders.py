"""Reads for orders, always through the actor's data scope."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.history import history_of
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.sales.models import Contract, Opportunity, Order, OrderLine
from kehu.users import scoping
from kehu.users.models import User


def order_scope(actor: User) -> QuerySet:
    """Orders the actor sees; those of customers in the recycle bin are hidden with them (an anonymous
    marketplace order has no customer)."""
    return Order.objects.filter(
        scoping.visible_q(actor, Order), Q(customer__isnull=True) | Q(customer__deleted_at__isnull=True)
    )


@dataclass
class OrderFilters:
    status: str = ""
    channel: str = ""
    customer: int | None = None
    contract: int | None = None
    q: str = ""

    @classmethod
    def from_params(cls, params) -> "OrderFilters":
        status = (params.get("status") or "").strip()
        if status and status not in Order.Status.values:
            raise ValidationFailed(
                fields={
                    "status": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Order.Status.values)}
                }
            )
        channel = (params.get("channel") or "").strip()
        if channel and channel not in Order.Channel.values:
            raise ValidationFailed(
                fields={
                    "channel": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Order.Channel.values)}
                }
            )

        def number(name):
            raw = str(params.get(name) or "").strip()
            if raw and not raw.isdigit():
                raise ValidationFailed(fields={name: _("Enter a record id.")})
            return int(raw) if raw else None

        return cls(
            status=status,
            channel=channel,
            customer=number("customer"),
            contract=number("contract"),
            q=(params.get("q") or "").strip()[:64],
        )


def _filtered(actor: User, filters: OrderFilters) -> QuerySet:
    qs = order_scope(actor)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)
    if filters.contract:
        qs = qs.filter(contract_id=filters.contract)
    if filters.q:
        qs = qs.filter(Q(number__startswith=filters.q) | Q(customer__name__contains=filters.q))
    return qs


def order_list(*, actor: User, filters: OrderFilters, cursor: str | None = None, size: int = 25) -> Page:
    qs = _filtered(actor, filters).select_related("customer", "owner", "contract", "org_unit")
    return keyset_page(qs, ordering=["-ordered_at", "-id"], cursor=cursor, size=min(max(size, 1), 200))


def order_export_rows(*, actor: User, filters: OrderFilters):
    """Every order an export writes, scoped and filtered exactly like the list, read in chunks."""
    qs = _filtered(actor, filters).select_related("customer", "shop", "owner", "org_unit")
    return qs.order_by("-ordered_at", "-id").iterator(chunk_size=2000)


def order_line_export_rows(*, actor: User, filters: OrderFilters):
    """The line items of the orders `order_export_rows` writes, order by order."""
    orders = _filtered(actor, filters).values("pk")
    qs = OrderLine.objects.filter(order__in=orders).select_related("order", "order__customer", "order__shop")
    return qs.order_by("-order__ordered_at", "order_id", "position", "id").iterator(chunk_size=2000)


def order_get_for(*, actor: User, order_id) -> Order:
    order = (
        order_scope(actor)
        .select_related("customer", "contract", "opportunity", "owner", "org_unit", "created_by", "shop")
        .filter(pk=record_id(order_id))
        .first()
    )
    if order is None:
        raise NotFound()
    return order


def order_lines(*, order: Order) -> list[OrderLine]:
    return list(order.lines.select_related("product"))


def orders_of_contract(*, actor: User, contract: Contract) -> list[Order]:
    return list(order_scope(actor).filter(contract=contract).order_by("-ordered_at", "-id"))


def orders_of_opportunity(*, actor: User, opportunity: Opportunity) -> list[Order]:
    return list(order_scope(actor).filter(opportunity=opportunity).order_by("-ordered_at", "-id"))


def order_history(*, order: Order, limit: int = 20, masks: dict | None = None) -> list[dict]:
    """Each audited change with who, when, why and every field's old → new value (personal ones masked)."""
    return history_of(order, limit=limit, masks=masks)
