"""Survey pages for staff: the list, the builder (the survey's texts, then its sections and questions, each step
an htmx post that re-renders the questionnaire), distribution, results with cross-tabs and exports, the
satisfaction index with its trend, and the indicator tree."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError, PermissionDenied, StaleEdit
from kehu.core.exports import export_format
from kehu.core.text import mask_name
from kehu.core.web import apply_error, flash_error, render_page, stale_context
from kehu.customers.models import Customer
from kehu.customers.privacy import is_personal
from kehu.surveys import charts, exports, forms, links, logic, selectors, services
from kehu.surveys.models import CHOICE_KINDS, LIKERT_LABELS, SCORED_KINDS, Invitation, QuestionKind, Survey
from kehu.users import scoping

TABS = ("edit", "distribute", "results", "index", "indicators")


def _survey(request, survey_id) -> Survey:
    return selectors.survey_get_for(actor=request.user, survey_id=survey_id)


def _editable(request, survey: Survey) -> None:
    if not services.may_edit(request.user, survey):
        raise PermissionDenied(_("You may not change this survey."))


def _base(request, survey: Survey, tab: str) -> dict:
    return {
        "survey": survey,
        "tab": tab,
        "may_edit": services.may_edit(request.user, survey),
        "public_url": links.public_url(survey) if survey.anonymous_link and not survey.is_draft else "",
    }


def customer_label(customer: Customer | None) -> str:
    """A customer as pages show it: an individual's name masked (personal data), a company's as it is."""
    if customer is None:
        return _("Anonymous")
    return mask_name(customer.name) if is_personal(customer) else customer.name


# --- the list -----------------------------------------------------------------------------------------------------


@login_required
def survey_list(request):
    status = request.GET.get("status", "")
    status = status if status in Survey.Status.values else ""
    return render_page(
        request,
        "surveys/list.html",
        {
            "surveys": selectors.survey_list(actor=request.user, status=status),
            "status": status,
            "statuses": Survey.Status.choices,
            "may_create": services.may_edit(request.user),
        },
    )


@login_required
def survey_new(request):
    if not services.may_edit(request.user):
        raise PermissionDenied()
    form = forms.SurveyForm(request.POST or None, initial=forms.SurveyForm.initial_of(None))
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.survey_create(actor=request.user, data=form.cleaned_data)
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Survey created. Add its questions."))
            return redirect("surveys:edit", survey.pk)
    return render_page(request, "surveys/new.html", {"form": form})


@login_required
@require_POST
def survey_from_template(request):
    """The satisfaction questionnaire of seed 002 (five indicators, their sub-indicators, NPS and a comment) as a
    new draft with its indicator tree, to adapt."""
    from kehu.surveys.demo import satisfaction_survey_create

    try:
        survey = satisfaction_survey_create(actor=request.user)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("surveys:list")
    messages.success(request, _("The satisfaction survey template is ready as a draft."))
    return redirect("surveys:edit", survey.pk)


# --- the builder --------------------------------------------------------------------------------------------------


def _question_rows(survey: Survey, sections) -> dict:
    keys = [s.key for s in sections]
    titles = {s.key: s for s in sections}
    summaries = {}
    for index, section in enumerate(sections):
        for question in section.questions.all():
            summaries[question.pk] = [_rule_summary(question, rule, titles) for rule in question.logic or []]
        section.number = index + 1
        section.later = [(key, titles[key]) for key in keys[index + 1 :]]
    return summaries


def _rule_summary(question, rule: dict, titles: dict) -> str:
    op = {"in": _("is"), "any": _("includes"), "lte": "≤", "gte": "≥", "eq": "="}.get(rule["op"], rule["op"])
    if question.kind in CHOICE_KINDS:
        value = " / ".join(question.option_label(v) for v in rule["value"])
    else:
        value = str(rule["value"])
    if rule["goto"] == logic.END:
        target = _("the end")
    else:
        section = titles.get(rule["goto"])
        target = section.shown_title if section and section.shown_title else rule["goto"]
    return _("If the answer %(op)s %(value)s, go to %(target)s") % {
        "op": op,
        "value": value,
        "target": target,
    }


OP_LABELS = {
    "in": gettext_lazy("is one of"),
    "any": gettext_lazy("includes any of"),
    "lte": gettext_lazy("is at most"),
    "gte": gettext_lazy("is at least"),
    "eq": gettext_lazy("is exactly"),
}


def _value_choices(question) -> list[tuple[str, str]]:
    if question.kind in CHOICE_KINDS:
        return question.shown_options
    if question.kind == QuestionKind.LIKERT:
        return [(str(v), f"{v} · {label}") for v, label in LIKERT_LABELS.items()]
    return [(str(v), str(v)) for v in forms.SCALE_CHOICES.get(question.kind, [])]


def _editor(question, sections, form, rules) -> dict:
    """What the question's edit form shows: its skip rules (plus a blank one) with their choices."""
    index = next(i for i, s in enumerate(sections) if s.pk == question.section_id)
    shown = []
    for rule in [*rules, {"op": "", "value": [], "goto": ""}]:
        value = rule.get("value")
        values = (
            {str(v) for v in value}
            if isinstance(value, list)
            else ({str(value)} if value not in (None, "") else set())
        )
        shown.append({"op": rule.get("op", ""), "goto": rule.get("goto", ""), "values": values})
    return {
        "question": question,
        "form": form,
        "rules": shown,
        "ops": [(op, OP_LABELS[op]) for op in logic.OPS.get(question.kind, ())],
        "values": _value_choices(question),
        "multiple": question.kind in CHOICE_KINDS,
        "targets": [(s.key, s.shown_title or s.key) for s in sections[index + 1 :]],
        "choice": question.kind in CHOICE_KINDS,
    }


