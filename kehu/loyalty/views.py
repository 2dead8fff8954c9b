"""Loyalty pages: members (list and page), the tier ladder and settings, coupons, redemption, and the small page
where an invited customer is entered with the invitation code. Plus the membership panel on the customer page
and the coupon definitions in the recycle bin."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError, NotFound
from kehu.core.exports import ExportColumn, export_response
from kehu.core.web import apply_error, filters_from, flash_error, perform, query_without, render_page
from kehu.loyalty import selectors, services
from kehu.loyalty.forms import (
    AdjustForm,
    DefinitionForm,
    GenerateForm,
    IssueManyForm,
    IssueOneForm,
    RedeemCouponWithPointsForm,
    RedeemForm,
    RedeemGiftForm,
    ReferralForm,
    SettingsForm,
    TierForm,
    TierSetForm,
)
from kehu.loyalty.models import Coupon, Member
from kehu.loyalty.services.common import lowest_tier


def _found(lookup):
    try:
        return lookup()
    except NotFound as exc:
        raise Http404 from exc


def _configure_or_403(request) -> None:
    if not services.may_configure(request.user):
        raise DjangoPermissionDenied


# --- members ------------------------------------------------------------------------------------------------------


@login_required
def member_list(request):
    filters = filters_from(request, selectors.MemberFilters)
    try:
        page = selectors.member_list(actor=request.user, filters=filters, cursor=request.GET.get("cursor"))
    except ApplicationError as exc:
        flash_error(request, exc)
        page = selectors.member_list(actor=request.user, filters=filters)
    context = {
        "page": page,
        "filters": filters,
        "tiers": selectors.tier_list(),
        "settings": services.settings_get(),
        "more_query": query_without(request, "cursor"),
    }
    return render_page(request, "loyalty/members.html", context, partial="rows")


def _member_context(request, customer, member, **forms) -> dict:
    actor = request.user
    try:
        ledger = selectors.ledger_page(customer=customer, cursor=request.GET.get("cursor"))
    except ApplicationError as exc:
        flash_error(request, exc)
        ledger = selectors.ledger_page(customer=customer)
    tiers = selectors.tier_list()
    shown = member or Member(customer=customer, tier=lowest_tier())
    referrals = selectors.referrals_of(actor=actor, customer=customer)
    code = member.referral_code if member else None
    return {
        "customer": customer,
        "member": member,
        "shown": shown,
        "tiers": tiers,
        "settings": services.settings_get(),
        "next_tier": next((t for t in tiers if t.position > shown.tier.position), None),
        "ledger": ledger,
        "history": selectors.tier_history(customer=customer),
        "coupons": selectors.coupons_of(customer=customer),
        "referrals": referrals,
        "referral_code": code,
        "referral_link": services.referral_link(code=code, request=request) if code else "",
        "may_adjust": services.may_adjust(actor, customer),
        "may_work": services.may_work(actor),
        "adjust_form": forms.get("adjust_form") or AdjustForm(),
        "tier_form": forms.get("tier_form") or TierSetForm(),
        "coupon_form": forms.get("coupon_form")
        or RedeemCouponWithPointsForm(initial={"key": uuid.uuid4().hex}),
        "gift_form": forms.get("gift_form") or RedeemGiftForm(initial={"key": uuid.uuid4().hex}),
        "issue_form": forms.get("issue_form") or IssueOneForm(),
        "more_query": query_without(request, "cursor"),
    }


@login_required
def member_detail(request, customer_id: int):
    customer, member = _found(lambda: selectors.member_get_for(actor=request.user, customer_id=customer_id))
    context = _member_context(request, customer, member)
    return render_page(request, "loyalty/member.html", context, partial="ledger_rows")


def _member_form_post(request, customer_id: int, form_class, form_name: str, action, success: str):
    """A member page form: run the service on a valid form, else show the page again with the errors."""
    customer, member = _found(lambda: selectors.member_get_for(actor=request.user, customer_id=customer_id))
    form = form_class(request.POST)
    if form.is_valid():
        try:
            action(customer, form.cleaned_data)
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, success)
            return redirect("loyalty:member", customer_id=customer.pk)
    context = _member_context(request, customer, member, **{form_name: form})
    return render_page(request, "loyalty/member.html", context, status=422)


@login_required
@require_POST
def member_adjust(request, customer_id: int):
    return _member_form_post(
        request,
        customer_id,
        AdjustForm,
        "adjust_form",
        lambda customer, data: services.points_adjust(
            actor=request.user, customer=customer, points=data["points"], reason=data["reason"]
        ),
        _("Points adjusted."),
    )


@login_required
@require_POST
def member_tier(request, customer_id: int):
    return _member_form_post(
        request,
        customer_id,
        TierSetForm,
        "tier_form",
        lambda customer, data: services.member_tier_set(
            actor=request.user, customer=customer, tier=data["tier"], reason=data["reason"]
        ),
        _("Tier changed."),
    )


@login_required
@require_POST
def member_redeem_coupon(request, customer_id: int):
    return _member_form_post(
        request,
        customer_id,
        RedeemCouponWithPointsForm,
        "coupon_form",
        lambda customer, data: services.points_redeem_for_coupon(
            actor=request.user, customer=customer, definition=data["definition"], key=data["key"]
        ),
        _("Coupon issued for points."),
    )


@login_required
@require_POST
def member_redeem_gift(request, customer_id: int):
    return _member_form_post(
        request,
        customer_id,
        RedeemGiftForm,
        "gift_form",
        lambda customer, data: services.points_redeem_gift(
            actor=request.user, customer=customer, points=data["points"], gift=data["gift"], key=data["key"]
        ),
        _("Points exchanged for the gift."),
    )


@login_required
@require_POST
def member_issue(request, customer_id: int):
    return _member_form_post(
        request,
        customer_id,
        IssueOneForm,
        "issue_form",
        lambda customer, data: services.coupon_issue(
            actor=request.user, definition=data["definition"], customer=customer
        ),
        _("Coupon issued."),
    )


@login_required
@require_POST
def member_evaluate(request, customer_id: int):
    customer, _member = _found(lambda: selectors.member_get_for(actor=request.user, customer_id=customer_id))
    return perform(
        request,
        lambda: services.member_evaluate(actor=request.user, customer=customer),
        success=_("Tier evaluated."),
        then=reverse("loyalty:member", args=[customer.pk]),
    )


@login_required
@require_POST
def member_referral_code(request, customer_id: int):
    customer, _member = _found(lambda: selectors.member_get_for(actor=request.user, customer_id=customer_id))
    return perform(
        request,
        lambda: services.member_referral_code(actor=request.user, customer=customer),
        success=_("Invitation code made."),
        then=reverse("loyalty:member", args=[customer.pk]),
    )


def customer_tab_context(*, request, customer, tab) -> dict:
    """`customer.tab` hook: the overview shows a membership panel (tier, points, what expires next)."""
    if tab != "overview":
        return {}
    member = selectors.membership_of(customer=customer)
    return {"loyalty_member": member, "overview_panels": ["loyalty/_customer_panel.html"]}


# --- referrals ----------------------------------------------------------------------------------------------------


@login_required
def referral_new(request):
    """Enter a customer who came with an invitation code (a new customer, or one already in Kehu)."""
    from kehu.customers.selectors import customer_get_for

    form = ReferralForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["existing"]:
                invitee = customer_get_for(actor=request.user, customer_id=data["existing"])
                referral = services.referral_record(actor=request.user, invitee=invitee, code=data["code"])
            else:
                invitee, referral = services.referral_customer_create(
                    actor=request.user,
                    code=data["code"],
                    data={
                        "name": data["name"].strip(),
                        "kind": data["kind"],
                        "phone": data["phone"],
                        "email": data["email"],
                    },
                )
        except NotFound:
            form.add_error("existing", _("No such customer among those you see."))
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            if referral.status == referral.Status.REFUSED:
                messages.warning(
                    request,
                    _("Linked, but the invitation earns nothing: %(why)s")
                    % {
                        "why": " ".join(
                            filter(None, [referral.get_refusal_display(), referral.refusal_detail])
                        )
                    },
                )
            else:
                messages.success(request, _("The customer is linked to the member who invited them."))
            return redirect("loyalty:member", customer_id=invitee.pk)
    return render_page(
        request, "loyalty/referral_new.html", {"form": form}, status=422 if form.errors else 200
    )


# --- tiers and settings -------------------------------------------------------------------------------------------


@login_required
def tier_list(request):
    return render_page(
        request,
        "loyalty/tiers.html",
        {
            "tiers": selectors.tier_list(),
            "settings": services.settings_get(),
            "may_configure": services.may_configure(request.user),
        },
    )


@login_required
def tier_edit(request, tier_id: int | None = None):
    _configure_or_403(request)
    tier = _found(lambda: selectors.tier_get(tier_id=tier_id)) if tier_id else None
    form = TierForm(request.POST or None, instance=tier)
    if request.method == "POST" and form.is_valid():
        try:
            services.tier_save(actor=request.user, tier=tier, data=form.cleaned_data)
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Tier saved."))
            return redirect("loyalty:tiers")
    return render_page(
        request, "loyalty/tier_form.html", {"form": form, "tier": tier}, status=422 if form.errors else 200
    )


@login_required
@require_POST
def tier_delete(request, tier_id: int):
    tier = _found(lambda: selectors.tier_get(tier_id=tier_id))
    return perform(
        request,
        lambda: services.tier_delete(actor=request.user, tier=tier),
        success=_("Tier deleted."),
        then=reverse("loyalty:tiers"),
    )


@login_required
def settings_edit(request):
    _configure_or_403(request)
    form = SettingsForm(request.POST or None, instance=services.settings_get())
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_save(actor=request.user, data=form.cleaned_data)
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("loyalty:tiers")
    return render_page(request, "loyalty/settings.html", {"form": form}, status=422 if form.errors else 200)


# --- coupons ------------------------------------------------------------------------------------------------------


@login_required
def coupon_list(request):
    return render_page(
        request,
        "loyalty/coupons.html",
        {
            "definitions": selectors.coupon_definition_list(),
            "may_configure": services.may_configure(request.user),
        },
    )


@login_required
def coupon_edit(request, definition_id: int | None = None):
    _configure_or_403(request)
    definition = (
        _found(lambda: selectors.coupon_definition_get(definition_id=definition_id))
        if definition_id
        else None
    )
    form = DefinitionForm(request.POST or None, instance=definition)
    if request.method == "POST" and form.is_valid():
        try:
            if definition is None:
                definition = services.coupon_definition_create(actor=request.user, data=form.cleaned_data)
            else:
                version = request.POST.get("version")
                definition = services.coupon_definition_update(
                    actor=request.user,
                    definition=definition,
                    data=form.cleaned_data,
                    version=int(version) if version and version.isdigit() else None,
                )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Coupon saved."))
            return redirect("loyalty:coupon", definition_id=definition.pk)
    return render_page(
        request,
        "loyalty/coupon_form.html",
        {"form": form, "definition": definition},
        status=422 if form.errors else 200,
    )


@login_required
def coupon_detail(request, definition_id: int, **forms):
    definition = _found(lambda: selectors.coupon_definition_get(definition_id=definition_id))
    may_configure = services.may_configure(request.user)
    codes = None
    if may_configure:
        try:
            codes = selectors.coupon_codes(
                actor=request.user,
                definition=definition,
                status=request.GET.get("status", ""),
                cursor=request.GET.get("cursor"),
            )
        except ApplicationError as exc:
            flash_error(request, exc)
            codes = selectors.coupon_codes(actor=request.user, definition=definition)
    context = {
        "definition": definition,
        "counts": selectors.coupon_counts(definition),
        "codes": codes,
        "statuses": Coupon.Status.choices,
        "status": request.GET.get("status", ""),
        "may_configure": may_configure,
        "generate_form": forms.get("generate_form") or GenerateForm(),
        "issue_form": forms.get("issue_form") or IssueManyForm(),
        "skipped": forms.get("skipped"),
        "more_query": query_without(request, "cursor"),
    }
    return render_page(
        request,
        "loyalty/coupon.html",
        context,
        partial="code_rows",
        status=422 if forms.get("invalid") else 200,
    )


@login_required
@require_POST
def coupon_generate(request, definition_id: int):
    definition = _found(lambda: selectors.coupon_definition_get(definition_id=definition_id))
    form = GenerateForm(request.POST)
    if form.is_valid():
        try:
            count = services.coupon_codes_generate(
                actor=request.user, definition=definition, count=form.cleaned_data["count"]
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("%(n)s codes generated.") % {"n": count})
            return redirect("loyalty:coupon", definition_id=definition.pk)
    return coupon_detail(request, definition_id, generate_form=form, invalid=True)


@login_required
@require_POST
def coupon_issue(request, definition_id: int):
    definition = _found(lambda: selectors.coupon_definition_get(definition_id=definition_id))
    form = IssueManyForm(request.POST)
    if form.is_valid():
        try:
            result = services.coupons_issue_many(
                actor=request.user,
                definition=definition,
                customer_ids=form.cleaned_data["customer_ids"],
                source=Coupon.Source.MANUAL,
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("%(n)s coupons issued.") % {"n": len(result)})
            if not result.skipped:
                return redirect("loyalty:coupon", definition_id=definition.pk)
            return coupon_detail(request, definition_id, skipped=sorted(result.skipped.items()))
    return coupon_detail(request, definition_id, issue_form=form, invalid=True)


@login_required
def coupon_export(request, definition_id: int):
    """The codes as CSV (or Excel): those not issued, and those of customers the reader sees."""
    _configure_or_403(request)
    definition = _found(lambda: selectors.coupon_definition_get(definition_id=definition_id))
    columns = [
        ExportColumn(_("Code"), lambda c: c.code),
        ExportColumn(_("Status"), lambda c: c.get_status_display()),
        ExportColumn(_("Customer number"), lambda c: c.customer_id or ""),
        ExportColumn(_("Customer"), lambda c: c.customer.name if c.customer_id else ""),
        ExportColumn(_("Valid from"), lambda c: c.valid_from.isoformat() if c.valid_from else ""),
        ExportColumn(_("Valid until"), lambda c: c.valid_until.isoformat() if c.valid_until else ""),
        ExportColumn(_("Issued at"), lambda c: _moment(c.issued_at)),
        ExportColumn(_("Redeemed at"), lambda c: _moment(c.redeemed_at)),
        ExportColumn(_("Order"), lambda c: c.order.number if c.order_id else ""),
    ]
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return export_response(
        actor=request.user,
        target=f"coupon-codes-{definition.pk}",
        title=definition.name,
        columns=columns,
        rows=selectors.coupon_export_rows(actor=request.user, definition=definition),
        fmt=fmt,
        filters={"definition": definition.pk},
        masked=False,
    )


def _moment(value) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@login_required
@require_POST
def coupon_delete(request, definition_id: int):
    definition = _found(lambda: selectors.coupon_definition_get(definition_id=definition_id))
    return perform(
        request,
        lambda: services.coupon_definition_delete(actor=request.user, definition=definition),
        success=_("Moved to the recycle bin."),
        then=reverse("loyalty:coupons"),
    )


@login_required
@require_POST
def coupon_restore(request, definition_id: int):
    try:
        definition = services.coupon_definition_restore(actor=request.user, definition_id=definition_id)
    except NotFound as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("loyalty:coupons")
    messages.success(request, _("“%(name)s” restored.") % {"name": definition.name})
    return redirect("loyalty:coupon", definition_id=definition.pk)


@login_required
def coupon_redeem(request):
    """Record a coupon used: by the order it was used on, or by the customer."""
    from kehu.customers.selectors import customer_get_for
    from kehu.sales.selectors.orders import order_scope

    form = RedeemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        order = customer = None
        if data["order_number"]:
            orders = list(order_scope(request.user).filter(number=data["order_number"].strip())[:2])
            if len(orders) != 1:
                form.add_error("order_number", _("No such order among those you see."))
            else:
                order = orders[0]
        if data["customer"] and not form.errors:
            try:
                customer = customer_get_for(actor=request.user, customer_id=data["customer"])
            except NotFound:
                form.add_error("customer", _("No such customer among those you see."))
        if not form.errors:
            try:
                coupon = services.coupon_redeem(
                    actor=request.user, code=data["code"], order=order, customer=customer
                )
            except ApplicationError as exc:
                for key in list(exc.fields):
                    if key in ("order_id", "customer_id"):
                        exc.fields[{"order_id": "order_number", "customer_id": "customer"}[key]] = (
                            exc.fields.pop(key)
                        )
                apply_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Coupon %(code)s redeemed for %(customer)s.")
                    % {"code": coupon.code, "customer": coupon.customer.name},
                )
                return redirect("loyalty:redeem")
    return render_page(request, "loyalty/redeem.html", {"form": form}, status=422 if form.errors else 200)


def recycle_sections(*, actor) -> list[dict]:
    """`recycle.sections`: coupon definitions in the bin."""
    if not services.may_configure(actor):
        return []
    items = [
        {
            "label": row.name,
            "detail": row.value_label,
            "deleted_at": row.deleted_at,
            "deleted_by": row.deleted_by,
            "restore_url": reverse("loyalty:coupon_restore", args=[row.pk]),
        }
        for row in selectors.deleted_definitions()
    ]
    return [{"title": _("Coupons"), "items": items}] if items else []
