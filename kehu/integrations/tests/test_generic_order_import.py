"""Orders from any spreadsheet: rows of one order number become its lines; customers named, found by mobile or
created; amounts as given; a second file updates status and logistics with the change in the order's history;
bad rows rejected per column; the buyer's figures follow."""

import csv
from decimal import Decimal

import pytest
from openpyxl import Workbook

from kehu.core.history import history_of
from kehu.customers.models import Customer
from kehu.integrations.tests.exports import counts, run_file
from kehu.sales import buyer_stats
from kehu.sales.models import BuyerStats, Order

pytestmark = pytest.mark.django_db
HEADERS = [
    "订单号",
    "下单时间",
    "客户",
    "手机",
    "状态",
    "商品编码",
    "商品名称",
    "数量",
    "单价",
    "实付金额",
    "快递单号",
]


def run_import(actor, path, *, channel="own_site"):
    return run_file(actor, "orders", path, options={"channel": channel})


def write_csv(tmp_path, rows, name="orders.csv"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


ROWS = [
    ["WS1001", "2026-05-01 10:00", "李雷", "13811112222", "已完成", "TEA-1", "龙井 250g", "2", "88.00", "176.00", ""],
    ["WS1001", "2026-05-01 10:00", "李雷", "13811112222", "已完成", "", "茶具套装", "1", "120.00", "", ""],
    ["WS1002", "2026/05/03 09:30", "", "13811112222", "待发货", "TEA-1", "龙井 250g", "1", "88", "88.00", ""],
    ["3.51531E+17", "2026-05-04 10:00", "韩梅梅", "", "", "", "杯子", "1", "10", "", ""],
    ["WS1003", "昨天", "韩梅梅", "", "", "", "杯子", "1", "十元", "", ""],
    ["WS1004", "2026-05-05 10:00", "", "", "", "", "杯子", "1", "10", "", ""],
]  # fmt: skip


def test_rows_become_orders_with_lines_customers_and_figures(org, tmp_path):
    job = run_import(org.rep_a, write_csv(tmp_path, ROWS))
    assert counts(job) == (2, 1, 0, 3)
    assert job.processed_rows == sum(counts(job))
    li = Customer.objects.get(name="李雷")
    assert (li.kind, li.owner, li.phone) == ("individual", org.rep_a, "13811112222")
    first = Order.objects.get(number="WS1001")
    assert (first.channel, first.status, first.customer, first.owner) == (
        "own_site",
        "completed",
        li,
        org.rep_a,
    )
    assert [(x.sku, x.title, x.quantity, x.amount) for x in first.lines.all()] == [
        ("TEA-1", "龙井 250g", Decimal("2"), Decimal("176.00")),
        ("", "茶具套装", Decimal("1"), Decimal("120.00")),
    ]
    assert (first.goods_amount, first.total_amount, first.paid_amount) == (
        Decimal("296.00"),
        Decimal("296.00"),
        Decimal("176.00"),  # the paid column as given (its last value)
    )
    second = Order.objects.get(number="WS1002")
    assert (second.customer, second.status, second.paid_amount) == (li, "paid", Decimal("88.00"))  # by mobile
    stats = BuyerStats.objects.get(customer=li)
    assert (stats.order_count, stats.paid_orders) == (1, 2)
    rejected = {r.row_number: r.column for r in job.rejections.all()}
    assert set(rejected) == {5, 6, 7}
    assert "订单编号" in rejected[5]
    assert "下单时间" in rejected[6] and "单价" in rejected[6]
    assert "客户" in rejected[7]
    assert buyer_stats.drift() == {}


def test_a_later_file_updates_status_and_logistics_and_the_history_shows_it(org, tmp_path):
    run_import(org.rep_a, write_csv(tmp_path, ROWS[:3]))
    again = run_import(org.rep_a, write_csv(tmp_path, ROWS[:3], name="again.csv"))
    assert counts(again) == (0, 0, 3, 0)
    later = [["WS1002", "2026/05/03 09:30", "", "13811112222", "已签收", "TEA-1", "龙井 250g", "1", "88", "88.00",
              "SF123456"]]  # fmt: skip
    job = run_import(org.rep_a, write_csv(tmp_path, later, name="later.csv"))
    assert counts(job) == (0, 1, 0, 0)
    order = Order.objects.get(number="WS1002")
    assert (order.status, order.logistics_no) == ("completed", "SF123456")
    change = history_of(order, limit=5)[0]
    assert change["reason"] == "imported"
    assert BuyerStats.objects.get(customer=order.customer).order_count == 2
    assert Order.objects.filter(number__startswith="WS").count() == 2


def test_an_xlsx_file_with_the_channel_column_and_another_teams_customer(org, tmp_path, make_customer):
    make_customer(org.rep_c, name="北方客户", phone="13900009999")
    book = Workbook()
    sheet = book.active
    sheet.append(["单号", "渠道", "客户名称", "手机", "日期", "品名", "金额"])
    sheet.append(["POS-1", "线下门店", "张三", "13700001111", "2026-05-06", "礼盒", 199])
    sheet.append(["POS-2", "线下门店", "北方客户", "13900009999", "2026-05-06", "礼盒", 199])
    path = tmp_path / "pos.xlsx"
    book.save(path)
    job = run_import(org.rep_a, path)
    assert counts(job) == (1, 0, 0, 1)
    order = Order.objects.get(number="POS-1")
    assert (order.channel, order.total_amount, order.customer.name) == ("offline", Decimal("199.00"), "张三")
    assert "北方客户" in job.rejections.get().message  # another region's customer: a collision naming it
