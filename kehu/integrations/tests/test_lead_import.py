"""Importing leads: mapping, regions and sources, collisions (撞单) with customers, leads and earlier rows,
bad cells, where new leads go, test runs, and importing the same file again."""

import csv

import pytest
from django.core.files import File
from django.utils import translation

from kehu.activities.models import Notification
from kehu.core.exceptions import ValidationFailed
from kehu.integrations import importers, services
from kehu.integrations.lead_import import OptionsForm, columns
from kehu.integrations.models import ImportJob
from kehu.sales.models import Lead, LeadAssignmentRule
from kehu.sales.services import leads as lead_services

HEADERS = [
    "联系人",
    "公司名称",
    "职务",
    "手机",
    "邮箱",
    "微信",
    "来源",
    "营销活动",
    "省份",
    "城市",
    "行业",
    "备注",
    "评分",
]
ROWS = [
    [
        "张伟",
        "宁波海曙贸易有限公司",
        "采购经理",
        "'13800138000",
        "zhangwei@haishu.cn",
        "zw_haishu",
        "展会",
        "2025春季展",
        "浙江",
        "宁波",
        "贸易",
        "展位留资",
        "80",
    ],
    ["王芳", "", "", "139 0013 9000", "", "", "Referral", "", "浙江省", "杭州", "", "", ""],
    ["", "北京长城软件", "", "", "", "", "website", "", "北京", "", "软件", "", ""],
]


def write_csv(tmp_path, rows, headers=HEADERS, name="leads.csv", encoding="utf-8-sig"):
    path = tmp_path / name
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def run_import(actor, path, *, mapping=None, dry_run=False, owner="") -> ImportJob:
    """Upload, start and run a lead import in this process, exactly as the worker would run it."""
    with path.open("rb") as handle:
        job = services.import_upload(actor=actor, kind="leads", upload=File(handle), filename=path.name)
    services.import_start(
        actor=actor,
        job=job,
        mapping=mapping or job.mapping,
        options={"owner": owner},
        dry_run=dry_run,
        enqueue=False,
    )
    return services.import_run(job_id=job.pk)


def counts(job) -> tuple[int, int, int, int]:
    return job.created_count, job.updated_count, job.unchanged_count, job.rejected_count


def messages(job) -> dict[int, str]:
    return dict(job.rejections.values_list("row_number", "message"))


def names_row(message: str, row: int) -> bool:
    return f"row {row} " in message or f"第 {row} 行" in message


@pytest.fixture
def setup(org, regions):
    return org


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_a_chinese_file_becomes_leads_with_regions_and_sources(setup, tmp_path, encoding):
    """Given a CSV in UTF-8 or GB18030 with Chinese headers, provinces and cities written short or long, and the
    source as a Chinese label, an English label or the code, when rep_a imports it, then every header is mapped,
    and each row is a lead of rep_a with its regions resolved (the province of a lone municipality filled in),
    its source, score and other cells, created through the lead service (audited, on its timeline)."""
    job = run_import(setup.rep_a, write_csv(tmp_path, ROWS, encoding=encoding))

    assert job.encoding.replace("-", "").lower().startswith("utf8" if encoding == "utf-8-sig" else "gb")
    assert job.mapping == [
        "name",
        "company",
        "title",
        "phone",
        "email",
        "wechat",
        "source",
        "campaign",
        "province",
        "city",
        "industry",
        "notes",
        "score",
    ]
    assert (job.status, job.processed_rows, *counts(job)) == ("done", 3, 3, 0, 0, 0)
    zhang = Lead.objects.get(name="张伟")
    assert (zhang.company, zhang.title, zhang.phone, zhang.email) == (
        "宁波海曙贸易有限公司",
        "采购经理",
        "13800138000",
        "zhangwei@haishu.cn",
    )
    assert (zhang.province.name, zhang.city.name) == ("浙江省", "宁波市")
    assert (zhang.source, zhang.campaign, zhang.industry, zhang.notes, zhang.score) == (
        "exhibition",
        "2025春季展",
        "贸易",
        "展位留资",
        80,
    )
    assert (zhang.owner, zhang.org_unit, zhang.created_by, zhang.status) == (
        setup.rep_a,
        setup.team_a,
        setup.rep_a,
        "new",
    )
    assert list(zhang.activities.values_list("event", flat=True)) == ["created"]
    assert zhang.history.first().history_user == setup.rep_a
    wang = Lead.objects.get(name="王芳")
    assert (wang.source, wang.province.name, wang.city.name, wang.phone_key) == (
        "referral",
        "浙江省",
        "杭州市",
        "13900139000",
    )
    changcheng = Lead.objects.get(company="北京长城软件")
    assert (changcheng.source, changcheng.province.name, changcheng.city) == ("website", "北京市", None)
    assert Notification.objects.filter(recipient=setup.rep_a, kind="import_finished").count() == 1