def _builder_context(
    request,
    survey: Survey,
    *,
    editing=None,
    question_form=None,
    rules=None,
    editing_section=None,
    section_form=None,
    error="",
) -> dict:
    sections = selectors.sections_of(survey)
    summaries = _question_rows(survey, sections)
    editor = None
    if editing is not None:
        question = next((q for s in sections for q in s.questions.all() if q.pk == editing), None)
        if question is not None:
            editor = _editor(question, sections, question_form, question.logic if rules is None else rules)
    return {
        **_base(request, survey, "edit"),
        "sections": sections,
        "summaries": summaries,
        "editing": editing,
        "editor": editor,
        "editing_section": editing_section,
        "section_form": section_form,
        "kinds": QuestionKind.choices,
        "builder_error": error,
        "draft_editable": survey.is_draft and services.may_edit(request.user, survey),
        "question_count": sum(len(s.questions.all()) for s in sections),
    }


def _structure(request, survey: Survey, **extra):
    """After a builder step: the questionnaire part for htmx, the whole page otherwise."""
    if request.htmx:
        return render_page(
            request, "surveys/builder.html", _builder_context(request, survey, **extra), partial="structure"
        )
    if extra.get("error"):
        messages.error(request, extra["error"])
    return redirect("surveys:edit", survey.pk)


def _error_text(exc: ApplicationError) -> str:
    return (
        " ".join([str(exc.message), *(str(m) for m in exc.fields.values())])
        if exc.fields
        else str(exc.message)
    )


@login_required
def survey_edit(request, survey_id: int):
    survey = _survey(request, survey_id)
    may = services.may_edit(request.user, survey)
    form = forms.SurveyForm(
        request.POST if request.method == "POST" else None, initial=forms.SurveyForm.initial_of(survey)
    )
    context = {"form": form}
    if request.method == "POST":
        _editable(request, survey)
        if form.is_valid():
            version = request.POST.get("version")
            try:
                services.survey_update(
                    actor=request.user,
                    survey=survey,
                    data=form.cleaned_data,
                    version=int(version) if version and version.isdigit() else None,
                )
            except StaleEdit as exc:
                context.update(stale_context(exc))
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("Survey saved."))
                return redirect("surveys:edit", survey.pk)
    context.update(_builder_context(request, survey))
    context["may_edit"] = may
    return render_page(request, "surveys/builder.html", context, partial="structure")


