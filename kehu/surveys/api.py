"""/api/v1/surveys: surveys with their questionnaire, publish and close, the indicator tree, invitations (each
customer's own link), and — over the responses you may read — the responses, per-question results and the
satisfaction index. Respondents answer on the page their link opens; there is no public submit endpoint."""

from ninja import Query, Router, Status

from kehu.core.exceptions import PermissionDenied
from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id
from kehu.customers import privacy
from kehu.surveys import links, selectors, services
from kehu.surveys.schemas import Filters as FilterParams
from kehu.surveys.schemas import (
    IndexFilters,
    IndexOut,
    IndicatorIO,
    IndicatorsIn,
    InvitationPage,
    InvitationsIn,
    InvitationsOut,
    PageFilters,
    ResponsePage,
    ResultsOut,
    SurveyDetailOut,
    SurveyIn,
    SurveyOut,
    SurveyPatch,
)

router = Router(tags=["surveys"])


def _survey(request, survey_id):
    return selectors.survey_get_for(actor=request.auth, survey_id=survey_id)


def _filters(params) -> selectors.Filters:
    data = params.model_dump()
    return selectors.Filters(
        start=data.get("start"),
        end=data.get("end"),
        segment=(data.get("segment") or "").strip(),
        shop=data.get("shop"),
        period=data.get("period") or "month",
    )


@router.get("/surveys", response={200: list[SurveyOut], **ERRORS})
def survey_list(request, status: str = ""):
    """Surveys you see: yours, and your units' as a manager."""
    return selectors.survey_list(
        actor=request.auth, status=status if status in ("draft", "published", "closed") else ""
    )


@router.post("/surveys", response={201: SurveyDetailOut, **ERRORS})
def survey_create(request, payload: SurveyIn):
    data = payload.model_dump(exclude={"sections"})
    sections = [s.model_dump() for s in payload.sections] if payload.sections else None
    survey = services.survey_create(actor=request.auth, data=data, sections=sections)
    return Status(201, survey)


@router.get("/surveys/{survey_id}", response={200: SurveyDetailOut, **ERRORS})
def survey_get(request, survey_id: Id):
    return _survey(request, survey_id)


@router.patch("/surveys/{survey_id}", response={200: SurveyDetailOut, **CONFLICT_ERRORS})
def survey_update(request, survey_id: Id, payload: SurveyPatch):
    """Texts and link settings at any time; `sections` (the whole questionnaire) only while a draft."""
    survey = _survey(request, survey_id)
    data = payload.model_dump(exclude_unset=True, exclude={"version", "sections"})
    if data:
        survey = services.survey_update(actor=request.auth, survey=survey, data=data, version=payload.version)
    if payload.sections is not None:
        survey = services.survey_structure_set(
            actor=request.auth, survey=survey, sections=[s.model_dump() for s in payload.sections]
        )
    return selectors.survey_get_for(actor=request.auth, survey_id=survey.pk)


@router.delete("/surveys/{survey_id}", response={204: None, **ERRORS})
def survey_delete(request, survey_id: Id):
    """To the recycle bin."""
    services.survey_delete(actor=request.auth, survey=_survey(request, survey_id))
    return Status(204, None)


@router.post("/surveys/{survey_id}/publish", response={200: SurveyDetailOut, **ERRORS})
def survey_publish(request, survey_id: Id):
    """Checks the whole questionnaire (skip logic included) and freezes it."""
    return services.survey_publish(actor=request.auth, survey=_survey(request, survey_id))


@router.post("/surveys/{survey_id}/close", response={200: SurveyDetailOut, **ERRORS})
def survey_close(request, survey_id: Id):
    return services.survey_close(actor=request.auth, survey=_survey(request, survey_id))


@router.post("/surveys/{survey_id}/copy", response={201: SurveyDetailOut, **ERRORS})
def survey_copy(request, survey_id: Id):
    """A new draft with the same questionnaire and indicators (how a published survey's questions change)."""
    return Status(201, services.survey_copy(actor=request.auth, survey=_survey(request, survey_id)))


@router.get("/surveys/{survey_id}/indicators", response={200: list[IndicatorIO], **ERRORS})
def indicators_get(request, survey_id: Id):
    return services.indicators_data(_survey(request, survey_id))


@router.put("/surveys/{survey_id}/indicators", response={200: list[IndicatorIO], **ERRORS})
def indicators_set(request, survey_id: Id, payload: IndicatorsIn):
    """Replace the tree: first-level weights add up to 1, and so do each indicator's sub-indicators."""
    survey = _survey(request, survey_id)
    tree = [indicator.model_dump() for indicator in payload.indicators]
    return services.indicators_set(actor=request.auth, survey=survey, tree=tree)


