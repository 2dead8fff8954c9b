"""Pages for quotes: the list, a quote with its revisions and the actions its status allows, the header and
lines forms, the PDF download, and the quotes card on the opportunity page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError, StaleEdit, ValidationFailed
from kehu.core.web import (
    apply_error,
    filters_from,
    flash_error,
    perform,
    query_without,
    render_page,
    stale_context,
)
from kehu.sales.forms.quotes import QuoteForm, RejectForm
from kehu.sales.models import Quote
from kehu.sales.money import cny_in_words
from kehu.sales.pdf import quote_pdf, quote_pdf_filename
from kehu.sales.selectors import opportunities as opportunity_selectors
from kehu.sales.selectors import products as product_selectors
from kehu.sales.selectors import quotes as selectors
from kehu.sales.services import quotes as services
from kehu.sales.views.lines import place_errors, posted_lines
from kehu.users import scoping

STATUS_COLORS = {
    "draft": "secondary",
    "sent": "primary",
    "accepted": "success",
    "rejected": "danger",
    "expired": "warning",
    "superseded": "light",
}
PAGE_SIZE = 50
EXTRA_LINE_ROWS = 3


def _detail(quote: Quote):
    return redirect("quotes:detail", quote_id=quote.pk)


@login_required
def quote_list(request):
    filters = filters_from(request, selectors.QuoteFilters)
    try:
        page = selectors.quote_list(
            actor=request.user, filters=filters, cursor=request.GET.get("cursor"), size=PAGE_SIZE
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("quotes:list")
    return render_page(
        request,
        "sales/quotes/list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Quote.Status.choices,
            "colors": STATUS_COLORS,
            "query": query_without(request, "cursor"),
        },
        partial="rows",
    )


@login_required
def quote_detail(request, quote_id: int):
    quote = selectors.quote_get_for(actor=request.user, quote_id=quote_id)
    can_edit = scoping.can_edit(request.user, quote.opportunity)
    newest = selectors.quote_is_newest(quote=quote)
    status = quote.status
    return render(
        request,
        "sales/quotes/detail.html",
        {
            "quote": quote,
            "lines": selectors.quote_lines(quote=quote),
            "revisions": selectors.quote_revisions(quote=quote),
            "colors": STATUS_COLORS,
            "in_words": cny_in_words(quote.total) if quote.currency == "CNY" else "",
            "can_edit": can_edit,
            "can_change": can_edit and status == Quote.Status.DRAFT,
            "can_send": can_edit and newest and status == Quote.Status.DRAFT,
            "can_decide": can_edit and newest and status == Quote.Status.SENT,
            "can_revise": can_edit and newest and status != Quote.Status.ACCEPTED,
            "reject_form": RejectForm(),
        },
    )


@login_required
@require_POST
def quote_create(request):
    """ "New quote" on an opportunity: a draft from its products, then the quote's page."""
    opportunity = opportunity_selectors.opportunity_get_for(
        actor=request.user, opportunity_id=request.POST.get("opportunity")
    )
    try:
        quote = services.quote_create(actor=request.user, opportunity=opportunity)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("sales:detail", opportunity_id=opportunity.pk)
    messages.success(request, _("Quote %(number)s created.") % {"number": quote.label})
    return _detail(quote)


@login_required
def quote_edit(request, quote_id: int):
    quote = selectors.quote_get_for(actor=request.user, quote_id=quote_id)
    if quote.status != Quote.Status.DRAFT:
        messages.error(request, _("Only a draft quote can change. Make a new revision to change it."))
        return _detail(quote)
    contacts = opportunity_selectors.contact_choices(
        actor=request.user, customer=quote.customer, opportunity=quote.opportunity
    )
    initial = {name: getattr(quote, name) for name in services.QUOTE_FIELDS if name != "contact"}
    initial["contact"] = quote.contact_id
    form = QuoteForm(request.POST or None, contacts=contacts, initial=initial)
    context = {"form": form, "quote": quote, "version": request.POST.get("version", quote.version)}
    if request.method == "POST" and form.is_valid():
        try:
            services.quote_update(
                actor=request.user, quote=quote, data=form.service_data(), version=request.POST.get("version")
            )
        except StaleEdit as exc:
            context.update(stale_context(exc))
            context["version"] = exc.current_version
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Quote saved."))
            return _detail(quote)
    return render(request, "sales/quotes/form.html", context, status=422 if form.is_bound else 200)


