from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from kehu.core import hooks
from kehu.core.exceptions import ApplicationError, StaleEdit
from kehu.core.models import Region
from kehu.core.text import split_list
from kehu.core.web import apply_error, flash_error, perform, render_page, stale_context
from kehu.customers import privacy, selectors, services
from kehu.customers.exceptions import CustomerCollision
from kehu.customers.exports import export_customers, export_vcards
from kehu.customers.forms import (
    AssignForm,
    ContactForm,
    CustomerForm,
    MergeForm,
    ReleaseForm,
    SavedFilterForm,
)
from kehu.customers.models import Customer, CustomField, Tag
from kehu.users import scoping
from kehu.users.selectors import assignable_users, units_visible

TABS = ["overview", "contacts", "timeline", "tasks", "history"]


def _list_context(request, filters, page, sort):
    query = request.GET.copy()
    query.pop("cursor", None)
    return {
        "page": page,
        "filters": filters,
        "sort": sort,
        "query": query.urlencode(),
        "statuses": Customer.Status.choices,
        "levels": Customer.Level.choices,
        "sources": Customer.Source.choices,
        "kinds": Customer.Kind.choices,
        "units": units_visible(actor=request.user),
        "owners": assignable_users(actor=request.user),
        "tags": Tag.objects.all()[:200],
        "provinces": Region.objects.filter(level=Region.Level.PROVINCE),
        "custom_filters": CustomField.objects.filter(entity=CustomField.Entity.CUSTOMER, active=True),
        "saved_filters": selectors.saved_filters_of(actor=request.user),
        "can_assign": scoping.is_manager(request.user),
        "segment_label": selectors.segment_of(filters.segment, actor=request.user)[1]
        if filters.segment
        else "",
    }


