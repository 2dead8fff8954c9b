"""Care automation pages: the list with the last 30 days' counts, the form, the run log and the switch."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError, NotFound, StaleEdit
from kehu.core.web import apply_error, perform, render_page, stale_context
from kehu.marketing import automations
from kehu.marketing.automation_forms import AutomationForm, initial_of
from kehu.marketing.messaging import may_edit


def _get(request, automation_id: int):
    try:
        return automations.automation_get_for(actor=request.user, automation_id=automation_id)
    except NotFound as exc:
        raise Http404 from exc


@login_required
def automation_list(request):
    return render_page(
        request,
        "marketing/automations/list.html",
        {"automations": automations.automation_list(actor=request.user), "may_edit": may_edit(request.user)},
    )


@login_required
def automation_edit(request, automation_id: int | None = None):
    actor = request.user
    automation = _get(request, automation_id) if automation_id is not None else None
    if not may_edit(actor, automation):
        messages.error(request, _("You may not change this automation."))
        return redirect("marketing:automations")
    form = AutomationForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        initial=initial_of(automation) if automation else None,
    )
    context = {"automation": automation, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            if automation is None:
                automation = automations.automation_create(actor=actor, data=form.cleaned_data)
            else:
                version = request.POST.get("version")
                automation = automations.automation_update(
                    actor=actor,
                    automation=automation,
                    data=form.cleaned_data,
                    version=int(version) if version and version.isdigit() else None,
                )
        except StaleEdit as exc:
            context.update(stale_context(exc))
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Automation saved."))
            return redirect("marketing:automations")
    return render_page(request, "marketing/automations/form.html", context)


@login_required
def automation_log(request, automation_id: int):
    automation = _get(request, automation_id)
    try:
        page = automations.automation_log(
            actor=request.user, automation=automation, cursor=request.GET.get("cursor") or None
        )
    except ApplicationError as exc:
        raise Http404 from exc
    return render_page(
        request, "marketing/automations/log.html", {"automation": automation, "page": page}, partial="rows"
    )


@login_required
@require_POST
def automation_toggle(request, automation_id: int):
    automation = _get(request, automation_id)
    active = not automation.active
    return perform(
        request,
        lambda: automations.automation_activate(actor=request.user, automation=automation, active=active),
        success=_("Automation switched on.") if active else _("Automation switched off."),
        then="marketing:automations",
    )


@login_required
@require_POST
def automation_delete(request, automation_id: int):
    automation = _get(request, automation_id)
    return perform(
        request,
        lambda: automations.automation_delete(actor=request.user, automation=automation),
        success=_("Moved to the recycle bin."),
        then="marketing:automations",
    )
