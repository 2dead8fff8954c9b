"""The RFM and ABC page: the actor's customers per class and group, each count opening the customer list of
exactly those customers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.analytics import scores, selectors, services
from kehu.analytics.forms import ScoreSettingsForm
from kehu.analytics.models import RfmClass
from kehu.core.web import perform, render_page
from kehu.users import scoping


@login_required
def rfm(request):
    context = {
        **selectors.rfm_summary(actor=request.user),
        "can_recompute": scoping.is_manager(request.user),
        "can_configure": scoping.is_system_admin(request.user),
        "settings": scores.settings_get(),
    }
    return render_page(request, "analytics/rfm.html", context)


@login_required
@require_POST
def rfm_recompute(request):
    return perform(
        request,
        lambda: services.scores_recompute_request(actor=request.user),
        success=_("The scores are being recomputed in the background; reload in a moment."),
        then=reverse("analytics:rfm"),
    )


def customer_tab_context(*, request, customer, tab) -> dict:
    """`customer.tab` hook: the overview shows the customer's RFM scores, class, group and ABC class."""
    if tab != "overview":
        return {}
    score = selectors.score_of(customer=customer)
    if score is None:
        return {}
    return {"customer_score": score, "overview_panels": ["analytics/_customer_panel.html"]}


@login_required
def score_settings(request):
    """How scores are computed; system admins change it, and the scores are recomputed in the background."""
    if not scoping.is_system_admin(request.user):
        raise PermissionDenied
    form = ScoreSettingsForm(request.POST or None, instance=scores.settings_get())
    if request.method == "POST" and form.is_valid():
        services.score_settings_save(
            actor=request.user, values={name: form.cleaned_data[name] for name in form.Meta.fields}
        )
        messages.success(request, _("Saved; the scores are being recomputed in the background."))
        return redirect("analytics:rfm")
    return render_page(request, "analytics/settings.html", {"form": form}, status=422 if form.errors else 200)


@login_required
def rfm_migration(request):
    """Customers per (class last month → class this month), or between any two scored months."""
    months = selectors.months_scored(actor=request.user)
    chosen = {m.isoformat(): m for m in months}
    end = chosen.get(request.GET.get("to", "")) or (months[0] if months else None)
    start = chosen.get(request.GET.get("from", "")) or (months[1] if len(months) > 1 else end)
    counts = selectors.migration(actor=request.user, start=start, end=end) if end else {}
    classes = RfmClass.choices
    matrix = [
        (value, label, [(to, counts.get((value, to), 0)) for to, _label in classes])
        for value, label in classes
    ]
    context = {"months": months, "start": start, "end": end, "classes": classes, "matrix": matrix}
    return render_page(request, "analytics/migration.html", context)
