"""Marketplace exports as sellers download them: GBK bytes, `="..."` order numbers, apostrophe phones, headers
ending in a space, quoted addresses with newlines, masked values, numbers ruined by Excel, and xlsx."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from kehu.core.exceptions import ValidationFailed
from kehu.integrations import marketplace as mp
from kehu.sales.models import Order

BEIJING = ZoneInfo("Asia/Shanghai")

TAOBAO_2019 = (
    "订单编号,买家会员名,买家支付宝账号,买家应付货款,买家应付邮费,买家支付积分,总金额,返点积分,买家实际支付金额,"
    "买家实际支付积分,订单状态,买家留言,收货人姓名,收货地址 ,运送方式,联系电话 ,联系手机,订单创建时间,订单付款时间 ,"
    "宝贝标题 ,宝贝种类 ,物流单号 ,物流公司,订单备注,宝贝总数量,店铺Id,店铺名称,订单关闭原因,卖家服务费,买家服务费,"
    "发票抬头,是否手机订单,分阶段订单信息,特权订金订单id,是否上传合同照片,是否上传小票,是否代付,定金排名,修改后的sku,"
    "修改后的收货地址,异常信息,天猫卡券抵扣,集分宝抵扣,是否是O2O交易,新零售交易类型,新零售导购门店名称,新零售导购门店id,"
    "新零售发货门店名称,新零售发货门店id,退款金额,预约门店,确认收货时间,打款商家金额,含应开票给个人的个人红包"
)


def taobao_row(**cells) -> str:
    columns = [h.strip() for h in TAOBAO_2019.split(",")]
    values = dict.fromkeys(columns, "")
    values.update(cells)
    return ",".join(csv_cell(values[c]) for c in columns)


def csv_cell(value: str) -> str:
    """A cell as a CSV writer puts it: quoted when it holds a comma, a quote or a line break."""
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def write(tmp_path, name: str, text: str, encoding: str):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_a_gbk_taobao_order_report_is_recognised_and_cleaned(tmp_path):
    rows = [
        taobao_row(
            订单编号='="35153131473293579"',
            买家会员名="ｔｂ小王 ",
            买家应付货款="199.00",
            买家应付邮费="10.00",
            总金额="209.00",
            买家实际支付金额="201.12元",
            订单状态="交易成功",
            买家留言="周末送货，谢谢\n别放快递柜, 打电话",
            收货人姓名="王小明",
            收货地址="浙江省 杭州市 西湖区 文三路 100 号(310012)",
            联系手机="'13925130165",
            订单创建时间="2024-11-11 00:01:02",
            订单付款时间="2024/11/11 0:02",
            宝贝标题="保温杯，杯套",
            物流单号="'SF1234567890",
            宝贝总数量="2",
            退款金额="0",
            确认收货时间="2024-11-15",
        ),
        taobao_row(订单编号="3.51531E+16", 买家会员名="excel坏了", 订单状态="交易关闭"),
        taobao_row(
            订单编号="35153131473293580",
            买家会员名="小李",
            买家实际支付金额="88.8",
            订单状态="买家已付款,等待卖家发货",
            收货人姓名="李*",
            联系手机="138****5678",
            收货地址="北京市 北京市 朝阳区 建国路 1 号(000000)",
        ),
    ]
    path = write(
        tmp_path, "ExportOrderList202411150930.csv", TAOBAO_2019 + "\r\n" + "\r\n".join(rows) + "\r\n", "gbk"
    )
    export = mp.read_export(path)
    assert export.kind == mp.Kind.TAOBAO_ORDERS
    assert export.table.encoding == "gb18030"
    first, ruined, masked = list(export.rows())

    assert first.ok, first.errors
    values = first.values
    assert values["order_no"] == "35153131473293579"
    assert values["buyer_nick"] == "tb小王"  # NFKC, trimmed
    assert (values["goods_amount"], values["shipping_amount"], values["paid_amount"]) == (
        Decimal("199.00"),
        Decimal("10.00"),
        Decimal("201.12"),
    )
    assert values["status"] == Order.Status.COMPLETED
    assert values["buyer_message"] == "周末送货，谢谢\n别放快递柜, 打电话"
    assert values["receiver_mobile"] == "13925130165"
    assert values["receiver_address"] == mp.Address("浙江省", "杭州市", "西湖区", "文三路 100 号", "310012")
    assert values["ordered_at"] == datetime.datetime(2024, 11, 11, 0, 1, 2, tzinfo=BEIJING)
    assert values["paid_at"] == datetime.datetime(2024, 11, 11, 0, 2, tzinfo=BEIJING)
    assert values["received_at"] == datetime.datetime(2024, 11, 15, tzinfo=BEIJING)
    assert values["logistics_no"] == "SF1234567890"
    assert values["quantity"] == Decimal("2")
    assert export.headers["receiver_address"] == "收货地址"  # the trailing space trimmed

    assert not ruined.ok
    reasons = [reason for column, reason in ruined.errors if column == "订单编号"]
    (reason,) = reasons
    assert "3.51531E+16" in reason
    assert ruined.raw[0] == "3.51531E+16"

    assert masked.ok and masked.values["status"] == Order.Status.PAID  # ASCII comma
    assert masked.masked == {"receiver_mobile", "receiver_name"}
    assert masked.values["receiver_address"].zip_code == ""


def test_line_items_with_the_extra_trailing_field_and_a_partial_refund(tmp_path):
    header = "订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码"
    rows = [
        '="35153131473293579",保温杯 500ml,99.00,1,,颜色分类：红色;尺码：XL,,,交易成功,CUP-500,',
        '="35153131473293579",杯套,100.00,1,,,,,交易关闭,SLV-1,',
    ]
    path = write(tmp_path, "ExportOrderDetailList.csv", "\n".join([header, *rows]) + "\n", "gbk")
    export = mp.read_export(path)
    assert export.kind == mp.Kind.TAOBAO_ITEMS
    cup, sleeve = list(export.rows())
    assert cup.ok and sleeve.ok
    assert cup.values["attributes"] == "颜色分类：红色;尺码：XL"
    assert (cup.values["merchant_code"], cup.values["unit_price"]) == ("CUP-500", Decimal("99.00"))
    assert sleeve.values["status"] == Order.Status.CLOSED


def test_a_jd_xlsx_with_a_masked_phone(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "订单号",
            "商品ID",
            "商品名称",
            "订购数量",
            "下单时间",
            "京东价",
            "订单金额",
            "应付金额",
            "订单状态",
            "下单帐号",
            "客户姓名",
            "客户地址",
            "联系电话",
            "运费金额",
            "付款确认时间",
            "货号",
        ]
    )
    sheet.append(
        [
            230456789012,
            "100012345678",
            "电热水壶",
            2,
            datetime.datetime(2024, 6, 18, 10, 0),
            129,
            258,
            258,
            "完成",
            "jd_buyer01",
            "赵六",
            "广东 深圳市 南山区 科技园",
            "1******6198",
            0,
            "2024-06-18 10:01:00",
            "KT-01",
        ]
    )
    path = tmp_path / "jd.xlsx"
    workbook.save(path)
    export = mp.read_export(str(path))
    assert export.kind == mp.Kind.JD
    (row,) = list(export.rows())
    assert row.ok, row.errors
    assert row.values["order_no"] == "230456789012"
    assert row.values["ordered_at"] == datetime.datetime(2024, 6, 18, 10, 0, tzinfo=BEIJING)
    assert row.values["status"] == Order.Status.COMPLETED
    assert row.masked == {"receiver_phone"}
    assert row.values["paid_amount"] == Decimal("258")


def test_a_pinduoduo_export_with_a_refund_in_the_after_sale_status(tmp_path):
    header = (
        "订单成交时间,商品,订单号,订单状态,商品总价(元),邮费(元),店铺优惠折扣(元),平台优惠折扣(元),多多支付立减金额(元),"
        "用户实付金额(元),商家实收金额(元),商品数量(件),发货时间,确认收货时间,商品id,商品规格,样式ID,商家编码-规格维度,"
        "商家编码-商品维度,商家备注,售后状态,快递单号,快递公司"
    )
    row = (
        "2024-05-20 20:00:00,儿童水杯,240520-123456789012345,已签收，退款成功,39.90,0.00,5.00,0.00,0.00,34.90,34.90,1,"
        "2024-05-21 09:00:00,,12345,蓝色,6789,CUP-B,CUP,,退款成功,YT123,圆通"
    )
    path = write(tmp_path, "pdd.csv", "\ufeff" + header + "\n" + row + "\n", "utf-8")
    export = mp.read_export(path)
    assert export.kind == mp.Kind.PDD
    (parsed,) = list(export.rows())
    assert parsed.ok, parsed.errors
    assert parsed.values["order_no"] == "240520-123456789012345"
    assert parsed.values["status"] == Order.Status.CLOSED
    assert parsed.values["after_sale"] == "退款成功"
    assert parsed.values["paid_amount"] == Decimal("34.90")


def test_a_file_that_is_no_known_export_is_refused_naming_its_headers(tmp_path):
    path = write(tmp_path, "x.csv", "姓名,电话\n张三,13800000000\n", "utf-8")
    with pytest.raises(ValidationFailed) as caught:
        mp.read_export(path)
    assert "姓名" in str(caught.value.message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("201.12", Decimal("201.12")), ("¥1,234.50", Decimal("1234.50")), ("8元", Decimal("8")), ("", None)],
)
def test_money_cells(text, expected):
    assert mp.money(text) == expected


@pytest.mark.parametrize("text", ["abc", "1.005", "NaN", "1e20"])
def test_money_cells_that_are_refused(text):
    with pytest.raises(mp.CellError):
        mp.money(text)


@pytest.mark.parametrize("text", ["", "abc", "12345", "3.51531E+16", "35153131473293579x"])
def test_order_numbers_that_are_refused(text):
    with pytest.raises(mp.CellError):
        mp.order_number(text)


def test_an_address_without_the_structured_form_stays_whole():
    assert mp.address("北京朝阳区建国路1号") == mp.Address(detail="北京朝阳区建国路1号")
    assert mp.address("上海市 上海市 浦东新区 世纪大道 8 号 (200120)").zip_code == "200120"


def test_unknown_statuses_are_named():
    with pytest.raises(mp.CellError, match="神秘状态"):
        mp.status("神秘状态")