@login_required
@require_POST
def survey_action(request, survey_id: int, action: str):
    survey = _survey(request, survey_id)
    actor = request.user
    done = {
        "publish": (services.survey_publish, _("Published. Share the links on the Distribute tab.")),
        "close": (services.survey_close, _("Closed: the links no longer take answers.")),
        "reopen": (services.survey_reopen, _("Reopened: the links take answers again.")),
        "renew-link": (
            services.survey_public_link_renew,
            _("A new public link is ready; the old one no longer works."),
        ),
    }
    if action == "copy":
        try:
            copy = services.survey_copy(actor=actor, survey=survey)
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("surveys:edit", survey.pk)
        messages.success(request, _("Copied into a new draft."))
        return redirect("surveys:edit", copy.pk)
    if action == "delete":
        try:
            services.survey_delete(actor=actor, survey=survey)
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("surveys:edit", survey.pk)
        messages.success(request, _("Moved to the recycle bin."))
        return redirect("surveys:list")
    if action not in done:
        return HttpResponse(status=404)
    service, success = done[action]
    try:
        service(actor=actor, survey=survey)
    except ApplicationError as exc:
        flash_error(request, exc, fields=True)
    else:
        messages.success(request, success)
    then = request.POST.get("next") or ""
    if then not in TABS:
        then = "edit"
    return redirect(f"surveys:{then}", survey.pk)


@login_required
@require_POST
def section_add(request, survey_id: int):
    survey = _survey(request, survey_id)
    try:
        services.section_add(actor=request.user, survey=survey, data=request.POST)
    except ApplicationError as exc:
        return _structure(request, survey, error=_error_text(exc))
    return _structure(request, survey)


@login_required
def section_edit(request, survey_id: int, section_id: int):
    survey = _survey(request, survey_id)
    section = selectors.section_get(survey=survey, section_id=section_id)
    if request.method != "POST":
        form = forms.SectionForm(initial={n: getattr(section, n) for n in forms.SectionForm.base_fields})
        return _structure(request, survey, editing_section=section.pk, section_form=form)
    form = forms.SectionForm(request.POST)
    if form.is_valid():
        try:
            services.section_update(actor=request.user, section=section, data=form.cleaned_data)
        except ApplicationError as exc:
            return _structure(request, survey, error=_error_text(exc))
        return _structure(request, survey)
    return _structure(request, survey, editing_section=section.pk, section_form=form)


@login_required
@require_POST
def section_move(request, survey_id: int, section_id: int, direction: str):
    survey = _survey(request, survey_id)
    section = selectors.section_get(survey=survey, section_id=section_id)
    try:
        services.section_move(actor=request.user, section=section, up=direction == "up")
    except ApplicationError as exc:
        return _structure(request, survey, error=_error_text(exc))
    return _structure(request, survey)


@login_required
@require_POST
def section_delete(request, survey_id: int, section_id: int):
    survey = _survey(request, survey_id)
    section = selectors.section_get(survey=survey, section_id=section_id)
    try:
        services.section_delete(actor=request.user, section=section)
    except ApplicationError as exc:
        return _structure(request, survey, error=_error_text(exc))
    return _structure(request, survey)


def _question_data(form, post, current_options) -> dict:
    data = {k: form.cleaned_data[k] for k in ("text", "text_en", "required")}
    data["options"] = forms.options_from(form.cleaned_data["options"], current_options)
    data["logic"] = forms.rules_from(post)
    data["kind"] = form.cleaned_data["kind"]
    return data


@login_required
@require_POST
def question_add(request, survey_id: int, section_id: int):
    survey = _survey(request, survey_id)
    section = selectors.section_get(survey=survey, section_id=section_id)
    form = forms.QuestionForm(request.POST)
    if not form.is_valid():
        return _structure(request, survey, error=_("Choose a question type."))
    data = _question_data(form, request.POST, [])
    if data["kind"] == QuestionKind.LIKERT and not data["text"] and not data["text_en"]:
        return _structure(request, survey, error=_("Write the question."))
    if data["kind"] in CHOICE_KINDS and not data["options"]:
        data["options"] = [{"label": _("Option 1")}, {"label": _("Option 2")}]
    try:
        question = services.question_add(actor=request.user, section=section, data=data)
    except ApplicationError as exc:
        return _structure(request, survey, error=_error_text(exc))
    if question.kind in CHOICE_KINDS or not request.htmx:
        return _structure(request, survey, editing=question.pk, question_form=_question_form(question))
    return _structure(request, survey)


def _question_form(question, data=None):
    initial = {
        "kind": question.kind,
        "text": question.text,
        "text_en": question.text_en,
        "required": question.required,
        "options": forms.options_text(question.options),
    }
    return forms.QuestionForm(data, initial=initial)


