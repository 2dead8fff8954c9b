"""Reading marketplace order exports (Taobao/Tmall, JD, Pinduoduo) into plain, checked records.

This module knows the files (docs: ../shared/formats/marketplace-exports.md) and nothing of the database:
`read_export()` recognises which export a file is by its headers, and each row comes back as a `Parsed` with
the values under canonical names, already cleaned (order numbers as text, money as Decimal, Beijing times as
aware datetimes, masked phones flagged), plus the reason for every cell it had to refuse. The importer decides
what to store.

Rules the exports force on us:
- map by trimmed header name, never by position (columns come and go between years); keep aliases;
- an order number is digits (PDD: digits and one hyphen) stored as text; one in scientific notation was
  re-saved in Excel and has lost its last digits, so the row is quarantined, never guessed;
- values containing `*` are masked by the platform and must never serve as keys;
- money may carry 元, ¥ and thousands separators; dates come as `yyyy-MM-dd HH:mm:ss`, or `yyyy/MM/dd HH:mm`
  from Excel, or as a date alone.
"""

import datetime
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.exceptions import ValidationFailed
from kehu.integrations.importers import header_key
from kehu.integrations.tabular import Table, clean_cell, open_table
from kehu.sales.models import Order

# Beijing time has had no daylight saving since 1991: a fixed offset, much cheaper to apply than the zone.
BEIJING = datetime.timezone(datetime.timedelta(hours=8), "Asia/Shanghai")


class Kind(StrEnum):
    TAOBAO_ORDERS = "taobao_orders"  # 订单报表: one row per order
    TAOBAO_ITEMS = "taobao_items"  # 宝贝报表 / 销售明细: one row per line item
    JD = "jd"  # one row per SKU, order amounts repeated on each
    PDD = "pdd"  # one row per order (one SKU)


KIND_LABELS = {
    Kind.TAOBAO_ORDERS: gettext_lazy("Taobao/Tmall order report (订单报表)"),
    Kind.TAOBAO_ITEMS: gettext_lazy("Taobao/Tmall line items (宝贝报表 / 销售明细)"),
    Kind.JD: gettext_lazy("JD order export"),
    Kind.PDD: gettext_lazy("Pinduoduo order export"),
}