def test_rows_matching_a_customer_or_a_lead_are_rejected_naming_them(setup, tmp_path, make_customer):
    """Given rep_b's customer with a mobile and rep_c's lead at a company, when rep_a imports a row with that
    mobile written with dashes, a row with the company written with a space, and a new lead, then the first two
    are rejected naming the customer or lead, its number and its owner (撞单), the third lands, and the existing
    records are left as they were."""
    customer = make_customer(setup.rep_b, name="杭州云栖科技", phone="13900000001")
    lead = lead_services.lead_create(actor=setup.rep_c, data={"name": "孙七", "company": "苏州青禾电子"})
    rows = [
        ["赵六", "", "", "139-0000-0001"],
        ["钱八", "苏州 青禾电子", "", ""],
        ["周九", "无锡新材料", "", "13700000009"],
    ]
    job = run_import(setup.rep_a, write_csv(tmp_path, rows, headers=["姓名", "公司", "职务", "手机"]))

    assert counts(job) == (1, 0, 0, 2)
    reasons = messages(job)
    assert set(reasons) == {2, 3}
    assert "杭州云栖科技" in reasons[2] and str(customer.pk) in reasons[2] and "陈销售" in reasons[2]
    assert "苏州青禾电子" in reasons[3] and str(lead.pk) in reasons[3] and "刘销售" in reasons[3]
    assert job.rejections.get(row_number=2).values[0] == "赵六"  # the row as it was, to fix and import again
    assert Lead.objects.filter(company_key="苏州青禾电子").count() == 1
    assert Lead.objects.get(name="周九").owner == setup.rep_a
    lead.refresh_from_db()
    assert (lead.owner, lead.name) == (setup.rep_c, "孙七")


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_row_repeating_an_earlier_row_is_rejected_naming_that_row(setup, tmp_path, monkeypatch, dry_run):
    """Given a file where row 3 has row 2's mobile written differently, row 4 row 2's company with other spacing,
    and row 6 repeats row 5 (a name and nothing else to collide on), when it is imported — for real, or as a test
    run whose batches of two are rolled back one by one — then rows 3, 4 and 6 are rejected naming the earlier
    row, and the others are (or would be) created."""
    monkeypatch.setattr(services, "BATCH_ROWS", 2)
    rows = [
        ["张伟", "甲贸易", "13800000001"],
        ["李四", "乙贸易", "+86 138 0000 0001"],
        ["王五", "甲 贸易", ""],
        ["路人", "", ""],
        ["路人", "", ""],
        ["路人乙", "", ""],
    ]
    job = run_import(
        setup.rep_a, write_csv(tmp_path, rows, headers=["联系人", "单位", "电话"]), dry_run=dry_run
    )

    assert counts(job) == (3, 0, 0, 3)
    reasons = messages(job)
    assert set(reasons) == {3, 4, 6}
    assert names_row(reasons[3], 2) and ("mobile" in reasons[3] or "手机" in reasons[3])
    assert names_row(reasons[4], 2) and ("company" in reasons[4] or "公司" in reasons[4])
    assert names_row(reasons[6], 5)
    assert Lead.objects.count() == (0 if dry_run else 3)


