"""The RFM and ABC page: the actor's customers per class and group, each count opening the customer list of
exactly those customers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.analytics import selectors, tasks
from kehu.core.web import render_page
from kehu.users import scoping


@login_required
def rfm(request):
    context = {**selectors.rfm_summary(actor=request.user), "can_recompute": scoping.is_manager(request.user)}
    return render_page(request, "analytics/rfm.html", context)


@login_required
@require_POST
def rfm_recompute(request):
    if not scoping.is_manager(request.user):
        messages.error(request, _("Only managers and admins recompute the scores."))
        return redirect("analytics:rfm")
    tasks.scores_recompute.enqueue()
    messages.success(request, _("The scores are being recomputed in the background; reload in a moment."))
    return redirect("analytics:rfm")
