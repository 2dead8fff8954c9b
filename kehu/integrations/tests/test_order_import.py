"""Marketplace order imports end to end: exact counts, sums and buyer statistics from realistic Taobao files;
idempotent re-imports, overlapping exports where the newest wins, buyer linking rules, rejected rows and the
error report, line items and products, test runs, and the data scope of what an import creates."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.customers.models import Customer
from kehu.integrations import services
from kehu.integrations.tests.exports import item, items_file, order, orders_file, run
from kehu.sales import buyer_stats
from kehu.sales.models import BuyerIdentity, BuyerLinkSuggestion, BuyerStats, Order, OrderLine, Product, Shop
from kehu.users import scoping

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def shop(org, regions):
    return Shop.objects.create(platform=Shop.Platform.TAOBAO, name="客户旗舰店", org_unit=org.team_a)


def stats(nick: str) -> BuyerStats:
    return BuyerIdentity.objects.get(nick=nick).customer.buyer_stats


def test_an_order_report_and_its_line_items_give_exact_orders_buyers_and_statistics(org, shop, tmp_path):
    rows = [
        # 小王: two completed orders, one with a partial refund; his own receiver, unmasked.
        order("351531314732935790", "ｔｂ小王 ", 买家应付货款="199.00", 买家应付邮费="10.00", 总金额="209.00",
              买家实际支付金额="209.00", 订单付款时间="2026-03-01 10:05:00",
              收货地址="浙江省 杭州市 西湖区 文三路 100号,\n近地铁(310012)", 买家留言="周末送，谢谢, 别放柜子"),
        order("351531314732935791", "tb小王", 买家实际支付金额="100.00", 退款金额="30.00",
              订单创建时间="2026/04/02 09:00", 订单付款时间="2026/04/02 09:30"),
        # a gift from 小王 to someone else: his purchase, not his address
        order("351531314732935792", "tb小王", 收货人姓名="朱丽", 联系手机="'13800001111",
              收货地址="北京 北京市 朝阳区 建国路1号(100000)", 订单付款时间="2026-05-01 08:00:00"),
        # 阿花: masked receiver; one order still on its way, one closed unpaid (not a purchase)
        order("351531314732935793", "阿花", 收货人姓名="李*", 联系手机="138****5678", 收货地址="广东省 深圳市 南山区 ***(000000)",
              订单状态="卖家已发货，等待买家确认", 订单付款时间="2026-06-01 12:00:00", 物流单号="YT0001", 物流公司="圆通速递"),
        order("351531314732935794", "阿花", 订单状态="交易关闭", 订单关闭原因="买家未付款", 订单付款时间="",
              买家实际支付金额="0.00", 收货人姓名="李*", 联系手机="138****5678"),
        # refunded in full after payment: closed, counts as a paid order with a refund
        order("351531314732935795", "阿花", 订单状态="交易关闭", 订单关闭原因="退款", 退款金额="100.00",
              收货人姓名="李*", 联系手机="138****5678"),
    ]  # fmt: skip
    job = run(org.east_manager, shop, orders_file(tmp_path, "ExportOrderList202606020900.csv", rows))
    assert (job.status, job.processed_rows, job.created_count, job.rejected_count) == ("done", 6, 6, 0)
    assert (
        job.processed_rows == job.created_count + job.updated_count + job.unchanged_count + job.rejected_count
    )

    orders = {o.number: o for o in Order.objects.filter(shop=shop)}
    assert len(orders) == 6 and {o.channel for o in orders.values()} == {"taobao"}
    first = orders["351531314732935790"]
    assert (first.goods_amount, first.shipping_amount, first.total_amount) == (
        Decimal("199.00"),
        Decimal("10.00"),
        Decimal("209.00"),
    )
    assert first.buyer_message == "周末送，谢谢, 别放柜子"
    assert first.ordered_at == datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING)
    assert first.org_unit == org.team_a and first.owner is None
    assert orders["351531314732935791"].paid_at == datetime(2026, 4, 2, 9, 30, tzinfo=BEIJING)
    assert orders["351531314732935793"].status == Order.Status.SHIPPED
    assert orders["351531314732935793"].receiver_masked
    assert orders["351531314732935793"].logistics_no == "YT0001"
    assert orders["351531314732935795"].close_reason == "退款"

    # Two buyers (the nick is NFKC-normalised and trimmed); the gift receiver is no buyer.
    assert Customer.objects.filter(kind="individual").count() == 2
    wang = BuyerIdentity.objects.get(shop=shop, nick="tb小王").customer
    assert (wang.name, wang.phone, wang.org_unit, wang.owner) == ("tb小王", "13925130165", org.team_a, None)
    assert wang.province.name == "浙江省" and wang.district.name == "西湖区"
    assert wang.address == "文三路 100号, 近地铁"
    hua = BuyerIdentity.objects.get(shop=shop, nick="阿花")
    assert (hua.customer.phone, hua.mobile, hua.receiver_name) == ("", "", "")  # masked values are never kept
    assert {o.customer_id for o in orders.values() if o.buyer_nick == "tb小王"} == {wang.pk}

    s = stats("tb小王")
    assert (s.order_count, s.paid_orders, s.refund_orders) == (3, 3, 1)
    assert s.total_paid == Decimal("209.00") + Decimal("70.00") + Decimal("100.00")
    assert s.refunded_total == Decimal("30.00")
    assert s.first_purchase_at == datetime(2026, 3, 1, 10, 5, tzinfo=BEIJING)
    assert s.last_purchase_at == datetime(2026, 5, 1, 8, 0, tzinfo=BEIJING)
    assert s.average_order_value == Decimal("126.33")
    assert s.return_rate == pytest.approx(1 / 3)
    h = stats("阿花")
    assert (h.order_count, h.paid_orders, h.refund_orders, h.total_paid, h.refunded_total) == (
        0,
        2,
        1,
        Decimal("0.00"),
        Decimal("100.00"),
    )
    assert h.first_purchase_at is None
    assert buyer_stats.drift() == {}

    items = [
        item(
            "351531314732935790", "保温杯 500ml", "99.50", "2", 商品属性="颜色分类：银色", 商家编码="CUP-500"
        ),
        item(
            "351531314732935791", "保温杯 500ml", "99.50", "1", 商品属性="颜色分类：银色", 商家编码="CUP-500"
        ),
        item(
            "351531314732935791", "杯套", "0.50", "1", 商品属性="颜色分类：红色;尺码：XL", 订单状态="交易关闭"
        ),
        item("351531314732935792", "杯套", "0.50", "1", 商品属性="颜色分类：红色;尺码：XL"),
    ]
    lines_job = run(
        org.east_manager, shop, items_file(tmp_path, "ExportOrderDetailList202606020900.csv", items)
    )
    assert (lines_job.created_count, lines_job.rejected_count) == (4, 0)
    cup = OrderLine.objects.get(order=first)
    assert (cup.quantity, cup.unit_price, cup.amount, cup.sku) == (
        Decimal("2"),
        Decimal("99.50"),
        Decimal("199.00"),
        "CUP-500",
    )
    assert cup.attributes == "颜色分类：银色"
    # One product per 商家编码, one for the uncoded item by title and attributes, in the "imported" category.
    products = Product.objects.filter(pk__in=OrderLine.objects.filter(order__shop=shop).values("product_id"))
    assert products.count() == 2
    assert {p.category.name for p in products} == {"导入商品"}
    assert (
        OrderLine.objects.get(order__number="351531314732935791", title="杯套").platform_status == "交易关闭"
    )


def test_the_same_files_again_change_nothing_and_a_newer_export_updates_with_history(org, shop, tmp_path):
    older = [
        order("351531314732935800", "tb老客", 订单状态="卖家已发货，等待买家确认"),
        order("351531314732935801", "tb老客"),
    ]
    first = run(org.admin, shop, orders_file(tmp_path, "ExportOrderList202605010900.csv", older))
    assert (first.created_count, first.unchanged_count) == (2, 0)
    assert stats("tb老客").order_count == 1

    again = run(org.admin, shop, orders_file(tmp_path, "ExportOrderList202605010900.csv", older))
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
    assert Order.objects.count() == 2 and BuyerIdentity.objects.count() == 1 and Customer.objects.count() == 1

    # A later export overlaps: the first order is now complete with a partial refund and a tracking number.
    newer = [
        order("351531314732935800", "tb老客", 退款金额="20.00", 物流单号="SF1234", 物流公司="顺丰速运",
              确认收货时间="2026-05-20 10:00:00"),
        order("351531314732935801", "tb老客"),
        order("351531314732935802", "tb老客", 订单付款时间="2026-05-21 10:00:00"),
    ]  # fmt: skip
    later = run(org.admin, shop, orders_file(tmp_path, "ExportOrderList202606010900.csv", newer))
    assert (later.created_count, later.updated_count, later.unchanged_count) == (1, 1, 1)
    updated = Order.objects.get(number="351531314732935800")
    assert (updated.status, updated.refunded_amount, updated.logistics_no) == (
        "completed",
        Decimal("20.00"),
        "SF1234",
    )
    history = updated.history.order_by("history_id")
    assert [h.history_type for h in history] == ["+", "~"]
    assert history.last().history_change_reason == "imported" and history.last().history_user == org.admin
    s = stats("tb老客")
    assert (s.order_count, s.total_paid, s.refund_orders) == (3, Decimal("280.00"), 1)

    # The older export once more: the newer one wins, nothing moves back.
    stale = run(org.admin, shop, orders_file(tmp_path, "ExportOrderList202605010900.csv", older))
    assert (stale.created_count, stale.updated_count, stale.unchanged_count) == (0, 0, 2)
    assert Order.objects.get(number="351531314732935800").status == "completed"
    assert buyer_stats.drift() == {}


def test_a_completed_order_refunded_later_leaves_the_purchase_span(org, shop, tmp_path):
    rows = [
        order("351531314732935810", "tb退货", 订单付款时间="2026-03-01 10:00:00"),
        order("351531314732935811", "tb退货", 订单付款时间="2026-04-01 10:00:00"),
    ]
    run(org.admin, shop, orders_file(tmp_path, "ExportOrderList202604020900.csv", rows))
    assert stats("tb退货").last_purchase_at == datetime(2026, 4, 1, 10, 0, tzinfo=BEIJING)
    rows[1] = order("351531314732935811", "tb退货", 订单状态="交易关闭", 订单关闭原因="退款", 退款金额="100.00",
                    订单付款时间="2026-04-01 10:00:00")  # fmt: skip
    run(org.admin, shop, orders_file(tmp_path, "ExportOrderList202604100900.csv", rows))
    s = stats("tb退货")
    assert (s.order_count, s.total_paid, s.refund_orders, s.paid_orders) == (1, Decimal("100.00"), 1, 2)
    assert s.last_purchase_at == datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING)
    assert buyer_stats.drift() == {}


def test_nicks_join_one_buyer_only_on_the_same_mobile_and_name_and_are_suggested_on_the_mobile_alone(
    org, shop, tmp_path
):
    other_shop = Shop.objects.create(platform=Shop.Platform.TMALL, name="天猫店", org_unit=org.team_a)
    run(org.admin, shop, orders_file(tmp_path, "ExportOrderList202601010900.csv", [
        order("351531314732935820", "老张", 收货人姓名="张伟", 联系手机="'13911112222"),
    ]))  # fmt: skip
    run(org.admin, other_shop, orders_file(tmp_path, "ExportOrderList202601020900.csv", [
        order("351531314732935821", "张伟的新号", 收货人姓名="张伟", 联系手机="'13911112222"),  # same person
        order("351531314732935822", "张太太", 收货人姓名="李娜", 联系手机="'13911112222"),  # family: a suggestion
        order("351531314732935823", "路人", 收货人姓名="张伟", 联系手机="139****2222"),  # masked: nothing
    ]))  # fmt: skip
    zhang = BuyerIdentity.objects.get(nick="老张").customer
    assert BuyerIdentity.objects.get(nick="张伟的新号").customer == zhang
    wife = BuyerIdentity.objects.get(nick="张太太").customer
    passer = BuyerIdentity.objects.get(nick="路人").customer
    assert len({zhang.pk, wife.pk, passer.pk}) == 3
    suggestion = BuyerLinkSuggestion.objects.get()
    assert (suggestion.customer, suggestion.other, suggestion.status) == (wife, zhang, "pending")
    assert "139****2222" in suggestion.reason and "13911112222" not in suggestion.reason
    assert stats("老张").order_count == 2


def test_bad_rows_are_rejected_with_file_row_column_and_reason_and_the_totals_add_up(org, shop, tmp_path):
    rows = [
        order("351531314732935830", "tb好"),
        order("3.51531E+17", "tb坏"),
        order("351531314732935831", "tb坏", 买家实际支付金额="一百元"),
        order("351531314732935832", "tb坏", 订单创建时间="昨天"),
        order("351531314732935833", "tb好"),
    ]
    job = run(org.unit_admin, shop, orders_file(tmp_path, "ExportOrderList202601010900.csv", rows))
    assert (job.processed_rows, job.created_count, job.rejected_count) == (5, 2, 3)
    assert (
        job.processed_rows == job.created_count + job.updated_count + job.unchanged_count + job.rejected_count
    )
    assert not Order.objects.filter(buyer_nick="tb坏").exists()
    report = "".join(services.rejections_csv(job=job))
    assert report.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(report.lstrip("\ufeff"))))
    assert lines[0][:4] == ["文件", "行号", "列", "原因"]
    assert [line[1] for line in lines[1:]] == ["3", "4", "5"]
    assert {line[0] for line in lines[1:]} == {"ExportOrderList202601010900.csv"}
    assert [line[2] for line in lines[1:]] == ["订单编号", "买家实际支付金额", "订单创建时间"]
    assert "科学计数法" in lines[1][3] or "scientific" in lines[1][3]
    assert lines[2][4] == '="351531314732935831"'  # the raw row follows, as it was


def test_line_items_of_orders_not_imported_yet_are_rejected_naming_the_order_report(org, shop, tmp_path):
    job = run(org.admin, shop, items_file(tmp_path, "ExportOrderDetailList202601010900.csv", [
        item("351531314732935840", "保温杯", "99.00"),
    ]))  # fmt: skip
    assert (job.rejected_count, OrderLine.objects.count()) == (1, 0)
    assert "351531314732935840" in job.rejections.get().message


def test_an_xlsx_export_imports_like_the_csv(org, shop, tmp_path):
    from kehu.integrations.tests.test_marketplace import TAOBAO_2019

    workbook = Workbook()
    sheet = workbook.active
    headers = TAOBAO_2019.split(",")
    sheet.append(headers)
    # xlsx exports carry order numbers as text cells (a "=…" cell would be a formula).
    row = order("351531314732935850", "xlsx买家", 联系手机="13700001111", 订单编号="351531314732935850")
    sheet.append([row.get(h.strip(), "") for h in headers])
    path = tmp_path / "orders.xlsx"
    workbook.save(path)
    job = run(org.admin, shop, str(path))
    assert list(job.rejections.values_list("message", flat=True)) == []
    assert (job.created_count, job.rejected_count) == (1, 0)
    assert Order.objects.get().number == "351531314732935850"
    assert BuyerIdentity.objects.get().mobile == "13700001111"


def test_a_test_run_writes_nothing(org, shop, tmp_path):
    job = run(org.admin, shop, orders_file(tmp_path, "ExportOrderList202601010900.csv", [
        order("351531314732935860", "tb试"),
        order("bad", "tb试"),
    ]), dry_run=True)  # fmt: skip
    assert (job.status, job.created_count, job.rejected_count) == ("done", 1, 1)
    assert not Order.objects.exists() and not Customer.objects.exists() and not BuyerStats.objects.exists()


def test_only_managers_of_the_shops_unit_import_and_reps_elsewhere_never_see_the_buyers(org, shop, tmp_path):
    path = orders_file(tmp_path, "ExportOrderList202601010900.csv", [order("351531314732935870", "tb范围")])
    with pytest.raises(PermissionDenied):  # rep_a may not import into the shop
        run(org.rep_a, shop, path)
    run(org.east_manager, shop, path)
    buyer = BuyerIdentity.objects.get().customer
    for user, sees_buyer, sees_order in (
        (org.admin, True, True),
        (org.east_manager, True, True),
        (org.rep_a, True, True),  # the buyer waits in team A's pool; who sees a customer sees its orders
        (org.rep_b, False, False),
        (org.rep_c, False, False),
    ):
        assert Customer.objects.filter(scoping.visible_q(user, Customer), pk=buyer.pk).exists() is sees_buyer
        assert Order.objects.filter(scoping.visible_q(user, Order)).exists() is sees_order
        assert BuyerIdentity.objects.filter(scoping.visible_q(user, BuyerIdentity)).exists() is sees_buyer
        assert BuyerStats.objects.filter(scoping.visible_q(user, BuyerStats)).exists() is sees_buyer


def test_a_file_for_another_platform_is_refused_before_anything_is_read(org, shop, tmp_path):
    jd_shop = Shop.objects.create(platform=Shop.Platform.JD, name="京东店", org_unit=org.team_a)
    path = orders_file(tmp_path, "ExportOrderList202601010900.csv", [order("351531314732935880", "tb")])
    with pytest.raises(ValidationFailed) as refused:
        run(org.admin, jd_shop, path)
    assert "京东店" in str(refused.value.fields["file"])
    assert not Order.objects.exists()


JD_HEADER = (
    "订单号,商品ID,商品名称,订购数量,支付方式,下单时间,京东价,订单金额,结算金额,余额支付,应付金额,订单状态,订单类型,"
    "下单帐号,客户姓名,客户地址,联系电话,订单备注,发票类型,发票抬头,发票内容,商家备注,商家备注等级（等级1-5为由高到低）,"
    "运费金额,付款确认时间,增值税发票,货号,订单完成时间,订单来源,订单渠道"
)


def jd_row(number: str, item_id: str, title: str, quantity: str, price: str, **cells) -> dict:
    row = {
        "订单号": number, "商品ID": item_id, "商品名称": title, "订购数量": quantity, "下单时间": "2026-02-01 09:00:00",
        "京东价": price, "订单金额": "300.00", "应付金额": "300.00", "订单状态": "完成", "下单帐号": "jd_小李",
        "客户姓名": "李雷", "客户地址": "江苏省 苏州市 工业园区 星湖街1号", "联系电话": "1******6198",
        "运费金额": "0.00", "付款确认时间": "2026-02-01 09:05:00", "货号": f"JD-{item_id}",
    }  # fmt: skip
    row.update(cells)
    return row


def test_a_jd_export_gives_one_order_per_number_with_a_line_per_sku(org, regions, tmp_path):
    shop = Shop.objects.create(platform=Shop.Platform.JD, name="京东自营店", org_unit=org.team_a)
    headers = JD_HEADER.split(",")
    rows = [
        jd_row("280000000001", "1001", "保温杯", "2", "100.00"),
        jd_row("280000000001", "1002", "杯套", "1", "100.00"),
        jd_row("280000000002", "1001", "保温杯", "1", "100.00", 订单金额="100.00", 应付金额="100.00",
               订单状态="等待出库", 订单完成时间=""),
    ]  # fmt: skip
    text = JD_HEADER + "\n" + "\n".join(",".join(r.get(h, "") for h in headers) for r in rows) + "\n"
    path = tmp_path / "jd.csv"
    path.write_bytes(text.encode("gb18030"))
    job = run(org.admin, shop, str(path))
    assert (job.created_count, job.rejected_count) == (3, 0)
    first = Order.objects.get(number="280000000001")
    assert (first.channel, first.status, first.paid_amount, first.receiver_masked) == (
        "jd",
        "completed",
        Decimal("300.00"),
        True,
    )
    assert sorted(first.lines.values_list("item_id", "quantity", "amount")) == [
        ("1001", Decimal("2"), Decimal("200.00")),
        ("1002", Decimal("1"), Decimal("100.00")),
    ]
    assert Order.objects.get(number="280000000002").status == "paid"
    buyer = BuyerIdentity.objects.get(nick="jd_小李")
    assert buyer.mobile == "" and stats("jd_小李").order_count == 1
    again = run(org.admin, shop, str(path))
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert OrderLine.objects.count() == 3 and buyer_stats.drift() == {}


def test_the_command_opens_the_shop_imports_order_reports_before_items_and_checks_in_a_test_run(
    org, regions, tmp_path
):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    orders = orders_file(tmp_path, "ExportOrderList202606010900.csv", [order("351531314732935990", "tb命令")])
    items = items_file(
        tmp_path, "ExportOrderDetailList202606010900.csv", [item("351531314732935990", "杯", "100.00")]
    )
    Shop.objects.create(platform="taobao", name="北京店", org_unit=org.team_c)
    with pytest.raises(CommandError):  # a shop of someone else's unit is not found
        call_command("import-orders", items, orders, shop="北京店", user="east_manager", stdout=StringIO())
    out = StringIO()
    call_command("import-orders", items, orders, shop="命令店", platform="taobao", user="east_manager",
                 dry_run=True, stdout=out)  # fmt: skip
    assert not Order.objects.exists()
    out = StringIO()
    call_command("import-orders", items, orders, shop="命令店", user="east_manager", stdout=out)
    shop = Shop.objects.get(name="命令店")
    assert shop.org_unit == org.east
    assert Order.objects.get().lines.count() == 1  # the items file was named first, yet imported last
    assert "351531314732935990" not in out.getvalue()  # nothing rejected


def test_an_import_never_touches_or_joins_another_units_orders_and_buyers(org, shop, tmp_path):
    north_shop = Shop.objects.create(platform=Shop.Platform.TAOBAO, name="北方店", org_unit=org.team_c)
    north = [order("351531314732935960", "北方老客", 收货人姓名="赵强", 联系手机="'13700007777")]
    run(org.admin, north_shop, orders_file(tmp_path, "ExportOrderList202601010900.csv", north))
    # The same order number and the same receiver turn up in an export of team A's shop, imported by its manager.
    ours = [
        order("351531314732935960", "北方老客", 订单状态="交易关闭", 订单关闭原因="退款", 退款金额="100.00"),
        order("351531314732935961", "南方新号", 收货人姓名="赵强", 联系手机="'13700007777"),
    ]
    job = run(org.east_manager, shop, orders_file(tmp_path, "ExportOrderList202602010900.csv", ours))
    assert (job.created_count, job.rejected_count) == (1, 1)
    assert "351531314732935960" in job.rejections.get().message
    assert Order.objects.get(number="351531314732935960").status == "completed"  # north's order untouched
    north_buyer = BuyerIdentity.objects.get(nick="北方老客", shop=north_shop).customer
    assert BuyerIdentity.objects.get(nick="南方新号").customer != north_buyer  # not joined across the scope
    assert not BuyerLinkSuggestion.objects.exists()
    items = run(org.east_manager, shop, items_file(tmp_path, "ExportOrderDetailList202602010900.csv", [
        item("351531314732935960", "杯", "100.00"),
    ]))  # fmt: skip
    assert (items.rejected_count, OrderLine.objects.count()) == (1, 0)


PDD_HEADER = (
    "订单成交时间,商品,订单号,订单状态,商品总价(元),邮费(元),店铺优惠折扣(元),平台优惠折扣(元),多多支付立减金额(元),"
    "用户实付金额(元),商家实收金额(元),商品数量(件),发货时间,确认收货时间,商品id,商品规格,样式ID,商家编码-规格维度,"
    "商家编码-商品维度,商家备注,售后状态,快递单号,快递公司"
)


def test_a_pinduoduo_export_gives_orders_with_their_item_and_refunds(org, regions, tmp_path):
    shop = Shop.objects.create(platform=Shop.Platform.PDD, name="拼多多店", org_unit=org.team_a)
    rows = [
        "2024-05-20 20:00:00,儿童水杯,240520-123456789012345,已签收,39.90,0.00,5.00,0.00,0.00,34.90,34.90,1,"
        "2024-05-21 09:00:00,2024-05-24 10:00:00,12345,蓝色,6789,CUP-B,CUP,,无售后或售后取消,YT123,圆通",
        "2024-05-21 08:00:00,儿童水杯,240521-123456789012346,已签收，退款成功,79.80,0.00,0.00,0.00,0.00,79.80,79.80,2,"
        "2024-05-21 18:00:00,,12345,粉色,6790,CUP-P,CUP,,退款成功,YT124,圆通",
        "2024-05-22 08:00:00,儿童水杯,3.51531E+17,待发货,39.90,0.00,0.00,0.00,0.00,39.90,39.90,1,,,12345,蓝色,6789,CUP-B,CUP,,,,",
    ]
    path = tmp_path / "pdd.csv"
    path.write_bytes(("\ufeff" + PDD_HEADER + "\n" + "\n".join(rows) + "\n").encode("utf-8"))
    job = run(org.admin, shop, str(path))
    assert (job.created_count, job.rejected_count) == (2, 1)
    assert "3.51531E+17" in job.rejections.get().message
    first = Order.objects.get(number="240520-123456789012345")
    assert (first.channel, first.status, first.paid_amount, first.logistics_no) == (
        "pdd",
        "completed",
        Decimal("34.90"),
        "YT123",
    )
    refunded = Order.objects.get(number="240521-123456789012346")
    assert refunded.status == "closed"
    assert list(refunded.lines.values_list("sku", "attributes", "quantity")) == [
        ("CUP-P", "粉色", Decimal("2"))
    ]
    again = run(org.admin, shop, str(path))
    assert (again.created_count, again.updated_count, again.unchanged_count, again.rejected_count) == (
        0,
        0,
        2,
        1,
    )
    assert OrderLine.objects.count() == 2 and buyer_stats.drift() == {}
