from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.activities import selectors, services
from kehu.activities.forms import TaskForm, TimelineEntryForm
from kehu.core import hooks
from kehu.core.exceptions import ApplicationError
from kehu.core.web import apply_error, flash_error, perform, render_page
from kehu.customers import selectors as customer_selectors
from kehu.users import scoping
from kehu.users.selectors import assignable_users


@login_required
def dashboard(request):
    """Home: my tasks due today and overdue, customers to follow up, recently viewed, pool releases in my unit."""
    actor = request.user
    return render(
        request,
        "activities/dashboard.html",
        {
            "overdue": selectors.task_list(
                actor=actor, filters=selectors.TaskFilters(assignee="me", due="overdue"), size=10
            ).items,
            "today": selectors.task_list(
                actor=actor, filters=selectors.TaskFilters(assignee="me", due="today", status="open"), size=10
            ).items,
            "follow_up": customer_selectors.customers_to_follow_up(actor=actor),
            "recent": customer_selectors.recently_viewed(actor=actor),
            "released": customer_selectors.pool_recently_released(actor=actor),
            "notifications": selectors.notification_list(actor=actor, unread_only=True, limit=5),
            "panels": [
                panel for panels in hooks.emit("dashboard.panels", request=request) for panel in panels
            ],
        },
    )


def customer_tab_context(*, request, customer, tab) -> dict:
    """`customer.tab` hook: what the customer page's overview, timeline and tasks tabs show."""
    if tab == "overview":
        return {
            "recent_entries": selectors.timeline_list(actor=request.user, customer=customer, size=5).items
        }
    if tab == "timeline":
        page = selectors.timeline_list(
            actor=request.user, customer=customer, cursor=request.GET.get("cursor")
        )
        return {"timeline": page, "entry_form": TimelineEntryForm(customer=customer)}
    if tab == "tasks":
        page = selectors.task_list(
            actor=request.user, filters=selectors.TaskFilters(customer_id=customer.pk), size=100
        )
        return {
            "tasks": page.items,
            "task_form": TaskForm(
                assignees=assignable_users(actor=request.user), initial={"assignee": request.user}
            ),
        }
    return {}


@login_required
@require_POST
def timeline_entry_create(request, customer_id: int):
    customer = customer_selectors.customer_get_for(actor=request.user, customer_id=customer_id)
    form = TimelineEntryForm(request.POST, request.FILES, customer=customer)
    if form.is_valid():
        try:
            with transaction.atomic():
                entry = services.timeline_entry_create(
                    actor=request.user, customer=customer, data=form.service_data()
                )
                for upload in form.cleaned_data["attachments"]:
                    services.attachment_add(actor=request.user, entry=entry, upload=upload)
            messages.success(request, _("Follow-up logged."))
            return redirect(f"{reverse('customers:detail', args=[customer.pk])}?tab=timeline")
        except ApplicationError as exc:
            apply_error(form, exc)
    page = selectors.timeline_list(actor=request.user, customer=customer)
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "tab": "timeline",
            "tabs": [("timeline", _("Timeline"))],
            "timeline": page,
            "entry_form": form,
            "can_edit": scoping.can_edit(request.user, customer),
        },
        status=422,
    )


@login_required
@require_POST
def timeline_entry_delete(request, entry_id: int):
    entry = selectors.timeline_entry_get_for(actor=request.user, entry_id=entry_id)
    return perform(
        request,
        lambda: services.timeline_entry_delete(actor=request.user, entry=entry),
        success=_("Entry moved to the recycle bin."),
        then=f"{reverse('customers:detail', args=[entry.customer_id])}?tab=timeline",
    )