@login_required
def customer_list(request):
    try:
        filters = selectors.CustomerFilters.from_params(request.GET)
        sort = request.GET.get("sort") or "updated"
        page = selectors.customer_list(
            actor=request.user, filters=filters, sort=sort, cursor=request.GET.get("cursor")
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("customers:list")
    context = _list_context(request, filters, page, sort)
    return render_page(request, "customers/list.html", context, partial="rows")


@login_required
@require_POST
def saved_filter_create(request):
    form = SavedFilterForm(request.POST)
    if form.is_valid():
        services.saved_filter_save(
            actor=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
        )
        messages.success(request, _("Filter saved."))
    return redirect(f"{reverse('customers:list')}?{form.data.get('query', '')}")


@login_required
@require_POST
def saved_filter_delete(request, filter_id: int):
    services.saved_filter_delete(actor=request.user, filter_id=filter_id)
    return redirect("customers:list")


@login_required
@require_POST
def customer_bulk(request):
    """Bulk actions on the selected (or, for export, the filtered) customers; each item is checked by its service."""
    action = request.POST.get("action", "")
    ids = request.POST.getlist("ids")
    if action in {"export_csv", "export_xlsx"}:
        filter_query = QueryDict(request.POST.get("filter_query", ""))
        filters = selectors.CustomerFilters.from_params(filter_query)
        if ids:
            rows = selectors.customers_get_many_for(actor=request.user, ids=ids)
            detail = {"ids": [c.pk for c in rows]}
        else:
            rows = selectors.customer_export_rows(actor=request.user, filters=filters)
            detail = dict(filter_query.items())
        return export_customers(
            actor=request.user, rows=rows, fmt=action.removeprefix("export_"), filters=detail
        )
    customers = selectors.customers_get_many_for(actor=request.user, ids=ids)
    if not customers:
        messages.warning(request, _("Select at least one customer."))
        return redirect(request.POST.get("next") or "customers:list")
    params = {"reason": request.POST.get("reason", "")}
    if action == "assign":
        owner = assignable_users(actor=request.user).filter(pk=request.POST.get("owner") or 0).first()
        if owner is None:
            messages.error(request, _("Choose the new owner."))
            return redirect(request.POST.get("next") or "customers:list")
        params["owner"] = owner
    elif action == "tag":
        params["tags"] = split_list(request.POST.get("tags"))
        if not params["tags"]:
            messages.error(request, _("Enter at least one tag."))
            return redirect(request.POST.get("next") or "customers:list")
    result = services.customers_bulk(actor=request.user, customers=customers, action=action, **params)
    if result["done"]:
        messages.success(
            request,
            ngettext("%(count)s customer updated.", "%(count)s customers updated.", result["done"])
            % {"count": result["done"]},
        )
    for customer_id, reason in result["failed"].items():
        messages.error(request, _("No. %(id)s: %(reason)s") % {"id": customer_id, "reason": reason})
    return redirect(request.POST.get("next") or "customers:list")


def _save_customer(request, form, *, customer=None):
    """Run the create/update service; on an application error put it on the form and return None."""
    try:
        if customer is None:
            return services.customer_create(
                actor=request.user,
                data=form.service_data(),
                tags=form.tag_names(),
                custom=form.custom_values(),
                override_collision=form.cleaned_data.get("override_collision", False),
            )
        return services.customer_update(
            actor=request.user,
            customer=customer,
            data=form.service_data(),
            version=form.cleaned_data.get("version"),
            tags=form.tag_names(),
            custom=form.custom_values(),
            override_collision=form.cleaned_data.get("override_collision", False),
        )
    except CustomerCollision as exc:
        form.collision = exc
        form.add_error(None, str(exc.message))
    except StaleEdit as exc:
        form.stale = stale_context(exc)
        form.add_error(None, str(exc.message))
    except ApplicationError as exc:
        apply_error(form, exc)
    return None


@login_required
def customer_create(request):
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        customer = _save_customer(request, form)
        if customer is not None:
            messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
            return redirect("customers:detail", customer_id=customer.pk)
    return render(
        request, "customers/form.html", {"form": form, "is_manager": scoping.is_manager(request.user)}
    )


@login_required
def customer_edit(request, customer_id: int):
    customer = selectors.customer_get_for(actor=request.user, customer_id=customer_id)
    shown = privacy.data_privacy(request.user) if privacy.is_personal(customer) else privacy.PLAIN
    data = privacy.unmasked_post(request.POST, customer, shown) if request.method == "POST" else None
    form = CustomerForm(data, instance=customer, initial=privacy.masked_initial(customer, shown))
    if request.method == "POST" and form.is_valid():
        saved = _save_customer(request, form, customer=customer)
        if saved is not None:
            messages.success(request, _("Saved."))
            return redirect("customers:detail", customer_id=saved.pk)
    return render(
        request,
        "customers/form.html",
        {"form": form, "customer": customer, "is_manager": scoping.is_manager(request.user)},
    )


@login_required
def customer_detail(request, customer_id: int):
    customer = selectors.customer_get_for(actor=request.user, customer_id=customer_id)
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "overview"
    services.recent_view_touch(user=request.user, customer=customer)
    shown = privacy.customer_privacy(request.user, customer, reveal=request.GET.get("reveal") == "1")
    context = {
        "customer": customer,
        "privacy": shown,
        "shown": {
            name: getattr(shown, how)(getattr(customer, name))
            for name, how in privacy.CUSTOMER_FIELDS.items()
        },
        "tab": tab,
        "tabs": [(key, label) for key, label in _tab_labels()],
        "can_edit": scoping.can_edit(request.user, customer),
        "can_assign": scoping.can_assign_in(request.user, customer.org_unit_id),
        "custom_fields": CustomField.objects.filter(entity=CustomField.Entity.CUSTOMER, active=True),
        "contact_count": customer.contacts.count(),
    }
    context.update(_tab_context(request, customer, tab))
    return render_page(request, "customers/detail.html", context, partial="tab")


def _tab_labels():
    return [
        ("overview", _("Overview")),
        ("contacts", _("Contacts")),
        ("timeline", _("Timeline")),
        ("tasks", _("Tasks")),
        ("history", _("History")),
    ]


def _tab_context(request, customer, tab) -> dict:
    if tab == "contacts":
        return {"contact_tree": selectors.contact_tree(customer=customer)}
    if tab == "history":
        shown = privacy.customer_privacy(request.user, customer, reveal=request.GET.get("reveal") == "1")
        masks = privacy.history_masks(shown, privacy.CUSTOMER_FIELDS)
        return {"history": selectors.customer_history(customer=customer, masks=masks)}
    if tab in {"timeline", "tasks", "overview"}:
        # The timeline and tasks live in the activities domain; it registers what it adds to these tabs.
        # Upper domains may also add panels (templates) to the overview: they are collected, not replaced.
        extra: dict = {"overview_panels": []}
        for result in hooks.emit("customer.tab", request=request, customer=customer, tab=tab):
            result = dict(result or {})
            extra["overview_panels"].extend(result.pop("overview_panels", []))
            extra.update(result)
        return extra
    return {}


@login_required
@require_POST
def customer_delete(request, customer_id: int):
    customer = selectors.customer_get_for(actor=request.user, customer_id=customer_id)
    try:
        services.customer_delete(actor=request.user, customer=customer)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("customers:detail", customer_id=customer.pk)
    messages.success(request, _("“%(name)s” moved to the recycle bin.") % {"name": customer.name})
    return redirect("customers:list")


@login_required
@require_POST
def customer_claim(request, customer_id: int):
    customer = selectors.customer_get_for(actor=request.user, customer_id=customer_id)
    return perform(
        request,
        lambda: services.customer_claim(actor=request.user, customer=customer),
        success=_("You now own “%(name)s”.") % {"name": customer.name},
        then=request.POST.get("next") or reverse("customers:detail", args=[customer.pk]),
    )


@login_required
def customer_release(request, customer_id: int):
    customer = selectors.customer_get_for(actor=request.user, customer_id=customer_id)
    form = ReleaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_release(
                actor=request.user, customer=customer, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("“%(name)s” is back in the public pool.") % {"name": customer.name})
            return redirect("customers:list")
        except ApplicationError as exc:
            apply_error(form, exc)
    return render(request, "customers/action.html", {"form": form, "customer": customer, "action": "release"})


@login_required
def customer_assign(request, customer_id: int):
    customer = selectors.customer_get_for(actor=request.user, customer_id=customer_id)
    form = AssignForm(request.POST or None, owners=assignable_users(actor=request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_assign(
                actor=request.user,
                customer=customer,
                owner=form.cleaned_data["owner"],
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, _("Assigned to %(owner)s.") % {"owner": form.cleaned_data["owner"]})
            return redirect("customers:detail", customer_id=customer.pk)
        except ApplicationError as exc:
            apply_error(form, exc)
    return render(request, "customers/action.html", {"form": form, "customer": customer, "action": "assign"})


@login_required
def pool(request):
    try:
        page = selectors.pool_list(
            actor=request.user, q=request.GET.get("q", ""), cursor=request.GET.get("cursor")
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("customers:pool")
    query = request.GET.copy()
    query.pop("cursor", None)
    return render_page(
        request,
        "customers/pool.html",
        {
            "page": page,
            "q": request.GET.get("q", ""),
            "query": query.urlencode(),
            "can_assign": scoping.is_manager(request.user),
            "actions": [a for found in hooks.emit("customer.pool_actions", request=request) for a in found],
        },
        partial="rows",
    )


@login_required
def contact_list(request):
    page = selectors.contact_list(
        actor=request.user, q=request.GET.get("q", ""), cursor=request.GET.get("cursor")
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    return render_page(
        request,
        "customers/contacts.html",
        {"page": page, "q": request.GET.get("q", ""), "query": query.urlencode()},
        partial="rows",
    )


@login_required
def contact_export(request):
    """The listed contacts (the search applies) as a vCard address book."""
    q = request.GET.get("q", "").strip()
    rows = selectors.contact_export_rows(actor=request.user, q=q)
    return export_vcards(actor=request.user, contacts=rows, filters={"q": q} if q else {})


@login_required
def contact_create(request, customer_id: int):
    customer = selectors.customer_get_for(actor=request.user, customer_id=customer_id)
    form = ContactForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_create(
                actor=request.user, customer=customer, data=form.service_data(), custom=form.custom_values()
            )
            messages.success(request, _("Contact added."))
            return redirect(f"{reverse('customers:detail', args=[customer.pk])}?tab=contacts")
        except ApplicationError as exc:
            apply_error(form, exc)
    return render(request, "customers/contact_form.html", {"form": form, "customer": customer})


@login_required
def contact_edit(request, contact_id: int):
    contact = selectors.contact_get_for(actor=request.user, contact_id=contact_id)
    form = ContactForm(request.POST or None, customer=contact.customer, instance=contact)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(
                actor=request.user,
                contact=contact,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
                custom=form.custom_values(),
            )
            messages.success(request, _("Saved."))
            return redirect(f"{reverse('customers:detail', args=[contact.customer_id])}?tab=contacts")
        except StaleEdit as exc:
            form.stale = stale_context(exc)
            form.add_error(None, str(exc.message))
        except ApplicationError as exc:
            apply_error(form, exc)
    return render(
        request,
        "customers/contact_form.html",
        {
            "form": form,
            "customer": contact.customer,
            "contact": contact,
            "history": selectors.contact_history(contact=contact),
        },
    )


@login_required
@require_POST
def contact_delete(request, contact_id: int):
    contact = selectors.contact_get_for(actor=request.user, contact_id=contact_id)
    return perform(
        request,
        lambda: services.contact_delete(actor=request.user, contact=contact),
        success=_("Contact moved to the recycle bin."),
        then=f"{reverse('customers:detail', args=[contact.customer_id])}?tab=contacts",
    )


@login_required
@require_GET
def search(request):
    """The top-bar search: a dropdown for htmx, a full page otherwise."""
    q = request.GET.get("q", "").strip()
    results = selectors.search(actor=request.user, q=q) if q else {"customers": [], "contacts": []}
    return render_page(request, "customers/search.html", {"q": q, "results": results}, partial="results")


@login_required
@require_GET
def regions(request):
    """Options for the dependent region selects (province → city → district)."""
    child = request.GET.get("child")
    parent = request.GET.get("province") if child == "city" else request.GET.get("city")
    level = {"city": Region.Level.CITY, "district": Region.Level.DISTRICT}.get(child)
    options = Region.objects.filter(level=level, parent_id=parent or "-") if level else Region.objects.none()
    return render(request, "customers/_region_options.html", {"options": options})


@login_required
def merge(request):
    form = MergeForm(request.POST or request.GET or None)
    preview = None
    if form.is_bound and form.is_valid():
        try:
            survivor = selectors.customer_get_for(
                actor=request.user, customer_id=form.cleaned_data["survivor"]
            )
            merged = selectors.customer_get_for(actor=request.user, customer_id=form.cleaned_data["merged"])
            preview = {"survivor": survivor, "merged": merged}
            if request.method == "POST":
                services.customer_merge(actor=request.user, survivor=survivor, merged=merged)
                messages.success(request, _("Merged into “%(name)s”.") % {"name": survivor.name})
                return redirect("customers:detail", customer_id=survivor.pk)
        except ApplicationError as exc:
            apply_error(form, exc)
    return render(request, "customers/merge.html", {"form": form, "preview": preview})


@login_required
@require_POST
def customer_restore(request, customer_id: int):
    customer = selectors.deleted_customer_get_for(actor=request.user, customer_id=customer_id)
    return perform(
        request,
        lambda: services.customer_restore(actor=request.user, customer=customer),
        success=_("“%(name)s” restored.") % {"name": customer.name},
        then=reverse("activities:recycle_bin"),
    )


@login_required
@require_POST
def contact_restore(request, contact_id: int):
    contact = selectors.deleted_contacts(actor=request.user).filter(pk=contact_id).first()
    if contact is None:
        raise Http404
    return perform(
        request,
        lambda: services.contact_restore(actor=request.user, contact=contact),
        success=_("“%(name)s” restored.") % {"name": contact.name},
        then=reverse("activities:recycle_bin"),
    )
