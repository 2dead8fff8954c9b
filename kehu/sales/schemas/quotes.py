"""API schemas for quotes."""

import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from kehu.core.schemas import Day, Id, InputSchema, Limit, QuerySchema, UserRef, Version, choice
from kehu.customers.schemas import CustomerRef
from kehu.sales.models import Quote
from kehu.sales.selectors.quotes import quote_lines

Cursor = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
Quantity = Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=3)]
Price = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class QuoteFields(InputSchema):
    title: str | None = Field(None, max_length=200, description="Default: the opportunity's name.")
    contact_id: Id | None = Field(None, description="The customer's contact the quote is addressed to.")
    language: choice(Quote.Language) | None = Field(None, description="The PDF's language. Default: yours.")
    issued_on: Day | None = Field(None, description="Default: today.")
    valid_until: Day | None = Field(None, description="Default: 30 days after `issued_on`.")
    terms: str | None = Field(None, max_length=5000)
    notes: str | None = Field(None, max_length=5000)


class QuoteIn(QuoteFields):
    opportunity_id: Id = Field(
        description="The opportunity whose customer, currency and products the quote takes."
    )


class QuotePatch(QuoteFields):
    version: Version


class QuoteLineIn(InputSchema):
    product_id: Id
    quantity: Quantity
    unit_price: Price | None = Field(None, description="Default: the price of the quote's price list.")
    discount: Percent = Decimal(0)
    tax_rate: Percent | None = Field(None, description="Default: the product's.")
    description: str = Field("", max_length=255)


class QuoteLinesIn(InputSchema):
    lines: list[QuoteLineIn] = Field(max_length=500)
    version: Version | None = Field(None, description="Refuse if the quote changed since.")


class AcceptIn(InputSchema):
    win_opportunity: bool = Field(True, description="Also move the opportunity to its pipeline's won stage.")


class RejectIn(InputSchema):
    reason: str = Field(max_length=255)


class QuoteLineOut(Schema):
    id: int
    position: int
    product_id: int
    sku: str
    product_name: str = Field(description="In your language.")
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal
    amount: Decimal = Field(description="quantity × unit price × (1 − discount), excluding tax.")
    tax_amount: Decimal

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_product_name(obj) -> str:
        return obj.product.label


class QuoteOut(Schema):
    id: int
    number: str
    revision: int
    label: str = Field(description="The number, with the revision after the first.")
    status: str
    opportunity_id: int
    customer: CustomerRef
    contact_id: int | None
    title: str
    language: str
    currency: str
    price_list_id: int | None
    issued_on: datetime.date
    valid_until: datetime.date
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    terms: str
    notes: str
    sent_at: datetime.datetime | None
    decided_at: datetime.datetime | None
    decided_by: UserRef | None
    decision_note: str = Field(description="Why the customer rejected it.")
    created_by: UserRef | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class QuoteDetailOut(QuoteOut):
    lines: list[QuoteLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return quote_lines(quote=obj)


class AcceptanceOut(Schema):
    quote: QuoteDetailOut
    opportunity_moved: bool = Field(description="Whether the opportunity was moved to the won stage.")
    not_moved_reason: str = Field(description="Why it was not (empty when it was, or was not asked to).")


class QuotePage(Schema):
    items: list[QuoteOut]
    next_cursor: str | None


class QuoteQuery(QuerySchema):
    status: choice(Quote.Status) | None = None
    opportunity_id: Id | None = None
    customer_id: Id | None = None
    q: str = Field("", max_length=100, description="Part of the number, the title or the customer's name.")
    cursor: str | None = Cursor
    limit: Limit = 25