@router.post("/surveys/{survey_id}/invitations", response={201: InvitationsOut, **ERRORS})
def invitations_create(request, survey_id: Id, payload: InvitationsIn):
    """A new link for each customer (customers you see; an unknown id is refused by name)."""
    survey = _survey(request, survey_id)
    if not services.may_edit(request.auth, survey):
        raise PermissionDenied()
    urls = services.invitations_create_many(
        survey=survey,
        customer_ids=payload.customer_ids,
        channel=payload.channel,
        source=payload.source,
        actor=request.auth,
    )
    return Status(201, {"urls": urls})


@router.get("/surveys/{survey_id}/invitations", response={200: InvitationPage, **ERRORS})
def invitation_list(request, survey_id: Id, params: Query[PageFilters]):
    """The invitations of customers you see, newest first."""
    page = selectors.invitation_page(
        actor=request.auth, survey=_survey(request, survey_id), cursor=params.cursor, size=params.limit
    )
    for invitation in page.items:
        invitation.url = links.invitation_url(invitation)
        invitation.source = (
            invitation.source if isinstance(invitation.source, dict) else {"text": str(invitation.source)}
        )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/surveys/{survey_id}/responses", response={200: ResponsePage, **ERRORS})
def response_list(request, survey_id: Id, params: Query[PageFilters]):
    """The responses you may read (anonymous ones, and those of customers you see), newest first."""
    survey = _survey(request, survey_id)
    page = selectors.response_page(
        actor=request.auth, survey=survey, cursor=params.cursor, size=params.limit, filters=_filters(params)
    )
    shown = privacy.data_privacy(request.auth)
    items = []
    for response in page.items:
        customer = response.customer
        items.append(
            {
                "id": response.pk,
                "submitted_at": response.submitted_at,
                "customer": {
                    "id": customer.pk,
                    "name": shown.name(customer.name) if privacy.is_personal(customer) else customer.name,
                }
                if customer
                else None,
                "shop_id": response.shop_id,
                "invitation_id": response.invitation_id,
                "language": response.language,
                "answers": [
                    {
                        "question": a.question.code,
                        "number": a.number,
                        "choice": a.choice or None,
                        "text": a.text or None,
                    }
                    for a in response.answer_list
                ],
            }
        )
    return {"items": items, "next_cursor": page.next_cursor}


@router.get("/surveys/{survey_id}/results", response={200: ResultsOut, **ERRORS})
def results(request, survey_id: Id, params: Query[FilterParams]):
    """Each question's distribution over the responses you may read; scales with their mean and share of 5s,
    0–10 questions with their NPS."""
    survey = _survey(request, survey_id)
    filters = _filters(params)
    found = selectors.results(actor=request.auth, survey=survey, filters=filters, texts=0)
    return {
        "responses": selectors.response_count(actor=request.auth, survey=survey, filters=filters),
        "questions": [
            {
                "code": r.question.code,
                "kind": r.question.kind,
                "text": r.question.shown_text,
                "respondents": r.respondents,
                "bars": [
                    {"value": str(b.value), "label": b.label, "count": b.count, "percent": b.percent}
                    for b in r.bars
                ],
                "mean": r.mean,
                "top_percent": r.top_percent,
                "nps": r.nps,
            }
            for r in found
        ],
    }


def _row(row, roots) -> dict:
    indicators = []
    for depth_parent, node in _walk(roots):
        score = row.scores.get(node.id)
        indicators.append(
            {
                "id": node.id,
                "name": node.name,
                "parent_id": depth_parent,
                "weight": node.weight,
                "index": score.index if score else None,
                "fully_satisfied": score.top_percent if score else None,
            }
        )
    return {
        "key": None if row.key is None else str(row.key),
        "label": row.label,
        "respondents": row.respondents,
        "index": row.score.index,
        "fully_satisfied": row.score.top_percent,
        "indicators": indicators,
    }


def _walk(roots):
    for node in roots:
        yield None, node
        for child in node.children:
            yield node.id, child


@router.get("/surveys/{survey_id}/index", response={200: IndexOut, **ERRORS})
def index(request, survey_id: Id, params: Query[IndexFilters]):
    """The satisfaction index over the responses you may read: overall, per month or quarter, per shop; each
    with its first-level indicators and sub-indicators (0–100) and the fully-satisfied share."""
    survey = _survey(request, survey_id)
    report = selectors.index_report(actor=request.auth, survey=survey, filters=_filters(params))
    if not report.roots:
        return {"overall": None, "periods": [], "shops": []}
    return {
        "overall": _row(report.overall, report.roots),
        "periods": [_row(row, report.roots) for row in report.trend],
        "shops": [_row(row, report.roots) for row in report.shops],
    }
