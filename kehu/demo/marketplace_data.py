"""A realistic Taobao seller export, written the way the platform writes it: the 订单报表 (one row per order, the
2019 form's 54 columns with its six headers ending in a space) and the 宝贝报表 (one row per line item, with the
extra empty trailing field), both GBK without BOM, order numbers as `="…"` formulas, phones with a leading
apostrophe, addresses `省 市 区 详细(邮编)`, some of them with commas and newlines.

Buyers buy again (about 2.5 orders each), one in twenty orders is a gift to another receiver, a third of the
receivers are masked, and a few orders are refunded in part or closed. The demo shop imports a small one; the
import benchmark (`bench/orders_import.py`) a million orders."""

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

ORDER_HEADER = [
    "订单编号",
    "买家会员名",
    "买家支付宝账号",
    "买家应付货款",
    "买家应付邮费",
    "买家支付积分",
    "总金额",
    "返点积分",
    "买家实际支付金额",
    "买家实际支付积分",
    "订单状态",
    "买家留言",
    "收货人姓名",
    "收货地址 ",
    "运送方式",
    "联系电话 ",
    "联系手机",
    "订单创建时间",
    "订单付款时间 ",
    "宝贝标题 ",
    "宝贝种类 ",
    "物流单号 ",
    "物流公司",
    "订单备注",
    "宝贝总数量",
    "店铺Id",
    "店铺名称",
    "订单关闭原因",
    "卖家服务费",
    "买家服务费",
    "发票抬头",
    "是否手机订单",
    "分阶段订单信息",
    "特权订金订单id",
    "是否上传合同照片",
    "是否上传小票",
    "是否代付",
    "定金排名",
    "修改后的sku",
    "修改后的收货地址",
    "异常信息",
    "天猫卡券抵扣",
    "集分宝抵扣",
    "是否是O2O交易",
    "新零售交易类型",
    "新零售导购门店名称",
    "新零售导购门店id",
    "新零售发货门店名称",
    "新零售发货门店id",
    "退款金额",
    "预约门店",
    "确认收货时间",
    "打款商家金额",
    "含应开票给个人的个人红包",
]
ITEM_HEADER = [
    "订单编号",
    "标题",
    "价格",
    "购买数量",
    "外部系统编号",
    "商品属性",
    "套餐信息",
    "备注",
    "订单状态",
    "商家编码",
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲"
NICK_WORDS = ["小", "爱", "猫", "购物", "甜甜", "快乐", "宝贝", "星星", "阳光", "tb", "jd", "happy", "lucky"]
PLACES = [
    ("浙江省", "杭州市", "西湖区"),
    ("江苏省", "苏州市", "工业园区"),
    ("广东省", "深圳市", "南山区"),
    ("上海", "上海市", "浦东新区"),
    ("四川省", "成都市", "武侯区"),
    ("北京", "北京市", "朝阳区"),
]
PRODUCTS = [
    (
        "纯棉T恤 夏季新款",
        "99.00",
        ["颜色分类：白色;尺码：M", "颜色分类：黑色;尺码：L", "颜色分类：红色;尺码：XL"],
    ),
    ("牛仔裤 直筒宽松", "159.00", ["颜色分类：蓝色;尺码：28", "颜色分类：黑色;尺码：30"]),
    ("羊毛围巾", "129.90", ["颜色分类：灰色", "颜色分类：驼色"]),
    ("帆布鞋 经典款", "89.00", ["尺码：38", "尺码：40", "尺码：42"]),
    ("保温杯 500ml", "69.00", ["颜色分类：银色"]),
    ("双肩背包, 大容量", "199.00", ["颜色分类：黑色"]),
]
COMPANIES = ["中通快递", "圆通速递", "申通快递", "韵达快递", "顺丰速运"]
SUCCESS, SHIPPED, PAID, UNPAID, CLOSED = (
    "交易成功",
    "卖家已发货，等待买家确认",
    "买家已付款，等待卖家发货",
    "等待买家付款",
    "交易关闭",
)


class Buyer:
    __slots__ = ("mobile", "name", "nick", "place", "street", "units")

    def __init__(self, rng: random.Random, index: int):
        self.nick = f"{rng.choice(NICK_WORDS)}{rng.choice(NICK_WORDS)}{index}"
        self.name = (
            rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        )
        self.mobile = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        self.place = rng.choice(PLACES)
        self.street = f"{rng.choice(['文一西路', '人民路', '解放大道', '中山北路'])}{rng.randrange(1, 999)}号"
        self.units = (1, 1, 2, 1, 4, 1, 1, 2, 1, 3)[index % 10]  # some buyers buy more of everything


def _placed(rng: random.Random, start: datetime, days: int, season: dict[int, float] | None) -> datetime:
    """A time within `days` from `start`; with `season`, a month is kept in proportion to its weight."""
    top = max(season.values()) if season else 1.0
    while True:
        moment = start + timedelta(seconds=int(rng.random() * days * 86400))
        if not season or rng.random() * top < season.get(moment.month, 1.0):
            return moment


def write_taobao(
    directory: Path,
    orders: int,
    *,
    seed: int = 2026,
    buyers: int | None = None,
    start: datetime | None = None,
    days: int = 690,
    season: dict[int, float] | None = None,
) -> tuple[Path, Path]:
    """Write ExportOrderList<stamp>.csv and ExportOrderDetailList<stamp>.csv, the orders placed over the `days`
    from `start` (more in the months `season` weighs above 1, fewer below); returns their paths."""
    rng = random.Random(seed)
    buyers = buyers or max(1, orders * 2 // 5)
    people = [Buyer(rng, i) for i in range(buyers)]
    start = start or datetime(2025, 1, 1)  # noqa: DTZ001  (the export writes Beijing wall-clock text)
    directory.mkdir(parents=True, exist_ok=True)
    order_path = directory / "ExportOrderList202611240930.csv"
    item_path = directory / "ExportOrderDetailList202611240930.csv"
    with (
        order_path.open("w", encoding="gb18030", newline="") as order_file,
        item_path.open("w", encoding="gb18030", newline="") as item_file,
    ):
        orders_out = csv.writer(order_file)
        items_out = csv.writer(item_file)
        orders_out.writerow(ORDER_HEADER)
        items_out.writerow(ITEM_HEADER)
        blank = [""] * 22
        for i in range(orders):
            buyer = people[int(rng.random() ** 1.6 * buyers)]
            number = str(351531314732935790 + i * 7919)
            created = _placed(rng, start, days, season)
            roll = rng.random()
            status = (
                SUCCESS
                if roll < 0.78
                else SHIPPED
                if roll < 0.86
                else PAID
                if roll < 0.9
                else UNPAID
                if roll < 0.94
                else CLOSED
            )
            paid_at = (
                ""
                if status == UNPAID or (status == CLOSED and roll > 0.97)
                else created + timedelta(minutes=rng.randrange(1, 90))
            )
            lines = []
            for _ in range(1 if rng.random() < 0.75 else rng.randrange(2, 4)):
                title, price, variants = rng.choice(PRODUCTS)
                lines.append((title, price, rng.choice(variants), rng.randrange(1, 3) * buyer.units))
            goods = sum(float(price) * qty for _t, price, _v, qty in lines)
            postage = 0.0 if goods > 99 else 10.0
            refund = round(float(lines[0][1]), 2) if status == SUCCESS and rng.random() < 0.04 else 0.0
            if status == CLOSED and paid_at:
                refund = goods + postage
            paid = goods + postage if paid_at else 0.0
            gift = rng.random() < 0.05
            masked = rng.random() < 0.33
            name = "朱" + rng.choice(GIVEN) if gift else buyer.name
            mobile = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" if gift else buyer.mobile
            province, city, district = buyer.place
            street = buyer.street if rng.random() > 0.02 else f"{buyer.street}，近地铁站,\n3号门"
            if masked:
                name, mobile, street = (
                    name[0] + "*" * (len(name) - 1),
                    mobile[:3] + "****" + mobile[-4:],
                    "***",
                )
            received = paid_at + timedelta(days=rng.randrange(2, 9)) if status == SUCCESS else ""
            tracking = f"YT{rng.randrange(10**12):012d}" if status in (SUCCESS, SHIPPED) else ""
            orders_out.writerow(
                [
                    f'="{number}"',
                    buyer.nick,
                    "",
                    f"{goods:.2f}",
                    f"{postage:.2f}",
                    "0",
                    f"{goods + postage:.2f}",
                    "0",
                    f"{paid:.2f}",
                    "0",
                    status,
                    "请尽快发货" if rng.random() < 0.1 else "",
                    name,
                    f"{province} {city} {district} {street}(310000)",
                    "快递",
                    "",
                    f"'{mobile}",
                    created.strftime("%Y-%m-%d %H:%M:%S"),
                    paid_at.strftime("%Y-%m-%d %H:%M:%S") if paid_at else "",
                    "，".join(t for t, _p, _v, _q in lines),
                    str(len(lines)),
                    tracking,
                    rng.choice(COMPANIES) if tracking else "",
                    "",
                    str(sum(q for *_x, q in lines)),
                    "",
                    "",
                    "订单未关闭" if status != CLOSED else ("买家未付款" if not paid_at else "退款"),
                    "0元",
                    "0元",
                    *blank[:19],
                    f"{refund:.2f}",
                    "",
                    received.strftime("%Y-%m-%d %H:%M:%S") if received else "",
                    f"{paid - refund:.2f}元",
                    "",
                ]
            )
            for index, (title, price, variant, qty) in enumerate(lines):
                code = f"SKU-{PRODUCTS.index(next(p for p in PRODUCTS if p[0] == title)):02d}-{variant[-2:]}"
                line_status = CLOSED if refund and index == 0 and status == SUCCESS else status
                items_out.writerow(
                    [f'="{number}"', title, price, str(qty), "", variant, "", "", line_status, code, ""]
                )
    return order_path, item_path
