"""API schemas for orders and their lines."""

import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from kehu.core.schemas import Id, InputSchema, Limit, Moment, QuerySchema, UnitRef, UserRef, Version, choice
from kehu.customers.schemas import CustomerRef
from kehu.sales.models import Order
from kehu.sales.privacy import order_data_privacy
from kehu.sales.schemas.opportunities import Amount, Currency, Cursor

Quantity = Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=3)]
Rate = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class OrderQuery(QuerySchema):
    status: choice(Order.Status) | None = None
    channel: choice(Order.Channel) | None = None
    customer: Id | None = None
    contract: Id | None = None
    q: str | None = Field(None, max_length=64, description="Order number prefix or customer name.")
    cursor: str | None = Cursor
    limit: Limit = 25


class OrderLineIn(InputSchema):
    product_id: Id | None = Field(None, description="A catalogue product; or give `title` for a free line.")
    title: str | None = Field(None, max_length=255)
    quantity: Quantity
    unit_price: Amount | None = Field(None, description="Default: the customer's price-list price.")
    discount: Rate = Decimal(0)
    tax_rate: Rate | None = Field(None, description="Default: the product's tax rate.")


class OrderIn(InputSchema):
    customer_id: Id | None = Field(
        None,
        description="For a direct order. Give `contract_id` instead to order what an active contract sold.",
    )
    contract_id: Id | None = None
    currency: Currency | None = None
    ordered_at: Moment | None = None
    shipping_amount: Amount | None = None
    discount_amount: Amount | None = None
    delivery_address: str | None = Field(None, max_length=255)
    notes: str | None = None
    lines: list[OrderLineIn] | None = Field(
        None, max_length=500, description="Default from a contract: its lines."
    )


class OrderPatch(InputSchema):
    ordered_at: Moment | None = None
    shipping_amount: Amount | None = None
    discount_amount: Amount | None = None
    delivery_address: str | None = Field(None, max_length=255)
    notes: str | None = None
    version: Version


class OrderLinesIn(InputSchema):
    lines: list[OrderLineIn] = Field(max_length=500)
    version: Version | None = None


class OrderStatusIn(InputSchema):
    status: choice(Order.Status)
    reason: str = Field("", max_length=255, description="Required when cancelling (status `closed`).")


class OrderLineOut(Schema):
    id: int
    product_id: int | None
    sku: str
    title: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal
    amount: Decimal
    refunded_amount: Decimal


class OrderOut(Schema):
    id: int
    channel: str
    number: str
    status: str
    customer: CustomerRef | None
    contract_id: int | None
    opportunity_id: int | None
    currency: str
    goods_amount: Decimal
    shipping_amount: Decimal
    discount_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal
    paid_amount: Decimal
    refunded_amount: Decimal
    ordered_at: datetime.datetime
    paid_at: datetime.datetime | None
    shipped_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    delivery_address: str
    notes: str
    shop_id: int | None
    buyer_nick: str
    platform_status: str
    receiver_name: str
    receiver_phone: str
    logistics_company: str
    logistics_no: str
    owner: UserRef | None
    org_unit: UnitRef
    version: int

    @staticmethod
    def resolve_delivery_address(obj, context) -> str:
        return order_data_privacy(context["request"].auth, obj).address(obj.delivery_address)

    @staticmethod
    def resolve_receiver_name(obj, context) -> str:
        return order_data_privacy(context["request"].auth, obj).name(obj.receiver_name)

    @staticmethod
    def resolve_receiver_phone(obj, context) -> str:
        return order_data_privacy(context["request"].auth, obj).phone(obj.receiver_phone)


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None
