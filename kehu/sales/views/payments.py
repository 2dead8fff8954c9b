"""Pages for receivables: the aging and expected-cash report, the overdue list, and the contract's payments
card (plan, receipts, invoices) shown on the contract page and on its own page here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError, NotFound
from kehu.core.web import apply_error, filters_from, flash_error, query_without, render_page
from kehu.sales.forms.payments import (
    InvoiceForm,
    ReceiptForm,
    SplitForm,
    VoidForm,
    plan_formset,
    plan_rows,
)
from kehu.sales.selectors import payments as selectors
from kehu.sales.services import payments as services
from kehu.users import scoping
from kehu.users.selectors import assignable_users, units_visible

PANEL = "sales/payments/_panel_contract.html"
GROUPS = [
    ("customer", gettext_lazy("Customer")),
    ("owner", gettext_lazy("Sales rep")),
    ("unit", gettext_lazy("Unit")),
]


def opportunity_panel(request, opportunity):
    """A card on the opportunity overview: {"template": …, "data": {…}}, or None."""
    return None


def _contract(request, contract_id):
    try:
        return selectors.contract_get_for(actor=request.user, contract_id=contract_id)
    except NotFound as exc:
        raise Http404 from exc


def _back(request, contract) -> str:
    """Where a card form returns: this app's payments page when posted from there, else the contract page."""
    if request.POST.get("next") == "card":
        return f"/receivables/contracts/{contract.pk}/"
    return f"/contracts/{contract.pk}/"


def _panel_data(request, contract, *, standalone: bool) -> dict:
    today = timezone.localdate()
    plan = selectors.plan_of(contract=contract, on=today)
    return {
        "contract": contract,
        "plan": plan,
        "summary": selectors.contract_payment_summary(contract=contract, on=today),
        "receipts": selectors.receipts_of(contract=contract, size=50).items,
        "invoices": selectors.invoices_of(contract=contract, size=50).items,
        "can_edit": scoping.can_edit(request.user, contract),
        "plan_open": contract.status in services.PLAN_STATUSES,
        "money_open": contract.status in services.MONEY_STATUSES,
        "plan_form": plan_formset(rows=[vars(i) for i in plan], blank=1 if plan else 3),
        "split_form": SplitForm(initial={"first_due_on": today}),
        "receipt_form": ReceiptForm(instalments=plan),
        "invoice_form": InvoiceForm(),
        "next": "card" if standalone else "",
    }


def contract_panel(request, contract):
    """A card on the contract page: {"template": …, "data": {…}}, or None."""
    return {"template": PANEL, "data": _panel_data(request, contract, standalone=False)}


# --- reports ------------------------------------------------------------------------------------------------------


@login_required
def receivables(request):
    """Aging by customer, rep or unit, and the expected cash by month."""
    group = request.GET.get("group") or "customer"
    if group not in selectors.GROUPS:
        group = "customer"
    filters = filters_from(request, selectors.ReceivablesFilters)
    aging = selectors.receivables_aging(actor=request.user, group=group, filters=filters)
    cash = selectors.expected_cash(actor=request.user, filters=filters)
    return render_page(
        request,
        "sales/payments/receivables.html",
        {
            "aging": aging,
            "cash": cash,
            "group": group,
            "groups": GROUPS,
            "filter_param": {"customer": "customer", "owner": "owner", "unit": "unit"}[group],
            "query": query_without(request, "group"),
            "missing": sorted(aging.missing_rates | cash.missing_rates),
        },
    )


