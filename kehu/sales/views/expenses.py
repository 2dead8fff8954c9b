"""Pages for expenses: the scoped list with totals per rep and the approval buttons, the form, the detail page,
the receipt download, and the card on the opportunity page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError, NotFound, StaleEdit
from kehu.core.web import (
    apply_error,
    filters_from,
    flash_error,
    perform,
    query_without,
    render_page,
    stale_context,
)
from kehu.customers.selectors import customer_get_for
from kehu.sales.forms.expenses import ExpenseForm, RejectForm
from kehu.sales.models import Expense
from kehu.sales.selectors import expenses as selectors
from kehu.sales.selectors.opportunities import opportunity_get_for
from kehu.sales.services import expenses as services
from kehu.users import scoping
from kehu.users.selectors import assignable_users


@login_required
def expense_list(request):
    filters = filters_from(request, selectors.ExpenseFilters)
    try:
        page = selectors.expense_list(
            actor=request.user, filters=filters, cursor=request.GET.get("cursor"), size=50
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("expenses:list")
    actor = request.user
    return render_page(
        request,
        "sales/expenses/list.html",
        {
            "page": page,
            "filters": filters,
            "decidable": {e.pk for e in page.items if services.may_decide(actor, e)},
            "totals": selectors.totals_per_rep(actor=actor, filters=filters),
            "to_approve": selectors.to_approve_count(actor=actor),
            "is_manager": scoping.is_manager(actor),
            "owners": assignable_users(actor=actor),
            "statuses": Expense.Status.choices,
            "categories": Expense.Category.choices,
            "query": query_without(request, "cursor"),
        },
        partial="rows",
    )


def _links(request) -> dict:
    """The deal or customer the new expense is for, from ?opportunity= or ?customer= (through the scope)."""
    links = {}
    try:
        if request.GET.get("opportunity"):
            links["opportunity"] = opportunity_get_for(
                actor=request.user, opportunity_id=request.GET["opportunity"]
            )
            links["customer"] = links["opportunity"].customer
        elif request.GET.get("customer"):
            links["customer"] = customer_get_for(actor=request.user, customer_id=request.GET["customer"])
    except NotFound as exc:
        raise Http404 from exc
    return links


@login_required
def expense_create(request):
    links = _links(request)
    form = ExpenseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            expense = services.expense_create(
                actor=request.user,
                # The opportunity brings its customer (which its owner need not see otherwise).
                data={
                    **form.service_data(),
                    **({"opportunity": links["opportunity"]} if "opportunity" in links else links),
                },
                receipt_file=form.cleaned_data.get("receipt"),
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Expense submitted for approval."))
            return redirect("expenses:detail", expense_id=expense.pk)
    return render(
        request,
        "sales/expenses/form.html",
        {"form": form, **links},
        status=422 if form.is_bound else 200,
    )


@login_required
def expense_detail(request, expense_id: int):
    expense = selectors.expense_get_for(actor=request.user, expense_id=expense_id)
    return render(
        request,
        "sales/expenses/detail.html",
        {
            "expense": expense,
            "can_edit": expense.owner_id == request.user.pk and expense.status == Expense.Status.SUBMITTED,
            "can_decide": services.may_decide(request.user, expense)
            and expense.status == Expense.Status.SUBMITTED,
            "can_delete": services.may_delete(request.user, expense),
            "reject_form": RejectForm(),
            "history": selectors.expense_history(expense=expense),
        },
    )


@login_required
def expense_edit(request, expense_id: int):
    expense = selectors.expense_get_for(actor=request.user, expense_id=expense_id)
    initial = {
        name: getattr(expense, name) for name in ("spent_on", "category", "amount", "currency", "description")
    }
    form = ExpenseForm(
        request.POST or None, request.FILES or None, initial={**initial, "version": expense.version}
    )
    context = {
        "form": form,
        "expense": expense,
        "opportunity": expense.opportunity,
        "customer": expense.customer,
    }
    if request.method == "POST" and form.is_valid():
        try:
            services.expense_update(
                actor=request.user,
                expense=expense,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
                receipt_file=form.cleaned_data.get("receipt") or None,
            )
        except StaleEdit as exc:
            context.update(stale_context(exc))
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Expense saved."))
            return redirect("expenses:detail", expense_id=expense.pk)
    return render(request, "sales/expenses/form.html", context, status=422 if form.is_bound else 200)


def _back(request, expense: Expense) -> str:
    """Back to the list the buttons were pressed on, or else to the expense."""
    then = request.POST.get("next", "")
    return then if then.startswith("/expenses/") else reverse("expenses:detail", args=[expense.pk])


@login_required
@require_POST
def expense_approve(request, expense_id: int):
    expense = selectors.expense_get_for(actor=request.user, expense_id=expense_id)
    return perform(
        request,
        lambda: services.expense_approve(
            actor=request.user, expense=expense, comment=request.POST.get("comment", "")
        ),
        success=_("Expense approved."),
        then=_back(request, expense),
    )


@login_required
@require_POST
def expense_reject(request, expense_id: int):
    expense = selectors.expense_get_for(actor=request.user, expense_id=expense_id)
    return perform(
        request,
        lambda: services.expense_reject(
            actor=request.user, expense=expense, comment=request.POST.get("comment", "")
        ),
        success=_("Expense rejected."),
        then=_back(request, expense),
    )


@login_required
@require_POST
def expense_delete(request, expense_id: int):
    expense = selectors.expense_get_for(actor=request.user, expense_id=expense_id)
    try:
        services.expense_delete(actor=request.user, expense=expense)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("expenses:detail", expense_id=expense.pk)
    messages.success(request, _("Expense moved to the recycle bin."))
    return redirect("expenses:list")


@login_required
def expense_receipt(request, expense_id: int):
    """The receipt file, for whoever sees the expense (the file store itself is never served directly)."""
    expense = selectors.expense_get_for(actor=request.user, expense_id=expense_id)
    if not expense.receipt:
        raise Http404
    name = expense.receipt.name.rsplit("/", 1)[-1]
    return FileResponse(expense.receipt.open("rb"), as_attachment=True, filename=name)


def opportunity_panel(request, opportunity):
    """A card on the opportunity overview: the deal's expenses the reader sees, the approved and the pending
    totals, and a link to log one."""
    data = selectors.expenses_of_opportunity(actor=request.user, opportunity=opportunity)
    return {
        "template": "sales/expenses/_panel_opportunity.html",
        "data": {
            "opportunity": opportunity,
            "expenses": data,
            "can_log": not scoping.scope_for(request.user).read_only,
        },
    }


def contract_panel(request, contract):
    """A card on the contract page: {"template": …, "data": {…}}, or None."""
    return None