@login_required
def attachment_download(request, attachment_id: int):
    attachment = selectors.attachment_get_for(actor=request.user, attachment_id=attachment_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@login_required
def task_list(request):
    due = request.GET.get("due", "")
    status = request.GET.get("status", "open")
    filters = selectors.TaskFilters(
        assignee=request.GET.get("assignee", "me"), status=status if status != "all" else "", due=due
    )
    try:
        page = selectors.task_list(
            actor=request.user, filters=filters, cursor=request.GET.get("cursor"), size=50
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("activities:tasks")
    form = TaskForm(
        request.POST or None,
        assignees=assignable_users(actor=request.user),
        initial={"assignee": request.user},
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    return render_page(
        request,
        "activities/tasks.html",
        {"page": page, "form": form, "filters": filters, "status": status, "query": query.urlencode()},
        partial="rows",
    )


@login_required
@require_POST
def task_create(request):
    customer = None
    if request.POST.get("customer"):
        customer = customer_selectors.customer_get_for(
            actor=request.user, customer_id=request.POST["customer"]
        )
    form = TaskForm(request.POST, assignees=assignable_users(actor=request.user))
    back = (
        f"{reverse('customers:detail', args=[customer.pk])}?tab=tasks"
        if customer
        else reverse("activities:tasks")
    )
    if form.is_valid():
        try:
            services.task_create(actor=request.user, data={**form.cleaned_data, "customer": customer})
            messages.success(request, _("Task created."))
            return redirect(back)
        except ApplicationError as exc:
            apply_error(form, exc)
    for name, errors in form.errors.items():
        for error in errors:
            label = form.fields[name].label if name in form.fields else ""
            messages.error(request, f"{label}: {error}" if label else error)
    return redirect(back)


@login_required
@require_POST
def task_complete(request, task_id: int):
    task = selectors.task_get_for(actor=request.user, task_id=task_id)
    return perform(
        request,
        lambda: services.task_complete(actor=request.user, task=task),
        success=_("Task “%(title)s” done.") % {"title": task.title},
        then=request.POST.get("next") or reverse("activities:tasks"),
    )


@login_required
def notifications(request):
    items = selectors.notification_list(actor=request.user, limit=100)
    if request.method == "POST":
        services.notifications_mark_read(actor=request.user)
        return redirect("activities:notifications")
    return render(request, "activities/notifications.html", {"items": items})


@login_required
def recycle_bin(request):
    """Deleted customers, contacts, timeline entries and tasks, and the sections upper domains add (hook
    `recycle.sections`), restorable by system admins until purged."""
    if not scoping.is_system_admin(request.user):
        return render(request, "403.html", status=403)
    actor = request.user
    sections = [section for found in hooks.emit("recycle.sections", actor=actor) for section in found]
    return render(
        request,
        "activities/recycle_bin.html",
        {
            "customers": customer_selectors.deleted_customers(actor=actor).order_by("-deleted_at")[:200],
            "contacts": customer_selectors.deleted_contacts(actor=actor).order_by("-deleted_at")[:200],
            "entries": selectors.deleted_entries(actor=actor).order_by("-deleted_at")[:200],
            "tasks": selectors.deleted_tasks(actor=actor).order_by("-deleted_at")[:200],
            "days": settings.KEHU["RECYCLE_BIN_DAYS"],
            "sections": sections,
            "empty_sections": [section["title"] for section in sections if not section["items"]],
        },
    )


@login_required
@require_POST
def timeline_entry_restore(request, entry_id: int):
    entry = selectors.deleted_entries(actor=request.user).filter(pk=entry_id).first()
    if entry is None:
        raise Http404
    services.timeline_entry_restore(actor=request.user, entry=entry)
    messages.success(request, _("Entry restored."))
    return redirect("activities:recycle_bin")


@login_required
@require_POST
def task_restore(request, task_id: int):
    task = selectors.deleted_tasks(actor=request.user).filter(pk=task_id).first()
    if task is None:
        raise Http404
    services.task_restore(actor=request.user, task=task)
    messages.success(request, _("Task “%(title)s” restored.") % {"title": task.title})
    return redirect("activities:recycle_bin")
