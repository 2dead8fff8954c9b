"""Pages for contracts: the list, drafting (from a won deal, an accepted quote or a customer), the contract page
with its status actions, approval rounds, files and history, and the approver's inbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError, StaleEdit
from kehu.core.web import (
    apply_error,
    filters_from,
    flash_error,
    perform,
    query_without,
    render_page,
    stale_context,
)
from kehu.customers import selectors as customer_selectors
from kehu.sales.forms.contracts import AttachmentForm, ContractForm, DecisionForm, TerminateForm
from kehu.sales.models import Contract, ContractApproval, Stage
from kehu.sales.selectors import contracts as selectors
from kehu.sales.selectors.opportunities import opportunity_get_for
from kehu.sales.services import contracts as services
from kehu.users import scoping
from kehu.users.selectors import assignable_users

STATUS_COLORS = {
    Contract.Status.DRAFT: "secondary",
    Contract.Status.PENDING: "warning",
    Contract.Status.ACTIVE: "success",
    Contract.Status.COMPLETED: "primary",
    Contract.Status.TERMINATED: "dark",
}
APPROVAL_COLORS = {
    ContractApproval.Status.WAITING: "light",
    ContractApproval.Status.PENDING: "warning",
    ContractApproval.Status.APPROVED: "success",
    ContractApproval.Status.REJECTED: "danger",
    ContractApproval.Status.CANCELLED: "secondary",
}


def opportunity_panel(request, opportunity):
    """A card on the opportunity overview: its contracts, and a "New contract" link when it is won and the
    user may edit it."""
    contracts = selectors.contracts_of_opportunity(actor=request.user, opportunity=opportunity)
    can_create = opportunity.status == Stage.Outcome.WON and scoping.can_edit(request.user, opportunity)
    if not contracts and not can_create:
        return None
    return {
        "template": "sales/contracts/_panel_opportunity.html",
        "data": {
            "contracts": contracts,
            "can_create": can_create,
            "opportunity": opportunity,
            "colors": STATUS_COLORS,
        },
    }


def contract_panel(request, contract):
    """A card on the contract page: {"template": …, "data": {…}}, or None."""
    return None


@login_required
def contract_list(request):
    filters = filters_from(request, selectors.ContractFilters)
    try:
        page = selectors.contract_list(
            actor=request.user, filters=filters, cursor=request.GET.get("cursor"), size=50
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("contracts:list")
    return render_page(
        request,
        "sales/contracts/list.html",
        {
            "page": page,
            "filters": filters,
            "owners": assignable_users(actor=request.user),
            "statuses": Contract.Status.choices,
            "colors": STATUS_COLORS,
            "query": query_without(request, "cursor"),
        },
        partial="rows",
    )


def _source(request):
    """The opportunity, quote or customer a new contract starts from (?opportunity=, ?quote=, ?customer=)."""
    params = request.POST if request.method == "POST" else request.GET
    actor = request.user
    opportunity = quote = customer = None
    if params.get("quote"):
        quote = selectors.quote_get_for(actor=actor, quote_id=params["quote"])
        opportunity, customer = quote.opportunity, quote.customer
    elif params.get("opportunity"):
        opportunity = opportunity_get_for(actor=actor, opportunity_id=params["opportunity"])
        customer = opportunity.customer
    elif params.get("customer"):
        customer = customer_selectors.customer_get_for(actor=actor, customer_id=params["customer"])
    return opportunity, quote, customer


@login_required
def contract_create(request):
    """A new contract: from ?opportunity= or ?quote= (prefilled), or for a customer picked first."""
    opportunity, quote, customer = _source(request)
    if customer is None:
        q = request.GET.get("q", "").strip()
        found = customer_selectors.search(actor=request.user, q=q, limit=20)["customers"] if q else []
        return render(request, "sales/contracts/pick_customer.html", {"q": q, "found": found})
    initial = {}
    if quote is not None:
        initial = {
            "title": quote.title,
            "amount": quote.total,
            "currency": quote.currency,
            "terms": quote.terms,
        }
    elif opportunity is not None:
        initial = {"title": opportunity.name, "amount": opportunity.amount, "currency": opportunity.currency}
    form = ContractForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if opportunity is None:
            data["customer"] = customer
        try:
            contract = services.contract_create(
                actor=request.user, data=data, opportunity=opportunity if quote is None else None, quote=quote
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Contract %(number)s drafted.") % {"number": contract.number})
            return redirect("contracts:detail", contract_id=contract.pk)
    return render(
        request,
        "sales/contracts/form.html",
        {"form": form, "customer": customer, "opportunity": opportunity, "quote": quote},
        status=422 if form.is_bound else 200,
    )


@login_required
def contract_detail(request, contract_id: int):
    contract = selectors.contract_get_for(actor=request.user, contract_id=contract_id)
    tab = request.GET.get("tab", "overview")
    can_edit = scoping.can_edit(request.user, contract)
    context = {
        "contract": contract,
        "tab": tab,
        "tabs": [("overview", _("Overview")), ("history", _("History"))],
        "can_edit": can_edit,
        "is_owner": contract.owner_id == request.user.pk,
        "files_open": can_edit and contract.status in (Contract.Status.DRAFT, Contract.Status.ACTIVE),
        "colors": STATUS_COLORS,
        "approval_colors": APPROVAL_COLORS,
    }
    if tab == "history":
        context["history"] = selectors.contract_history(contract=contract)
    else:
        context["tab"] = "overview"
        context["rounds"] = selectors.approval_rounds(contract=contract)
        context["attachments"] = selectors.contract_attachments(contract=contract)
        context["attachment_form"] = AttachmentForm()
        context["terminate_form"] = TerminateForm()
        from kehu.sales.views.panels import contract_panels  # panels imports this module

        context["panels"] = contract_panels(request, contract)
    return render_page(request, "sales/contracts/detail.html", context, partial="tab")


@login_required
def contract_edit(request, contract_id: int):
    contract = selectors.contract_get_for(actor=request.user, contract_id=contract_id)
    initial = {name: getattr(contract, name) for name in services.EDITABLE_FIELDS}
    form = ContractForm(request.POST or None, initial=initial)
    context = {
        "form": form,
        "contract": contract,
        "customer": contract.customer,
        "version": request.POST.get("version", contract.version),
    }
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_update(
                actor=request.user,
                contract=contract,
                data=form.service_data(),
                version=request.POST.get("version"),
            )
        except StaleEdit as exc:
            context.update(stale_context(exc))
            context["version"] = exc.current_version
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Contract saved."))
            return redirect("contracts:detail", contract_id=contract.pk)
    return render(request, "sales/contracts/form.html", context, status=422 if form.is_bound else 200)


def _action(request, contract_id: int, action, success: str):
    contract = selectors.contract_get_for(actor=request.user, contract_id=contract_id)
    return perform(
        request,
        lambda: action(contract),
        success=success,
        then=reverse("contracts:detail", args=[contract.pk]),
    )


@login_required
@require_POST
def contract_submit(request, contract_id: int):
    contract = selectors.contract_get_for(actor=request.user, contract_id=contract_id)
    try:
        contract = services.contract_submit(actor=request.user, contract=contract)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        if contract.status == Contract.Status.ACTIVE:
            messages.success(request, _("No approval is needed for this amount: the contract is active."))
        else:
            messages.success(request, _("Contract submitted for approval."))
    return redirect("contracts:detail", contract_id=contract.pk)


@login_required
@require_POST
def contract_withdraw(request, contract_id: int):
    return _action(
        request,
        contract_id,
        lambda c: services.contract_withdraw(actor=request.user, contract=c),
        _("Contract withdrawn from approval; it is a draft again."),
    )


@login_required
@require_POST
def contract_complete(request, contract_id: int):
    return _action(
        request,
        contract_id,
        lambda c: services.contract_complete(actor=request.user, contract=c),
        _("Contract completed."),
    )


@login_required
@require_POST
def contract_terminate(request, contract_id: int):
    return _action(
        request,
        contract_id,
        lambda c: services.contract_terminate(
            actor=request.user, contract=c, reason=request.POST.get("reason", "")
        ),
        _("Contract terminated."),
    )


@login_required
@require_POST
def contract_delete(request, contract_id: int):
    contract = selectors.contract_get_for(actor=request.user, contract_id=contract_id)
    try:
        services.contract_delete(actor=request.user, contract=contract)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("contracts:detail", contract_id=contract.pk)
    messages.success(request, _("“%(name)s” moved to the recycle bin.") % {"name": contract.number})
    return redirect("contracts:list")


@login_required
@require_POST
def attachment_add(request, contract_id: int):
    contract = selectors.contract_get_for(actor=request.user, contract_id=contract_id)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to upload."))
    else:
        try:
            services.contract_attachment_add(
                actor=request.user, contract=contract, upload=form.cleaned_data["file"]
            )
        except ApplicationError as exc:
            messages.error(request, " ".join(str(m) for m in exc.fields.values()) or str(exc.message))
        else:
            messages.success(request, _("File attached."))
    return redirect("contracts:detail", contract_id=contract.pk)


@login_required
def attachment_download(request, attachment_id: int):
    """Files are served only through here, for those who see the contract or are asked to approve it."""
    attachment = selectors.attachment_get_for(actor=request.user, attachment_id=attachment_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@login_required
@require_POST
def attachment_remove(request, attachment_id: int):
    attachment = selectors.attachment_get_for(actor=request.user, attachment_id=attachment_id)
    return perform(
        request,
        lambda: services.contract_attachment_remove(actor=request.user, attachment=attachment),
        success=_("File removed."),
        then=reverse("contracts:detail", args=[attachment.contract_id]),
    )


# --- approvals ----------------------------------------------------------------------------------------------------


@login_required
def approval_inbox(request):
    """The approvals waiting for the user, each with what is needed to decide (terms, amount, files, the
    decisions already taken in the round), even for a contract outside the user's data scope."""
    decided = request.GET.get("show") == "decided"
    page = selectors.approval_inbox(
        actor=request.user, status="" if decided else ContractApproval.Status.PENDING, size=50
    )
    items = page.items
    rounds = selectors.round_decisions(approvals=items)
    files = selectors.attachments_of(contract_ids=[a.contract_id for a in items])
    return render(
        request,
        "sales/contracts/approvals.html",
        {
            "items": [
                {
                    "approval": a,
                    "round": rounds.get((a.contract_id, a.round), []),
                    "files": files.get(a.contract_id, []),
                }
                for a in items
            ],
            "decided": decided,
            "colors": STATUS_COLORS,
            "approval_colors": APPROVAL_COLORS,
            "form": DecisionForm(),
        },
    )


def _decide(request, approval_id: int, decide, success: str):
    approval = selectors.approval_get_for(actor=request.user, approval_id=approval_id)
    form = DecisionForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    try:
        decide(approval, comment)
    except ApplicationError as exc:
        messages.error(request, " ".join(str(m) for m in exc.fields.values()) or str(exc.message))
    else:
        messages.success(request, success % {"number": approval.contract.number})
    return redirect("contracts:approvals")


@login_required
@require_POST
def approval_approve(request, approval_id: int):
    return _decide(
        request,
        approval_id,
        lambda a, comment: services.contract_approve(actor=request.user, approval=a, comment=comment),
        _("Contract %(number)s approved."),
    )


@login_required
@require_POST
def approval_reject(request, approval_id: int):
    return _decide(
        request,
        approval_id,
        lambda a, comment: services.contract_reject(actor=request.user, approval=a, comment=comment),
        _("Contract %(number)s rejected."),
    )


def navigation(request) -> dict:
    """Context processor for the top bar: how many contract approvals wait for the user (one COUNT)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"kehu_pending_approvals": selectors.pending_approval_count(actor=user)}
