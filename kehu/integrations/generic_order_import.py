"""Orders from any spreadsheet (an own web shop, a till, an older system), through `order_record`.

Each row is one line of an order; rows sharing an order number are the lines of one order, in this file or in
later ones. An order is keyed by (channel, number): a later row or file updates its status, amounts, dates,
receiver and logistics, and adds or updates lines by SKU (else title). The customer is named by No., by name, or
found by mobile; a buyer found by none of these is created as an individual customer of the importing user
(unless the mobile collides with a customer of someone else, which rejects the row naming that customer).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.exceptions import ValidationFailed
from kehu.core.text import fold, normalise_phone
from kehu.customers import services as customer_services
from kehu.customers.exceptions import CustomerCollision
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_scope
from kehu.integrations import importers, marketplace
from kehu.integrations.customer_import import _choice_lookup, customer_of_row
from kehu.integrations.importers import Column
from kehu.integrations.order_import import scores_refresh
from kehu.sales.models import Order
from kehu.sales.services.orders import order_record
from kehu.users import scoping
from kehu.users.models import User

CHANNELS = [
    Order.Channel.OWN_SITE,
    Order.Channel.OFFLINE,
    Order.Channel.B2B,
    Order.Channel.TAOBAO,
    Order.Channel.TMALL,
    Order.Channel.JD,
    Order.Channel.PDD,
]
MONEY = {
    "total": "total_amount",
    "paid": "paid_amount",
    "refunded": "refunded_amount",
    "shipping": "shipping_amount",
    "discount": "discount_amount",
}
MOMENTS = ("ordered_at", "paid_at", "shipped_at", "completed_at")
TEXTS = {
    "receiver": "receiver_name",
    "receiver_phone": "receiver_phone",
    "address": "delivery_address",
    "logistics_company": "logistics_company",
    "logistics_no": "logistics_no",
    "notes": "notes",
}


def columns() -> list[Column]:
    return [
        Column(
            "number",
            gettext_lazy("Order number"),
            ("订单号", "订单编号", "单号", "order no", "order id"),
            required=True,
        ),
        Column("customer_id", gettext_lazy("Customer No."), ("客户编号", "客户ID")),
        Column(
            "customer",
            gettext_lazy("Customer"),
            ("客户", "客户名称", "买家", "买家姓名", "会员", "会员名", "buyer"),
        ),
        Column("phone", gettext_lazy("Mobile"), ("手机", "手机号", "联系电话", "电话", "买家手机", "mobile")),
        Column("channel", gettext_lazy("Channel"), ("渠道", "销售渠道", "平台", "来源")),
        Column("status", gettext_lazy("Status"), ("状态", "订单状态")),
        Column(
            "ordered_at",
            gettext_lazy("Ordered at"),
            ("下单时间", "订单时间", "订单日期", "创建时间", "日期", "date"),
        ),
        Column("paid_at", gettext_lazy("Paid at"), ("付款时间", "支付时间")),
        Column("shipped_at", gettext_lazy("Shipped at"), ("发货时间",)),
        Column("completed_at", gettext_lazy("Completed at"), ("完成时间", "成交时间", "签收时间")),
        Column("total", gettext_lazy("Total"), ("订单金额", "总金额", "合计", "应付金额", "订单总额")),
        Column("paid", gettext_lazy("Paid"), ("实付", "实付金额", "支付金额", "实收金额")),
        Column("refunded", gettext_lazy("Refunded"), ("退款", "退款金额")),
        Column("shipping", gettext_lazy("Shipping"), ("运费", "邮费")),
        Column("discount", gettext_lazy("Discount"), ("优惠", "优惠金额", "折扣金额")),
        Column("sku", gettext_lazy("SKU"), ("商品编码", "商家编码", "货号", "编码")),
        Column(
            "title",
            gettext_lazy("Item"),
            ("商品", "商品名称", "品名", "宝贝标题", "产品", "产品名称", "product"),
        ),
        Column("attributes", gettext_lazy("Attributes"), ("规格", "商品属性", "颜色尺码", "sku属性")),
        Column("quantity", gettext_lazy("Quantity"), ("数量", "购买数量", "qty")),
        Column("unit_price", gettext_lazy("Unit price"), ("单价", "价格", "price")),
        Column("amount", gettext_lazy("Amount"), ("金额", "小计", "商品金额", "line amount")),
        Column("receiver", gettext_lazy("Receiver"), ("收货人", "收件人", "收货人姓名")),
        Column(
            "receiver_phone",
            gettext_lazy("Receiver phone"),
            ("收货人电话", "收货人手机", "收件人电话", "收货电话"),
        ),
        Column("address", gettext_lazy("Delivery address"), ("收货地址", "地址", "配送地址")),
        Column("logistics_company", gettext_lazy("Logistics company"), ("物流公司", "快递公司")),
        Column("logistics_no", gettext_lazy("Tracking number"), ("物流单号", "快递单号", "运单号")),
        Column("notes", gettext_lazy("Notes"), ("备注", "订单备注", "remark")),
    ]


@dataclass
class Context:
    actor: User
    channel: str
    channels: dict[str, str]
    statuses: dict[str, str]
    customers: dict = field(default_factory=dict)


def _cell(values: dict, name: str, parse, errors: dict, target: dict, key: str | None = None) -> None:
    text = values.get(name, "")
    if not text.strip():
        return
    try:
        target[key or name] = parse(text)
    except marketplace.CellError as exc:
        errors[name] = str(exc)


def _number(text: str) -> str:
    value = fold(text).strip("=\"'")
    marketplace.refuse_scientific(value)
    if not value or len(value) > 64:
        raise marketplace.CellError(_("“%(value)s” is not an order number.") % {"value": value})
    return value


def _parse(ctx: Context, values: dict[str, str]) -> tuple[str, str, dict, dict | None]:
    errors: dict[str, str] = {}
    parsed: dict = {}
    _cell(values, "number", _number, errors, parsed)
    if "number" not in parsed and "number" not in errors:
        errors["number"] = _("The order number is empty.")
    channel = ctx.channel
    if fold(values.get("channel")):
        channel = ctx.channels.get(fold(values["channel"]).casefold(), "")
        if not channel:
            errors["channel"] = _("“%(value)s” is not one of the options.") % {"value": values["channel"]}
    data: dict = {}
    if fold(values.get("status")):
        text = fold(values["status"])
        status = ctx.statuses.get(text.casefold()) or marketplace.STATUSES.get(text)
        if status is None:
            errors["status"] = _("Unknown order status “%(value)s”.") % {"value": text}
        data["status"] = status
    for name in MOMENTS:
        _cell(values, name, marketplace.moment, errors, data)
    for name, target in MONEY.items():
        _cell(values, name, marketplace.money, errors, data, target)
    for name, target in TEXTS.items():
        if fold(values.get(name)):
            data[target] = fold(values[name])
    line: dict = {}
    _cell(values, "quantity", marketplace.quantity, errors, line)
    _cell(values, "unit_price", marketplace.money, errors, line)
    _cell(values, "amount", marketplace.money, errors, line)
    for name in ("sku", "title", "attributes"):
        if fold(values.get(name)):
            line[name] = fold(values[name])
    if errors:
        raise ValidationFailed(fields=errors)
    if not (line.get("sku") or line.get("title")):
        if line:
            raise ValidationFailed(fields={"title": _("Give the item's title or SKU.")})
        return parsed["number"], channel, data, None
    quantity = line.get("quantity") or Decimal(1)
    if line.get("unit_price") is None:
        line["unit_price"] = (line.get("amount") or Decimal(0)) / quantity if quantity else Decimal(0)
        line["unit_price"] = line["unit_price"].quantize(Decimal("0.01"))
    if line.get("amount") is None:
        line["amount"] = (line["unit_price"] * quantity).quantize(Decimal("0.01"))
    line["quantity"] = quantity
    return parsed["number"], channel, data, line


def _buyer(ctx: Context, values: dict[str, str]) -> Customer:
    customer = customer_of_row(ctx.actor, values, ctx.customers, missing_ok=True)
    if customer is not None:
        return customer
    phone = normalise_phone(values.get("phone"))
    if phone:
        found = customer_scope(ctx.actor).filter(phone_key=phone).first()
        if found is not None:
            return found
    name = fold(values.get("customer")) or fold(values.get("receiver"))
    if not name:
        raise ValidationFailed(fields={"customer": _("Name the customer, or give their mobile.")})
    data = {"kind": Customer.Kind.INDIVIDUAL, "name": name, "phone": fold(values.get("phone"))}
    try:
        return customer_services.customer_create(actor=ctx.actor, data=data)
    except CustomerCollision as exc:
        if scoping.can_edit(ctx.actor, exc.existing):
            return exc.existing
        raise


def import_row(ctx: Context, values: dict[str, str], row_number: int) -> str:
    number, channel, data, line = _parse(ctx, values)
    customer = _buyer(ctx, values)
    _order, outcome = order_record(
        actor=ctx.actor, customer=customer, channel=channel, number=number, data=data, line=line
    )
    return outcome


class OptionsForm(forms.Form):
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel of rows that name none"),
        choices=[(c.value, c.label) for c in CHANNELS],
        initial=Order.Channel.OWN_SITE,
    )

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)

    def options(self) -> dict:
        return {"channel": self.cleaned_data["channel"]}


def prepare(job, actor: User) -> Context:
    channel = (job.options or {}).get("channel") or Order.Channel.OWN_SITE
    if channel not in Order.Channel.values:
        raise ValidationFailed(fields={"channel": _("Unknown channel.")})
    return Context(
        actor=actor,
        channel=channel,
        channels=_choice_lookup(Order.Channel),
        statuses=_choice_lookup(Order.Status),
    )


importers.register(
    importers.Importer(
        kind="orders",
        label=gettext_lazy("Orders (any spreadsheet)"),
        columns=columns,
        prepare=prepare,
        import_row=import_row,
        options_form=OptionsForm,
        on_done=scores_refresh,
    )
)
