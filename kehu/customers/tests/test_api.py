"""The REST API for customers, contacts, the pool and search: status codes, errors, scope and query budgets."""

import base64
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kehu.core.schemas import ConflictOut
from kehu.customers.models import Contact, Customer, CustomerShare, CustomField
from kehu.customers.services import contact_create, customer_release
from tests.api_client import API, ApiClient


@pytest.fixture
def api():
    return ApiClient


@pytest.fixture
def budget_field(db):
    return CustomField.objects.create(
        entity=CustomField.Entity.CUSTOMER,
        key="budget",
        label_zh="预算",
        label_en="Budget",
        field_type="number",
    )


@pytest.fixture
def revenue_field(db):
    return CustomField.objects.create(
        entity=CustomField.Entity.CUSTOMER,
        key="revenue",
        label_zh="营收",
        label_en="Revenue",
        field_type="money",
    )


@pytest.fixture
def region_field(db):
    return CustomField.objects.create(
        entity=CustomField.Entity.CUSTOMER,
        key="channel",
        label_zh="渠道",
        label_en="Channel",
        field_type="choice",
        choices=["online", "offline"],
    )


def cursor_of(values) -> str:
    """A cursor as a client could forge one: base64 of any JSON."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def walk(client, path, params=None):
    """Every item of a cursor-paginated list, following next_cursor to the end."""
    params = dict(params or {})
    items = []
    pages = 0
    while True:
        response = client.get(path, params)
        assert response.status_code == 200, response.content
        body = response.json()
        items.extend(body["items"])
        pages += 1
        if body["next_cursor"] is None:
            return items, pages
        params["cursor"] = body["next_cursor"]


# --- authentication -----------------------------------------------------------------------------------------------


def test_anonymous_request_is_refused_with_401(org):
    """Given no credentials, when listing customers, then 401 with a JSON detail."""
    response = Client().get(f"{API}/customers")

    assert response.status_code == 401
    assert "detail" in response.json()


def test_session_user_can_read(org, make_customer, login):
    """Given a browser session, when it GETs the API, then it sees its customers."""
    customer = make_customer(org.rep_a, name="会话客户")
    client = login(org.rep_a)

    response = client.get(f"{API}/customers/{customer.pk}")

    assert response.status_code == 200
    assert response.json()["name"] == "会话客户"


def test_session_write_without_csrf_token_is_refused(org):
    """Given a session without the CSRF token, when it POSTs, then the write is refused."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.rep_a)

    response = client.post(
        f"{API}/customers", json.dumps({"name": "跨站客户"}), content_type="application/json"
    )

    assert response.status_code in {401, 403}
    assert not Customer.objects.filter(name="跨站客户").exists()


# --- create -------------------------------------------------------------------------------------------------------