@login_required
def overdue(request):
    filters = filters_from(request, selectors.ReceivablesFilters)
    try:
        page = selectors.overdue_instalments(
            actor=request.user, filters=filters, cursor=request.GET.get("cursor"), size=50
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("payments:overdue")
    return render_page(
        request,
        "sales/payments/overdue.html",
        {
            "page": page,
            "filters": filters,
            "owners": assignable_users(actor=request.user),
            "units": units_visible(actor=request.user),
            "query": query_without(request, "cursor"),
        },
        partial="rows",
    )


# --- one contract -------------------------------------------------------------------------------------------------


@login_required
def contract_payments(request, contract_id: int):
    """The payments card of one contract on a page of its own."""
    contract = _contract(request, contract_id)
    return render_page(
        request,
        "sales/payments/contract.html",
        {"contract": contract, "data": _panel_data(request, contract, standalone=True)},
    )


@login_required
def plan_edit(request, contract_id: int):
    """GET: the plan editor, with the current plan or (given parts, first_due_on, every_months) an even split
    of the contract amount. POST: save the plan and return to the contract."""
    contract = _contract(request, contract_id)
    split = SplitForm(request.GET if "parts" in request.GET else None)
    back_next = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST":
        formset = plan_formset(data=request.POST)
        if formset.is_valid():
            try:
                services.payment_plan_set(
                    actor=request.user, contract=contract, instalments=plan_rows(formset)
                )
            except ApplicationError as exc:
                formset.error = str(exc.message)
                formset.field_errors = exc.fields
            else:
                messages.success(request, _("Payment plan saved."))
                return redirect(_back(request, contract))
    elif split.is_bound and split.is_valid():
        try:
            rows = services.payment_plan_split(actor=request.user, contract=contract, **split.cleaned_data)
        except ApplicationError as exc:
            apply_error(split, exc)
            rows = []
        formset = plan_formset(rows=rows, blank=0 if rows else 3)
    else:
        rows = [vars(i) for i in selectors.plan_of(contract=contract)]
        formset = plan_formset(rows=rows, blank=1 if rows else 3)
    return render_page(
        request,
        "sales/payments/plan.html",
        {
            "contract": contract,
            "formset": formset,
            "split_form": split
            if split.is_bound
            else SplitForm(initial={"first_due_on": timezone.localdate()}),
            "next": back_next,
            "can_edit": scoping.can_edit(request.user, contract),
        },
        status=422 if request.method == "POST" else 200,
    )


def _form_failed(request, form) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


def _service_failed(request, exc: ApplicationError) -> None:
    if exc.fields:
        for message in dict.fromkeys(str(m) for m in exc.fields.values()):
            messages.error(request, message)
    else:
        flash_error(request, exc)


@login_required
@require_POST
def receipt_create(request, contract_id: int):
    contract = _contract(request, contract_id)
    form = ReceiptForm(request.POST, instalments=selectors.plan_of(contract=contract))
    if not form.is_valid():
        _form_failed(request, form)
        return redirect(_back(request, contract))
    data = form.cleaned_data
    try:
        services.receipt_record(
            actor=request.user,
            contract=contract,
            received_on=data["received_on"],
            amount=data["amount"],
            method=data["method"],
            reference=data["reference"],
            note=data["note"],
            allocations=form.allocations(),
        )
    except ApplicationError as exc:
        _service_failed(request, exc)
    else:
        messages.success(request, _("Receipt recorded."))
    return redirect(_back(request, contract))


def _void(request, contract_id: int, record_id: int, *, get_for, service, keyword: str, done: str):
    """Void a receipt or an invoice of the contract (the record stays, marked void, with the reason)."""
    contract = _contract(request, contract_id)
    record = get_for(actor=request.user, **{f"{keyword}_id": record_id})
    if record.contract_id != contract.pk:
        raise Http404
    form = VoidForm(request.POST)
    if not form.is_valid():
        _form_failed(request, form)
        return redirect(_back(request, contract))
    try:
        service(actor=request.user, reason=form.cleaned_data["reason"], **{keyword: record})
    except ApplicationError as exc:
        _service_failed(request, exc)
    else:
        messages.success(request, done)
    return redirect(_back(request, contract))


@login_required
@require_POST
def receipt_void(request, contract_id: int, receipt_id: int):
    return _void(
        request,
        contract_id,
        receipt_id,
        get_for=selectors.receipt_get_for,
        service=services.receipt_void,
        keyword="receipt",
        done=_("Receipt voided."),
    )


@login_required
@require_POST
def invoice_create(request, contract_id: int):
    contract = _contract(request, contract_id)
    form = InvoiceForm(request.POST)
    if not form.is_valid():
        _form_failed(request, form)
        return redirect(_back(request, contract))
    try:
        services.invoice_record(actor=request.user, contract=contract, **form.cleaned_data)
    except ApplicationError as exc:
        _service_failed(request, exc)
    else:
        messages.success(request, _("Invoice recorded."))
    return redirect(_back(request, contract))


@login_required
@require_POST
def invoice_void(request, contract_id: int, invoice_id: int):
    return _void(
        request,
        contract_id,
        invoice_id,
        get_for=selectors.invoice_get_for,
        service=services.invoice_void,
        keyword="invoice",
        done=_("Invoice voided."),
    )
