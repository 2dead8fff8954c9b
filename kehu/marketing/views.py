"""Segment pages: the list, and the builder that shows the live count as conditions are edited (each change
re-renders the builder through htmx with the count of the customers the rules select for the reader)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError, NotFound, StaleEdit
from kehu.core.web import render_page, stale_context
from kehu.marketing import segments, selectors, services
from kehu.marketing.forms import EMPTY_ROW, SegmentForm, rows_from, rows_of, rules_of


def _builder(request, match: str, rows: list[dict]) -> dict:
    """What the builder shows: each row with its field's operators and choices (read once a field), the rules,
    their errors and the live count."""
    fields = segments.catalogue()
    choices_of = {
        key: selectors.field_choices(fields[key]) for key in {r["field"] for r in rows} if key in fields
    }
    shown = []
    for index, row in enumerate(rows):
        field = fields.get(row["field"])
        ops = segments.OPS[field.type] if field else ()
        choices = choices_of.get(row["field"])
        shown.append(
            {
                **row,
                "index": index,
                "type": field.type if field else "",
                "ops": [(op, segments.OP_LABELS[op]) for op in ops],
                "op": row["op"] if row["op"] in ops else (ops[0] if ops else ""),
                "choices": choices,
            }
        )
    rules, incomplete = rules_of(match, rows, fields)
    count, errors = None, {}
    try:
        count = selectors.count(actor=request.user, rules=rules)
    except ApplicationError as exc:
        errors = {key: str(message) for key, message in exc.fields.items()}
    return {
        "match": match,
        "rows": shown,
        "fields": [(f.key, f.label) for f in fields.values()],
        "rules": rules,
        "count": count,
        "errors": errors,
        "incomplete": incomplete,
    }


@login_required
def segment_list(request):
    return render_page(
        request, "marketing/segments.html", {"segments": selectors.segment_list(actor=request.user)}
    )


@login_required
def segment_edit(request, segment_id: int | None = None):
    actor = request.user
    segment = None
    if segment_id is not None:
        try:
            segment = selectors.segment_get_for(actor=actor, segment_id=segment_id)
        except NotFound as exc:
            raise Http404 from exc
    if not services.may_edit(actor, segment):
        messages.error(request, _("You may not change this segment."))
        return redirect("marketing:segments")
    nested = segment is not None and any("rules" in r for r in segment.rules.get("rules", []))
    if request.method == "POST":
        match, rows = rows_from(request.POST)
    else:
        match, rows = (
            (segment.rules.get("match", "all"), rows_of(segment.rules))
            if segment
            else ("all", [dict(EMPTY_ROW)])
        )
    form = SegmentForm(
        request.POST if request.method == "POST" and request.POST.get("save") else None,
        initial={"name": segment.name, "description": segment.description} if segment else None,
    )
    context = {"segment": segment, "form": form, "nested": nested, **_builder(request, match, rows)}
    saving = request.method == "POST" and request.POST.get("save") and not nested
    if saving and context["incomplete"]:
        context["errors"] = {
            **context["errors"],
            "rules": _("Complete or remove the conditions without a value."),
        }
    elif saving and form.is_valid():
        data = {**form.cleaned_data, "rules": context["rules"]}
        try:
            if segment is None:
                segment = services.segment_create(actor=actor, data=data)
            else:
                version = request.POST.get("version")
                segment = services.segment_update(
                    actor=actor,
                    segment=segment,
                    data=data,
                    version=int(version) if version and version.isdigit() else None,
                )
        except StaleEdit as exc:
            context.update(stale_context(exc))
        except ApplicationError as exc:
            context["errors"] = {**context["errors"], **{k: str(v) for k, v in exc.fields.items()}}
            if not exc.fields:
                messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Segment saved."))
            return redirect(f"{reverse('customers:list')}?segment=segment:{segment.pk}")
    return render_page(request, "marketing/segment_form.html", context, partial="builder")


@login_required
@require_POST
def segment_delete(request, segment_id: int):
    try:
        segment = selectors.segment_get_for(actor=request.user, segment_id=segment_id)
        services.segment_delete(actor=request.user, segment=segment)
    except NotFound as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Moved to the recycle bin."))
    return redirect("marketing:segments")


@login_required
@require_POST
def segment_snapshot(request, segment_id: int):
    try:
        segment = selectors.segment_get_for(actor=request.user, segment_id=segment_id)
    except NotFound as exc:
        raise Http404 from exc
    snapshot = services.segment_snapshot(actor=request.user, segment=segment)
    messages.success(request, _("Snapshot taken: %(n)s customers.") % {"n": snapshot.size})
    return redirect("marketing:segments")


@login_required
@require_POST
def segment_restore(request, segment_id: int):
    try:
        segment = services.segment_restore(actor=request.user, segment_id=segment_id)
    except NotFound as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("“%(name)s” restored.") % {"name": segment.name})
    return redirect("marketing:segments")


def recycle_sections(*, actor) -> list[dict]:
    """`recycle.sections`: the segments in the bin (the bin page is the system admins')."""
    items = [
        {
            "label": row.name,
            "detail": row.description[:80],
            "deleted_at": row.deleted_at,
            "deleted_by": row.deleted_by,
            "restore_url": reverse("marketing:segment_restore", args=[row.pk]),
        }
        for row in selectors.deleted_segments(actor=actor)
    ]
    return [{"title": _("Customer segments"), "items": items}] if items else []
