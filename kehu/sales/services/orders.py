"""Writes for B2B orders: create (from a contract or by hand), set lines, move through their statuses, cancel,
delete. Marketplace imports write the same tables through their own bulk path."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import hooks
from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.records import (
    assign_fields,
    check_version,
    move_to_recycle_bin,
    restore_from_recycle_bin,
    save_audited,
)
from kehu.core.sequences import next_number
from kehu.customers.models import Customer
from kehu.sales import buyer_stats
from kehu.sales.models import Contract, Order, OrderLine, Product
from kehu.sales.selectors.products import prices_for
from kehu.sales.services.products import _fits, line_amount, line_tax
from kehu.users import scoping
from kehu.users.models import User
from kehu.users.services import primary_unit_of

S = Order.Status
# Where an order may go from each status. Cancelling is possible until the order is completed.
TRANSITIONS = {
    S.DRAFT: {S.CONFIRMED, S.CLOSED},
    S.UNPAID: {S.PAID, S.CLOSED},
    S.CONFIRMED: {S.PAID, S.PARTLY_SHIPPED, S.SHIPPED, S.CLOSED},
    S.PAID: {S.PARTLY_SHIPPED, S.SHIPPED, S.CLOSED},
    S.PARTLY_SHIPPED: {S.SHIPPED, S.CLOSED},
    S.SHIPPED: {S.COMPLETED, S.CLOSED},
    S.COMPLETED: set(),
    S.CLOSED: set(),
}
EDITABLE_FIELDS = {"delivery_address", "notes", "shipping_amount", "discount_amount", "ordered_at"}
DRAFT_ONLY_FIELDS = {"shipping_amount", "discount_amount", "ordered_at"}


def _record_event(*, actor, order: Order, event: str, data: dict | None = None) -> None:
    if order.customer_id is None:
        return
    hooks.emit(
        "customer.event",
        actor=actor,
        customer=order.customer,
        event=event,
        data={"order": order.number, "order_id": order.pk, **(data or {})},
    )


def _priced_lines(*, customer: Customer | None, currency: str, lines: list[dict]) -> list[OrderLine]:
    """OrderLine objects (unsaved) from {"product", "quantity", "unit_price"?, "discount"?, "tax_rate"?,
    "title"?}; a line without a unit price takes the customer's price-list price in the order's currency."""
    today = timezone.localdate()
    unpriced = [line["product"] for line in lines if line.get("unit_price") is None and line.get("product")]
    prices = prices_for(customer=customer, products=unpriced, on=today) if unpriced and customer else {}
    made, errors = [], {}
    for index, line in enumerate(lines):
        product: Product | None = line.get("product")
        values = {
            "quantity": (line.get("quantity") or 0, 3),
            "discount": (line.get("discount") or 0, 2),
            "tax_rate": (line.get("tax_rate") if line.get("tax_rate") is not None else None, 2),
            "unit_price": (line.get("unit_price"), 2),
        }
        bad = [n for n, (v, places) in values.items() if v is not None and not _fits(Decimal(v), places)]
        for name in bad:
            errors[f"lines.{index}.{name}"] = _("Enter a number with at most %(places)s decimal places.") % {
                "places": values[name][1]
            }
        if bad:
            continue
        quantity, discount = Decimal(values["quantity"][0]), Decimal(values["discount"][0])
        tax_rate = values["tax_rate"][0]
        tax_rate = (
            Decimal(tax_rate) if tax_rate is not None else (product.tax_rate if product else Decimal(0))
        )
        unit_price = values["unit_price"][0]
        if quantity <= 0:
            errors[f"lines.{index}.quantity"] = _("Enter a quantity above zero.")
        if not Decimal(0) <= discount <= Decimal(100):
            errors[f"lines.{index}.discount"] = _("A discount is between 0 and 100%.")
        if not Decimal(0) <= tax_rate <= Decimal(100):
            errors[f"lines.{index}.tax_rate"] = _("A tax rate is between 0 and 100%.")
        if unit_price is None:
            price = prices.get(product.pk) if product else None
            if price is None or price.currency != currency:
                errors[f"lines.{index}.unit_price"] = _("Enter the unit price.")
                continue
            unit_price = price.unit_price
        unit_price = Decimal(unit_price)
        if unit_price < 0:
            errors[f"lines.{index}.unit_price"] = _("A price cannot be negative.")
            continue
        title = (line.get("title") or "").strip() or (product.label if product else "")
        if not title:
            errors[f"lines.{index}.title"] = _("Name the item or pick a product.")
            continue
        made.append(
            OrderLine(
                product=product,
                sku=product.sku if product else (line.get("sku") or ""),
                title=title[:255],
                position=index,
                quantity=quantity,
                unit_price=unit_price,
                discount=discount,
                tax_rate=tax_rate,
                amount=line_amount(quantity, unit_price, discount),
            )
        )
    if errors:
        raise ValidationFailed(fields=errors)
    return made


def order_totals(order: Order, lines: list[OrderLine]) -> None:
    """goods = Σ line amounts; tax = Σ each line's tax to the cent; total = goods + tax + shipping − discount."""
    order.goods_amount = sum((line.amount for line in lines), Decimal(0))
    order.tax_amount = sum((line_tax(line.amount, line.tax_rate) for line in lines), Decimal(0))
    total = order.goods_amount + order.tax_amount + order.shipping_amount - order.discount_amount
    if total < 0:
        raise ValidationFailed(fields={"discount_amount": _("The discount is larger than the order.")})
    order.total_amount = total


