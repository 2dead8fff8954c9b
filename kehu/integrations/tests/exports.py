"""Builders of marketplace export files as the platforms write them, for the import tests."""

from django.core.files import File

from kehu.integrations import order_import, services
from kehu.integrations.tests.test_marketplace import TAOBAO_2019, csv_cell, taobao_row

ITEMS_CLASSIC = "订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码"


def order(number: str, nick: str, **cells) -> dict:
    """An order report row with sensible defaults: paid, completed, one receiver."""
    row = {
        "订单编号": f'="{number}"',
        "买家会员名": nick,
        "买家应付货款": "100.00",
        "买家应付邮费": "0.00",
        "总金额": "100.00",
        "买家实际支付金额": "100.00",
        "订单状态": "交易成功",
        "收货人姓名": "王小明",
        "收货地址": "浙江省 杭州市 西湖区 文三路100号(310012)",
        "联系手机": "'13925130165",
        "订单创建时间": "2026-03-01 10:00:00",
        "订单付款时间": "2026-03-01 10:05:00",
        "宝贝标题": "保温杯",
        "订单关闭原因": "订单未关闭",
        "退款金额": "0.00",
    }
    row.update(cells)
    return row


def item(number: str, title: str, price: str, quantity: str = "1", **cells) -> list[str]:
    values = {
        "订单编号": f'="{number}"',
        "标题": title,
        "价格": price,
        "购买数量": quantity,
        "商品属性": "",
        "订单状态": "交易成功",
        "商家编码": "",
    }
    values.update(cells)
    return [values.get(h, "") for h in ITEMS_CLASSIC.split(",")] + [""]  # the classic extra empty field


def orders_file(tmp_path, name: str, rows: list[dict], encoding: str = "gb18030") -> str:
    text = TAOBAO_2019 + "\n" + "\n".join(taobao_row(**r) for r in rows) + "\n"
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def items_file(tmp_path, name: str, rows: list[list[str]], encoding: str = "gb18030") -> str:
    text = ITEMS_CLASSIC + "\n" + "\n".join(",".join(csv_cell(c) for c in r) for r in rows) + "\n"
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def run_file(
    actor, kind: str, path, *, options: dict, mapping: list[str] | None = None, dry_run: bool = False
):
    """Upload, start and run an import of any kind in this process, exactly as the worker would (the mapping the
    upload guessed unless one is given); returns the finished job."""
    with open(path, "rb") as handle:
        job = services.import_upload(
            actor=actor, kind=kind, upload=File(handle), filename=str(path).rsplit("/", 1)[-1]
        )
    services.import_start(
        actor=actor, job=job, mapping=mapping or job.mapping, options=options, dry_run=dry_run, enqueue=False
    )
    return services.import_run(job_id=job.pk)


def counts(job) -> tuple[int, int, int, int]:
    return job.created_count, job.updated_count, job.unchanged_count, job.rejected_count


def run(actor, shop, path: str, *, dry_run: bool = False):
    """Upload, start and run an order import in the foreground; returns the finished job."""
    return run_file(actor, order_import.KIND, path, options={"shop": shop.pk}, dry_run=dry_run)
