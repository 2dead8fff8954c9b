"""Reads for quotes. A quote is seen by whoever sees its opportunity; quotes of binned opportunities or customers
are hidden with them."""

from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext as _

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import record_id
from kehu.sales.models import Opportunity, Quote, QuoteLine
from kehu.users import scoping
from kehu.users.models import User


@dataclass
class QuoteFilters:
    status: str = ""
    opportunity: int | None = None
    customer: int | None = None
    q: str = ""

    @classmethod
    def from_params(cls, params) -> "QuoteFilters":
        def number(name):
            raw = str(params.get(name) or "").strip()
            if not raw:
                return None
            if not raw.isdigit():
                raise ValidationFailed(fields={name: _("Enter a number (an id).")})
            return int(raw)

        status = params.get("status") or ""
        if status and status not in Quote.Status.values:
            raise ValidationFailed(
                fields={
                    "status": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Quote.Status.values)}
                }
            )
        return cls(
            status=status,
            opportunity=number("opportunity"),
            customer=number("customer"),
            q=(params.get("q") or "").strip()[:100],
        )


def quote_scope(actor: User) -> QuerySet:
    return Quote.objects.filter(
        scoping.visible_q(actor, Quote),
        opportunity__deleted_at__isnull=True,
        customer__deleted_at__isnull=True,
    )


def quote_list(*, actor: User, filters: QuoteFilters, cursor: str | None = None, size: int = 25) -> Page:
    """Newest first; a number or a customer's name to search."""
    qs = quote_scope(actor).select_related("customer", "opportunity", "created_by", "decided_by")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.opportunity:
        qs = qs.filter(opportunity_id=filters.opportunity)
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)
    if filters.q:
        qs = qs.filter(
            Q(number__icontains=filters.q)
            | Q(customer__name__icontains=filters.q)
            | Q(title__icontains=filters.q)
        )
    return keyset_page(qs, ordering=["-id"], cursor=cursor, size=min(max(size, 1), 200))


def quote_get_for(*, actor: User, quote_id) -> Quote:
    quote = (
        quote_scope(actor)
        .select_related(
            "customer",
            "opportunity",
            "opportunity__customer",
            "opportunity__pipeline",
            "contact",
            "price_list",
            "created_by",
            "decided_by",
        )
        .filter(pk=record_id(quote_id))
        .first()
    )
    if quote is None:
        raise NotFound()
    return quote


def quote_lines(*, quote: Quote) -> list[QuoteLine]:
    return list(quote.lines.select_related("product").order_by("position", "id"))


def quote_revisions(*, quote: Quote) -> list[Quote]:
    """Every live revision under the quote's number, newest first (they share the quote's opportunity)."""
    return list(
        Quote.objects.filter(number=quote.number, opportunity_id=quote.opportunity_id).order_by("-revision")
    )


def quote_is_newest(*, quote: Quote) -> bool:
    newest = Quote.objects.filter(number=quote.number).aggregate(n=Max("revision"))["n"]
    return newest is None or quote.revision >= newest


def quotes_of_opportunity(*, actor: User, opportunity: Opportunity, limit: int = 50) -> list[Quote]:
    return list(quote_scope(actor).filter(opportunity=opportunity).order_by("-id")[:limit])