def _write_lines(order: Order, lines: list[OrderLine]) -> None:
    order.lines.all().delete()
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)


def _check_money(data: dict) -> None:
    for name in ("shipping_amount", "discount_amount"):
        value = data.get(name)
        if value is not None and (not _fits(Decimal(value), 2) or Decimal(value) < 0):
            raise ValidationFailed(fields={name: _("Enter an amount of zero or more, to the cent.")})


@transaction.atomic
def order_create(*, actor: User, customer: Customer, data: dict, lines: list[dict]) -> Order:
    """A direct (B2B) order for a customer the actor may work on, in draft."""
    if not scoping.can_edit(actor, customer):
        raise PermissionDenied(_("You may not create orders for this customer."))
    _check_money(data)
    unit = primary_unit_of(actor) or customer.org_unit
    if unit is None:
        raise ValidationFailed(_("You belong to no org unit, so the order would have no home."))
    order = Order(
        channel=Order.Channel.B2B,
        number=next_number("order"),
        customer=customer,
        currency=data.get("currency") or "CNY",
        shipping_amount=Decimal(data.get("shipping_amount") or 0),
        discount_amount=Decimal(data.get("discount_amount") or 0),
        ordered_at=data.get("ordered_at") or timezone.now(),
        delivery_address=data.get("delivery_address") or "",
        notes=data.get("notes") or "",
        owner=actor,
        org_unit=unit,
        created_by=actor,
    )
    made = _priced_lines(customer=customer, currency=order.currency, lines=lines)
    order_totals(order, made)
    save_audited(order, actor=actor, reason="created", bump_version=False)
    _write_lines(order, made)
    _record_event(actor=actor, order=order, event="order_created", data={"total": str(order.total_amount)})
    return order


def _contract_lines(contract: Contract) -> list[dict]:
    """What the contract sold: the accepted quote's lines, else the opportunity's product lines."""
    if contract.quote_id:
        return [
            {
                "product": line.product,
                "title": line.description or line.product.label,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
                "tax_rate": line.tax_rate,
            }
            for line in contract.quote.lines.select_related("product")
        ]
    if contract.opportunity_id:
        return [
            {
                "product": line.product,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
            }
            for line in contract.opportunity.lines.select_related("product")
        ]
    return []


@transaction.atomic
def order_create_from_contract(*, actor: User, contract: Contract, lines: list[dict] | None = None) -> Order:
    """An order for an active contract, with `lines` or else the lines the contract sold (edit them before
    confirming)."""
    if not scoping.can_edit(actor, contract):
        raise PermissionDenied(_("You may not create orders for this contract."))
    if contract.status != Contract.Status.ACTIVE:
        raise ValidationFailed(_("Orders are made from active contracts only."))
    order = Order(
        channel=Order.Channel.B2B,
        number=next_number("order"),
        customer=contract.customer,
        contract=contract,
        opportunity=contract.opportunity,
        currency=contract.currency,
        ordered_at=timezone.now(),
        owner=contract.owner,
        org_unit=contract.org_unit,
        created_by=actor,
    )
    wanted = _contract_lines(contract) if lines is None else lines
    made = _priced_lines(customer=contract.customer, currency=order.currency, lines=wanted)
    order_totals(order, made)
    save_audited(order, actor=actor, reason="created", bump_version=False)
    _write_lines(order, made)
    _record_event(actor=actor, order=order, event="order_created", data={"total": str(order.total_amount)})
    return order


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)


