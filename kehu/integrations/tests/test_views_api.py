"""The import pages and /api/v1/imports: upload, mapping, start, progress, rejections; scope on every path."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kehu.customers.models import Customer
from kehu.integrations import services
from kehu.integrations.models import ImportJob
from kehu.users.services import api_token_create

CSV = "客户名称,手机,负责人\n上海蓝海科技,13800001111,\n杭州西湖贸易,13900002222,不存在的人\n".encode()


def upload(client, data=CSV, name="客户.csv"):
    return client.post(
        reverse("integrations:new"), {"kind": "customers", "file": SimpleUploadedFile(name, data)}
    )


@pytest.fixture
def bearer(org):
    def make(user):
        _token, raw = api_token_create(actor=user, name="import test")
        return Client(headers={"authorization": f"Bearer {raw}"})

    return make


def test_upload_shows_the_mapping_then_starts_in_the_background(
    org, login, django_capture_on_commit_callbacks
):
    client = login(org.rep_a)
    response = upload(client)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == f"/imports/{job.pk}/"
    page = client.get(response.url).content.decode()
    assert 'name="map-mapping__0"' in page
    assert '<option value="name" selected>' in page  # 客户名称 guessed as the name
    assert "上海蓝海科技" in page  # the preview
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("integrations:start", args=[job.pk]),
            {
                "map-mapping__0": "name",
                "map-mapping__1": "phone",
                "map-mapping__2": "owner",
                "opt-on_match": "update",
            },
        )
    assert response.status_code == 302
    assert len(callbacks) == 1  # the worker is asked to run it once the request commits
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED
    services.import_run(job_id=job.pk)  # what the worker does
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="created">1<' in page
    assert "不存在的人" in page  # the rejected row's reason
    report = client.get(reverse("integrations:rejections", args=[job.pk]))
    body = b"".join(report.streaming_content).decode()
    assert "杭州西湖贸易" in body and report["Content-Type"].startswith("text/csv")
    assert "客户.csv" in client.get(reverse("integrations:list")).content.decode()


def test_progress_is_a_partial_for_htmx_polling(org, login, tmp_path):
    client = login(org.rep_a)
    upload(client)
    job = ImportJob.objects.get()
    services.import_start(actor=org.rep_a, job=job, mapping=["name", "phone", ""], options={}, enqueue=False)
    partial = client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="progress"')
    assert 'hx-trigger="every 1s"' in partial  # keeps polling while queued or running
    services.import_run(job_id=job.pk)
    partial = client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "every 1s" not in partial  # and stops when done


def test_bad_uploads_and_mappings_are_explained(org, login):
    client = login(org.rep_a)
    response = upload(client, data=b"\x00\x01binary", name="x.bin")
    assert response.status_code == 422
    assert "只能导入 CSV、XLSX 和 vCard 文件。" in response.content.decode()
    assert not ImportJob.objects.exists()
    upload(client)
    job = ImportJob.objects.get()
    response = client.post(
        reverse("integrations:start", args=[job.pk]),
        {
            "map-mapping__0": "phone",
            "map-mapping__1": "phone",
            "map-mapping__2": "",
            "opt-on_match": "update",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "invalid-feedback" in page
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED


def test_someone_elses_import_is_not_found_on_any_path(org, login, bearer):
    upload(login(org.rep_a))
    job = ImportJob.objects.get()
    outsider = login(org.rep_b)
    for url in (
        f"/imports/{job.pk}/",
        reverse("integrations:rejections", args=[job.pk]),
    ):
        assert outsider.get(url).status_code == 404
    for url in ("start", "cancel", "resume"):
        assert outsider.post(f"/imports/{job.pk}/{url}/").status_code == 404
    assert "客户.csv" not in outsider.get(reverse("integrations:list")).content.decode()
    api = bearer(org.rep_b)
    assert api.get(f"/api/v1/imports/{job.pk}").status_code == 404
    assert api.get(f"/api/v1/imports/{job.pk}/rejections").status_code == 404
    assert (
        api.post(f"/api/v1/imports/{job.pk}/start", "{}", content_type="application/json").status_code == 404
    )
    assert api.get("/api/v1/imports").json()["items"] == []
    # Their manager sees the import of a rep in the unit; a manager elsewhere would not.
    assert login(org.east_manager).get(f"/imports/{job.pk}/").status_code == 200


def test_the_api_uploads_starts_and_reports(org, bearer):
    api = bearer(org.rep_a)
    response = api.post("/api/v1/imports", {"kind": "customers", "file": SimpleUploadedFile("c.csv", CSV)})
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["headers"] == ["客户名称", "手机", "负责人"]
    assert job["mapping"] == ["name", "phone", "owner"]
    assert job["status"] == "uploaded"
    bad = api.post(
        f"/api/v1/imports/{job['id']}/start",
        json.dumps({"mapping": ["phone"]}),
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert "mapping" in bad.json()["fields"]
    bad_owner = api.post(
        f"/api/v1/imports/{job['id']}/start",
        json.dumps({"owner": "user:999999"}),
        content_type="application/json",
    )
    assert bad_owner.status_code == 422 and "owner" in bad_owner.json()["fields"]
    started = api.post(f"/api/v1/imports/{job['id']}/start", json.dumps({}), content_type="application/json")
    assert started.status_code == 202 and started.json()["status"] == "queued"
    services.import_run(job_id=job["id"])
    done = api.get(f"/api/v1/imports/{job['id']}").json()
    assert (done["status"], done["created_count"], done["rejected_count"]) == ("done", 1, 1)
    rejections = api.get(f"/api/v1/imports/{job['id']}/rejections").json()
    assert rejections == [
        {
            "row_number": 3,
            "message": "负责人：您可分配的同事中没有“不存在的人”。",
            "values": ["杭州西湖贸易", "13900002222", "不存在的人"],
        }
    ]
    assert "不存在的人" in rejections[0]["message"]
    assert api.get(f"/api/v1/imports/{job['id']}/rejections?after_row=3").json() == []
    columns = api.get("/api/v1/imports/columns/customers").json()
    assert {"key": "name", "label": "名称", "required": True} in columns
    assert Customer.objects.get().owner == org.rep_a


def test_the_api_refuses_oversized_and_unknown_uploads(org, bearer, settings):
    api = bearer(org.rep_a)
    settings.KEHU = {**settings.KEHU, "IMPORT_MAX_BYTES": 10}
    response = api.post("/api/v1/imports", {"kind": "customers", "file": SimpleUploadedFile("c.csv", CSV)})
    assert response.status_code == 422 and "file" in response.json()["fields"]
    response = api.post("/api/v1/imports", {"kind": "nonsense", "file": SimpleUploadedFile("c.csv", CSV)})
    assert response.status_code == 422 and "kind" in response.json()["fields"]
    assert api.post("/api/v1/imports", {"kind": "customers"}).status_code == 422


def test_an_empty_template_in_the_readers_language(org, login):
    client = login(org.rep_a)
    body = client.get(reverse("integrations:template", args=["customers"]), headers={"accept-language": "en"})
    assert body.content.decode("utf-8-sig").splitlines()[0].startswith("Name,")


def test_the_same_file_warning_names_only_imports_you_may_see(org, login):
    upload(login(org.rep_a))
    first = ImportJob.objects.get()
    services.import_start(
        actor=org.rep_a, job=first, mapping=["name", "phone", ""], options={}, enqueue=False
    )
    services.import_run(job_id=first.pk)
    upload(login(org.rep_c))  # the same bytes, uploaded by a rep of another region
    theirs = ImportJob.objects.exclude(pk=first.pk).get()
    page = login(org.rep_c).get(f"/imports/{theirs.pk}/").content.decode()
    assert f"/imports/{first.pk}/" not in page
    assert "李销售" not in page
    upload(login(org.rep_a))
    again = ImportJob.objects.filter(created_by=org.rep_a).exclude(pk=first.pk).get()
    assert f"/imports/{first.pk}/" in login(org.rep_a).get(f"/imports/{again.pk}/").content.decode()