# Canonical name → the header spellings seen in real exports, per kind.
COLUMNS: dict[Kind, dict[str, tuple[str, ...]]] = {
    Kind.TAOBAO_ORDERS: {
        "order_no": ("订单编号", "主订单编号"),
        "buyer_nick": ("买家会员名",),
        "buyer_alipay": ("买家支付宝账号",),
        "goods_amount": ("买家应付货款",),
        "shipping_amount": ("买家应付邮费",),
        "total_amount": ("总金额",),
        "paid_amount": ("买家实际支付金额", "买家实付金额"),
        "status": ("订单状态",),
        "buyer_message": ("买家留言",),
        "receiver_name": ("收货人姓名",),
        "receiver_address": ("收货地址",),
        "receiver_phone": ("联系电话",),
        "receiver_mobile": ("联系手机",),
        "ordered_at": ("订单创建时间",),
        "paid_at": ("订单付款时间",),
        "titles": ("宝贝标题",),
        "logistics_no": ("物流单号",),
        "logistics_company": ("物流公司",),
        "seller_note": ("订单备注",),
        "quantity": ("宝贝总数量",),
        "shop_external_id": ("店铺Id", "店铺ID"),
        "shop_name": ("店铺名称",),
        "close_reason": ("订单关闭原因",),
        "refunded_amount": ("退款金额",),
        "received_at": ("确认收货时间",),
    },
    Kind.TAOBAO_ITEMS: {
        "order_no": ("订单编号", "主订单编号"),
        "sub_order_no": ("子订单编号",),
        "title": ("标题", "商品标题"),
        "unit_price": ("价格", "商品价格"),
        "quantity": ("购买数量",),
        "external_code": ("外部系统编号",),
        "attributes": ("商品属性",),
        "package": ("套餐信息",),
        "note": ("备注", "联系方式备注"),
        "status": ("订单状态",),
        "merchant_code": ("商家编码",),
        "goods_amount": ("买家应付货款",),
        "paid_amount": ("买家实付金额", "买家实际支付金额"),
        "refund_status": ("退款状态",),
        "refunded_amount": ("退款金额",),
        "ordered_at": ("订单创建时间",),
        "paid_at": ("订单付款时间",),
        "item_id": ("商品ID",),
        "shipped_at": ("发货时间",),
        "logistics_no": ("物流单号",),
        "logistics_company": ("物流公司",),
    },
    Kind.JD: {
        "order_no": ("订单号",),
        "item_id": ("商品ID",),
        "title": ("商品名称",),
        "quantity": ("订购数量",),
        "payment_method": ("支付方式",),
        "ordered_at": ("下单时间",),
        "unit_price": ("京东价",),
        "total_amount": ("订单金额",),
        "settled_amount": ("结算金额",),
        "paid_amount": ("应付金额",),
        "status": ("订单状态",),
        "order_type": ("订单类型",),
        "buyer_nick": ("下单帐号", "下单账号"),
        "receiver_name": ("客户姓名",),
        "receiver_address": ("客户地址",),
        "receiver_phone": ("联系电话",),
        "buyer_message": ("订单备注",),
        "seller_note": ("商家备注",),
        "shipping_amount": ("运费金额",),
        "paid_at": ("付款确认时间",),
        "merchant_code": ("货号",),
        "completed_at": ("订单完成时间",),
        "source": ("订单来源",),
        "channel": ("订单渠道",),
    },
    Kind.PDD: {
        "ordered_at": ("订单成交时间",),
        "title": ("商品",),
        "order_no": ("订单号",),
        "status": ("订单状态",),
        "goods_amount": ("商品总价(元)",),
        "shipping_amount": ("邮费(元)",),
        "shop_discount": ("店铺优惠折扣(元)",),
        "platform_discount": ("平台优惠折扣(元)",),
        "payment_discount": ("多多支付立减金额(元)",),
        "paid_amount": ("用户实付金额(元)",),
        "received_amount": ("商家实收金额(元)",),
        "quantity": ("商品数量(件)",),
        "shipped_at": ("发货时间",),
        "received_at": ("确认收货时间",),
        "item_id": ("商品id", "商品ID"),
        "attributes": ("商品规格",),
        "sku_id": ("样式ID",),
        "merchant_code": ("商家编码-规格维度",),
        "merchant_item_code": ("商家编码-商品维度",),
        "seller_note": ("商家备注",),
        "after_sale": ("售后状态",),
        "logistics_no": ("快递单号",),
        "logistics_company": ("快递公司",),
    },
}

# The columns that identify each kind, tried in this order (the Taobao order report also has 订单编号 and
# 订单状态, so line items are recognised by what only they carry).
SIGNATURES: list[tuple[Kind, tuple[str, ...]]] = [
    (Kind.TAOBAO_ORDERS, ("order_no", "buyer_nick", "paid_amount", "status")),
    (Kind.JD, ("order_no", "buyer_nick", "item_id", "quantity")),
    (Kind.PDD, ("order_no", "title", "paid_amount", "ordered_at")),
    (Kind.TAOBAO_ITEMS, ("order_no", "title", "unit_price", "quantity")),
]

MONEY = {
    "goods_amount",
    "shipping_amount",
    "total_amount",
    "paid_amount",
    "refunded_amount",
    "unit_price",
    "settled_amount",
    "shop_discount",
    "platform_discount",
    "payment_discount",
    "received_amount",
}
MOMENTS = {"ordered_at", "paid_at", "received_at", "shipped_at", "completed_at"}
PHONES = {"receiver_phone", "receiver_mobile"}
NUMBERS = {"order_no", "sub_order_no"}

