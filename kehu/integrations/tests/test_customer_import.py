"""Importing customers: mapping, every row's fate, collisions (撞单), idempotency, test runs and resuming."""

import csv

import pytest
from django.core.files import File
from django.core.management import call_command
from django.utils import translation

from kehu.activities.models import Notification
from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer, CustomField
from kehu.integrations import importers, services
from kehu.integrations.customer_import import columns
from kehu.integrations.models import ImportJob

HEADERS = ["客户名称", "手机", "邮箱", "省份", "城市", "区县", "客户级别", "标签", "联系人", "职务", "备注"]
ROWS = [
    [
        "上海蓝海科技有限公司",
        "'13800001111",
        "info@lanhai.cn",
        "上海",
        "上海市",
        "浦东新区",
        "A级",
        "VIP、华东",
        "张伟",
        "采购经理",
        "",
    ],
    ["杭州西湖贸易", "13900002222", "", "浙江省", "杭州", "西湖区", "Level B", "华东", "", "", "老客户"],
    ["北京长城软件", "13700003333", "", "北京", "", "海淀区", "c", "", "王芳", "", ""],
]


def write_csv(tmp_path, rows, headers=HEADERS, name="customers.csv", encoding="utf-8-sig"):
    path = tmp_path / name
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def run_import(actor, path, *, mapping=None, dry_run=False, **options) -> ImportJob:
    """Upload, start and run an import in this process, exactly as the worker would run it."""
    with path.open("rb") as handle:
        job = services.import_upload(actor=actor, kind="customers", upload=File(handle), filename=path.name)
    options = {"owner": "", "on_match": "update", "tags": [], **options}
    services.import_start(
        actor=actor, job=job, mapping=mapping or job.mapping, options=options, dry_run=dry_run, enqueue=False
    )
    return services.import_run(job_id=job.pk)


@pytest.fixture
def setup(org, regions):
    return org


def test_headers_people_use_are_mapped_to_fields(setup, tmp_path):
    path = write_csv(tmp_path, ROWS)
    with path.open("rb") as handle:
        job = services.import_upload(actor=setup.rep_a, kind="customers", upload=File(handle))
    assert job.mapping == [
        "name",
        "phone",
        "email",
        "province",
        "city",
        "district",
        "level",
        "tags",
        "contact_name",
        "contact_title",
        "notes",
    ]
    assert job.status == ImportJob.Status.UPLOADED
    assert Customer.objects.count() == 0  # uploading imports nothing


def test_rows_become_customers_with_regions_tags_and_contacts(setup, tmp_path):
    job = run_import(setup.rep_a, write_csv(tmp_path, ROWS))
    assert (job.status, job.created_count, job.rejected_count, job.processed_rows) == ("done", 3, 0, 3)
    lanhai = Customer.objects.get(name="上海蓝海科技有限公司")
    assert lanhai.owner == setup.rep_a
    assert lanhai.phone == "13800001111"
    assert (lanhai.province.name, lanhai.city.name, lanhai.district.name) == ("上海市", "市辖区", "浦东新区")
    assert lanhai.level == Customer.Level.A
    assert sorted(lanhai.tags.values_list("name", flat=True)) == ["VIP", "华东"]
    contact = Contact.objects.get(customer=lanhai)
    assert (contact.name, contact.title, contact.is_primary) == ("张伟", "采购经理", True)
    xihu = Customer.objects.get(name="杭州西湖贸易")
    assert (xihu.city.name, xihu.district.name, xihu.level, xihu.notes) == ("杭州市", "西湖区", "b", "老客户")
    changcheng = Customer.objects.get(name="北京长城软件")
    assert changcheng.district.name == "海淀区"  # found under the province without a city given
    assert changcheng.province.name == "北京市"
    # Audited like a customer made in the form, and the importer was told when it finished.
    assert lanhai.history.first().history_user == setup.rep_a
    assert Notification.objects.filter(recipient=setup.rep_a, kind="import_finished").count() == 1


def test_importing_the_same_file_again_changes_nothing(setup, tmp_path):
    path = write_csv(tmp_path, ROWS)
    run_import(setup.rep_a, path)
    versions = dict(Customer.objects.values_list("name", "version"))
    again = run_import(setup.rep_a, path)
    assert (again.created_count, again.updated_count, again.unchanged_count, again.rejected_count) == (
        0,
        0,
        3,
        0,
    )
    assert Customer.objects.count() == 3
    assert Contact.objects.count() == 2
    assert dict(Customer.objects.values_list("name", "version")) == versions


