"""/api/v1/ quotes: parse → one service or selector → respond. Quotes are seen by whoever sees their
opportunity; one you may not see answers 404."""

from django.http import HttpResponse
from ninja import Query, Router, Status

from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id, referenced
from kehu.sales.pdf import quote_pdf, quote_pdf_filename
from kehu.sales.schemas.quotes import (
    AcceptanceOut,
    AcceptIn,
    QuoteDetailOut,
    QuoteIn,
    QuoteLinesIn,
    QuotePage,
    QuotePatch,
    QuoteQuery,
    RejectIn,
)
from kehu.sales.selectors import opportunities as opportunity_selectors
from kehu.sales.selectors import quotes as selectors
from kehu.sales.services import quotes as services

router = Router(tags=["quotes"])

NOT_DATA = {"opportunity_id", "contact_id", "version"}


def _data(payload) -> dict:
    data = payload.model_dump(exclude_unset=True, exclude=NOT_DATA)
    if "contact_id" in payload.model_fields_set:
        data["contact"] = payload.contact_id
    return data


def _get(request, quote_id):
    return selectors.quote_get_for(actor=request.auth, quote_id=quote_id)


@router.get("/quotes", response={200: QuotePage, **ERRORS})
def quote_list(request, params: Query[QuoteQuery]):
    filters = selectors.QuoteFilters(
        status=params.status or "",
        opportunity=params.opportunity_id,
        customer=params.customer_id,
        q=params.q.strip(),
    )
    page = selectors.quote_list(actor=request.auth, filters=filters, cursor=params.cursor, size=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/quotes", response={201: QuoteDetailOut, **ERRORS})
def quote_create(request, payload: QuoteIn):
    """A draft quote from an opportunity you may edit: its customer, currency and products."""
    opportunity = referenced(
        lambda: opportunity_selectors.opportunity_get_for(
            actor=request.auth, opportunity_id=payload.opportunity_id
        ),
        field="opportunity_id",
    )
    quote = services.quote_create(actor=request.auth, opportunity=opportunity, data=_data(payload))
    return Status(201, _get(request, quote.pk))


@router.get("/quotes/{quote_id}", response={200: QuoteDetailOut, **ERRORS})
def quote_get(request, quote_id: Id):
    return _get(request, quote_id)


@router.patch("/quotes/{quote_id}", response={200: QuoteDetailOut, **CONFLICT_ERRORS})
def quote_update(request, quote_id: Id, payload: QuotePatch):
    """Edit a draft's header; `version` guards against overwriting a newer edit."""
    quote = _get(request, quote_id)
    services.quote_update(actor=request.auth, quote=quote, data=_data(payload), version=payload.version)
    return _get(request, quote_id)


@router.delete("/quotes/{quote_id}", response={204: None, **CONFLICT_ERRORS})
def quote_delete(request, quote_id: Id):
    """A draft goes to the recycle bin (409 for a quote that was sent)."""
    services.quote_delete(actor=request.auth, quote=_get(request, quote_id))
    return Status(204, None)


@router.put("/quotes/{quote_id}/lines", response={200: QuoteDetailOut, **CONFLICT_ERRORS})
def quote_lines_set(request, quote_id: Id, payload: QuoteLinesIn):
    """Replace a draft's lines. A line without `unit_price` takes the quote's price list; the totals follow."""
    quote = _get(request, quote_id)
    lines = [line.model_dump(exclude_none=True) for line in payload.lines]
    services.quote_lines_set(actor=request.auth, quote=quote, lines=lines, version=payload.version)
    return _get(request, quote_id)


@router.post("/quotes/{quote_id}/send", response={200: QuoteDetailOut, **ERRORS})
def quote_send(request, quote_id: Id):
    services.quote_send(actor=request.auth, quote=_get(request, quote_id))
    return _get(request, quote_id)


@router.post("/quotes/{quote_id}/accept", response={200: AcceptanceOut, **ERRORS})
def quote_accept(request, quote_id: Id, payload: AcceptIn):
    """The customer accepted the sent quote; with `win_opportunity` the opportunity is won too, when its won
    stage needs nothing the opportunity lacks (else `not_moved_reason` says what)."""
    result = services.quote_accept(
        actor=request.auth, quote=_get(request, quote_id), win_opportunity=payload.win_opportunity
    )
    return {
        "quote": _get(request, quote_id),
        "opportunity_moved": result.opportunity_moved,
        "not_moved_reason": result.not_moved_reason,
    }


@router.post("/quotes/{quote_id}/reject", response={200: QuoteDetailOut, **ERRORS})
def quote_reject(request, quote_id: Id, payload: RejectIn):
    services.quote_reject(actor=request.auth, quote=_get(request, quote_id), reason=payload.reason)
    return _get(request, quote_id)


@router.post("/quotes/{quote_id}/revise", response={201: QuoteDetailOut, **ERRORS})
def quote_revise(request, quote_id: Id):
    """A new draft revision under the same number; the quote revised is superseded."""
    revision = services.quote_revise(actor=request.auth, quote=_get(request, quote_id))
    return Status(201, _get(request, revision.pk))


@router.get(
    "/quotes/{quote_id}/pdf",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            200: {
                "description": "The quote as PDF, in the quote's language.",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def quote_pdf_download(request, quote_id: Id):
    quote = _get(request, quote_id)
    response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote_pdf_filename(quote)}"'
    return response