S = Order.Status
STATUSES = {
    # Taobao / Tmall (order and line level; newer files use an ASCII comma)
    "等待买家付款": S.UNPAID,
    "买家已付款，等待卖家发货": S.PAID,
    "卖家部分发货": S.PARTLY_SHIPPED,
    "卖家已发货，等待买家确认": S.SHIPPED,
    "买家已签收": S.SHIPPED,
    "交易成功": S.COMPLETED,
    "交易关闭": S.CLOSED,
    "交易被淘宝关闭": S.CLOSED,
    # JD
    "等待付款": S.UNPAID,
    "等待出库": S.PAID,
    "等待发货": S.PAID,
    "等待确认收货": S.SHIPPED,
    "完成": S.COMPLETED,
    "已完成": S.COMPLETED,
    "已取消": S.CLOSED,
    "取消": S.CLOSED,
    # Pinduoduo
    "待付款": S.UNPAID,
    "待发货": S.PAID,
    "已发货，待签收": S.SHIPPED,
    "已签收": S.COMPLETED,
    "未发货，退款成功": S.CLOSED,
    "已发货，退款成功": S.CLOSED,
    "已签收，退款成功": S.CLOSED,
}

_NUMBER = re.compile(r"^\d{6,30}$")
_PDD_NUMBER = re.compile(r"^\d{6}-\d{6,24}$")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")
_ZIP = re.compile(r"\((\d{6})\)\s*$")
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
)


class CellError(ValueError):
    """A value that cannot be used, with the reason in the reader's language."""


def refuse_scientific(value: str) -> None:
    """An order number Excel turned into 3.51531E+17 has lost its last digits: it can never be a key."""
    if _SCIENTIFIC.match(value):
        raise CellError(
            _(
                "The order number %(value)s is in scientific notation (the file was re-saved in Excel) and its "
                "last digits are lost; export the file again from the platform."
            )
            % {"value": value}
        )


def order_number(text: str, *, kind: Kind | None = None) -> str:
    value = text.strip().strip("=\"'\t ")
    if not value:
        raise CellError(_("The order number is empty."))
    refuse_scientific(value)
    if _NUMBER.match(value) or (kind == Kind.PDD and _PDD_NUMBER.match(value)):
        return value
    raise CellError(_("“%(value)s” is not an order number.") % {"value": value})


_PLAIN_MONEY = re.compile(r"^-?\d{1,13}(\.\d{1,2})?$")


def money(text: str) -> Decimal | None:
    value = text.strip()
    if not value:
        return None
    if _PLAIN_MONEY.match(value):  # the usual case, checked in one step
        return Decimal(value)
    value = value.replace("元", "").replace("¥", "").replace("￥", "").replace(",", "").replace(" ", "")
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise CellError(_("“%(value)s” is not an amount.") % {"value": text.strip()}) from exc
    if (
        not amount.is_finite()
        or amount != amount.quantize(Decimal("0.01"))
        or abs(amount) >= Decimal(10) ** 13
    ):
        raise CellError(_("“%(value)s” is not an amount.") % {"value": text.strip()})
    return amount


def moment(text: str) -> datetime.datetime | None:
    value = text.strip()
    if not value:
        return None
    if len(value) in (10, 19) and value[4] == "-":  # yyyy-MM-dd[ HH:mm:ss], parsed in C
        try:
            return datetime.datetime.fromisoformat(value).replace(tzinfo=BEIJING)
        except ValueError:
            pass
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, pattern).replace(tzinfo=BEIJING)
        except ValueError:
            continue
    raise CellError(_("“%(value)s” is not a date and time.") % {"value": value})


def is_masked(text: str) -> bool:
    """The platform hid part of the value (138****5678, 张*): never a key."""
    return "*" in text


def phone(text: str) -> str:
    return re.sub(r"[\s\-]", "", text.strip().lstrip("'"))