def _check_edit(actor: User, order: Order) -> None:
    if not scoping.can_edit(actor, order):
        raise PermissionDenied()


@transaction.atomic
def order_lines_set(*, actor: User, order: Order, lines: list[dict], version: int | None) -> Order:
    order = _lock(order)
    _check_edit(actor, order)
    if not order.is_editable:
        raise ValidationFailed(_("Only a draft order's lines can change."))
    check_version(order, version, fields=["goods_amount", "total_amount"])
    made = _priced_lines(customer=order.customer, currency=order.currency, lines=lines)
    order_totals(order, made)
    _write_lines(order, made)
    save_audited(order, actor=actor, reason="products")
    return order


@transaction.atomic
def order_update(*, actor: User, order: Order, data: dict, version: int | None) -> Order:
    order = _lock(order)
    _check_edit(actor, order)
    check_version(order, version, fields=sorted(EDITABLE_FIELDS))
    if not order.is_editable and DRAFT_ONLY_FIELDS & {k for k, v in data.items() if v != getattr(order, k)}:
        raise ValidationFailed(_("Amounts and dates change only while the order is a draft."))
    _check_money(data)
    assign_fields(order, data, EDITABLE_FIELDS)
    order_totals(order, list(order.lines.all()))
    save_audited(order, actor=actor, reason="updated")
    return order


@transaction.atomic
def order_set_status(*, actor: User, order: Order, status: str, reason: str = "") -> Order:
    order = _lock(order)
    _check_edit(actor, order)
    if status not in TRANSITIONS.get(order.status, set()):
        raise ValidationFailed(
            fields={
                "status": _("An order that is “%(from)s” cannot become “%(to)s”.")
                % {"from": order.get_status_display(), "to": dict(S.choices).get(status, status)}
            }
        )
    if status == S.CONFIRMED and not order.lines.exists():
        raise ValidationFailed(_("Add at least one line before confirming the order."))
    if status == S.CLOSED and not reason.strip():
        raise ValidationFailed(fields={"reason": _("Say why the order is cancelled.")})
    now = timezone.now()
    before = order.status
    order.status = status
    if status == S.PAID and order.paid_at is None:
        order.paid_at, order.paid_amount = now, order.total_amount
    if status in (S.PARTLY_SHIPPED, S.SHIPPED) and order.shipped_at is None:
        order.shipped_at = now
    if status == S.COMPLETED:
        order.completed_at = now
    if status == S.CLOSED:
        order.notes = "\n".join(filter(None, [order.notes, _("Cancelled: %(reason)s") % {"reason": reason}]))
    save_audited(order, actor=actor, reason="status")
    buyer_stats.refresh([order.customer_id])
    _record_event(actor=actor, order=order, event=f"order_{status}", data={"from": before, "reason": reason})
    return order


@transaction.atomic
def order_delete(*, actor: User, order: Order) -> None:
    order = _lock(order)
    _check_edit(actor, order)
    if not order.is_editable:
        raise ValidationFailed(_("Only a draft order can be deleted; cancel it instead."))
    move_to_recycle_bin(order, actor=actor)
    buyer_stats.refresh([order.customer_id])


@transaction.atomic
def order_restore(*, actor: User, order: Order) -> Order:
    order = Order.all_objects.select_for_update().get(pk=order.pk)
    _check_edit(actor, order)
    restore_from_recycle_bin(order, actor=actor)
    buyer_stats.refresh([order.customer_id])
    return order


def orders_hand_over(*, actor: User, user: User, successor: User) -> dict:
    """`user.handover`: a departing rep's orders go to the successor, each move audited."""
    moved = 0
    for order in Order.all_objects.select_for_update().filter(owner=user):
        order.owner = successor
        save_audited(order, actor=actor, reason="handed_over")
        moved += 1
    return {"orders": moved}