def test_bad_cells_are_reported_row_by_row_and_good_rows_still_land(setup, tmp_path):
    """Given rows with a score over 100, a score in words, an unknown province, neither name nor company, a bad
    e-mail and an unknown source, among two good rows, when imported, then each bad row is rejected with its
    reason and the good rows are created."""
    headers = ["联系人", "公司", "手机", "邮箱", "来源", "省份", "评分"]
    rows = [
        ["好人甲", "", "13600000001", "", "", "广东", "0"],
        ["分数太高", "", "", "", "", "", "101"],
        ["分数是字", "", "", "", "", "", "八十"],
        ["火星人", "", "", "", "", "火星", ""],
        ["", "", "13600000002", "", "", "", ""],
        ["坏邮箱", "", "", "not-an-email", "", "", ""],
        ["来源不明", "", "", "", "抖音", "", ""],
        ["", "好公司乙", "", "", "电话陌拜", "", "100"],
    ]
    job = run_import(setup.rep_a, write_csv(tmp_path, rows, headers=headers))

    assert counts(job) == (2, 0, 0, 6)
    reasons = messages(job)
    assert set(reasons) == {3, 4, 5, 6, 7, 8}
    assert "100" in reasons[3] and "100" in reasons[4]
    assert reasons[3].startswith("Score") or reasons[3].startswith("评分")
    assert "火星" in reasons[5]
    assert reasons[6].startswith("Name") or reasons[6].startswith("姓名")
    assert "E-mail" in reasons[7] or "邮箱" in reasons[7]
    assert "抖音" in reasons[8]
    assert sorted(Lead.objects.values_list("name", "company", "score")) == [
        ("", "好公司乙", 100),
        ("好人甲", "", 0),
    ]
    assert Lead.objects.get(company="好公司乙").source == "cold_call"


def test_by_the_assignment_rules_new_leads_take_turns_in_the_team(setup, tmp_path):
    """Given a round-robin rule of the East region over team A, when the East manager imports three leads
    "by the assignment rules" and one row names the lead pool as owner, then the three go to team A's reps in
    turn (each told, the rule on the lead's timeline) and the fourth to the manager's pool."""
    LeadAssignmentRule.objects.create(
        name="华东轮询", unit=setup.east, method="round_robin", team=setup.team_a
    )
    rows = [["甲公司", ""], ["乙公司", ""], ["丙公司", ""], ["丁公司", "线索池"]]
    job = run_import(setup.east_manager, write_csv(tmp_path, rows, headers=["公司", "负责人"]), owner="rules")

    assert counts(job) == (4, 0, 0, 0)
    owners = [Lead.objects.get(company=name).owner for name in ("甲公司", "乙公司", "丙公司")]
    assert owners == [setup.rep_a, setup.rep_a2, setup.rep_a]
    assert (
        Lead.objects.get(company="乙公司").activities.get(event="assigned").event_data["rule"] == "华东轮询"
    )
    assert Notification.objects.filter(recipient=setup.rep_a, kind="lead_assigned").count() == 2
    pooled = Lead.objects.get(company="丁公司")
    assert (pooled.owner, pooled.org_unit) == (None, setup.east)


def test_a_colleague_or_a_pool_as_the_option_and_the_owner_column(setup, tmp_path):
    """Given the East manager, when they import with a colleague as the option, rows without an owner go to that
    colleague and rows naming someone or the pool go there; with a team's pool as the option the leads sit in
    that pool. A rep is offered no colleagues, may not ask for one or for a pool outside their reach, and a row
    naming a colleague they may not give leads to is rejected."""
    headers = ["公司", "负责人"]
    rows = [["甲公司", ""], ["乙公司", "周销售"], ["丙公司", "公海"]]
    job = run_import(
        setup.east_manager, write_csv(tmp_path, rows, headers=headers), owner=f"user:{setup.rep_b.pk}"
    )
    assert counts(job) == (3, 0, 0, 0)
    owners = dict(Lead.objects.values_list("company", "owner__username"))
    assert owners == {"甲公司": "rep_b", "乙公司": "rep_a2", "丙公司": None}

    pool_job = run_import(
        setup.east_manager,
        write_csv(tmp_path, [["丁公司", ""]], headers=headers, name="pool.csv"),
        owner=f"pool:{setup.team_a.pk}",
    )
    assert counts(pool_job) == (1, 0, 0, 0)
    pooled = Lead.objects.get(company="丁公司")
    assert (pooled.owner, pooled.org_unit, pooled.pooled_at is not None) == (None, setup.team_a, True)

    choices = [value for value, _label in OptionsForm(actor=setup.rep_a).fields["owner"].choices]
    assert choices[:2] == ["", "rules"]
    assert not [c for c in choices if c.startswith("user:")]
    assert f"pool:{setup.team_a.pk}" in choices and f"pool:{setup.team_c.pk}" not in choices
    path = write_csv(tmp_path, [["戊公司", "周销售"]], headers=headers, name="rep.csv")
    for refused in (f"user:{setup.rep_a2.pk}", f"pool:{setup.team_c.pk}", "somewhere"):
        with path.open("rb") as handle:
            job = services.import_upload(actor=setup.rep_a, kind="leads", upload=File(handle))
        with pytest.raises(ValidationFailed) as error:
            services.import_start(
                actor=setup.rep_a, job=job, mapping=job.mapping, options={"owner": refused}, enqueue=False
            )
        assert "owner" in error.value.fields, refused
    job = run_import(setup.rep_a, path, owner="")
    assert counts(job) == (0, 0, 0, 1)
    assert not Lead.objects.filter(company="戊公司").exists()


