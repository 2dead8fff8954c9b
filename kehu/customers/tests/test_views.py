"""The customer pages: forms with inline errors, collisions, stale edits, lists with budgets, export, bulk."""

import csv
import io

import pytest
from openpyxl import load_workbook

from kehu.core.models import AuditEvent
from kehu.customers import services
from kehu.customers.models import Customer, CustomField, SavedFilter

pytestmark = pytest.mark.django_db

BASE = {"kind": "company", "customer_type": "end_user", "status": "potential"}


def test_creating_a_customer_from_the_form(org, login):
    """Given a rep, when they submit the new-customer form, then the customer is theirs and the page shows it."""
    client = login(org.rep_a)
    response = client.post(
        "/customers/new/",
        {**BASE, "name": "苏州新禾材料有限公司", "phone": "13912340000", "tags": "重点, 华东"},
    )
    customer = Customer.objects.get(name="苏州新禾材料有限公司")
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    assert customer.owner == org.rep_a and customer.org_unit == org.team_a
    assert sorted(t.name for t in customer.tags.all()) == ["华东", "重点"]


def test_missing_and_malformed_fields_are_shown_next_to_the_field(org, login):
    client = login(org.rep_a)
    response = client.post(
        "/customers/new/", {**BASE, "name": "", "email": "not-an-email"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-field-error="name"' in html and 'data-field-error="email"' in html
    assert Customer.objects.count() == 0


def test_a_collision_names_the_existing_customer_and_its_owner(org, login, make_customer):
    """Given rep_b's customer, when rep_a creates one with the same mobile, then the form names it and its owner."""
    existing = make_customer(org.rep_b, name="宁波海曙贸易", phone="13600001234")
    client = login(org.rep_a)
    response = client.post("/customers/new/", {**BASE, "name": "另一个名字", "phone": "+86 136-0000-1234"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "宁波海曙贸易" in html and str(org.rep_b) in html and f"/customers/{existing.pk}/" in html
    assert 'name="override_collision"' not in html  # reps cannot override
    assert Customer.objects.count() == 1


def test_a_manager_may_override_a_collision(org, login, make_customer):
    make_customer(org.rep_b, name="宁波海曙贸易", phone="13600001234")
    client = login(org.east_manager)
    first = client.post("/customers/new/", {**BASE, "name": "宁波海曙贸易"})
    assert 'name="override_collision"' in first.content.decode()
    second = client.post("/customers/new/", {**BASE, "name": "宁波海曙贸易", "override_collision": "on"})
    assert second.status_code == 302
    assert Customer.objects.filter(name="宁波海曙贸易").count() == 2


def test_a_stale_edit_shows_what_changed_and_overwrites_nothing(org, login, make_customer):
    """Given a form opened at version 1, when someone else saves first, then saving shows their change instead."""
    customer = make_customer(org.rep_a, name="无锡太湖机械")
    services.customer_update(
        actor=org.east_manager, customer=customer, data={"industry": "机械制造"}, version=1
    )
    client = login(org.rep_a)
    response = client.post(
        f"/customers/{customer.pk}/edit/", {**BASE, "name": "无锡太湖机械", "industry": "纺织", "version": 1}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="stale-changes"' in html and "机械制造" in html
    customer.refresh_from_db()
    assert customer.industry == "机械制造" and customer.version == 2


def test_custom_fields_appear_in_the_form_and_are_validated(org, login):
    CustomField.objects.create(
        entity="customer",
        key="employees",
        label_zh="员工人数",
        label_en="Employees",
        field_type="number",
        required=True,
    )
    client = login(org.rep_a)
    page = client.get("/customers/new/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'name="custom__employees"' in page and "员工人数" in page
    response = client.post("/customers/new/", {**BASE, "name": "常州龙城电器"})
    assert 'data-field-error="custom__employees"' in response.content.decode()
    client.post("/customers/new/", {**BASE, "name": "常州龙城电器", "custom__employees": "120"})
    assert Customer.objects.get(name="常州龙城电器").custom == {"employees": 120}


def test_the_list_filters_by_custom_field_status_and_owner(org, login, make_customer):
    CustomField.objects.create(
        entity="customer",
        key="grade",
        label_zh="等级",
        label_en="Grade",
        field_type="choice",
        choices=["金", "银"],
    )
    make_customer(org.rep_a, name="金牌客户", status="active", custom={"grade": "金"})
    make_customer(org.rep_a, name="银牌客户", status="active", custom={"grade": "银"})
    make_customer(org.rep_a2, name="别人的客户", status="active", custom={"grade": "金"})
    client = login(org.east_manager)
    html = client.get("/customers/?custom.grade=金&owner=" + str(org.rep_a.pk)).content.decode()
    assert "金牌客户" in html and "银牌客户" not in html and "别人的客户" not in html


def test_list_page_query_count_does_not_grow_with_rows(
    org, login, make_customer, django_assert_max_num_queries
):
    """The list page runs a fixed number of queries however many customers (with tags and owners) it shows."""
    for i in range(30):
        make_customer(org.rep_a if i % 2 else org.rep_a2, name=f"预算客户{i:02d}", tags=["甲", "乙"])
    client = login(org.east_manager)
    client.get("/customers/")  # warm the session and caches
    with django_assert_max_num_queries(22):
        response = client.get("/customers/")
    assert response.content.decode().count('class="form-check-input row-select"') == 25


def test_detail_tabs_have_a_query_budget(org, login, make_customer, django_assert_max_num_queries):
    customer = make_customer(org.rep_a, name="预算详情")
    for i in range(8):
        services.contact_create(actor=org.rep_a, customer=customer, data={"name": f"联系人{i}"})
    client = login(org.rep_a)
    for tab in ("overview", "contacts", "timeline", "tasks", "history"):
        with django_assert_max_num_queries(30):
            assert client.get(f"/customers/{customer.pk}/?tab={tab}").status_code == 200


def test_load_more_returns_only_rows_for_htmx(org, login, make_customer):
    for i in range(30):
        make_customer(org.rep_a, name=f"翻页客户{i:02d}")
    client = login(org.rep_a)
    first = client.get("/customers/?sort=name").content.decode()
    cursor = first.split("cursor=")[1].split('"')[0]
    more = client.get(f"/customers/?sort=name&cursor={cursor}", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in more and more.count("翻页客户") == 5


def test_export_csv_is_excel_friendly_scoped_and_audited(org, login, make_customer):
    make_customer(org.rep_a, name="导出甲", phone="13511112222")
    make_customer(org.rep_c, name="北方乙")
    client = login(org.rep_a)
    response = client.post("/customers/bulk/", {"action": "export_csv", "filter_query": ""})
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    names = [row[1] for row in rows[1:]]
    assert names == ["导出甲"]
    event = AuditEvent.objects.get(action="export")
    assert event.actor == org.rep_a and event.detail["format"] == "csv"


def test_export_xlsx_of_selected_rows(org, login, make_customer):
    a = make_customer(org.rep_a, name="表格甲")
    make_customer(org.rep_a, name="表格乙")
    response = login(org.rep_a).post("/customers/bulk/", {"action": "export_xlsx", "ids": [a.pk]})
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    values = [row[1] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert values == ["表格甲"]


def test_a_manager_bulk_assigns_and_tags(org, login, make_customer):
    customers = [make_customer(org.rep_a, name=f"批量{i}") for i in range(3)]
    client = login(org.east_manager)
    ids = [c.pk for c in customers]
    client.post("/customers/bulk/", {"action": "assign", "ids": ids, "owner": org.rep_b.pk, "reason": "调整"})
    client.post("/customers/bulk/", {"action": "tag", "ids": ids, "tags": "年度大客户"})
    for customer in Customer.objects.filter(pk__in=ids):
        assert customer.owner == org.rep_b
        assert [t.name for t in customer.tags.all()] == ["年度大客户"]


def test_a_rep_cannot_bulk_assign(org, login, make_customer):
    customer = make_customer(org.rep_a, name="不许分配")
    login(org.rep_a).post(
        "/customers/bulk/", {"action": "assign", "ids": [customer.pk], "owner": org.rep_a2.pk}
    )
    customer.refresh_from_db()
    assert customer.owner == org.rep_a


def test_saved_filters_belong_to_their_user(org, login):
    client = login(org.rep_a)
    client.post("/customers/filters/", {"name": "我的潜在客户", "query": "owner=me&status=potential"})
    assert SavedFilter.objects.get(user=org.rep_a).query == "owner=me&status=potential"
    assert "我的潜在客户" in client.get("/customers/").content.decode()
    assert "我的潜在客户" not in login(org.rep_b).get("/customers/").content.decode()


def test_claim_and_release_through_the_pages(org, login, make_customer):
    pooled = make_customer(org.east_manager, name="公海客户", owner=None, org_unit=org.team_a)
    client = login(org.rep_a)
    assert "公海客户" in client.get("/customers/pool/").content.decode()
    client.post(f"/customers/{pooled.pk}/claim/")
    pooled.refresh_from_db()
    assert pooled.owner == org.rep_a
    response = client.post(f"/customers/{pooled.pk}/release/", {"reason": ""})
    assert response.status_code == 200  # a reason is required
    client.post(f"/customers/{pooled.pk}/release/", {"reason": "客户暂无需求"})
    pooled.refresh_from_db()
    assert pooled.owner is None and pooled.pool_reason == "客户暂无需求"


def test_merge_and_restore_through_the_pages(org, login, make_customer):
    survivor = make_customer(org.rep_a, name="合并甲")
    merged = make_customer(org.rep_a, name="合并乙", phone="13388889999")
    services.contact_create(actor=org.rep_a, customer=merged, data={"name": "老王"})
    client = login(org.admin)
    preview = client.get(f"/customers/merge/?survivor={survivor.pk}&merged={merged.pk}").content.decode()
    assert "合并乙" in preview
    client.post("/customers/merge/", {"survivor": survivor.pk, "merged": merged.pk})
    survivor.refresh_from_db()
    assert survivor.contacts.get().name == "老王" and survivor.phone == "13388889999"
    assert "合并乙" in client.get("/recycle-bin/").content.decode()

    deleted = make_customer(org.rep_a, name="误删客户")
    login(org.rep_a).post(f"/customers/{deleted.pk}/delete/")
    assert not Customer.objects.filter(pk=deleted.pk).exists()
    login(org.admin).post(f"/customers/recycle-bin/{deleted.pk}/restore/")
    assert Customer.objects.filter(pk=deleted.pk).exists()


def test_the_recycle_bin_is_for_system_admins_only(org, login):
    assert login(org.east_manager).get("/recycle-bin/").status_code == 403


def test_search_dropdown_finds_by_initials_and_last_four_digits(org, login, make_customer):
    make_customer(org.rep_a, name="曾记餐饮", phone="13712345566")
    client = login(org.rep_a)
    for q in ("zjcy", "cjcy", "5566", "曾记"):
        html = client.get(f"/customers/search/?q={q}", HTTP_HX_REQUEST="true").content.decode()
        assert "曾记餐饮" in html, q
