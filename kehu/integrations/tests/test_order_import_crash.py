"""An order import whose process is killed (SIGKILL) halfway through a file resumes to exactly the state a clean
run reaches: nothing lost, nothing doubled.

The import runs as a real `kehu import-orders` process on this test's database (PostgreSQL: the test database
itself; SQLite: the in-memory test database copied to a file and back), in batches of 10 rows so that the kill
lands mid-file. These tests commit, so they use a transactional database."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.integrations import services
from kehu.integrations.models import ImportJob
from kehu.integrations.tests.exports import order, orders_file, run
from kehu.sales import buyer_stats
from kehu.sales.models import BuyerIdentity, BuyerStats, Order, Shop

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[3]
ORDERS = 1500


def export_rows() -> list[dict]:
    statuses = ["交易成功", "交易成功", "卖家已发货，等待买家确认", "交易关闭"]
    rows = []
    for i in range(ORDERS):
        nick = f"tb买家{i % 400}"
        rows.append(
            order(
                str(351531314732900000 + i),
                nick,
                订单状态=statuses[i % 4],
                订单关闭原因="退款" if i % 4 == 3 else "订单未关闭",
                退款金额="100.00" if i % 4 == 3 else ("15.50" if i % 7 == 0 else "0.00"),
                买家实际支付金额=f"{100 + i % 50}.00",
                收货人姓名=f"买家{i % 400}",
                联系手机=f"'139{i % 400:08d}" if i % 5 else "139****0000",
                订单付款时间=f"2026-0{1 + i % 9}-1{i % 10} 10:00:00",
            )
        )
    return rows


def snapshot() -> dict:
    return {
        "orders": sorted(
            Order.objects.values_list("number", "status", "paid_amount", "refunded_amount", "customer__name")
        ),
        "buyers": sorted(BuyerIdentity.objects.values_list("nick", "customer__name", "mobile")),
        "customers": Customer.objects.count(),
        "stats": sorted(
            BuyerStats.objects.values_list(
                "customer__name",
                "order_count",
                "total_paid",
                "paid_orders",
                "refund_orders",
                "refunded_total",
            )
        ),
    }


def database_url(tmp_path) -> tuple[str, Path | None]:
    if connection.vendor == "postgresql":
        params = connection.settings_dict
        return (
            f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}",
            None,
        )
    copy = tmp_path / "crash.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(copy) as target:
        connection.connection.backup(target)
    return f"sqlite:///{copy}", copy


def processed(copy: Path | None, job_id: int | None) -> tuple[int | None, int, str]:
    if copy is None:
        job = (
            ImportJob.objects.filter(pk=job_id).first()
            if job_id
            else ImportJob.objects.order_by("-pk").first()
        )
        return (job.pk, job.processed_rows, job.status) if job else (None, 0, "")
    with sqlite3.connect(copy, timeout=5) as db:
        row = db.execute(
            "SELECT id, processed_rows, status FROM integrations_importjob ORDER BY id DESC"
        ).fetchone()
    return row if row else (None, 0, "")


def test_an_import_killed_mid_file_resumes_to_the_state_of_a_clean_run(org, regions, tmp_path):
    shop = Shop.objects.create(platform=Shop.Platform.TAOBAO, name="崩溃测试店", org_unit=org.team_a)
    path = orders_file(tmp_path, "ExportOrderList202606010900.csv", export_rows())
    url, copy = database_url(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "KEHU_ORDER_IMPORT_BATCH_ROWS": "10",
    }
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "import-orders",
            "--shop",
            str(shop.pk),
            "--user",
            "east_manager",
            path,
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    job_id, rows, status = None, 0, ""
    while time.monotonic() < deadline and process.poll() is None:
        job_id, rows, status = processed(copy, job_id)
        if rows >= ORDERS // 3:
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    job_id, rows, status = processed(copy, job_id)
    assert status == "running" and 0 < rows < ORDERS, "the kill must land mid-file"
    if copy is not None:
        with sqlite3.connect(copy) as source:
            source.backup(connection.connection)

    # The worker's heartbeat stopped; later the job is resumed and continues after the last committed batch.
    ImportJob.objects.filter(pk=job_id).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    job = services.import_resume(actor=org.east_manager, job=ImportJob.objects.get(pk=job_id), enqueue=False)
    job = services.import_run(job_id=job.pk)
    assert (job.status, job.processed_rows) == ("done", ORDERS)
    assert job.created_count + job.unchanged_count + job.updated_count + job.rejected_count == ORDERS
    assert (job.created_count, job.rejected_count) == (ORDERS, 0)
    resumed = snapshot()
    assert len(resumed["orders"]) == ORDERS and buyer_stats.drift() == {}

    # A clean single run of the same file into an empty database ends the same way.
    Order.all_objects.all().delete()
    BuyerStats.objects.all().delete()
    BuyerIdentity.objects.all().delete()
    Customer.all_objects.all().delete()
    clean = run(org.east_manager, shop, path)
    assert clean.created_count == ORDERS
    assert snapshot() == resumed
