"""The buyer profile (everything a person bought, where and under which nicks) and the suggested links between
buyers who may be one person."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError
from kehu.core.web import flash_error, query_without, render_page
from kehu.customers import privacy
from kehu.sales.selectors import buyers as selectors
from kehu.sales.services import buyers as services
from kehu.users import scoping


def customer_tab_context(*, request, customer, tab) -> dict:
    """`customer.tab` hook: a buyer's overview shows their purchase figures and links to the profile."""
    if tab != "overview":
        return {}
    is_buyer, stats = selectors.buyer_figures(customer=customer)
    if not is_buyer:
        return {}
    return {"buyer_stats": stats, "overview_panels": ["sales/buyers/_customer_panel.html"]}


def _shown_receivers(rows: list[dict], shown: privacy.Privacy) -> list[dict]:
    return [
        {
            **row,
            "receiver_name": shown.name(row["receiver_name"]),
            "receiver_phone": shown.phone(row["receiver_phone"]),
            "delivery_address": shown.address(row["delivery_address"]),
        }
        for row in rows
    ]


@login_required
def buyer_profile(request, customer_id: int):
    profile = selectors.buyer_profile(actor=request.user, customer_id=customer_id)
    customer = profile.customer
    try:
        orders = selectors.buyer_orders(
            actor=request.user, customer=customer, cursor=request.GET.get("cursor")
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        orders = selectors.buyer_orders(actor=request.user, customer=customer)
    shown = privacy.customer_privacy(request.user, customer, reveal=request.GET.get("reveal") == "1")
    context = {
        "profile": profile,
        "customer": customer,
        "stats": profile.stats,
        "orders": orders,
        "receivers": _shown_receivers(profile.receivers, shown),
        "privacy": shown,
        "can_edit": scoping.can_edit(request.user, customer),
        "may_merge": scoping.is_system_admin(request.user),
        "more_query": query_without(request, "cursor"),
    }
    return render_page(request, "sales/buyers/profile.html", context, partial="orders")


@login_required
@require_POST
def buyer_link_decide(request, suggestion_id: int):
    suggestion = selectors.suggestion_get_for(actor=request.user, suggestion_id=suggestion_id)
    confirm = request.POST.get("decision") == "confirm"
    pair = {str(suggestion.customer_id), str(suggestion.other_id)}
    back = request.POST.get("back") if request.POST.get("back") in pair else suggestion.customer_id
    try:
        survivor = services.buyer_link_decide(actor=request.user, suggestion=suggestion, confirm=confirm)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("buyers:profile", customer_id=back)
    if survivor is not None:
        messages.success(request, _("The two buyers are now one customer."))
        return redirect("buyers:profile", customer_id=survivor.pk)
    messages.success(request, _("Suggestion dismissed."))
    return redirect("buyers:profile", customer_id=back)