def test_a_matching_row_updates_the_customer_and_adds_tags(setup, tmp_path):
    run_import(setup.rep_a, write_csv(tmp_path, ROWS))
    changed = [["上海蓝海科技有限公司", "13800001111", "sales@lanhai.cn", "", "", "", "", "重点", "", "", ""]]
    job = run_import(setup.rep_a, write_csv(tmp_path, changed, name="changed.csv"))
    assert (job.updated_count, job.created_count) == (1, 0)
    lanhai = Customer.objects.get(name="上海蓝海科技有限公司")
    assert lanhai.email == "sales@lanhai.cn"
    assert lanhai.level == Customer.Level.A  # empty cells leave fields alone
    assert sorted(lanhai.tags.values_list("name", flat=True)) == ["VIP", "华东", "重点"]
    assert lanhai.history.filter(history_type="~").exists()


def test_on_match_reject_leaves_existing_customers_alone(setup, tmp_path):
    run_import(setup.rep_a, write_csv(tmp_path, ROWS))
    changed = [["上海蓝海科技有限公司", "", "new@lanhai.cn", "", "", "", "", "", "", "", ""]]
    job = run_import(setup.rep_a, write_csv(tmp_path, changed, name="changed.csv"), on_match="reject")
    assert job.rejected_count == 1
    assert "上海蓝海科技有限公司" in job.rejections.get().message
    assert Customer.objects.get(name="上海蓝海科技有限公司").email == "info@lanhai.cn"


def test_a_row_colliding_with_another_reps_customer_is_rejected_naming_the_owner(
    setup, tmp_path, make_customer
):
    theirs = make_customer(setup.rep_b, name="杭州西湖贸易有限公司", phone="13900002222")
    job = run_import(setup.rep_a, write_csv(tmp_path, ROWS))
    assert (job.created_count, job.rejected_count) == (2, 1)
    rejection = job.rejections.get()
    assert rejection.row_number == 3
    assert "陈销售" in rejection.message and str(theirs.pk) in rejection.message
    assert rejection.values[0] == "杭州西湖贸易"
    theirs.refresh_from_db()
    assert theirs.owner == setup.rep_b and theirs.name == "杭州西湖贸易有限公司"


def test_bad_rows_are_reported_one_by_one_and_good_rows_still_land(setup, tmp_path):
    rows = [
        ["", "13800009999", "", "", "", "", "", "", "", "", ""],
        ["坏邮箱公司", "", "not-an-email", "", "", "", "", "", "", "", ""],
        ["未知省份公司", "", "", "火星", "", "", "", "", "", "", ""],
        ["级别不对公司", "", "", "", "", "", "S级", "", "", "", ""],
        ["好公司", "13600006666", "", "广东", "深圳", "南山区", "", "", "", "", ""],
    ]
    job = run_import(setup.rep_a, write_csv(tmp_path, rows))
    assert (job.created_count, job.rejected_count) == (1, 4)
    messages = dict(job.rejections.values_list("row_number", "message"))
    assert set(messages) == {2, 3, 4, 5}
    assert messages[2].startswith("Name:") or messages[2].startswith("名称")
    assert "not-an-email" not in messages[3] and ("E-mail" in messages[3] or "邮箱" in messages[3])
    assert "火星" in messages[4]
    assert "S级" in messages[5]
    assert Customer.objects.get().name == "好公司"
    report = "".join(services.rejections_csv(job=job))
    assert report.startswith("\ufeff")
    lines = list(csv.reader(report.lstrip("\ufeff").splitlines()))
    assert lines[0][4:] == HEADERS
    assert [line[1] for line in lines[1:]] == ["2", "3", "4", "5"]
    assert {line[0] for line in lines[1:]} == {job.filename}
    assert lines[2][2] in ("E-mail", "邮箱")  # the column at fault
    assert lines[2][4:][2] == "not-an-email"  # the row as it was, to fix and import again


def test_a_test_run_reports_what_would_happen_and_writes_nothing(setup, tmp_path, make_customer):
    make_customer(setup.rep_b, name="北京长城软件")
    rows = [*ROWS, ["上海蓝海科技有限公司", "", "", "", "", "", "", "", "", "", ""]]
    job = run_import(setup.rep_a, write_csv(tmp_path, rows), dry_run=True)
    # Row 5 repeats row 2 and adds nothing: unchanged, as in a real run.
    assert (job.created_count, job.updated_count, job.unchanged_count, job.rejected_count) == (2, 0, 1, 1)
    assert job.rejections.get().row_number == 4
    assert Customer.objects.count() == 1
    assert Contact.objects.count() == 0


def test_a_test_run_sees_duplicates_across_batches(setup, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "BATCH_ROWS", 2)
    rows = [[f"公司{i}", "", "", "", "", "", "", "", "", "", ""] for i in range(3)] + [ROWS[0], ROWS[0]]
    job = run_import(setup.rep_a, write_csv(tmp_path, rows), dry_run=True, on_match="reject")
    # Row 6 repeats row 5, which a real run would have created in the batch before.
    assert (job.created_count, job.rejected_count) == (4, 1)
    assert "row 5" in job.rejections.get().message or "第 5 行" in job.rejections.get().message