@login_required
def question_edit(request, survey_id: int, question_id: int):
    survey = _survey(request, survey_id)
    question = selectors.question_get(survey=survey, question_id=question_id)
    if request.method != "POST":
        return _structure(request, survey, editing=question.pk, question_form=_question_form(question))
    post = request.POST.copy()
    post["kind"] = question.kind
    form = _question_form(question, post)
    rules = forms.rules_from(post)
    if not form.is_valid():
        return _structure(request, survey, editing=question.pk, question_form=form, rules=rules)
    try:
        services.question_update(
            actor=request.user, question=question, data=_question_data(form, post, question.options)
        )
    except ApplicationError as exc:
        form.add_error(None, _error_text(exc))
        return _structure(request, survey, editing=question.pk, question_form=form, rules=rules)
    return _structure(request, survey)


@login_required
@require_POST
def question_move(request, survey_id: int, question_id: int, direction: str):
    survey = _survey(request, survey_id)
    question = selectors.question_get(survey=survey, question_id=question_id)
    try:
        services.question_move(actor=request.user, question=question, up=direction == "up")
    except ApplicationError as exc:
        return _structure(request, survey, error=_error_text(exc))
    return _structure(request, survey)


@login_required
@require_POST
def question_delete(request, survey_id: int, question_id: int):
    survey = _survey(request, survey_id)
    question = selectors.question_get(survey=survey, question_id=question_id)
    try:
        services.question_delete(actor=request.user, question=question)
    except ApplicationError as exc:
        return _structure(request, survey, error=_error_text(exc))
    return _structure(request, survey)


@login_required
def survey_preview(request, survey_id: int):
    """The respondent's page as it will look, for staff; it takes no answers."""
    from kehu.surveys.public_views import answer_context

    survey = _survey(request, survey_id)
    return render_page(
        request, "surveys/public/answer.html", {**answer_context(survey, {}, {}), "preview": True}
    )


# --- distribution -------------------------------------------------------------------------------------------------


@login_required
def distribute(request, survey_id: int):
    survey = _survey(request, survey_id)
    actor = request.user
    form = forms.InviteForm(request.POST or None)
    made = None
    if request.method == "POST":
        _editable(request, survey)
        if form.is_valid():
            ids = form.cleaned_data["customer_ids"]
            try:
                if form.cleaned_data["segment"]:
                    ids = ids + _segment_customer_ids(actor, form.cleaned_data["segment"])
                made = services.invitations_create_many(
                    survey=survey,
                    customer_ids=ids,
                    channel=form.cleaned_data["channel"],
                    source=form.cleaned_data["source"] or {"text": _("Distribute page")},
                    actor=actor,
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("%(n)s invitation links made.") % {"n": len(made)})
                form = forms.InviteForm()
    if request.GET.get("download") == "links":
        return _links_export(request, survey)
    page = selectors.invitation_page(actor=actor, survey=survey, cursor=request.GET.get("cursor"), size=50)
    invitations = page.items
    for invitation in invitations:
        invitation.url = links.invitation_url(invitation)
        invitation.customer_shown = customer_label(invitation.customer)
    names = (
        {c.pk: customer_label(c) for c in Customer.objects.filter(pk__in=list(made or {}))} if made else {}
    )
    return render_page(
        request,
        "surveys/distribute.html",
        {
            **_base(request, survey, "distribute"),
            "form": form,
            "invitations": invitations,
            "next_cursor": page.next_cursor,
            "counts": selectors.invitation_counts(actor=actor, survey=survey),
            "made": [(cid, names.get(cid, cid), url) for cid, url in (made or {}).items()],
            "now": timezone.now(),
        },
    )


def _segment_customer_ids(actor, segment: str) -> list[int]:
    """The ids of the customers the actor sees in a segment (a key the `customer.segment` hook knows)."""
    from kehu.customers.selectors import customer_scope, segment_of

    q, _label = segment_of(segment, actor=actor)
    ids = list(customer_scope(actor).filter(q).values_list("pk", flat=True)[: services.MAX_INVITATIONS + 1])
    return ids