@login_required
def quote_lines(request, quote_id: int):
    """A draft's products: quantity, unit price (the quote's price list when left empty), discount and tax rate
    (the product's when left empty); the totals follow."""
    quote = selectors.quote_get_for(actor=request.user, quote_id=quote_id)
    if quote.status != Quote.Status.DRAFT:
        messages.error(request, _("Only a draft quote can change. Make a new revision to change it."))
        return _detail(quote)
    products = {p.pk: p for p in product_selectors.product_list()}
    error, stale, version = "", {}, quote.version
    if request.method == "POST":
        version = request.POST.get("version")
        rows, lines = posted_lines(
            request.POST, products=products, numbers=("quantity", "unit_price", "discount", "tax_rate")
        )
        lines = [
            {**{k: v for k, v in line.items() if k != "product"}, "product_id": row["product_id"]}
            for row, line in zip(rows, lines, strict=True)
        ]
        if not any(row["errors"] for row in rows):
            try:
                services.quote_lines_set(actor=request.user, quote=quote, lines=lines, version=version)
            except StaleEdit as exc:
                error, stale, version = str(exc.message), stale_context(exc), exc.current_version
            except ApplicationError as exc:
                error = str(exc.message)
                place_errors(rows, exc)
            else:
                messages.success(request, _("Products saved."))
                return _detail(quote)
        else:
            error = _("Please correct the errors below.")
    else:
        rows = [
            {
                "product_id": line.product_id,
                "quantity": line.quantity.normalize(),
                "unit_price": line.unit_price,
                "discount": line.discount.normalize() if line.discount else "",
                "tax_rate": line.tax_rate.normalize(),
                "amount": line.amount,
                "errors": {},
            }
            for line in selectors.quote_lines(quote=quote)
        ]
    rows += [{"product_id": None, "amount": None, "errors": {}} for _row in range(EXTRA_LINE_ROWS)]
    return render(
        request,
        "sales/quotes/lines.html",
        {
            "quote": quote,
            "rows": rows,
            "products": products.values(),
            "error": error,
            "version": version,
            **stale,
        },
        status=422 if error else 200,
    )


@login_required
@require_POST
def quote_send(request, quote_id: int):
    quote = selectors.quote_get_for(actor=request.user, quote_id=quote_id)
    return perform(
        request,
        lambda: services.quote_send(actor=request.user, quote=quote),
        success=_("Quote %(number)s marked as sent.") % {"number": quote.label},
        then=reverse("quotes:detail", args=[quote.pk]),
    )


@login_required
@require_POST
def quote_accept(request, quote_id: int):
    quote = selectors.quote_get_for(actor=request.user, quote_id=quote_id)
    try:
        result = services.quote_accept(
            actor=request.user, quote=quote, win_opportunity=bool(request.POST.get("win_opportunity"))
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return _detail(quote)
    messages.success(request, _("Quote %(number)s accepted.") % {"number": quote.label})
    if result.opportunity_moved:
        messages.success(request, _("The opportunity is won."))
    elif result.not_moved_reason:
        messages.warning(request, result.not_moved_reason)
    return _detail(quote)


@login_required
@require_POST
def quote_reject(request, quote_id: int):
    quote = selectors.quote_get_for(actor=request.user, quote_id=quote_id)
    form = RejectForm(request.POST)

    def reject():
        if not form.is_valid():
            raise ValidationFailed(_("Say why the customer rejected the quote."))
        services.quote_reject(actor=request.user, quote=quote, reason=form.cleaned_data["reason"])

    return perform(
        request,
        reject,
        success=_("Quote %(number)s marked as rejected.") % {"number": quote.label},
        then=reverse("quotes:detail", args=[quote.pk]),
    )


@login_required
@require_POST
def quote_revise(request, quote_id: int):
    quote = selectors.quote_get_for(actor=request.user, quote_id=quote_id)
    try:
        revision = services.quote_revise(actor=request.user, quote=quote)
    except ApplicationError as exc:
        flash_error(request, exc)
        return _detail(quote)
    messages.success(request, _("Revision %(revision)s created.") % {"revision": revision.revision})
    return _detail(revision)


@login_required
@require_POST
def quote_delete(request, quote_id: int):
    quote = selectors.quote_get_for(actor=request.user, quote_id=quote_id)
    try:
        services.quote_delete(actor=request.user, quote=quote)
    except ApplicationError as exc:
        flash_error(request, exc)
        return _detail(quote)
    messages.success(request, _("“%(name)s” moved to the recycle bin.") % {"name": quote.label})
    return redirect("sales:detail", opportunity_id=quote.opportunity_id)


@login_required
def quote_pdf_download(request, quote_id: int):
    quote = selectors.quote_get_for(actor=request.user, quote_id=quote_id)
    response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote_pdf_filename(quote)}"'
    return response


def opportunity_panel(request, opportunity):
    """A card on the opportunity overview: its quotes, and "New quote" for those who may edit it."""
    return {
        "template": "sales/quotes/_panel_opportunity.html",
        "data": {
            "opportunity": opportunity,
            "quotes": selectors.quotes_of_opportunity(actor=request.user, opportunity=opportunity),
            "colors": STATUS_COLORS,
            "can_create": scoping.can_edit(request.user, opportunity),
        },
    }


def contract_panel(request, contract):
    """A card on the contract page: {"template": …, "data": {…}}, or None."""
    return None
