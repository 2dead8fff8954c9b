"""After-sale requests (退货 / 换货 / 退款 / 补发) bound to order lines, and the return and refund rates per
product, shop and buyer that marketplaces do not show a seller.

A request is opened from a ticket for lines of one order. Together the live requests of a line never ask for
more than was bought, nor refund more than it cost; rejected and cancelled requests give their share back.
Amounts are Decimal, rounded half-up to the cent: a partial refund is the line's amount × quantity ÷ quantity
bought unless the agent names a smaller sum.

States: requested → approved → (goods back: received → inspected) → refunded / shipped; rejected or cancelled
on the way. Every step lands on the ticket's timeline, visible to the complainant."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities.services import upload_check
from kehu.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from kehu.core.records import save_audited
from kehu.core.sequences import next_number
from kehu.sales.models import OrderLine
from kehu.sales.money import parse_amount
from kehu.sales.selectors.orders import order_scope
from kehu.support import services
from kehu.support.models import AfterSale, AfterSaleLine, ReturnReason, Ticket, TicketEvent
from kehu.users import scoping
from kehu.users.models import User

CENT = Decimal("0.01")
A = AfterSale.Status
K = AfterSale.Kind
ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))


def _next(after_sale: AfterSale) -> set[str]:
    """Where a request may go from its state, given what was asked for."""
    status, kind = after_sale.status, after_sale.kind
    if status == A.REQUESTED:
        return {A.APPROVED, A.REJECTED, A.CANCELLED}
    if status == A.APPROVED:
        done = {K.REFUND: A.REFUNDED, K.RESHIP: A.RESHIPPED}.get(kind, A.RECEIVED)
        return {done, A.CANCELLED}
    if status == A.RECEIVED:
        return {A.INSPECTED}
    if status == A.INSPECTED:
        if after_sale.inspection_passed is False:
            return {A.REJECTED}
        return {A.REFUNDED if kind == K.RETURN else A.RESHIPPED, A.REJECTED}
    return set()


def plain(quantity: Decimal) -> str:
    """A quantity without trailing zeros: 1.000 → 1, 1.500 → 1.5."""
    text = f"{quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def next_statuses(after_sale: AfterSale) -> list[str]:
    return [status for status in A.values if status in _next(after_sale)]


def _decimal(value, field: str) -> Decimal:
    number, error = parse_amount(str(value))
    if number is None:
        raise ValidationFailed(fields={field: error or _("Enter a number.")})
    return number


def _held(line_ids: list[int], exclude: int | None = None) -> dict[int, tuple[Decimal, Decimal]]:
    """Quantity and refund the live requests already hold on each line."""
    rows = (
        AfterSaleLine.objects.filter(order_line_id__in=line_ids)
        .exclude(after_sale__status__in=AfterSale.VOID_STATUSES)
        .exclude(after_sale_id=exclude)
        .values("order_line_id")
        .annotate(quantity=Sum("quantity"), refund=Sum("refund_amount"))
    )
    return {row["order_line_id"]: (row["quantity"], row["refund"]) for row in rows}


def _lines(ticket: Ticket, actor: User, kind: str, wanted: list[dict]) -> list[AfterSaleLine]:
    """Check the asked-for lines against the order and what other requests hold; price partial refunds."""
    if not wanted:
        raise ValidationFailed(fields={"lines": _("Choose at least one order line.")})
    ids = [int(item["order_line"]) for item in wanted]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(fields={"lines": _("Each order line can appear once.")})
    # The ticket's order is reached through the ticket (an agent need not see the customer's orders otherwise).
    allowed = Q(order_id=ticket.order_id) if ticket.order_id else Q(order__in=order_scope(actor))
    found = {line.pk: line for line in OrderLine.objects.filter(allowed, pk__in=ids).select_related("order")}
    if len(found) != len(ids):
        if (
            ticket.order_id
            and OrderLine.objects.filter(pk__in=ids).exclude(order_id=ticket.order_id).exists()
        ):
            raise ValidationFailed(fields={"lines": _("The lines must belong to the ticket's order.")})
        raise ValidationFailed(fields={"lines": _("Order line not found.")})
    if len({line.order_id for line in found.values()}) != 1:
        raise ValidationFailed(fields={"lines": _("The lines must belong to one order.")})
    held = _held(ids)
    result = []
    for item in wanted:
        line = found[int(item["order_line"])]
        quantity = _decimal(item.get("quantity", line.quantity), "lines")
        held_quantity, held_refund = held.get(line.pk, (Decimal(0), Decimal(0)))
        if quantity <= 0 or quantity + held_quantity > line.quantity:
            raise ValidationFailed(
                fields={
                    "lines": _("“%(item)s”: up to %(left)s can be requested.")
                    % {"item": line.title, "left": plain(line.quantity - held_quantity)}
                }
            )
        refund = Decimal(0)
        if kind in (K.RETURN, K.REFUND):
            share = (line.amount * quantity / line.quantity).quantize(CENT, ROUND_HALF_UP)
            refund = share if item.get("refund") in (None, "") else _decimal(item["refund"], "lines")
            if refund < 0 or refund + held_refund > line.amount:
                raise ValidationFailed(
                    fields={
                        "lines": _("“%(item)s”: at most %(left)s can be refunded.")
                        % {"item": line.title, "left": line.amount - held_refund}
                    }
                )
        result.append(AfterSaleLine(order_line=line, quantity=quantity, refund_amount=refund))
    return result


@transaction.atomic
def after_sale_create(
    *, actor: User, ticket: Ticket, data: dict, lines: list[dict], uploads=(), now=None
) -> AfterSale:
    """Open a request on a ticket. `lines` are {"order_line": id, "quantity": n, "refund": amount or None};
    `uploads` are the buyer's photos, kept on the ticket's timeline."""
    ticket = (
        Ticket.objects.select_for_update(of=("self",)).select_related("team", "assignee").get(pk=ticket.pk)
    )
    if not services.may_work(actor, ticket):
        raise PermissionDenied()
    now = now or timezone.now()
    kind, reason = data.get("kind", ""), data.get("reason", "")
    errors = {}
    if kind not in K.values:
        errors["kind"] = _("Choose what the buyer asks for.")
    if reason not in ReturnReason.values:
        errors["reason"] = _("Choose a reason.")
    if errors:
        raise ValidationFailed(fields=errors)
    uploads = list(uploads)
    for upload in uploads:
        upload_check(upload)
    rows = _lines(ticket, actor, kind, lines)
    order = rows[0].order_line.order
    after_sale = AfterSale(
        number=next_number("after_sale", now=now),
        ticket=ticket,
        order=order,
        customer_id=order.customer_id,
        kind=kind,
        reason=reason,
        note=(data.get("note") or "").strip(),
        return_carrier=(data.get("return_carrier") or "").strip()[:40],
        return_tracking=(data.get("return_tracking") or "").strip()[:64],
        refund_amount=sum((row.refund_amount for row in rows), Decimal(0)),
        created_by=actor,
        created_at=now,
    )
    save_audited(after_sale, actor=actor, bump_version=False)
    for row in rows:
        row.after_sale = after_sale
    AfterSaleLine.objects.bulk_create(rows)
    event = services.event_record(
        ticket,
        TicketEvent.Kind.AFTER_SALE,
        actor=actor,
        body=after_sale.note,
        public=True,
        data=_summary(after_sale),
        now=now,
    )
    services.attach_uploads(event, uploads)
    if ticket.order_id is None:
        ticket.order = order
        save_audited(ticket, actor=actor, reason="after-sale")
    return after_sale


def _summary(after_sale: AfterSale) -> dict:
    return {
        "after_sale": after_sale.pk,
        "number": after_sale.number,
        "kind": after_sale.kind,
        "status": after_sale.status,
        "refund": str(after_sale.refund_amount),
    }


STEP_FIELDS = {
    A.APPROVED: ("decision_note",),
    A.REJECTED: ("decision_note",),
    A.CANCELLED: ("decision_note",),
    A.RECEIVED: ("return_carrier", "return_tracking"),
    A.INSPECTED: ("inspection_passed", "inspection_note"),
    A.RESHIPPED: ("reship_tracking",),
    A.REFUNDED: (),
}


@transaction.atomic
def after_sale_advance(
    *, actor: User, after_sale: AfterSale, status: str, data: dict | None = None, now=None
):
    """Move a request one step, with what that step records: a reason to reject or cancel, the return's
    tracking number on receipt, the inspection's verdict, the new shipment's tracking number."""
    after_sale = (
        AfterSale.objects.select_for_update(of=("self",)).select_related("ticket").get(pk=after_sale.pk)
    )
    if not services.may_work(actor, after_sale.ticket):
        raise PermissionDenied()
    now = now or timezone.now()
    data = data or {}
    if status not in A.values:
        raise ValidationFailed(fields={"status": _("Unknown status.")})
    if status not in _next(after_sale):
        raise Conflict(
            _("An after-sale request that is “%(from)s” cannot become “%(to)s”.")
            % {"from": A(after_sale.status).label, "to": A(status).label}
        )
    for field in STEP_FIELDS[status]:
        if field in data:
            value = data[field]
            setattr(after_sale, field, value if field == "inspection_passed" else (value or "").strip())
    if status in (A.REJECTED, A.CANCELLED) and not after_sale.decision_note:
        raise ValidationFailed(fields={"decision_note": _("Say why.")})
    if status == A.INSPECTED and after_sale.inspection_passed is None:
        raise ValidationFailed(fields={"inspection_passed": _("Say whether the goods passed inspection.")})
    if status == A.RESHIPPED and not after_sale.reship_tracking:
        raise ValidationFailed(fields={"reship_tracking": _("Enter the shipment's tracking number.")})
    before = after_sale.status
    after_sale.status = status
    if status == A.RECEIVED:
        after_sale.received_at = now
    if status == A.REFUNDED:
        after_sale.refunded_at = now
    if status in AfterSale.FINAL_STATUSES:
        after_sale.closed_at = now
    save_audited(after_sale, actor=actor, reason=status)
    services.event_record(
        after_sale.ticket,
        TicketEvent.Kind.AFTER_SALE,
        actor=actor,
        body=after_sale.decision_note if status in (A.REJECTED, A.CANCELLED) else "",
        public=True,
        data={**_summary(after_sale), "from": before},
        now=now,
    )
    return after_sale


# --- reads --------------------------------------------------------------------------------------------------------


def after_sale_scope(actor: User) -> QuerySet:
    return AfterSale.objects.filter(scoping.visible_q(actor, AfterSale))


def after_sales_of(*, actor: User, ticket: Ticket) -> list[AfterSale]:
    return list(
        after_sale_scope(actor).filter(ticket=ticket).prefetch_related("lines__order_line").order_by("-id")
    )


def after_sale_get_for(*, actor: User, after_sale_id: int) -> AfterSale:
    found = (
        after_sale_scope(actor)
        .select_related("ticket", "order", "customer")
        .prefetch_related("lines__order_line")
        .filter(pk=after_sale_id)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


@dataclass
class RateRow:
    key: int | None
    label: str
    sold: Decimal
    sales: Decimal
    returned: Decimal
    refunded: Decimal
    requests: int = 0

    @property
    def return_rate(self) -> Decimal | None:
        return (self.returned / self.sold * 100).quantize(Decimal("0.1")) if self.sold else None

    @property
    def refund_rate(self) -> Decimal | None:
        return (self.refunded / self.sales * 100).quantize(Decimal("0.1")) if self.sales else None


RATE_GROUPS = {
    "product": ("product_id", "product__name"),
    "shop": ("order__shop_id", "order__shop__name"),
    "buyer": ("order__customer_id", "order__customer__name"),
}
# A buyer who returns this often, on enough orders, is worth a look before the next order ships.
SERIAL_MIN_REQUESTS = 3
SERIAL_RATE = Decimal(30)


def return_rates(
    *, actor: User, by: str, start: datetime.datetime, end: datetime.datetime, limit: int = 200
) -> list[RateRow]:
    """Per product, shop or buyer over orders placed in [start, end) that the actor sees: quantity sold and
    brought back by live return and exchange requests; amount sold and refunded. A line's refund is the larger
    of what the marketplace export reports and what was refunded here, so a refund recorded in both places
    counts once. Highest return rate first."""
    if by not in RATE_GROUPS:
        raise ValidationFailed(fields={"by": _("Unknown grouping.")})
    key, label = RATE_GROUPS[by]
    live = AfterSaleLine.objects.filter(order_line=OuterRef("pk")).exclude(
        after_sale__status__in=AfterSale.VOID_STATUSES
    )
    returned = (
        live.filter(after_sale__kind__in=(K.RETURN, K.EXCHANGE))
        .values("order_line")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    refunded_here = (
        live.filter(after_sale__status=A.REFUNDED)
        .values("order_line")
        .annotate(total=Sum("refund_amount"))
        .values("total")
    )
    lines = OrderLine.objects.filter(
        order__in=order_scope(actor).filter(ordered_at__gte=start, ordered_at__lt=end)
    ).annotate(
        returned_qty=Coalesce(
            Subquery(returned), Value(Decimal(0)), output_field=DecimalField(max_digits=15, decimal_places=3)
        ),
        refund=Greatest(
            F("refunded_amount"),
            Coalesce(Subquery(refunded_here), ZERO),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
    )
    rows = (
        lines.values(key, label)
        .annotate(
            sold=Sum("quantity"),
            sales=Sum("amount"),
            back=Sum("returned_qty"),
            refunds=Sum("refund"),
        )
        .filter(Q(back__gt=0) | Q(refunds__gt=0))
    )
    result = [
        RateRow(
            key=row[key],
            label=row[label] or "—",
            sold=row["sold"] or Decimal(0),
            sales=row["sales"] or Decimal(0),
            returned=row["back"] or Decimal(0),
            refunded=row["refunds"] or Decimal(0),
        )
        for row in rows
    ]
    if by == "buyer":
        counts = dict(
            after_sale_scope(actor)
            .filter(
                customer_id__in=[row.key for row in result],
                order__ordered_at__gte=start,
                order__ordered_at__lt=end,
            )
            .exclude(status__in=AfterSale.VOID_STATUSES)
            .values_list("customer_id")
            .annotate(n=Count("id"))
        )
        for row in result:
            row.requests = counts.get(row.key, 0)
    result.sort(key=lambda row: (-(row.return_rate or 0), -(row.refund_rate or 0), row.label))
    return result[:limit]


def is_serial_returner(row: RateRow) -> bool:
    return row.requests >= SERIAL_MIN_REQUESTS and (row.return_rate or 0) >= SERIAL_RATE