def _links_export(request, survey: Survey):
    from kehu.core.exports import ExportColumn, export_response
    from kehu.customers import privacy

    shown = privacy.data_privacy(request.user)
    channels = dict(Invitation.Channel.choices)
    invitations = selectors.invitation_scope(actor=request.user, survey=survey).select_related("customer")
    columns = [
        ExportColumn(_("Customer ID"), lambda i: i.customer_id),
        ExportColumn(
            _("Customer"),
            lambda i: shown.name(i.customer.name) if is_personal(i.customer) else i.customer.name,
        ),
        ExportColumn(_("E-mail"), lambda i: i.customer.email),
        ExportColumn(
            _("Phone"),
            lambda i: shown.phone(i.customer.phone) if is_personal(i.customer) else i.customer.phone,
        ),
        ExportColumn(_("Channel"), lambda i: str(channels.get(i.channel, i.channel))),
        ExportColumn(_("Link"), links.invitation_url),
        ExportColumn(_("Expires at"), lambda i: i.expires_at.strftime("%Y-%m-%d %H:%M")),
        ExportColumn(_("Answered"), lambda i: _("Yes") if i.answered else ""),
    ]
    return export_response(
        actor=request.user,
        target=f"survey-{survey.pk}-links",
        title=str(_("Invitations")),
        columns=columns,
        rows=invitations.order_by("id").iterator(chunk_size=500),
        fmt=export_format(request.GET),
        filters={"survey": survey.pk},
        masked=not shown.revealed,
    )


# --- results ------------------------------------------------------------------------------------------------------


def _filters(request) -> selectors.Filters:
    try:
        return selectors.Filters.from_params(request.GET)
    except ApplicationError as exc:
        flash_error(request, exc, fields=True)
        return selectors.Filters()


def _with_segment(request, filters, read):
    """Run `read`; an unknown segment is flashed and the figures read without it."""
    try:
        return read(filters)
    except ApplicationError as exc:
        flash_error(request, exc, fields=True)
        filters.segment = ""
        return read(filters)


@login_required
def results(request, survey_id: int):
    survey = _survey(request, survey_id)
    actor = request.user
    filters = _filters(request)
    if request.GET.get("export") in ("csv", "xlsx"):
        try:
            selectors.filters_q(actor, filters)  # an unknown segment is refused before the download starts
        except ApplicationError as exc:
            flash_error(request, exc, fields=True)
            return redirect("surveys:results", survey.pk)
        return exports.responses_export(
            actor=actor, survey=survey, filters=filters, fmt=request.GET["export"]
        )
    found = _with_segment(
        request, filters, lambda f: selectors.results(actor=actor, survey=survey, filters=f)
    )
    chart_list = [charts.question_chart(result, survey.pk) for result in found]
    for result, chart in zip(found, chart_list, strict=True):
        result.chart = chart
    download = charts.download(request, chart_list)
    if download is not None:
        return download
    dimension_key = request.GET.get("by", "")
    question_code = request.GET.get("question", "")
    catalogue = selectors.dimensions()
    tabulated = [r.question for r in found if r.question.kind != QuestionKind.TEXT]
    table = None
    if dimension_key in catalogue and question_code:
        question = next((q for q in tabulated if q.code == question_code), None)
        if question is not None:
            table = selectors.crosstab(
                actor=actor,
                survey=survey,
                question=question,
                dimension=catalogue[dimension_key],
                filters=filters,
            )
    texts_code = request.GET.get("texts", "")
    text_question = next(
        (r.question for r in found if r.question.kind == QuestionKind.TEXT and r.question.code == texts_code),
        None,
    )
    all_texts = (
        selectors.text_answers(actor=actor, survey=survey, question=text_question, filters=filters, limit=500)
        if text_question
        else None
    )
    for result in found:
        for answer in result.texts:
            answer.customer_shown = customer_label(answer.customer)
    for answer in all_texts or []:
        answer.customer_shown = customer_label(answer.customer)
    return render_page(
        request,
        "surveys/results.html",
        {
            **_base(request, survey, "results"),
            "filters": filters,
            "results": found,
            "responses": selectors.response_count(actor=actor, survey=survey, filters=filters),
            "dimensions": [(d.key, d.label) for d in catalogue.values()],
            "tabulated": tabulated,
            "by": dimension_key,
            "question_code": question_code,
            "table": table,
            "text_question": text_question,
            "all_texts": all_texts,
            "shops": selectors.shops_answered(actor=actor, survey=survey),
            "query": request.GET.urlencode(),
            "scored_kinds": SCORED_KINDS,
        },
    )