def test_owner_and_pool_options(setup, tmp_path):
    headers = ["名称", "负责人"]
    rows = [["甲公司", ""], ["乙公司", "周销售"], ["丙公司", "公海"], ["丁公司", "陈销售"]]
    job = run_import(setup.east_manager, write_csv(tmp_path, rows, headers=headers))
    owners = dict(Customer.objects.values_list("name", "owner__username"))
    assert owners == {"甲公司": "east_manager", "乙公司": "rep_a2", "丙公司": None, "丁公司": "rep_b"}
    assert job.created_count == 4
    pool_job = run_import(
        setup.east_manager,
        write_csv(tmp_path, [["戊公司", ""]], headers=headers, name="pool.csv"),
        owner=f"pool:{setup.team_a.pk}",
    )
    assert pool_job.created_count == 1
    pooled = Customer.objects.get(name="戊公司")
    assert (pooled.owner, pooled.org_unit) == (None, setup.team_a)


def test_a_rep_cannot_name_a_colleague_outside_their_reach_as_owner(setup, tmp_path):
    job = run_import(setup.rep_a, write_csv(tmp_path, [["甲公司", "刘销售"]], headers=["名称", "负责人"]))
    assert job.rejected_count == 1
    assert "刘销售" in job.rejections.get().message


def test_custom_fields_are_columns_too(setup, tmp_path):
    CustomField.objects.create(
        entity=CustomField.Entity.CUSTOMER,
        key="budget",
        label_zh="预算",
        label_en="Budget",
        field_type="money",
    )
    job = run_import(
        setup.rep_a, write_csv(tmp_path, [["甲公司", "1,200"], ["乙公司", "很多"]], headers=["名称", "预算"])
    )
    assert job.mapping == ["name", "custom.budget"]
    assert Customer.objects.get(name="甲公司").custom == {"budget": "1200.00"}
    assert "预算" in job.rejections.get().message or "Budget" in job.rejections.get().message


def test_the_export_round_trips_through_the_customer_number(setup, tmp_path, make_customer):
    customer = make_customer(setup.rep_a, name="甲公司", phone="13800001111")
    rows = [[str(customer.pk), "甲公司（新名）", "13800001111"]]
    job = run_import(setup.rep_a, write_csv(tmp_path, rows, headers=["No.", "Name", "Phone"]))
    assert job.updated_count == 1
    customer.refresh_from_db()
    assert customer.name == "甲公司（新名）"
    hidden = make_customer(setup.rep_c, name="乙公司")
    job = run_import(
        setup.rep_a, write_csv(tmp_path, [[str(hidden.pk), "改名"]], headers=["No.", "Name"], name="b.csv")
    )
    assert job.rejected_count == 1
    assert "乙公司" not in job.rejections.get().message  # a customer you cannot see is not described
    hidden.refresh_from_db()
    assert hidden.name == "乙公司"


def test_mapping_mistakes_are_refused_before_anything_runs(setup, tmp_path):
    path = write_csv(tmp_path, ROWS)
    with path.open("rb") as handle:
        job = services.import_upload(actor=setup.rep_a, kind="customers", upload=File(handle))
    options = {"owner": "", "on_match": "update", "tags": []}
    with pytest.raises(ValidationFailed) as missing:
        services.import_start(actor=setup.rep_a, job=job, mapping=[""] * len(HEADERS), options=options)
    assert "mapping" in missing.value.fields
    with pytest.raises(ValidationFailed) as twice:
        services.import_start(actor=setup.rep_a, job=job, mapping=["name", "name"], options=options)
    assert "mapping.1" in twice.value.fields
    with pytest.raises(PermissionDenied):
        services.import_start(actor=setup.rep_b, job=job, mapping=job.mapping, options=options)
    with pytest.raises(PermissionDenied), path.open("rb") as handle:
        services.import_upload(actor=setup.analyst, kind="customers", upload=File(handle))


