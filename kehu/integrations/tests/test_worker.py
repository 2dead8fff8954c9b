"""The import really runs in the database worker, and the scheduler puts a stalled import back in its queue.

These tests commit (the worker claims each job in its own transaction), so they use a transactional database.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.integrations import services
from kehu.integrations.models import ImportJob

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_runs_a_started_import_and_resumes_a_stalled_one(database_worker, org):
    data = "名称,手机\n" + "".join(f"公司{i:03d},1380000{i:04d}\n" for i in range(30))
    job = services.import_upload(
        actor=org.rep_a, kind="customers", upload=SimpleUploadedFile("c.csv", data.encode())
    )
    services.import_start(actor=org.rep_a, job=job, mapping=job.mapping, options={"on_match": "update"})
    assert ImportJob.objects.get(pk=job.pk).status == "queued"
    database_worker()
    job.refresh_from_db()
    assert (job.status, job.created_count, job.total_rows) == ("done", 30, 30)
    assert Customer.objects.count() == 30

    # A second import whose worker died after its first 10 rows: the heartbeat stopped long ago.
    more = "名称\n" + "".join(f"新公司{i:03d}\n" for i in range(15))
    stalled = services.import_upload(
        actor=org.rep_a, kind="customers", upload=SimpleUploadedFile("d.csv", more.encode())
    )
    services.import_start(
        actor=org.rep_a, job=stalled, mapping=stalled.mapping, options={"on_match": "update"}, enqueue=False
    )
    ImportJob.objects.filter(pk=stalled.pk).update(
        status="running",
        processed_rows=10,
        created_count=10,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    for i in range(10):  # what the dead worker had committed
        Customer.objects.create(
            name=f"新公司{i:03d}", name_key=f"新公司{i:03d}", org_unit=org.team_a, owner=org.rep_a
        )
    assert services.imports_resume_stalled() == 1
    database_worker()
    stalled.refresh_from_db()
    assert (stalled.status, stalled.processed_rows, stalled.created_count) == ("done", 15, 15)
    assert Customer.objects.filter(name__startswith="新公司").count() == 15
