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
ORDERS = 1400
BUYERS = 350
DAYS = 3 * 365 - 10  # three years of orders, so the seasonal index has whole years to work from
# More orders around 618 and Double 11, fewer over the Spring Festival.
SEASON = {1: 0.9, 2: 0.6, 3: 0.9, 6: 1.4, 10: 1.1, 11: 2.0, 12: 1.2}


def shop_for(*, manager, unit, now: datetime) -> Shop:
    shop = shop_create(actor=manager, platform=Shop.Platform.TAOBAO, name=SHOP_NAME, org_unit=unit)
    start = (now - timedelta(days=DAYS + 10)).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    with tempfile.TemporaryDirectory() as folder:
        written = write_taobao(Path(folder), ORDERS, buyers=BUYERS, start=start, days=DAYS, season=SEASON)
        for path in written:  # the order report first
            with path.open("rb") as handle:
                job = services.import_upload(
                    actor=manager, kind=order_import.KIND, upload=File(handle), filename=path.name
                )
            services.import_start(
                actor=manager, job=job, mapping=[], options={"shop": shop.pk}, dry_run=False, enqueue=False
            )
            services.import_run(job_id=job.pk)
    return shop
