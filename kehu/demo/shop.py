"""The demo Taobao shop: a small export written by `marketplace_data` and imported through the real import jobs
(as the East manager would upload it), so the demo has buyers with orders, line items, refunds, purchase
figures, masked receivers and suggested links to look at."""

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from django.core.files import File

from kehu.demo.marketplace_data import write_taobao
from kehu.integrations import order_import, services
from kehu.sales.models import Shop
from kehu.sales.services.shops import shop_create

SHOP_NAME = "客户旗舰店"
ORDERS = 1000
BUYERS = 350


def shop_for(*, manager, unit, now: datetime) -> Shop:
    shop = shop_create(actor=manager, platform=Shop.Platform.TAOBAO, name=SHOP_NAME, org_unit=unit)
    start = (now - timedelta(days=700)).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    with tempfile.TemporaryDirectory() as folder:
        for path in write_taobao(Path(folder), ORDERS, buyers=BUYERS, start=start):  # the order report first
            with path.open("rb") as handle:
                job = services.import_upload(
                    actor=manager, kind=order_import.KIND, upload=File(handle), filename=path.name
                )
            services.import_start(
                actor=manager, job=job, mapping=[], options={"shop": shop.pk}, dry_run=False, enqueue=False
            )
            services.import_run(job_id=job.pk)
    return shop
