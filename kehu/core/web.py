"""Helpers the HTML views share: turning application errors into form errors, and htmx-aware rendering."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from kehu.core.exceptions import ApplicationError, StaleEdit


def apply_error(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's error next to the fields it names, the rest at the top of the form."""
    placed = False
    for name, message in exc.fields.items():
        key = name if name in form.fields else name.replace(".", "__")
        if key in form.fields:
            form.add_error(key, str(message))
            placed = True
    if not placed or not exc.fields:
        form.add_error(None, str(exc.message))


def render_page(request, template: str, context: dict, *, partial: str | None = None, status: int = 200):
    """Render the whole page, or only `partial` of it when htmx asks for that part."""
    if partial and request.htmx and not request.htmx.boosted:
        return render(request, f"{template}#{partial}", context, status=status)
    return render(request, template, context, status=status)


def stale_context(exc: StaleEdit) -> dict:
    return {"stale_changes": exc.changes, "current_version": exc.current_version}


def flash_error(request, exc: ApplicationError, *, fields: bool = False) -> None:
    """The error as a message; with `fields`, each field's message too (a form not shown again)."""
    messages.error(request, str(exc.message))
    if fields:
        for message in exc.fields.values():
            messages.error(request, str(message))


def perform(request, action, *, success: str, then: str, fields: bool = False):
    """A POST action with no form: run one service call, flash its success or its error, then redirect."""
    try:
        action()
    except ApplicationError as exc:
        flash_error(request, exc, fields=fields)
    else:
        messages.success(request, success)
    return redirect(then)


def filters_from(request, filters_class):
    """The list filters of the query string; a bad value is flashed and the list shows unfiltered."""
    try:
        return filters_class.from_params(request.GET)
    except ApplicationError as exc:
        flash_error(request, exc)
        return filters_class()


def query_without(request, *names) -> str:
    """The query string minus `names` (e.g. the cursor, for "load more" links that add their own)."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
