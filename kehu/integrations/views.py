"""Import pages: upload, map the columns, watch the progress, download the rejected rows."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.csvstream import csv_lines
from kehu.core.exceptions import ApplicationError
from kehu.core.web import apply_error, perform, render_page
from kehu.integrations import importers, selectors, services
from kehu.integrations.forms import MappingForm, UploadForm


@login_required
def import_list(request):
    jobs = selectors.import_list(actor=request.user, cursor=request.GET.get("cursor"))
    return render_page(request, "integrations/list.html", {"page": jobs, "kinds": importers.kinds()})


@login_required
def import_new(request):
    form = UploadForm(request.POST or None, request.FILES or None, initial={"kind": request.GET.get("kind")})
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_upload(
                actor=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            return redirect("integrations:detail", job_id=job.pk)
    return render_page(request, "integrations/new.html", {"form": form}, status=422 if form.errors else 200)


def _forms(request, job, data=None, mapping=None):
    importer = importers.get(job.kind)
    mapping_form = MappingForm(
        data,
        headers=job.headers,
        columns=importer.columns(),
        initial_mapping=mapping or job.mapping,
        prefix="map",
    )
    options_form = importer.options_form(data, actor=request.user, prefix="opt")
    return importer, mapping_form, options_form


def _eta(job) -> str:
    """Time left at the pace so far, in words ("3 minutes"), once there is a pace to go by."""
    if job.status != job.Status.RUNNING or not job.started_at or not job.total_rows or job.processed_rows < 1:
        return ""
    elapsed = (timezone.now() - job.started_at).total_seconds()
    left = elapsed / job.processed_rows * (job.total_rows - job.processed_rows)
    return timeuntil(timezone.now() + timedelta(seconds=max(left, 60)))


def _mapped_preview(importer, job, mapping: list[str], preview) -> dict:
    """The first rows as the fields will receive them: one column per mapped field, in the importer's order."""
    position = {key: index for index, key in enumerate(mapping) if key}
    fields = [c for c in importer.columns() if c.key in position]
    return {
        "labels": [c.label for c in fields],
        "rows": [
            (number, [cells[position[c.key]] if position[c.key] < len(cells) else "" for c in fields])
            for number, cells in preview
        ],
    }


def _detail_context(request, job, mapping_form=None, options_form=None) -> dict:
    importer = importers.get(job.kind)
    context = {
        "job": job,
        "rejections": selectors.rejections_of(job=job),
        "eta": _eta(job),
        "needs_mapping": importer.needs_mapping,
        "recognised": importers.describe_file(job),
    }
    if job.status == job.Status.UPLOADED:
        templates = (
            services.mapping_templates(actor=request.user, kind=job.kind) if importer.needs_mapping else []
        )
        chosen = next((t for t in templates if str(t.pk) == request.GET.get("template")), None)
        applied = chosen or services.mapping_template_for(
            actor=request.user, kind=job.kind, headers=job.headers
        )
        mapping = services.mapping_from_template(chosen, job.headers, job.mapping) if chosen else None
        _importer, default_mapping, default_options = _forms(request, job, mapping=mapping)
        mapping_form = mapping_form or default_mapping
        preview = services.import_preview(job=job)
        samples = [
            list(dict.fromkeys(cells[i] for _n, cells in preview if i < len(cells) and cells[i]))[:3]
            for i in range(len(job.headers))
        ]
        chosen_mapping = mapping_form.mapping() if mapping_form.is_bound and mapping_form.is_valid() else None
        context.update(
            mapped=_mapped_preview(importer, job, chosen_mapping or mapping or job.mapping, preview),
            mapping_rows=list(zip(mapping_form.rows(), samples, strict=True)),
            mapping_form=mapping_form,
            options_form=options_form or default_options,
            preview=preview,
            earlier=selectors.same_file_imports(actor=request.user, job=job)[:3],
            templates=templates,
            applied_template=applied,
        )
    return context


@login_required
def import_detail(request, job_id: int):
    job = selectors.import_get(actor=request.user, job_id=job_id)
    return render_page(request, "integrations/detail.html", _detail_context(request, job), partial="progress")


@login_required
@require_POST
def import_start(request, job_id: int):
    job = selectors.import_get(actor=request.user, job_id=job_id)
    _importer, mapping_form, options_form = _forms(request, job, request.POST)
    if mapping_form.is_valid() and options_form.is_valid():
        try:
            services.import_start(
                actor=request.user,
                job=job,
                mapping=mapping_form.mapping(),
                options=options_form.options(),
                dry_run=request.POST.get("dry_run") == "1",
            )
            if request.POST.get("template_name", "").strip():
                services.mapping_template_save(
                    actor=request.user,
                    job=job,
                    name=request.POST["template_name"],
                    mapping=mapping_form.mapping(),
                )
        except ApplicationError as exc:
            if not exc.fields or set(exc.fields) & set(options_form.fields):
                apply_error(options_form, exc)
            else:
                apply_error(mapping_form, exc)
        else:
            messages.success(request, _("The import has started; you can leave this page."))
            return redirect("integrations:detail", job_id=job.pk)
    context = _detail_context(request, job, mapping_form, options_form)
    return render_page(request, "integrations/detail.html", context, status=422)


@login_required
@require_POST
def import_mapped_preview(request, job_id: int):
    """The preview of the first rows under the mapping being chosen (the page asks on every change)."""
    job = selectors.import_get(actor=request.user, job_id=job_id)
    importer = importers.get(job.kind)
    known = {c.key for c in importer.columns()}
    mapping = [request.POST.get(f"map-mapping__{i}", "") for i in range(len(job.headers))]
    mapping = [key if key in known else "" for key in mapping]
    context = {
        "job": job,
        "mapped": _mapped_preview(importer, job, mapping, services.import_preview(job=job)),
    }
    return render(request, "integrations/_mapped_preview.html", context)


@login_required
@require_POST
def import_cancel(request, job_id: int):
    job = selectors.import_get(actor=request.user, job_id=job_id)
    return perform(
        request,
        lambda: services.import_cancel(actor=request.user, job=job),
        success=_("The import was cancelled. Rows already imported stay."),
        then=f"/imports/{job.pk}/",
    )


@login_required
@require_POST
def import_resume(request, job_id: int):
    job = selectors.import_get(actor=request.user, job_id=job_id)
    return perform(
        request,
        lambda: services.import_resume(actor=request.user, job=job),
        success=_("The import continues after the last row it saved."),
        then=f"/imports/{job.pk}/",
    )


@login_required
def import_rejections(request, job_id: int):
    job = selectors.import_get(actor=request.user, job_id=job_id)
    response = StreamingHttpResponse(services.rejections_csv(job=job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejected.csv"'
    return response


@login_required
def import_template(request, kind: str):
    """An empty file with the column names in the reader's language, to fill in and import."""
    importer = importers.get(kind)
    header = [str(c.label) for c in importer.columns() if c.key != "id"]
    response = HttpResponse(csv_lines(header, []), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response