def test_a_test_run_reports_what_would_happen_and_writes_nothing(setup, tmp_path, make_customer):
    """Given an existing customer and a round-robin rule, when a manager test-runs a file by the assignment
    rules, then the counts say what a real run would do (the colliding row rejected) and no lead, timeline entry,
    assignment notice or rule turn is written."""
    make_customer(setup.rep_b, name="北京长城软件")
    rule = LeadAssignmentRule.objects.create(
        name="华东轮询", unit=setup.east, method="round_robin", team=setup.team_a
    )
    job = run_import(setup.east_manager, write_csv(tmp_path, ROWS), dry_run=True, owner="rules")

    assert (job.status, job.dry_run, *counts(job)) == ("done", True, 2, 0, 0, 1)
    assert "北京长城软件" in messages(job)[4]
    assert Lead.objects.count() == 0
    assert Lead.history.count() == 0
    assert not Notification.objects.filter(kind="lead_assigned").exists()
    rule.refresh_from_db()
    assert rule.last_assigned is None


def test_importing_the_same_file_again_creates_nothing(setup, tmp_path, make_customer):
    """Given a file imported once (one row rejected as a collision, one as a repeat of an earlier row), when the
    same user imports it again, then nothing is created: the leads they made from those very rows count as
    unchanged and the rejected rows are rejected again. Another user importing it gets every row rejected as a
    collision with rep_a's leads (but for the row with only a name), and a row changing a lead's cells is rejected too: imports never update
    leads."""
    make_customer(setup.rep_b, name="北京长城软件")
    rows = [
        *ROWS,
        ["王芳", "", "", "13900139000", "", "", "", "", "", "", "", "重复", ""],
        ["无名氏", *[""] * 12],
    ]
    path = write_csv(tmp_path, rows)
    first = run_import(setup.rep_a, path)
    assert counts(first) == (3, 0, 0, 2)
    leads = dict(Lead.objects.values_list("pk", "version"))

    again = run_import(setup.rep_a, path)
    assert counts(again) == (0, 0, 3, 2)
    assert messages(again) == messages(first)
    assert dict(Lead.objects.values_list("pk", "version")) == leads

    # Someone else's import of the file collides with rep_a's leads; the row with only a name cannot collide.
    theirs = run_import(setup.rep_a2, path)
    assert counts(theirs) == (1, 0, 0, 4)
    assert "李销售" in messages(theirs)[2]
    assert Lead.objects.get(name="无名氏", created_by=setup.rep_a2).owner == setup.rep_a2

    changed = [
        ["张伟", "宁波海曙贸易有限公司", "", "13800138000", "", "", "", "", "", "", "", "新的备注", ""]
    ]
    job = run_import(setup.rep_a, write_csv(tmp_path, changed, name="changed.csv"))
    assert counts(job) == (0, 0, 0, 1)
    assert "张伟" in messages(job)[2]
    assert Lead.objects.get(name="张伟").notes == "展位留资"
    assert dict(Lead.objects.filter(created_by=setup.rep_a).values_list("pk", "version")) == leads


def test_every_lead_column_has_a_label_in_both_languages(db):
    for language in ("zh-hans", "en"):
        with translation.override(language):
            labels = [str(c.label) for c in columns()]
            assert len(set(labels)) == len(labels)
    labels = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            labels[language] = str(importers.get("leads").label)
    assert labels == {"zh-hans": "线索", "en": "Leads"}
