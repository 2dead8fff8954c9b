"""Pages of campaigns, message templates, the material library, the suppression list and a customer's consent."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core import sms
from kehu.core.exceptions import ApplicationError, NotFound, StaleEdit
from kehu.core.pagination import keyset_page
from kehu.core.web import apply_error, perform, render_page, stale_context
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get_for
from kehu.marketing import campaigns, delivery, mailmerge, messaging, previews, recycle, selectors
from kehu.marketing.campaign_forms import (
    CampaignForm,
    ConsentForm,
    MaterialForm,
    SuppressionForm,
    TemplateForm,
)
from kehu.marketing.models import Campaign, Channel, Message
from kehu.users import scoping


def _found(getter, **kwargs):
    try:
        return getter(**kwargs)
    except NotFound as exc:
        raise Http404 from exc


# --- campaigns ----------------------------------------------------------------------------------------------------


@login_required
def campaign_list(request):
    rows = (
        selectors.campaign_scope(request.user)
        .select_related("owner", "template")
        .annotate(
            sent=Count("messages", filter=Q(messages__status=Message.Status.SENT)),
            opened=Count("messages", filter=Q(messages__opened_at__isnull=False)),
        )[:200]
    )
    return render_page(request, "marketing/campaigns/list.html", {"campaigns": rows})


@login_required
def campaign_edit(request, campaign_id: int | None = None):
    actor = request.user
    campaign = (
        _found(selectors.campaign_get_for, actor=actor, campaign_id=campaign_id) if campaign_id else None
    )
    if not messaging.may_edit(actor, campaign):
        messages.error(request, _("You may not change this campaign."))
        return redirect("marketing:campaigns")
    initial = None
    if campaign is not None:
        initial = {f: getattr(campaign, f) for f in campaigns.FIELDS} | {
            "segments": list(campaign.segments.all())
        }
    elif request.GET.get("segment", "").isdigit():
        initial = {"segments": [request.GET["segment"]]}
    form = CampaignForm(request.POST or None, initial=initial, actor=actor)
    context = {"form": form, "campaign": campaign}
    if request.method == "POST" and form.is_valid():
        try:
            if campaign is None:
                campaign = campaigns.campaign_create(actor=actor, data=form.data_for_service())
            else:
                version = request.POST.get("version")
                campaign = campaigns.campaign_update(
                    actor=actor,
                    campaign=campaign,
                    data=form.data_for_service(),
                    version=int(version) if version and version.isdigit() else None,
                )
        except StaleEdit as exc:
            context.update(stale_context(exc))
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("marketing:campaign", campaign.pk)
    return render_page(request, "marketing/campaigns/form.html", context)


def _estimate(campaign: Campaign) -> dict:
    """Before sending: how many customers the segments hold for the owner and, for SMS, parts and cost."""
    audience = delivery.audience(
        campaign.owner, [s.rules for s in campaign.segments.all()], timezone.now()
    ).count()
    estimate = {"audience": audience}
    if campaign.channel == Channel.SMS and campaign.template.sms_template_id:
        text = sms.signed(campaign.template.sms_template.text)
        parts = sms.segments(text)
        estimate.update(
            text=text, length=len(text), parts=parts, cost=delivery.sms_price() * parts * audience
        )
    return estimate


@login_required
def campaign_detail(request, campaign_id: int):
    actor = request.user
    campaign = _found(selectors.campaign_get_for, actor=actor, campaign_id=campaign_id)
    status = request.GET.get("status", "")
    recipients = selectors.messages_of(actor=actor, campaign=campaign).select_related("customer")
    if status in Message.Status.values:
        recipients = recipients.filter(status=status)
    try:
        page = keyset_page(recipients, ordering=["-id"], cursor=request.GET.get("cursor"), size=50)
    except ApplicationError:
        page = keyset_page(recipients, ordering=["-id"], cursor=None, size=50)
    context = {
        "campaign": campaign,
        "results": selectors.campaign_results(actor=actor, campaign=campaign),
        "runs": list(campaign.runs.all()[:10]),
        "page": page,
        "status": status,
        "statuses": Message.Status.choices,
        "query": f"status={status}",
        "may_edit": messaging.may_edit(actor, campaign),
        "estimate": _estimate(campaign)
        if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.PAUSED)
        else None,
    }
    return render_page(request, "marketing/campaigns/detail.html", context, partial="recipients")


@login_required
@require_POST
def campaign_act(request, campaign_id: int, action: str):
    actor = request.user
    campaign = _found(selectors.campaign_get_for, actor=actor, campaign_id=campaign_id)
    then = reverse("marketing:campaign", args=[campaign.pk])
    done = {
        "launch": (campaigns.campaign_launch, _("Campaign launched.")),
        "pause": (campaigns.campaign_pause, _("Campaign paused.")),
        "cancel": (campaigns.campaign_cancel, _("Campaign cancelled.")),
        "delete": (campaigns.campaign_delete, _("Moved to the recycle bin.")),
    }
    if action not in done:
        raise Http404
    service, success = done[action]
    if action == "delete":
        then = reverse("marketing:campaigns")
    return perform(request, lambda: service(actor=actor, campaign=campaign), success=success, then=then)


# --- templates ----------------------------------------------------------------------------------------------------


@login_required
def template_list(request):
    rows = (
        selectors.template_scope(request.user)
        .select_related("owner", "sms_template")
        .order_by("channel", "name")
    )
    return render_page(request, "marketing/templates/list.html", {"templates": rows})


@login_required
def template_edit(request, template_id: int | None = None):
    actor = request.user
    template = (
        _found(selectors.template_get_for, actor=actor, template_id=template_id) if template_id else None
    )
    if not messaging.may_edit(actor, template):
        messages.error(request, _("You may not change this template."))
        return redirect("marketing:templates")
    initial = {f: getattr(template, f) for f in messaging.TEMPLATE_FIELDS} if template else None
    form = TemplateForm(request.POST or None, initial=initial)
    context = {"form": form, "template": template, "variables": mailmerge.VARIABLES}
    if request.method == "POST" and form.is_valid():
        try:
            if template is None:
                template = messaging.template_create(actor=actor, data=form.cleaned_data)
            else:
                version = request.POST.get("version")
                template = messaging.template_update(
                    actor=actor,
                    template=template,
                    data=form.cleaned_data,
                    version=int(version) if version and version.isdigit() else None,
                )
        except StaleEdit as exc:
            context.update(stale_context(exc))
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Template saved."))
            return redirect("marketing:template_preview", template.pk)
    context["materials"] = selectors.material_scope(actor).filter(kind="image")[:30]
    return render_page(request, "marketing/templates/form.html", context)


@login_required
def template_preview(request, template_id: int):
    """The template as a customer would get it — one the reader picks, else the first they see — in both
    languages."""
    actor = request.user
    template = _found(selectors.template_get_for, actor=actor, template_id=template_id)
    customers = Customer.objects.filter(scoping.visible_q(actor, Customer))
    wanted = request.GET.get("customer", "")
    customer = (
        _found(customer_get_for, actor=actor, customer_id=wanted)
        if wanted.isdigit()
        else customers.order_by("-pk").first()
    )
    shown = []
    if customer is not None:
        languages = (
            [("zh-hans", _("Chinese")), ("en", _("English"))]
            if template.channel == Channel.EMAIL
            else [("", "")]
        )
        for code, label in languages:
            if (code == "zh-hans" and not template.body_zh) or (code == "en" and not template.body_en):
                continue
            shown.append({"label": label, **previews.preview(template, customer, language=code or None)})
    context = {
        "template": template,
        "customer": customer,
        "previews": shown,
        "may_edit": messaging.may_edit(actor, template),
    }
    return render_page(request, "marketing/templates/preview.html", context)


@login_required
@require_POST
def template_delete(request, template_id: int):
    template = _found(selectors.template_get_for, actor=request.user, template_id=template_id)
    return perform(
        request,
        lambda: messaging.template_delete(actor=request.user, template=template),
        success=_("Moved to the recycle bin."),
        then=reverse("marketing:templates"),
    )


# --- material library ---------------------------------------------------------------------------------------------


@login_required
def material_list(request):
    actor = request.user
    form = MaterialForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            messaging.material_create(actor=actor, upload=form.cleaned_data.pop("file"), **form.cleaned_data)
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Added to the library."))
            return redirect("marketing:materials")
    rows = selectors.material_scope(actor).select_related("owner")
    query = request.GET.get("q", "").strip()
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(tags__icontains=query) | Q(text__icontains=query))
    items = [(m, mailmerge.material_url(m) if m.file else "") for m in rows[:200]]
    return render_page(request, "marketing/materials.html", {"form": form, "items": items, "q": query})


@login_required
@require_POST
def material_delete(request, material_id: int):
    material = selectors.material_scope(request.user).filter(pk=material_id).first()
    if material is None:
        raise Http404
    return perform(
        request,
        lambda: messaging.material_delete(actor=request.user, material=material),
        success=_("Removed from the library."),
        then=reverse("marketing:materials"),
    )


# --- suppression list and consent ---------------------------------------------------------------------------------


@login_required
def suppression_list(request):
    if not messaging.may_manage(request.user):
        raise DjangoPermissionDenied
    form = SuppressionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            messaging.suppression_add(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Added to the suppression list."))
            return redirect("marketing:suppressions")
    query = request.GET.get("q", "")
    rows = selectors.suppression_list(query=query)[:200]
    return render_page(request, "marketing/suppressions.html", {"form": form, "rows": rows, "q": query})


@login_required
@require_POST
def suppression_remove(request, suppression_id: int):
    if not messaging.may_manage(request.user):
        raise DjangoPermissionDenied
    return perform(
        request,
        lambda: messaging.suppression_remove(actor=request.user, suppression_id=suppression_id),
        success=_("Removed from the suppression list."),
        then=reverse("marketing:suppressions"),
    )


@login_required
@require_POST
def consent_set(request, customer_id: int):
    customer = _found(customer_get_for, actor=request.user, customer_id=customer_id)
    form = ConsentForm(request.POST)
    then = reverse("customers:detail", args=[customer.pk])
    if not form.is_valid():
        messages.error(request, _("Say where the customer said so (a form, a call, an order …)."))
        return redirect(then)
    return perform(
        request,
        lambda: messaging.consent_set(actor=request.user, customer=customer, **form.cleaned_data),
        success=_("Consent recorded."),
        then=then,
    )


def customer_tab_context(*, request, customer, tab) -> dict:
    """`customer.tab` hook: the overview shows the customer's marketing consent per channel and the last
    messages they were sent."""
    if tab != "overview":
        return {}
    recent = (
        Message.objects.filter(customer=customer).select_related("campaign", "automation").order_by("-id")[:5]
    )
    return {
        "marketing_consents": selectors.consents_of(customer=customer),
        "marketing_channels": Channel.choices,
        "marketing_messages": list(recent),
        "marketing_may_edit": scoping.can_edit(request.user, customer),
        "overview_panels": ["marketing/_customer_panel.html"],
    }


RECYCLE_TITLES = {
    "campaign": gettext_lazy("Campaigns"),
    "template": gettext_lazy("Message templates"),
    "automation": gettext_lazy("Care automations"),
    "material": gettext_lazy("Material library"),
}


def recycle_sections(*, actor) -> list[dict]:
    """`recycle.sections`: the binned campaigns, templates, automations and materials."""
    sections = []
    for kind, rows in recycle.binned(actor=actor).items():
        items = [
            {
                "label": row.name,
                "detail": "",
                "deleted_at": row.deleted_at,
                "deleted_by": row.deleted_by,
                "restore_url": reverse("marketing:restore", args=[kind, row.pk]),
            }
            for row in rows
        ]
        if items:
            sections.append({"title": RECYCLE_TITLES[kind], "items": items})
    return sections


@login_required
@require_POST
def restore(request, kind: str, record_id: int):
    try:
        record = recycle.restore(actor=request.user, kind=kind, record_id=record_id)
    except NotFound as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("“%(name)s” restored.") % {"name": record.name})
    return redirect("activities:recycle_bin")