def test_create_customer_owned_by_the_caller(org, api, budget_field):
    """Given a rep, when they POST a customer with tags and custom fields, then 201 and they own it."""
    response = api(org.rep_a).post(
        "/customers",
        {
            "name": "上海云杉科技有限公司",
            "phone": "138 0013 8000",
            "email": "info@yunshan.test",
            "level": "a",
            "source": "website",
            "tags": ["重点", "华东"],
            "custom": {"budget": "120000"},
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == {"id": org.rep_a.pk, "name": "李销售"}
    assert body["org_unit"]["id"] == org.team_a.pk
    assert sorted(body["tags"]) == ["华东", "重点"]
    assert body["custom"] == {"budget": 120000}
    assert body["phone"] == "138 0013 8000"
    assert body["version"] == 1
    assert Customer.objects.get(pk=body["id"]).owner_id == org.rep_a.pk


def test_manager_creates_customer_in_the_pool(org, api):
    """Given a manager, when they create a customer with an org unit and a null owner, then it is in that pool."""
    response = api(org.east_manager).post(
        "/customers", {"name": "公海客户", "owner_id": None, "org_unit_id": org.team_b.pk}
    )

    assert response.status_code == 201, response.content
    assert response.json()["owner"] is None
    assert response.json()["org_unit"]["id"] == org.team_b.pk
    assert response.json()["pooled_at"] is not None


def test_manager_creates_customer_for_a_rep(org, api):
    """Given a manager, when they create a customer for a rep of their region, then the rep owns it."""
    response = api(org.east_manager).post("/customers", {"name": "代建客户", "owner_id": org.rep_b.pk})

    assert response.status_code == 201, response.content
    assert response.json()["owner"]["id"] == org.rep_b.pk


def test_create_for_an_unknown_owner_names_the_field(org, api):
    """Given an owner id the caller may not pick, when creating, then 422 names owner_id."""
    response = api(org.rep_a).post("/customers", {"name": "某客户", "owner_id": org.rep_c.pk})

    assert response.status_code == 422
    assert "owner_id" in response.json()["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "甲", "kind": "alien"}, "kind"),
        ({"name": "甲", "status": "vip"}, "status"),
        ({"name": "甲", "email": "not-an-email"}, "email"),
        ({"name": "甲", "tags": "重点"}, "tags"),
        ({"name": "甲", "custom": ["budget"]}, "custom"),
        ({"name": "甲", "custom": {"nope": 1}}, "custom.nope"),
        ({"name": "甲", "custom": {"budget": "lots"}}, "custom.budget"),
        ({"name": "甲", "custom": {"budget": "1e999999999"}}, "custom.budget"),
        ({"name": "甲", "custom": {"budget": "1E+5000"}}, "custom.budget"),
        ({"name": "甲", "custom": {"revenue": "1e30"}}, "custom.revenue"),
        ({"name": "甲", "custom": {"revenue": "NaN"}}, "custom.revenue"),
        ({"name": "甲", "next_followup_on": "tomorrow"}, "next_followup_on"),
        ({"name": "甲", "province": "999999"}, "province"),
        ({"name": "甲", "owner_id": "abc"}, "owner_id"),
        ({"name": "甲", "owner_id": 10**30}, "owner_id"),
        ({"name": "甲\x00乙"}, "name"),
        ({"name": "甲", "custom": {"budget": "1\x00"}}, "custom"),
    ],
)
def test_invalid_customer_is_refused_naming_the_field(org, api, budget_field, revenue_field, body, field):
    """Given an invalid body, when creating a customer, then 422 with the offending field named."""
    response = api(org.rep_a).post("/customers", body)

    assert response.status_code == 422, response.content
    assert field in response.json()["fields"], response.json()
    assert response.json()["detail"]


def test_collision_answers_409_with_the_existing_customer(org, api, make_customer):
    """Given a customer with this mobile, when another rep creates one with the same mobile, then 409 names it."""
    existing = make_customer(org.rep_a, name="杭州绿叶贸易", phone="13900139000")

    response = api(org.rep_b).post("/customers", {"name": "绿叶贸易（杭州）", "phone": "+86 139-0013-9000"})

    assert response.status_code == 409
    body = response.json()
    assert body["existing_id"] == existing.pk
    assert body["existing_name"] == "杭州绿叶贸易"
    assert body["existing_owner"] == "李销售"
    assert body["matched_on"] == ["phone"]
    assert body["detail"]
    ConflictOut.model_validate(body)  # the body is what the OpenAPI document promises


def test_manager_may_override_a_collision(org, api, make_customer):
    """Given a collision, when a manager sets override_collision, then the customer is created."""
    make_customer(org.rep_a, name="重名公司")

    response = api(org.east_manager).post(
        "/customers", {"name": "重名公司", "owner_id": org.rep_b.pk, "override_collision": True}
    )

    assert response.status_code == 201


def test_analyst_cannot_create(org, api):
    """Given a read-only analyst, when creating a customer, then 403."""
    response = api(org.analyst).post("/customers", {"name": "分析师客户"})

    assert response.status_code == 403


# --- read, update, delete -----------------------------------------------------------------------------------------


def test_detail_shows_fields_tags_and_custom(org, api, make_customer, budget_field):
    """Given a customer, when fetched by id, then its fields, tags and custom values come back."""
    customer = make_customer(org.rep_a, name="详情客户", tags=["老客户"], custom={"budget": 5})

    response = api(org.rep_a).get(f"/customers/{customer.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == customer.pk
    assert body["tags"] == ["老客户"]
    assert body["custom"] == {"budget": 5}
    assert body["kind"] == "company"


def test_patch_changes_only_the_fields_sent(org, api, make_customer):
    """Given a customer, when PATCHed with the current version, then sent fields change and the version bumps."""
    customer = make_customer(org.rep_a, name="旧名字", industry="制造")

    response = api(org.rep_a).patch(
        f"/customers/{customer.pk}", {"version": customer.version, "name": "新名字", "tags": ["a"]}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "新名字"
    assert body["industry"] == "制造"
    assert body["tags"] == ["a"]
    assert body["version"] == customer.version + 1


def test_stale_patch_answers_409_with_the_changes(org, api, make_customer):
    """Given two clients read version 1, when both PATCH, then the second gets 409 listing what changed."""
    customer = make_customer(org.rep_a, name="并发客户")
    client = api(org.rep_a)
    assert client.patch(f"/customers/{customer.pk}", {"version": 1, "industry": "零售"}).status_code == 200

    response = client.patch(f"/customers/{customer.pk}", {"version": 1, "industry": "批发"})

    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 2
    assert body["changes"]["industry"]["now"] == "零售"
    ConflictOut.model_validate(body)
    assert Customer.objects.get(pk=customer.pk).industry == "零售"


def test_patch_requires_version(org, api, make_customer):
    """Given a PATCH without version, then 422 names version."""
    customer = make_customer(org.rep_a)

    response = api(org.rep_a).patch(f"/customers/{customer.pk}", {"name": "无版本"})

    assert response.status_code == 422
    assert "version" in response.json()["fields"]


def test_patch_collision_answers_409(org, api, make_customer):
    """Given two customers, when one is renamed to the other's name, then 409 with the existing id."""
    first = make_customer(org.rep_a, name="第一家")
    second = make_customer(org.rep_a, name="第二家")

    response = api(org.rep_a).patch(f"/customers/{second.pk}", {"version": second.version, "name": "第一家"})

    assert response.status_code == 409
    assert response.json()["existing_id"] == first.pk


def test_delete_moves_to_the_recycle_bin(org, api, make_customer):
    """Given a customer, when DELETEd, then 204 and it is gone from the API but kept in the bin."""
    customer = make_customer(org.rep_a)
    client = api(org.rep_a)

    response = client.delete(f"/customers/{customer.pk}")

    assert response.status_code == 204
    assert client.get(f"/customers/{customer.pk}").status_code == 404
    assert Customer.all_objects.get(pk=customer.pk).deleted_at is not None


def test_history_lists_audited_changes(org, api, make_customer):
    """Given a customer edited once, when its history is read, then the change shows old and new values."""
    customer = make_customer(org.rep_a, name="历史客户", industry="制造")
    client = api(org.rep_a)
    client.patch(f"/customers/{customer.pk}", {"version": 1, "industry": "贸易"})

    response = client.get(f"/customers/{customer.pk}/history")

    assert response.status_code == 200
    rows = response.json()
    assert rows[0]["user"]["id"] == org.rep_a.pk
    assert {"old": "制造", "new": "贸易"}.items() <= rows[0]["changes"][0].items()
    assert rows[-1]["created"] is True


# --- ownership: pool, claim, release, assign, share, merge --------------------------------------------------------


def test_release_then_claim(org, api, make_customer):
    """Given a rep's customer, when released with a reason, then it is in the pool and a teammate can claim it."""
    customer = make_customer(org.rep_a, name="流转客户")

    released = api(org.rep_a).post(f"/customers/{customer.pk}/release", {"reason": "无意向"})
    pool = api(org.rep_a2).get("/pool")
    claimed = api(org.rep_a2).post(f"/customers/{customer.pk}/claim")

    assert released.status_code == 200
    assert released.json()["owner"] is None
    assert released.json()["pool_reason"] == "无意向"
    assert [c["id"] for c in pool.json()["items"]] == [customer.pk]
    assert claimed.status_code == 200
    assert claimed.json()["owner"]["id"] == org.rep_a2.pk


def test_release_needs_a_reason(org, api, make_customer):
    """Given a release without a reason, then 422 names reason."""
    customer = make_customer(org.rep_a)

    missing = api(org.rep_a).post(f"/customers/{customer.pk}/release", {})
    blank = api(org.rep_a).post(f"/customers/{customer.pk}/release", {"reason": "  "})

    assert missing.status_code == 422
    assert "reason" in missing.json()["fields"]
    assert blank.status_code == 422
    assert "reason" in blank.json()["fields"]


def test_claiming_an_owned_customer_is_refused(org, api, make_customer):
    """Given a customer shared with a colleague, when the colleague claims it, then 422 (not in the pool)."""
    customer = make_customer(org.rep_a)
    CustomerShare.objects.create(customer=customer, user=org.rep_b)

    response = api(org.rep_b).post(f"/customers/{customer.pk}/claim")

    assert response.status_code == 422


def test_manager_assigns_a_customer(org, api, make_customer):
    """Given a manager of both teams, when assigning rep_a's customer to rep_b, then rep_b owns it."""
    customer = make_customer(org.rep_a)

    response = api(org.east_manager).post(f"/customers/{customer.pk}/assign", {"owner_id": org.rep_b.pk})

    assert response.status_code == 200, response.content
    assert response.json()["owner"]["id"] == org.rep_b.pk


def test_rep_cannot_assign(org, api, make_customer):
    """Given a rep, when assigning their customer to a teammate, then 403."""
    customer = make_customer(org.rep_a)

    response = api(org.rep_a).post(f"/customers/{customer.pk}/assign", {"owner_id": org.rep_a2.pk})

    assert response.status_code == 403


def test_share_gives_a_colleague_access(org, api, make_customer):
    """Given a rep's customer, when shared with a teammate, then the teammate sees it."""
    customer = make_customer(org.rep_a)

    response = api(org.rep_a).post(
        f"/customers/{customer.pk}/share", {"user_id": org.rep_a2.pk, "can_edit": True}
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "customer_id": customer.pk,
        "user": {"id": org.rep_a2.pk, "name": "周销售"},
        "can_edit": True,
    }
    assert api(org.rep_a2).get(f"/customers/{customer.pk}").status_code == 200


def test_admin_merges_two_customers(org, api, make_customer):
    """Given two customers, when a system admin merges them, then contacts move and the merged one is binned."""
    survivor = make_customer(org.rep_a, name="合并甲")
    merged = make_customer(org.rep_a, name="合并乙", phone="13700137000")
    contact_create(actor=org.rep_a, customer=merged, data={"name": "王五"})

    response = api(org.admin).post("/customers/merge", {"survivor_id": survivor.pk, "merged_id": merged.pk})

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "13700137000"
    assert Contact.objects.get(name="王五").customer_id == survivor.pk
    assert Customer.all_objects.get(pk=merged.pk).merged_into_id == survivor.pk


def test_only_a_system_admin_merges(org, api, make_customer):
    """Given a manager who sees both customers, when merging, then 403."""
    first = make_customer(org.rep_a)
    second = make_customer(org.rep_b)

    response = api(org.east_manager).post(
        "/customers/merge", {"survivor_id": first.pk, "merged_id": second.pk}
    )

    assert response.status_code == 403


# --- lists, filters, pagination -----------------------------------------------------------------------------------


def test_cursor_pagination_walks_every_customer_once(org, api, make_customer):
    """Given 23 customers, when walking pages of 5 in each sort order, then every customer comes exactly once."""
    ids = {make_customer(org.rep_a).pk for _ in range(23)}
    client = api(org.rep_a)

    for sort in ["updated", "created", "name", "-name"]:
        items, pages = walk(client, "/customers", {"limit": 5, "sort": sort})

        assert [c["id"] for c in items] == list(dict.fromkeys(c["id"] for c in items)), sort
        assert {c["id"] for c in items} == ids, sort
        assert pages == 5


def test_sort_by_name_follows_pinyin(org, api, make_customer):
    """Given Chinese names, when sorted by name, then they come in pinyin order."""
    for name in ["张家", "安家", "李家"]:
        make_customer(org.rep_a, name=name)

    response = api(org.rep_a).get("/customers", {"sort": "name"})

    assert [c["name"] for c in response.json()["items"]] == ["安家", "李家", "张家"]


def test_filters(org, api, make_customer, budget_field, region_field):
    """Given customers differing in status, level, tags, owner and custom fields, then each filter narrows."""
    a = make_customer(
        org.rep_a, name="甲公司", status="active", level="a", tags=["vip"], custom={"budget": 10}
    )
    b = make_customer(org.rep_a, name="乙公司", status="lost", custom={"channel": "online"})
    c = make_customer(org.east_manager, name="丙公司", owner=org.rep_b, next_followup_on=timezone.localdate())
    pooled = make_customer(org.east_manager, name="丁公司", owner=None, org_unit=org.team_a)
    client = api(org.east_manager)

    def ids(**params):
        response = client.get("/customers", params)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids() == {a.pk, b.pk, c.pk, pooled.pk}
    assert ids(status="active") == {a.pk}
    assert ids(level="a") == {a.pk}
    assert ids(tag="vip") == {a.pk}
    assert ids(owner=str(org.rep_b.pk)) == {c.pk}
    assert ids(owner="none") == {pooled.pk}
    assert ids(owner="me") == set()
    assert ids(unit=org.team_b.pk) == {c.pk}
    assert ids(unit=org.east.pk) == {a.pk, b.pk, c.pk, pooled.pk}
    assert ids(followup_due="true") == {c.pk}
    assert ids(q="乙") == {b.pk}
    assert ids(q="jia") == {a.pk}
    assert ids(**{"custom.budget": "10"}) == {a.pk}
    assert ids(**{"custom.channel": "online"}) == {b.pk}
    assert ids(status="", level="") == {a.pk, b.pk, c.pk, pooled.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "vip"}, "status"),
        ({"sort": "random"}, "sort"),
        ({"owner": "somebody"}, "owner"),
        ({"owner": "9" * 40}, "owner"),
        ({"unit": "east"}, "unit"),
        ({"limit": 0}, "limit"),
        ({"limit": 10**12}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not a cursor"}, "cursor"),
        ({"cursor": cursor_of([])}, "cursor"),
        ({"cursor": cursor_of({"x": 1})}, "cursor"),
        ({"cursor": cursor_of([{"t": "not a date"}, 1])}, "cursor"),
        ({"cursor": cursor_of(["x", "y"])}, "cursor"),
        ({"cursor": cursor_of([{"t": 1}, 1])}, "cursor"),
        ({"cursor": cursor_of([{"d": "NaN"}, 1])}, "cursor"),
        ({"cursor": cursor_of([[1], {"a": 1}])}, "cursor"),
        ({"cursor": "x" * 2000}, "cursor"),
        ({"tag": "a\x00"}, "tag"),
        ({"custom.budget": "ten"}, "custom.budget"),
        ({"custom.budget": "1.e400"}, "custom.budget"),
        ({"custom.budget": "9" * 5000}, "custom.budget"),
        ({"custom.budget": "\x00"}, "custom.budget"),
    ],
)
def test_bad_list_parameters_answer_422(org, api, make_customer, budget_field, params, field):
    """Given nonsense query parameters, when listing, then 422 names the parameter and nothing crashes."""
    make_customer(org.rep_a)

    response = api(org.rep_a).get("/customers", params)

    assert response.status_code == 422, response.content
    assert field in response.json()["fields"], response.json()


def test_huge_numbers_in_a_cursor_do_not_crash(org, api, make_customer):
    """Given a well-formed cursor carrying absurd values, when listing, then an answer that is not a 500."""
    make_customer(org.rep_a)
    client = api(org.rep_a)
    moment = "2025-01-01T00:00:00+08:00"
    cursors = [
        cursor_of([moment, 10**25]),
        cursor_of([{"t": moment}, -1]),
        cursor_of([{"t": moment}, 10**25]),
        cursor_of([{"t": moment}, 1.5]),
        cursor_of([{"t": "2025-01-01"}, 1]),
        cursor_of([{"t": "2025-01-01T00:00:00"}, 1]),
        cursor_of([None, None]),
        cursor_of([True, False]),
    ]

    for cursor in cursors:
        response = client.get("/customers", {"cursor": cursor})
        assert response.status_code in {200, 422}, (cursor, response.content)


def test_list_query_count_does_not_grow_with_rows(org, api, make_customer, django_assert_max_num_queries):
    """Given 30 customers with owners and tags, when a manager lists them, then a fixed number of queries."""
    for n in range(30):
        owner = [org.rep_a, org.rep_b, org.rep_a2][n % 3]
        make_customer(org.east_manager, owner=owner, tags=[f"t{n % 4}", "共有"])
    client = api(org.east_manager)

    with django_assert_max_num_queries(10):
        response = client.get("/customers", {"limit": 50})

    assert response.status_code == 200
    assert len(response.json()["items"]) == 30


def test_pool_query_count_does_not_grow_with_rows(org, api, make_customer, django_assert_max_num_queries):
    """Given 30 pooled customers with tags, when a rep lists the pool, then a fixed number of queries."""
    for _ in range(30):
        make_customer(org.east_manager, owner=None, org_unit=org.team_a, tags=["公海"])
    client = api(org.rep_a)

    with django_assert_max_num_queries(6):
        response = client.get("/pool", {"limit": 100})

    assert response.status_code == 200
    assert len(response.json()["items"]) == 30


def test_pool_pagination(org, api, make_customer):
    """Given 12 pooled customers, when walking the pool 5 at a time, then each comes once."""
    ids = set()
    for _ in range(12):
        customer = make_customer(org.rep_a)
        customer_release(actor=org.rep_a, customer=customer, reason="测试")
        ids.add(customer.pk)

    items, pages = walk(api(org.rep_a2), "/pool", {"limit": 5})

    assert [c["id"] for c in items] == list(dict.fromkeys(c["id"] for c in items))
    assert {c["id"] for c in items} == ids
    assert pages == 3


# --- scope --------------------------------------------------------------------------------------------------------


def test_another_reps_customer_is_invisible(org, api, make_customer):
    """Given rep_a's customer, when rep_b reads, edits, deletes, claims or logs on it, then 404 every time,
    and it is in none of rep_b's lists or searches."""
    customer = make_customer(org.rep_a, name="机密客户", phone="13811112222")
    contact = contact_create(actor=org.rep_a, customer=customer, data={"name": "机密联系人"})
    client = api(org.rep_b)
    path = f"/customers/{customer.pk}"

    assert client.get(path).status_code == 404
    assert client.patch(path, {"version": 1, "name": "偷改"}).status_code == 404
    assert client.delete(path).status_code == 404
    assert client.post(f"{path}/claim").status_code == 404
    assert client.post(f"{path}/release", {"reason": "x"}).status_code == 404
    assert client.post(f"{path}/share", {"user_id": org.rep_b.pk}).status_code == 404
    assert client.get(f"{path}/history").status_code == 404
    assert client.get(f"{path}/timeline").status_code == 404
    assert client.post(f"{path}/timeline", {"content": "偷记"}).status_code == 404
    assert client.get(f"/contacts/{contact.pk}").status_code == 404
    assert client.patch(f"/contacts/{contact.pk}", {"version": 1, "name": "x"}).status_code == 404
    assert client.delete(f"/contacts/{contact.pk}").status_code == 404
    assert client.get("/customers").json()["items"] == []
    assert client.get("/pool").json()["items"] == []
    assert client.get("/contacts").json()["items"] == []
    assert client.get("/search", {"q": "机密"}).json() == {"customers": [], "contacts": []}
    assert client.get("/search", {"q": "2222"}).json()["customers"] == []
    refused = client.post("/contacts", {"customer_id": customer.pk, "name": "混入"})
    assert refused.status_code == 422
    assert "customer_id" in refused.json()["fields"]
    assert Customer.objects.get(pk=customer.pk).name == "机密客户"


def test_analyst_reads_but_cannot_write(org, api, make_customer):
    """Given an analyst of the region, when reading and editing a rep's customer, then 200 and 403."""
    customer = make_customer(org.rep_a)
    client = api(org.analyst)

    assert client.get(f"/customers/{customer.pk}").status_code == 200
    assert client.patch(f"/customers/{customer.pk}", {"version": 1, "name": "改"}).status_code == 403
    assert client.delete(f"/customers/{customer.pk}").status_code == 403


# --- contacts -----------------------------------------------------------------------------------------------------


def test_contact_crud(org, api, make_customer):
    """Given a customer, when a contact is created, read, patched and deleted, then each step answers right."""
    customer = make_customer(org.rep_a, name="联系客户")
    client = api(org.rep_a)

    boss = client.post("/contacts", {"customer_id": customer.pk, "name": "张总", "title": "总经理"})
    created = client.post(
        "/contacts",
        {
            "customer_id": customer.pk,
            "name": "李四",
            "mobile": "13600136000",
            "reports_to_id": boss.json()["id"],
        },
    )
    contact_id = created.json()["id"]
    patched = client.patch(f"/contacts/{contact_id}", {"version": 1, "title": "采购经理", "is_primary": True})
    stale = client.patch(f"/contacts/{contact_id}", {"version": 1, "title": "财务"})
    deleted = client.delete(f"/contacts/{contact_id}")

    assert boss.status_code == 201
    assert created.status_code == 201, created.content
    assert created.json()["customer"] == {"id": customer.pk, "name": "联系客户"}
    assert created.json()["reports_to_id"] == boss.json()["id"]
    assert patched.status_code == 200
    assert patched.json()["title"] == "采购经理"
    assert patched.json()["is_primary"] is True
    assert stale.status_code == 409
    assert deleted.status_code == 204
    assert client.get(f"/contacts/{contact_id}").status_code == 404


def test_contact_validation_names_fields(org, api, make_customer):
    """Given bad contact input, then 422 names the field."""
    customer = make_customer(org.rep_a)
    other = make_customer(org.rep_a)
    stranger = contact_create(actor=org.rep_a, customer=other, data={"name": "外人"})
    client = api(org.rep_a)

    no_name = client.post("/contacts", {"customer_id": customer.pk})
    bad_email = client.post("/contacts", {"customer_id": customer.pk, "name": "甲", "email": "@@"})
    wrong_boss = client.post(
        "/contacts", {"customer_id": customer.pk, "name": "乙", "reports_to_id": stranger.pk}
    )
    missing_customer = client.post("/contacts", {"customer_id": 10**12, "name": "丙"})

    assert no_name.status_code == 422
    assert "name" in no_name.json()["fields"]
    assert "email" in bad_email.json()["fields"]
    assert "reports_to" in wrong_boss.json()["fields"]
    assert "customer_id" in missing_customer.json()["fields"]


def test_contact_list_filters_and_paginates(org, api, make_customer, django_assert_max_num_queries):
    """Given contacts on two customers, when listing by customer and by query, then only the matches, in pages."""
    first = make_customer(org.rep_a)
    second = make_customer(org.rep_a)
    ids = {contact_create(actor=org.rep_a, customer=first, data={"name": f"联系人{n}"}).pk for n in range(7)}
    contact_create(actor=org.rep_a, customer=second, data={"name": "赵六", "mobile": "13512345678"})
    client = api(org.rep_a)

    items, pages = walk(client, "/contacts", {"customer_id": first.pk, "limit": 3})
    with django_assert_max_num_queries(5):  # token, memberships, the customers the rep sees, count, page
        found = client.get("/contacts", {"q": "5678"})

    assert {c["id"] for c in items} == ids
    assert pages == 3
    assert [c["name"] for c in found.json()["items"]] == ["赵六"]


# --- search -------------------------------------------------------------------------------------------------------


def test_search_finds_customers_and_contacts(org, api, make_customer, django_assert_max_num_queries):
    """Given a customer and a contact, when searching by name, pinyin and phone tail, then both are found."""
    customer = make_customer(org.rep_a, name="北京星辰科技", phone="13912345678")
    contact_create(actor=org.rep_a, customer=customer, data={"name": "星辰小王"})
    client = api(org.rep_a)

    # token, memberships, the ids shared with the rep, customers, the customers the rep sees, contacts (+1 spare)
    with django_assert_max_num_queries(7):
        by_name = client.get("/search", {"q": "星辰"}).json()
    by_pinyin = client.get("/search", {"q": "beijing"}).json()
    by_tail = client.get("/search", {"q": "5678"}).json()

    assert [c["id"] for c in by_name["customers"]] == [customer.pk]
    assert [c["name"] for c in by_name["contacts"]] == ["星辰小王"]
    assert by_name["contacts"][0]["customer"]["id"] == customer.pk
    assert [c["id"] for c in by_pinyin["customers"]] == [customer.pk]
    assert [c["id"] for c in by_tail["customers"]] == [customer.pk]


def test_search_needs_a_query(org, api):
    """Given no q, when searching, then 422 names q."""
    response = api(org.rep_a).get("/search")

    assert response.status_code == 422
    assert "q" in response.json()["fields"]


# --- malformed requests -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ['{"name": ', "not json", "[1, 2]", '"just a string"', "null", "\xff\xfe", '{"name": "甲"}' * 2],
)
def test_malformed_json_is_a_client_error(org, api, raw):
    """Given a body that is not a JSON object, when creating, then a 4xx JSON answer, never a 500."""
    response = api(org.rep_a).post("/customers", raw=raw)

    assert 400 <= response.status_code < 500, response.content
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "path",
    [
        "/customers/abc",
        "/customers/-1",
        "/customers/0",
        "/customers/1.5",
        f"/customers/{10**30}",
        "/contacts/abc",
        "/customers/abc/history",
    ],
)
def test_bad_ids_in_paths_are_client_errors(org, api, path):
    """Given an id that is not a positive 64-bit number, when fetching, then 404 or 422, never a 500."""
    response = api(org.rep_a).get(path)

    assert response.status_code in {404, 422}, response.content


