"""Assigning the pool's customers by territory (managers)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core.exceptions import ApplicationError
from kehu.core.web import flash_error
from kehu.sales.selectors import leads as selectors
from kehu.sales.services import territories as services
from kehu.users import scoping
from kehu.users.models import OrgUnit
from kehu.users.selectors import units_visible


def _units(actor) -> list[OrgUnit]:
    """The units whose pool the actor may hand out: those they manage (every unit for a system admin)."""
    return [u for u in units_visible(actor=actor) if scoping.can_assign_in(actor, u.pk)]


def pool_actions(*, request) -> list[dict]:
    """`customer.pool_actions`: the button on the public pool page, for managers."""
    if not scoping.is_manager(request.user):
        return []
    return [{"label": _("Assign by territory"), "url": reverse("territories:assign"), "icon": "bi-geo-alt"}]


@login_required
def assign(request):
    units = _units(request.user)
    if not units:
        return render(request, "403.html", status=403)
    asked = request.POST.get("unit", request.GET.get("unit"))
    chosen = next((u for u in units if str(u.pk) == asked), None) if asked else units[0]
    if chosen is None:  # a unit the actor may not hand out: as if it did not exist
        raise Http404
    if request.method == "POST":
        try:
            run = services.customers_assign_by_territory(actor=request.user, unit=chosen)
        except ApplicationError as exc:
            flash_error(request, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s customer assigned by territory; %(left)s not covered by any territory.",
                    "%(count)s customers assigned by territory; %(left)s not covered by any territory.",
                    len(run.assigned),
                )
                % {"count": len(run.assigned), "left": len(run.unmatched)},
            )
        return redirect(f"{reverse('territories:assign')}?unit={chosen.pk}")
    waiting = selectors.pool_customers_for_territories(actor=request.user, unit=chosen)
    return render(
        request,
        "sales/territories/assign.html",
        {"units": units, "chosen": chosen, "waiting": list(waiting[:50]), "count": waiting.count()},
    )
