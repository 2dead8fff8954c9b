"""Pages for orders: the list, one order with its lines and status actions, creating one from a contract."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError, StaleEdit
from kehu.core.exports import export_format
from kehu.core.web import filters_from, flash_error, perform, query_without, render_page, stale_context
from kehu.customers.privacy import history_masks
from kehu.sales.exports import export_order_lines, export_orders
from kehu.sales.models import Order
from kehu.sales.privacy import RECEIVER_FIELDS, order_privacy
from kehu.sales.selectors import orders as selectors
from kehu.sales.selectors import products as product_selectors
from kehu.sales.services import orders as services
from kehu.sales.services.orders import TRANSITIONS
from kehu.sales.views.lines import place_errors, posted_lines
from kehu.users import scoping

EXTRA_LINE_ROWS = 3
LINE_COLUMNS = ("quantity", "unit_price", "discount", "tax_rate")


def opportunity_panel(request, opportunity):
    """The opportunity's orders, when it has any."""
    orders = selectors.orders_of_opportunity(actor=request.user, opportunity=opportunity)
    if not orders:
        return None
    return {
        "template": "sales/orders/_panel.html",
        "data": {"orders": orders, "currency": opportunity.currency},
    }


def contract_panel(request, contract):
    """The contract's orders, and a button to order what it sold once it is active."""
    return {
        "template": "sales/orders/_panel.html",
        "data": {
            "orders": selectors.orders_of_contract(actor=request.user, contract=contract),
            "contract": contract,
            "can_order": contract.status == contract.Status.ACTIVE
            and scoping.can_edit(request.user, contract),
        },
    }


@login_required
def order_list(request):
    filters = filters_from(request, selectors.OrderFilters)
    try:
        page = selectors.order_list(actor=request.user, filters=filters, cursor=request.GET.get("cursor"))
    except ApplicationError as exc:
        flash_error(request, exc)
        page = selectors.order_list(actor=request.user, filters=filters)
    context = {
        "page": page,
        "filters": filters,
        "statuses": Order.Status.choices,
        "channels": Order.Channel.choices,
        "more_query": query_without(request, "cursor"),
    }
    return render_page(request, "sales/orders/list.html", context, partial="rows")


@login_required
def order_export(request):
    """The filtered orders (`?what=lines`: their line items) as CSV or XLSX."""
    filters = filters_from(request, selectors.OrderFilters)
    fmt = export_format(request.GET)
    detail = {k: v for k, v in request.GET.items() if k not in ("format", "what", "cursor") and v}
    if request.GET.get("what") == "lines":
        rows = selectors.order_line_export_rows(actor=request.user, filters=filters)
        return export_order_lines(actor=request.user, rows=rows, fmt=fmt, filters=detail)
    rows = selectors.order_export_rows(actor=request.user, filters=filters)
    return export_orders(actor=request.user, rows=rows, fmt=fmt, filters=detail)


@login_required
def order_detail(request, order_id: int):
    order = selectors.order_get_for(actor=request.user, order_id=order_id)
    can_edit = scoping.can_edit(request.user, order)
    shown = order_privacy(request.user, order, reveal=request.GET.get("reveal") == "1")
    context = {
        "order": order,
        "privacy": shown,
        "receiver": {
            "name": shown.name(order.receiver_name),
            "phone": shown.phone(order.receiver_phone),
            "address": shown.address(order.delivery_address),
        },
        "lines": selectors.order_lines(order=order),
        "can_edit": can_edit,
        "next_statuses": [(s, label) for s, label in Order.Status.choices if s in TRANSITIONS[order.status]]
        if can_edit
        else [],
        "history": selectors.order_history(order=order, masks=history_masks(shown, RECEIVER_FIELDS)),
    }
    return render_page(request, "sales/orders/detail.html", context)


@login_required
@require_POST
def order_from_contract(request, contract_id: int):
    from kehu.sales.selectors.contracts import contract_get_for

    contract = contract_get_for(actor=request.user, contract_id=contract_id)
    try:
        order = services.order_create_from_contract(actor=request.user, contract=contract)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect(f"/contracts/{contract.pk}/")
    messages.success(
        request, _("Order %(number)s created; check its lines, then confirm it.") % {"number": order.number}
    )
    return redirect("orders:detail", order_id=order.pk)


@login_required
@require_POST
def order_status(request, order_id: int):
    order = selectors.order_get_for(actor=request.user, order_id=order_id)
    return perform(
        request,
        lambda: services.order_set_status(
            actor=request.user,
            order=order,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
        ),
        success=_("Order status changed."),
        then=reverse("orders:detail", args=[order.pk]),
    )


@login_required
@require_POST
def order_delete(request, order_id: int):
    order = selectors.order_get_for(actor=request.user, order_id=order_id)
    try:
        services.order_delete(actor=request.user, order=order)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("orders:detail", order_id=order.pk)
    messages.success(request, _("Order moved to the recycle bin."))
    return redirect("orders:list")


@login_required
def order_lines(request, order_id: int):
    """A draft order's lines: a catalogue product or a free item, quantity, unit price (the customer's price
    list when left empty), discount and tax rate (the product's when left empty)."""
    order = selectors.order_get_for(actor=request.user, order_id=order_id)
    error, stale, version = "", {}, order.version
    if request.method == "POST":
        version = request.POST.get("version")
        products = {p.pk: p for p in product_selectors.product_list()}
        rows, lines = posted_lines(request.POST, products=products, numbers=LINE_COLUMNS, item="title")
        if any(row["errors"] for row in rows):
            error = _("Please correct the errors below.")
        else:
            try:
                services.order_lines_set(actor=request.user, order=order, lines=lines, version=version)
            except StaleEdit as exc:
                error, stale, version = str(exc.message), stale_context(exc), exc.current_version
            except ApplicationError as exc:
                error = str(exc.message)
                place_errors(rows, exc)
            else:
                messages.success(request, _("Order lines saved."))
                return redirect("orders:detail", order_id=order.pk)
    else:
        rows = [
            {
                "product_id": line.product_id,
                "title": "" if line.product_id else line.title,
                "quantity": line.quantity.normalize(),
                "unit_price": line.unit_price,
                "discount": line.discount.normalize() if line.discount else "",
                "tax_rate": line.tax_rate.normalize(),
                "errors": {},
            }
            for line in selectors.order_lines(order=order)
        ]
    rows += [{"product_id": None, "errors": {}} for _row in range(EXTRA_LINE_ROWS)]
    return render(
        request,
        "sales/orders/lines.html",
        {
            "order": order,
            "rows": rows,
            "products": product_selectors.product_list(),
            "error": error,
            "version": version,
            **stale,
        },
        status=422 if error else 200,
    )
