"""The import page takes marketplace exports: recognised on upload, a shop (or a new one) chosen, the job runs
in the background worker, and the page shows its counts and the rejected rows with their column."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kehu.integrations.models import ImportJob
from kehu.integrations.tests.exports import order, orders_file
from kehu.sales.models import Order, Shop

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_uploads_an_export_opens_a_shop_and_the_worker_imports_it(
    org, regions, login, tmp_path, database_worker
):
    path = orders_file(
        tmp_path,
        "ExportOrderList202606010900.csv",
        [order("351531314732935900", "tb网页"), order("3.5153E+17", "tb网页")],
    )
    client = login(org.east_manager)
    with open(path, "rb") as handle:
        response = client.post(
            reverse("integrations:new"),
            {
                "kind": "marketplace_orders",
                "file": SimpleUploadedFile("ExportOrderList202606010900.csv", handle.read()),
            },
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="recognised"' in page and "2026-06-01 09:00" in page
    assert 'name="map-mapping__0"' not in page  # nothing to map

    refused = client.post(f"/imports/{job.pk}/start/", {"opt-shop": "new", "opt-new_shop_name": ""})
    assert refused.status_code == 422 and Shop.objects.count() == 0
    assert "请填写新店铺的名称。" in refused.content.decode()
    started = client.post(
        f"/imports/{job.pk}/start/",
        {"opt-shop": "new", "opt-new_shop_name": "网页新店", "opt-new_shop_platform": "tmall"},
    )
    assert started.status_code == 302
    shop = Shop.objects.get()
    assert (shop.name, shop.platform, shop.org_unit) == ("网页新店", "tmall", org.east)
    database_worker()
    job.refresh_from_db()
    assert (job.status, job.created_count, job.rejected_count, job.total_rows) == ("done", 1, 1, 2)
    assert Order.objects.get().channel == "tmall"
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="created">1<' in page and "订单编号" in page  # the rejected row names its column


def test_a_rep_cannot_start_an_order_import_and_is_told_why(org, regions, login, tmp_path):
    Shop.objects.create(platform="taobao", name="客户旗舰店", org_unit=org.team_a)
    path = orders_file(tmp_path, "ExportOrderList202606010900.csv", [order("351531314732935901", "tb")])
    client = login(org.rep_a)
    with open(path, "rb") as handle:
        client.post(
            reverse("integrations:new"),
            {"kind": "marketplace_orders", "file": SimpleUploadedFile("o.csv", handle.read())},
        )
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "客户旗舰店" not in page  # not a shop of hers to pick
    response = client.post(f"/imports/{job.pk}/start/", {"opt-shop": "new", "opt-new_shop_name": "偷开的店"})
    assert response.status_code == 422
    assert "只有店铺所属部门的经理才能导入其订单。" in response.content.decode()  # told why
    assert not Shop.objects.filter(name="偷开的店").exists() and not Order.objects.exists()


def test_a_file_that_is_no_export_is_refused_at_upload(org, login):
    client = login(org.east_manager)
    response = client.post(
        reverse("integrations:new"),
        {"kind": "marketplace_orders", "file": SimpleUploadedFile("x.csv", "名称,手机\n甲,1\n".encode())},
    )
    assert response.status_code == 422 and not ImportJob.objects.exists()
    assert "名称" in response.content.decode()
