"""The responses of a survey as CSV or XLSX: one row per response the reader may read (`selectors.response_scope`),
one column per question. Streamed like every export (`kehu.core.exports`): responses are read in batches with
their answers (one query per batch), so memory stays flat; personal names are masked for readers without the
contact-details permission; the download is audited."""

from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exports import ExportColumn, export_response
from kehu.customers import privacy
from kehu.surveys import selectors
from kehu.surveys.models import Answer, Invitation, QuestionKind, Survey
from kehu.users.models import User

BATCH = 500


def _batches(responses) -> Iterator[dict]:
    batch = []
    for response in responses.iterator(chunk_size=BATCH):
        batch.append(response)
        if len(batch) == BATCH:
            yield from _with_answers(batch)
            batch = []
    yield from _with_answers(batch)


def _with_answers(batch: list) -> Iterator:
    if not batch:
        return
    found: dict[int, dict[int, list[Answer]]] = {}
    for answer in Answer.objects.filter(response_id__in=[r.pk for r in batch]).order_by("id"):
        found.setdefault(answer.response_id, {}).setdefault(answer.question_id, []).append(answer)
    for response in batch:
        response.by_question = found.get(response.pk, {})
        yield response


def _cell(question, answers: list[Answer]):
    if not answers:
        return ""
    if question.kind == QuestionKind.TEXT:
        return answers[0].text
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return "; ".join(question.option_label(a.choice) for a in answers)
    return answers[0].number


def responses_export(*, actor: User, survey: Survey, filters: selectors.Filters, fmt: str):
    shown = privacy.data_privacy(actor)
    questions = [q for section in selectors.sections_of(survey) for q in section.questions.all()]
    channels = dict(Invitation.Channel.choices)

    def customer_name(response):
        customer = response.customer
        if customer is None:
            return ""
        return shown.name(customer.name) if privacy.is_personal(customer) else customer.name

    def question_column(question):
        return ExportColumn(
            label=f"{question.code} {question.shown_text}",
            value=lambda r: _cell(question, r.by_question.get(question.pk, [])),
        )

    columns = [
        ExportColumn(_("Response"), lambda r: r.pk),
        ExportColumn(
            _("Submitted at"), lambda r: timezone.localtime(r.submitted_at).strftime("%Y-%m-%d %H:%M")
        ),
        ExportColumn(_("Customer ID"), lambda r: r.customer_id or ""),
        ExportColumn(_("Customer"), customer_name),
        ExportColumn(_("Shop"), lambda r: str(r.shop) if r.shop_id else ""),
        ExportColumn(
            _("Channel"),
            lambda r: str(channels.get(r.invitation.channel, "")) if r.invitation_id else _("Anonymous link"),
        ),
        ExportColumn(_("Language"), lambda r: r.language),
        *[question_column(q) for q in questions],
    ]
    responses = (
        selectors.response_scope(actor=actor, survey=survey, filters=filters)
        .select_related("customer", "shop", "invitation")
        .order_by("submitted_at", "id")
    )
    return export_response(
        actor=actor,
        target=f"survey-{survey.pk}-responses",
        title=str(_("Responses")),
        columns=columns,
        rows=_batches(responses),
        fmt=fmt,
        filters={"survey": survey.pk, **filters.as_dict()},
        masked=not shown.revealed,
    )