def nick(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


@dataclass(frozen=True)
class Address:
    province: str = ""
    city: str = ""
    district: str = ""
    detail: str = ""
    zip_code: str = ""


def address(text: str) -> Address:
    """`省 市 区 详细地址(邮编)`: space separated, the zip in ASCII parentheses (`000000` when unknown)."""
    value = " ".join(text.split())
    zip_code = ""
    match = _ZIP.search(value)
    if match:
        zip_code = "" if match.group(1) == "000000" else match.group(1)
        value = value[: match.start()].strip()
    parts = value.split(" ", 3)
    parts += [""] * (4 - len(parts))
    if len(value.split(" ")) < 3:  # not the structured form: keep it whole
        return Address(detail=value, zip_code=zip_code)
    return Address(province=parts[0], city=parts[1], district=parts[2], detail=parts[3], zip_code=zip_code)


def status(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).strip().replace(",", "，")
    found = STATUSES.get(value) or STATUSES.get(text.strip())
    if found is None:
        raise CellError(_("Unknown order status “%(value)s”.") % {"value": text.strip()})
    return found


def quantity(text: str) -> Decimal | None:
    value = text.strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise CellError(_("“%(value)s” is not a quantity.") % {"value": value}) from exc
    if not number.is_finite() or number < 0 or number >= Decimal(10) ** 9:
        raise CellError(_("“%(value)s” is not a quantity.") % {"value": value})
    return number


@dataclass
class Parsed:
    """One data row: cleaned values by canonical name, the refused cells (header, reason) and the raw cells."""

    row_number: int
    values: dict = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    masked: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Export:
    kind: Kind
    table: Table
    positions: dict[str, int]  # canonical name → column index
    headers: dict[str, str]  # canonical name → the header as written

    def __post_init__(self):
        self._plan = [(name, index, self._cleaner(name)) for name, index in self.positions.items()]
        self._watched = {n for n in self.positions if n in PHONES or n in ("receiver_name", "buyer_nick")}

    def rows(self) -> Iterator[Parsed]:
        for number, cells in self.table.raw_rows():
            yield self.parse(number, cells)

    def parse(self, number: int, cells: list[str]) -> Parsed:
        """Clean the known columns of one row as the file has it (spreadsheet armour included)."""
        parsed = Parsed(row_number=number, raw=cells)
        values = parsed.values
        width = len(cells)
        for name, index, cleaner in self._plan:
            text = cells[index] if index < width else ""
            if text and (text[0] in _ARMOUR or text[-1] in _ARMOUR):
                text = clean_cell(text)
            try:
                values[name] = cleaner(text)
            except CellError as exc:
                parsed.errors.append((self.headers[name], str(exc)))
                continue
            if name in self._watched and "*" in text:
                parsed.masked.add(name)
        return parsed

    def _cleaner(self, name: str):
        if name == "sub_order_no":
            return lambda text: order_number(text, kind=self.kind) if text.strip() else ""
        if name in NUMBERS:
            return lambda text: order_number(text, kind=self.kind)
        if name in MONEY:
            return money
        if name in MOMENTS:
            return moment
        if name in PHONES:
            return phone
        if name == "status":
            return lambda text: status(text) if text.strip() else ""
        if name == "quantity":
            return quantity
        if name == "buyer_nick":
            return nick
        if name == "receiver_address":
            return address
        return str.strip


_ARMOUR = frozenset("='\t \u3000\r\n")


def recognise(headers: list[str]) -> tuple[Kind, dict[str, int], dict[str, str]] | None:
    """Which export these headers belong to, and where each known column is; None when none fits."""
    keys = [header_key(h) for h in headers]
    for kind, required in SIGNATURES:
        positions: dict[str, int] = {}
        for name, spellings in COLUMNS[kind].items():
            wanted = {header_key(s) for s in spellings}
            index = next((i for i, key in enumerate(keys) if key in wanted), None)
            if index is not None:
                positions[name] = index
        if all(name in positions for name in required):
            return kind, positions, {name: headers[i].strip() for name, i in positions.items()}
    return None


def recognise_or_refuse(headers: list[str]) -> tuple[Kind, dict[str, int], dict[str, str]]:
    found = recognise(headers)
    if found is None:
        raise ValidationFailed(
            _(
                "This file is not a Taobao/Tmall, JD or Pinduoduo order export we know: its headers are %(headers)s."
            )
            % {"headers": "、".join(headers[:12])}
        )
    return found


def read_export(path: str) -> Export:
    """Open a marketplace export (CSV in any of its encodings, or XLSX) and recognise it by its headers."""
    table = open_table(path)
    kind, positions, headers = recognise_or_refuse(table.headers)
    return Export(kind=kind, table=table, positions=positions, headers=headers)