def test_unknown_but_valid_id_is_404(org, api):
    """Given an id that no customer has, when fetching, then 404."""
    response = api(org.rep_a).get(f"/customers/{2**63 - 1}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."} or response.json()["detail"]


def test_naive_dates_and_wrong_types_in_patch(org, api, make_customer):
    """Given wrong types in a PATCH body, then 422 naming the field."""
    customer = make_customer(org.rep_a)
    client = api(org.rep_a)

    for body, field in [
        ({"version": "one"}, "version"),
        ({"version": 1, "tags": [1, 2]}, "tags.0"),
        ({"version": 1, "next_followup_on": "2025-13-01"}, "next_followup_on"),
        ({"version": 1, "name": None}, "name"),
        ({"version": 10**20}, "version"),
    ]:
        response = client.patch(f"/customers/{customer.pk}", body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["fields"], (body, response.json())


def test_recent_pooled_customer_order(org, api, make_customer):
    """Given two customers released at different times, when listing the pool, then the latest comes first."""
    first = make_customer(org.rep_a)
    second = make_customer(org.rep_a)
    customer_release(actor=org.rep_a, customer=first, reason="一")
    customer_release(actor=org.rep_a, customer=second, reason="二")
    Customer.objects.filter(pk=first.pk).update(pooled_at=timezone.now() - timedelta(days=1))

    response = api(org.rep_a2).get("/pool")

    assert [c["id"] for c in response.json()["items"]] == [second.pk, first.pk]