def test_a_run_that_dies_midway_resumes_and_ends_like_a_clean_run(setup, tmp_path, monkeypatch):
    """The worker dies in the middle of the third batch: its transaction is lost, the two before it are
    committed. Resuming continues at the first uncommitted row; nothing is doubled or missed."""
    monkeypatch.setattr(services, "BATCH_ROWS", 10)
    rows = [[f"公司{i:03d}", f"1380000{i:04d}", "", "", "", "", "", "", "", "", ""] for i in range(45)]
    rows[7][0] = ""  # one rejected row in a committed batch
    path = write_csv(tmp_path, rows)
    real_create = customer_services.customer_create
    calls = {"n": 0}

    def dies_on_the_25th(**kwargs):
        calls["n"] += 1
        if calls["n"] == 25:
            raise RuntimeError("worker killed")
        return real_create(**kwargs)

    monkeypatch.setattr(customer_services, "customer_create", dies_on_the_25th)
    with pytest.raises(RuntimeError):
        run_import(setup.rep_a, path)
    job = ImportJob.objects.get()
    assert (job.status, job.processed_rows, job.created_count, job.rejected_count) == ("failed", 20, 19, 1)
    assert Customer.objects.count() == 19

    monkeypatch.setattr(customer_services, "customer_create", real_create)
    services.import_resume(actor=setup.rep_a, job=job, enqueue=False)
    job = services.import_run(job_id=job.pk)
    assert (job.status, job.processed_rows, job.created_count, job.rejected_count) == ("done", 45, 44, 1)
    assert job.rejections.count() == 1
    assert Customer.objects.count() == 44
    assert sorted(Customer.objects.values_list("name", flat=True)) == sorted(r[0] for r in rows if r[0])


def test_a_finished_job_is_not_run_twice(setup, tmp_path):
    job = run_import(setup.rep_a, write_csv(tmp_path, ROWS))
    again = services.import_run(job_id=job.pk)
    assert (again.status, again.created_count, again.processed_rows) == ("done", 3, 3)
    with pytest.raises(ValidationFailed):
        services.import_resume(actor=setup.rep_a, job=job, enqueue=False)


def test_cancelling_stops_between_batches_and_keeps_what_was_imported(setup, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "BATCH_ROWS", 5)
    rows = [[f"公司{i:03d}", "", "", "", "", "", "", "", "", "", ""] for i in range(20)]
    path = write_csv(tmp_path, rows)
    with path.open("rb") as handle:
        job = services.import_upload(actor=setup.rep_a, kind="customers", upload=File(handle))
    services.import_start(
        actor=setup.rep_a, job=job, mapping=job.mapping, options={"on_match": "update"}, enqueue=False
    )

    def cancel_after_first_batch(current):
        if current.processed_rows == 5:
            services.import_cancel(actor=setup.rep_a, job=current)

    job = services.import_run(job_id=job.pk, progress=cancel_after_first_batch)
    assert (job.status, job.processed_rows) == ("cancelled", 5)
    assert Customer.objects.count() == 5


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def test_the_command_line_imports_and_test_runs(setup, tmp_path, capsys, english):
    path = write_csv(tmp_path, ROWS)
    call_command("import-customers", str(path), "--user", "rep_a", "--dry-run")
    assert "would be created 3" in capsys.readouterr().out
    assert Customer.objects.count() == 0
    call_command("import-customers", str(path), "--user", "rep_a", "--tag", "展会", "--map", "备注=")
    out = capsys.readouterr().out
    assert "created 3" in out
    assert Customer.objects.filter(tags__name="展会").count() == 3
    assert Customer.objects.get(name="杭州西湖贸易").notes == ""  # the 备注 column was left out


def test_every_importable_field_has_a_label_in_both_languages(db):
    from django.utils import translation

    for language in ("zh-hans", "en"):
        with translation.override(language):
            labels = [str(c.label) for c in columns()]
            assert len(set(labels)) == len(labels)
    assert importers.header_key(" 客户名称* ") == importers.header_key("客户名称")


def test_a_row_identical_to_another_reps_customer_is_a_collision_not_unchanged(
    setup, tmp_path, make_customer
):
    """Given rep_b's customer, when rep_a imports a row with exactly its name and mobile, then the row is
    rejected naming rep_b (撞单) rather than counted as unchanged."""
    make_customer(setup.rep_b, name="杭州西湖贸易", phone="13900002222")
    job = run_import(
        setup.rep_a, write_csv(tmp_path, [["杭州西湖贸易", "13900002222"]], headers=["名称", "手机"])
    )
    assert (job.created_count, job.unchanged_count, job.rejected_count) == (0, 0, 1)
    assert "陈销售" in job.rejections.get().message


def test_a_rep_cannot_fill_another_regions_pool_or_pass_a_malformed_target(setup, tmp_path):
    path = write_csv(tmp_path, [["甲公司"]], headers=["名称"])
    with path.open("rb") as handle:
        job = services.import_upload(
            actor=setup.rep_a, kind="customers", upload=File(handle), filename=path.name
        )
    for target in (f"pool:{setup.team_c.pk}", "pool:abc", "user:abc"):
        with pytest.raises(ValidationFailed) as refused:
            services.import_start(
                actor=setup.rep_a,
                job=job,
                mapping=job.mapping,
                options={"owner": target, "on_match": "update", "tags": []},
                enqueue=False,
            )
        assert "owner" in refused.value.fields, target
    assert not Customer.objects.exists()