def orders_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: orders binned before `cutoff`, with their lines."""
    return Order.all_objects.filter(deleted_at__lt=cutoff).delete()[0]


# --- orders recorded elsewhere (imports) ---------------------------------------------------------------------------

RECORDED_FIELDS = (
    "status",
    "currency",
    "shipping_amount",
    "discount_amount",
    "total_amount",
    "paid_amount",
    "refunded_amount",
    "ordered_at",
    "paid_at",
    "shipped_at",
    "completed_at",
    "receiver_name",
    "receiver_phone",
    "delivery_address",
    "logistics_company",
    "logistics_no",
    "notes",
)
PAID_STATUSES = {S.PAID, S.PARTLY_SHIPPED, S.SHIPPED, S.COMPLETED}
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def _recorded_line(order: Order, line: dict) -> bool:
    """Add the line, or update the one with its SKU (else title and attributes); True when anything changed."""
    key = {"sku": line["sku"]} if line.get("sku") else {"sku": "", "title": line["title"]}
    key["attributes"] = line.get("attributes", "")
    existing = order.lines.filter(**key).first()
    values = {
        "title": line.get("title") or line.get("sku"),
        "quantity": line["quantity"],
        "unit_price": line["unit_price"],
        "amount": line["amount"],
    }
    if existing is None:
        product = Product.objects.filter(sku=line["sku"]).first() if line.get("sku") else None
        OrderLine.objects.create(
            order=order, product=product, position=order.lines.count(), tax_rate=0, **{**key, **values}
        )
        return True
    changed = [name for name, value in values.items() if getattr(existing, name) != value]
    if changed:
        for name in changed:
            setattr(existing, name, values[name])
        existing.save(update_fields=changed)
    return bool(changed)


@transaction.atomic
def order_record(
    *, actor: User, customer: Customer, channel: str, number: str, data: dict, line: dict | None = None
) -> tuple[Order, str]:
    """An order as another system recorded it (an import): status, amounts and dates as given, never priced.
    Creates it, or updates the fields given (history says "imported"); a line is added or updated by its SKU (else
    its title). Without a total, the total is the lines plus shipping less discount; a paid order without a paid
    amount was paid in full, one without a payment time paid when ordered; a new order needs its order time and
    without a status is completed. Returns the order and whether it was created, updated or unchanged."""
    if not scoping.can_edit(actor, customer):
        raise PermissionDenied(_("You may not record orders for this customer."))
    order = Order.all_objects.select_for_update().filter(channel=channel, number=number).first()
    outcome = UPDATED
    if order is None:
        if data.get("ordered_at") is None:
            raise ValidationFailed(fields={"ordered_at": _("A new order needs the time it was placed.")})
        unit = primary_unit_of(actor) or customer.org_unit
        order = Order(
            channel=channel,
            number=number,
            customer=customer,
            owner=customer.owner,
            org_unit=customer.org_unit or unit,
            created_by=actor,
            ordered_at=data["ordered_at"],
            status=data.get("status") or S.COMPLETED,
        )
        outcome = CREATED
    elif order.deleted_at is not None:
        raise ValidationFailed(_("Order %(number)s is in the recycle bin.") % {"number": number})
    elif order.customer_id != customer.pk:
        raise ValidationFailed(
            fields={"customer": _("Order %(number)s belongs to another customer.") % {"number": number}}
        )
    elif not scoping.can_edit(actor, order):
        raise PermissionDenied(_("You may not change order %(number)s.") % {"number": number})
    before = {name: getattr(order, name) for name in (*RECORDED_FIELDS, "goods_amount")}
    assign_fields(order, {k: v for k, v in data.items() if v is not None}, set(RECORDED_FIELDS))
    line_changed = False
    if outcome == CREATED:
        order.goods_amount = line["amount"] if line else Decimal(0)
    else:
        line_changed = _recorded_line(order, line) if line else False
        order.goods_amount = sum((x.amount for x in order.lines.all()), Decimal(0))
    if data.get("total_amount") is None:
        order.total_amount = order.goods_amount + order.shipping_amount - order.discount_amount
    if order.status in PAID_STATUSES:
        if data.get("paid_amount") is None and not order.paid_amount:
            order.paid_amount = order.total_amount
        if order.paid_at is None:
            order.paid_at = order.ordered_at
    after = {name: getattr(order, name) for name in before}
    if outcome == UPDATED and before == after and not line_changed:
        return order, UNCHANGED
    save_audited(order, actor=actor, reason="imported", bump_version=outcome == UPDATED)
    if outcome == CREATED and line:
        _recorded_line(order, line)
    buyer_stats.refresh([customer.pk])
    return order, outcome
