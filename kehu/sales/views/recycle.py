"""The sales records in the recycle bin (leads, opportunities, quotes, contracts, orders, expenses), restorable
by system admins like everything else there; and the sales cards on the dashboard."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError
from kehu.core.web import flash_error
from kehu.sales.models import Contract, Expense, Lead, Opportunity, Order, Quote
from kehu.sales.selectors.contracts import pending_approval_count
from kehu.sales.selectors.opportunities import stale_opportunities
from kehu.sales.services import contracts, expenses, leads, opportunities, orders, quotes
from kehu.users import scoping

SHOWN = 200  # per kind; the oldest go first when the bin is purged

# kind → (model, restore service, its keyword, the record's name, a detail line)
KINDS = {
    "lead": (Lead, leads.lead_restore, "lead", str, lambda r: r.company),
    "opportunity": (
        Opportunity,
        opportunities.opportunity_restore,
        "opportunity",
        lambda r: r.name,
        lambda r: r.customer.name,
    ),
    "quote": (Quote, quotes.quote_restore, "quote", lambda r: r.label, lambda r: r.customer.name),
    "contract": (
        Contract,
        contracts.contract_restore,
        "contract",
        lambda r: r.number,
        lambda r: r.customer.name,
    ),
    "order": (
        Order,
        orders.order_restore,
        "order",
        lambda r: r.number,
        lambda r: r.customer.name if r.customer else "",
    ),
    "expense": (
        Expense,
        expenses.expense_restore,
        "expense",
        lambda r: r.description,
        lambda r: str(r.owner),
    ),
}
RELATED = {
    "lead": ["deleted_by"],
    "opportunity": ["deleted_by", "customer"],
    "quote": ["deleted_by", "customer"],
    "contract": ["deleted_by", "customer"],
    "order": ["deleted_by", "customer"],
    "expense": ["deleted_by", "owner"],
}


def recycle_sections(*, actor) -> list[dict]:
    """`recycle.sections`: one table per kind of sales record, for system admins (who alone see the bin)."""
    if not scoping.is_system_admin(actor):
        return []
    sections = []
    for kind, (model, _restore, _name, label, detail) in KINDS.items():
        rows = model.all_objects.dead().select_related(*RELATED[kind]).order_by("-deleted_at")[:SHOWN]
        items = [
            {
                "label": label(row),
                "detail": detail(row),
                "deleted_at": row.deleted_at,
                "deleted_by": row.deleted_by,
                "restore_url": reverse("sales_bin:restore", args=[kind, row.pk]),
            }
            for row in rows
        ]
        sections.append({"title": model._meta.verbose_name_plural.capitalize(), "items": items})
    return sections


@login_required
@require_POST
def restore(request, kind: str, record_id: int):
    if kind not in KINDS or not scoping.is_system_admin(request.user):
        raise Http404
    model, service, keyword, label, _detail = KINDS[kind]
    record = model.all_objects.dead().filter(pk=record_id).first()
    if record is None:
        raise Http404
    try:
        service(actor=request.user, **{keyword: record})
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("“%(name)s” restored.") % {"name": label(record)})
    return redirect("activities:recycle_bin")


def dashboard_panels(*, request) -> list[dict]:
    """`dashboard.panels`: open opportunities flagged for want of follow-up (the rep's own; a manager's whole
    subtree), and the contract approvals waiting for the user."""
    actor = request.user
    stale = stale_opportunities(actor=actor)
    waiting = pending_approval_count(actor=actor)
    if not stale and not waiting:
        return []
    return [{"template": "sales/_dashboard.html", "data": {"stale": stale, "approvals": waiting}}]