@login_required
def index(request, survey_id: int):
    survey = _survey(request, survey_id)
    actor = request.user
    filters = _filters(request)
    catalogue = selectors.dimensions()
    dimension = catalogue.get(request.GET.get("by", ""))
    report = _with_segment(
        request,
        filters,
        lambda f: selectors.index_report(actor=actor, survey=survey, filters=f, dimension=dimension),
    )
    chart_list = [charts.trend_chart(report.trend), charts.indicators_chart(report.roots, report.overall)]
    download = charts.download(request, chart_list)
    if download is not None:
        return download
    return render_page(
        request,
        "surveys/index.html",
        {
            **_base(request, survey, "index"),
            "filters": filters,
            "report": report,
            "trend_chart": chart_list[0],
            "indicators_chart": chart_list[1],
            "indicators": selectors.flat_indicators(report.roots),
            "dimensions": [(d.key, d.label) for d in catalogue.values()],
            "by": request.GET.get("by", ""),
            "shops": selectors.shops_answered(actor=actor, survey=survey),
        },
    )


@login_required
def indicators(request, survey_id: int):
    survey = _survey(request, survey_id)
    questions = [
        q
        for section in selectors.sections_of(survey)
        for q in section.questions.all()
        if q.kind in SCORED_KINDS
    ]
    errors = {}
    if request.method == "POST":
        _editable(request, survey)
        rows = forms.indicator_rows_from(request.POST)
        if request.POST.get("add"):
            rows.append(
                {
                    "row": max([r["row"] for r in rows], default=-1) + 1,
                    "name": "",
                    "name_en": "",
                    "weight": "",
                    "parent": request.POST.get("add_parent", ""),
                    "questions": [],
                }
            )
        elif request.POST.get("save"):
            try:
                services.indicators_set(actor=request.user, survey=survey, tree=forms.tree_from_rows(rows))
            except ApplicationError as exc:
                errors = {key: str(message) for key, message in exc.fields.items()} or {"": str(exc.message)}
            else:
                messages.success(request, _("Indicator tree saved."))
                return redirect("surveys:indicators", survey.pk)
    else:
        rows = forms.rows_from_tree(services.indicators_data(survey))
    if not rows:
        rows = [{"row": 0, "name": "", "name_en": "", "weight": "", "parent": "", "questions": []}]
    firsts = [
        (str(r["row"]), r["name"] or r["name_en"] or f"#{r['row'] + 1}") for r in rows if not r["parent"]
    ]
    return render_page(
        request,
        "surveys/indicators.html",
        {
            **_base(request, survey, "indicators"),
            "rows": rows,
            "firsts": firsts,
            "questions": questions,
            "errors": errors,
        },
        partial="tree",
    )


def customer_tab_context(*, request, customer, tab) -> dict:
    """`customer.tab` hook: the overview shows the customer's latest survey answers (of surveys the reader sees)."""
    if tab != "overview":
        return {}
    responses = selectors.customer_responses(actor=request.user, customer=customer)
    if not responses:
        return {}
    return {"survey_responses": responses, "overview_panels": ["surveys/_customer_responses.html"]}


# --- the recycle bin ----------------------------------------------------------------------------------------------


@login_required
@require_POST
def survey_restore(request, survey_id: int):
    try:
        survey = services.survey_restore(actor=request.user, survey_id=survey_id)
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise
        flash_error(request, exc)
    else:
        messages.success(request, _("“%(name)s” restored.") % {"name": survey.title})
    return redirect("surveys:list")


def recycle_sections(*, actor) -> list[dict]:
    """`recycle.sections`: the surveys in the bin."""
    if not scoping.is_system_admin(actor):
        return []
    items = [
        {
            "label": row.title,
            "detail": row.get_status_display(),
            "deleted_at": row.deleted_at,
            "deleted_by": row.deleted_by,
            "restore_url": reverse("surveys:restore", args=[row.pk]),
        }
        for row in selectors.deleted_surveys(actor=actor)
    ]
    return [{"title": _("Surveys"), "items": items}] if items else []
