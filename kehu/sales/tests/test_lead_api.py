"""/api/v1/ leads: create, read, edit, working a lead, the lead pool, conversion, the conversion report, data
scope and query budgets."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.customers.models import Contact, Customer
from kehu.sales.models import Lead, Opportunity
from kehu.sales.services import leads as services
from tests.api_client import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return ApiClient


def reads_english(*users):
    for user in users:
        user.language = "en"
        user.save(update_fields=["language"])


def test_create_read_and_edit_a_lead_and_a_stale_version_answers_409(org, regions, api):
    """Given a rep, when they record a lead with a place given as region codes, read it, edit it with the version
    they read and then edit it again with that old version, then the lead is theirs and new, the edit bumps the
    version, and the stale edit answers 409 naming what changed meanwhile and changes nothing."""
    client = api(org.rep_a)

    created = client.post(
        "/leads",
        {
            "name": " 陈总 ",
            "company": "苏州青禾电子有限公司",
            "phone": "13812345678",
            "province": "320000",
            "city": "320500",
            "source": "exhibition",
            "score": 40,
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["owner"]["id"], body["org_unit"]["id"]) == (
        "陈总",
        org.rep_a.pk,
        org.team_a.pk,
    )
    assert (body["status"], body["province"], body["city"], body["score"]) == ("new", "320000", "320500", 40)
    assert (body["customer"], body["contact"], body["opportunity"], body["converted_at"]) == (None,) * 4
    assert (body["version"], body["pooled_at"], body["created_by"]["id"]) == (1, None, org.rep_a.pk)

    read = client.get(f"/leads/{body['id']}")
    assert read.status_code == 200
    assert read.json() == body

    edited = client.patch(f"/leads/{body['id']}", {"version": 1, "title": "总经理", "city": "320200"})
    assert edited.status_code == 200, edited.content
    assert (edited.json()["title"], edited.json()["city"], edited.json()["version"]) == (
        "总经理",
        "320200",
        2,
    )

    stale = client.patch(f"/leads/{body['id']}", {"version": 1, "notes": "想要报价"})
    assert stale.status_code == 409, stale.content
    assert stale.json()["current_version"] == 2
    assert {"title", "city"} <= set(stale.json()["changes"])
    assert Lead.objects.get(pk=body["id"]).notes == ""


def test_validation_errors_name_the_field(org, regions, api):
    """Given a rep, when a lead, a status change or a list filter is invalid, then 422 names the field and no
    lead is made."""
    client = api(org.rep_a)
    cases = [
        ({"company": "甲", "province": "999999"}, "province"),
        ({"company": "甲", "city": "999999"}, "city"),
        ({"company": "甲", "province": "330100"}, "province"),  # a city is not a province
        ({"company": "甲", "province": "320000", "city": "330100"}, "city"),  # Hangzhou is not in Jiangsu
        ({"name": "", "company": "  "}, "name"),
        ({"phone": "13800138000"}, "name"),
        ({"company": "甲", "owner_id": 999999}, "owner_id"),
        ({"company": "甲", "owner_id": org.rep_c.pk}, "owner_id"),  # a user rep_a cannot see
        ({"company": "甲", "source": "television"}, "source"),
        ({"company": "甲", "score": 101}, "score"),
        ({"company": "甲", "email": "not an address"}, "email"),
        ({"company": "甲", "route": "elsewhere"}, "route"),
    ]
    for body, field in cases:
        response = client.post("/leads", body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["fields"], (body, response.json())
    assert not Lead.objects.exists()

    lead = services.lead_create(actor=org.rep_a, data={"company": "甲"})
    for body, field in [
        ({"status": "converted"}, "status"),
        ({"status": "won"}, "status"),
        ({"status": "disqualified", "reason": " "}, "reason"),
    ]:
        response = client.post(f"/leads/{lead.pk}/status", body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["fields"], (body, response.json())
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    for body, field in [
        ({"kind": "system", "content": "x"}, "kind"),
        ({"kind": "call", "content": "  "}, "content"),
        ({"kind": "call", "content": "x", "occurred_at": future}, "occurred_at"),
    ]:
        response = client.post(f"/leads/{lead.pk}/activities", body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["fields"], (body, response.json())
    for params, field in [
        ({"status": "lost"}, "status"),
        ({"owner": "someone"}, "owner"),
        ({"sort": "x"}, "sort"),
    ]:
        response = client.get("/leads", params)
        assert response.status_code == 422, (params, response.content)
        assert field in response.json()["fields"], (params, response.json())
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_a_lead_matching_a_customer_or_another_lead_answers_409_with_the_existing_record(
    org, make_customer, api
):
    """Given rep_b's customer with a mobile number and rep_a's lead at a company, when rep_c records a lead with
    that mobile, or at that company, or edits their own lead to that company, then each answers 409 with the
    existing record's kind, id and what matched (撞单)."""
    customer = make_customer(org.rep_b, name="杭州云栖科技", phone="13900000001")
    first = api(org.rep_a).post("/leads", {"name": "王芳", "company": "苏州青禾电子"}).json()
    client = api(org.rep_c)

    same_phone = client.post("/leads", {"name": "赵六", "phone": "139-0000-0001"})
    assert same_phone.status_code == 409, same_phone.content
    assert {k: same_phone.json()[k] for k in ("existing_kind", "existing_id", "matched_on")} == {
        "existing_kind": "customer",
        "existing_id": customer.pk,
        "matched_on": ["phone"],
    }

    same_company = client.post("/leads", {"name": "孙七", "company": "苏州 青禾电子"})
    assert same_company.status_code == 409
    assert (same_company.json()["existing_kind"], same_company.json()["existing_id"]) == ("lead", first["id"])

    mine = client.post("/leads", {"company": "北京星河"}).json()
    renamed = client.patch(f"/leads/{mine['id']}", {"version": mine["version"], "company": "苏州青禾电子"})
    assert renamed.status_code == 409
    assert renamed.json()["existing_id"] == first["id"]
    assert Lead.objects.get(pk=mine["id"]).company == "北京星河"
    assert Lead.objects.count() == 2


def test_other_teams_get_404_on_every_lead_path_and_never_list_the_lead(org, pipeline, api):
    """Given rep_a's lead and a lead in team A's pool, then a rep of another team of the region (rep_b) and a rep
    of another region (rep_c) get 404 on every /leads/{id} path of either, and neither lead in the lists, the
    pool or the report; the lead is unchanged. rep_a, the control, sees both."""
    owned = services.lead_create(actor=org.rep_a, data={"name": "钱秘密", "company": "隐秘星河科技"})
    pooled = services.lead_create(
        actor=org.rep_a, data={"company": "池中秘密公司"}, route=services.ROUTE_POOL
    )

    def paths(lead_id, outsider):
        return [
            ("get", f"/leads/{lead_id}", None),
            ("patch", f"/leads/{lead_id}", {"version": 1, "notes": "x"}),
            ("post", f"/leads/{lead_id}/status", {"status": "qualified"}),
            ("post", f"/leads/{lead_id}/assign", {"owner_id": outsider.pk}),
            ("post", f"/leads/{lead_id}/claim", {}),
            ("post", f"/leads/{lead_id}/release", {"reason": "不要了"}),
            ("get", f"/leads/{lead_id}/activities", None),
            ("post", f"/leads/{lead_id}/activities", {"kind": "note", "content": "x"}),
            ("post", f"/leads/{lead_id}/convert", {"opportunity": {"pipeline_id": pipeline.pk}}),
            ("delete", f"/leads/{lead_id}", None),
        ]

    for outsider in (org.rep_b, org.rep_c):
        client = api(outsider)
        for lead in (owned, pooled):
            for method, path, body in paths(lead.pk, outsider):
                call = getattr(client, method)
                response = call(path) if body is None else call(path, body)
                assert response.status_code == 404, (outsider.username, method, path, response.content)
                assert "秘密" not in response.content.decode()
        for path, params in [
            ("/leads", {}),
            ("/leads", {"owner": "none"}),
            ("/leads", {"q": "秘密"}),
            ("/leads", {"unit": org.team_a.pk}),
            ("/leads/pool", {}),
        ]:
            response = client.get(path, params)
            assert response.status_code == 200
            assert response.json()["items"] == [], (outsider.username, path, params)
        assert client.get("/leads/conversion").json()["total"] == 0

    for lead in (owned, pooled):
        fresh = Lead.objects.get(pk=lead.pk)
        assert (fresh.version, fresh.status, fresh.owner_id, fresh.notes) == (1, "new", lead.owner_id, "")
        assert list(fresh.activities.values_list("event", flat=True).order_by("id")) == list(
            lead.activities.values_list("event", flat=True).order_by("id")
        )
    owner = api(org.rep_a)
    assert owner.get(f"/leads/{owned.pk}").status_code == 200
    assert {x["id"] for x in owner.get("/leads").json()["items"]} == {owned.pk, pooled.pk}
    assert [x["id"] for x in owner.get("/leads/pool").json()["items"]] == [pooled.pk]


def test_routes_and_owners_on_create(org, api):
    """Given a manager and a rep, then the manager may give a new lead to a rep of the region (who owns it in
    their team), the rep may put one in their team's lead pool, and the rep may not give one to a colleague."""
    for_rep_b = api(org.east_manager).post("/leads", {"company": "甲公司", "owner_id": org.rep_b.pk})
    assert for_rep_b.status_code == 201, for_rep_b.content
    assert (for_rep_b.json()["owner"]["id"], for_rep_b.json()["org_unit"]["id"]) == (
        org.rep_b.pk,
        org.team_b.pk,
    )

    rep = api(org.rep_a)
    pooled = rep.post("/leads", {"company": "乙公司", "route": "pool"})
    assert pooled.status_code == 201, pooled.content
    assert (pooled.json()["owner"], pooled.json()["org_unit"]["id"]) == (None, org.team_a.pk)
    assert pooled.json()["pooled_at"] is not None
    assert [x["id"] for x in api(org.rep_a2).get("/leads/pool").json()["items"]] == [pooled.json()["id"]]

    refused = rep.post("/leads", {"company": "丙公司", "owner_id": org.rep_a2.pk})
    assert refused.status_code == 403
    assert not Lead.objects.filter(company="丙公司").exists()


def test_working_a_lead_status_release_claim_assign_and_its_timeline(org, api):
    """Given rep_a's new lead, when rep_a logs a call and qualifies it, releases it to the pool, rep_a2 claims it,
    the manager gives it to rep_b and rep_b disqualifies it, then each answer shows the new state and the timeline
    lists every step newest first, system events in the reader's language and logged ones as written."""
    reads_english(org.rep_a, org.rep_b)
    rep_a = api(org.rep_a)
    lead = rep_a.post("/leads", {"name": "张伟", "company": "宁波海曙贸易"}).json()
    url = f"/leads/{lead['id']}"

    call = rep_a.post(f"{url}/activities", {"kind": "call", "content": "约了下周演示"})
    assert call.status_code == 201, call.content
    assert (call.json()["kind"], call.json()["text"], call.json()["author"]["id"]) == (
        "call",
        "约了下周演示",
        org.rep_a.pk,
    )
    touched = rep_a.get(url).json()
    assert (touched["status"], touched["last_touched_at"] is not None) == ("contacted", True)

    qualified = rep_a.post(f"{url}/status", {"status": "qualified"})
    assert qualified.status_code == 200, qualified.content
    assert qualified.json()["status"] == "qualified"

    assert rep_a.post(f"{url}/release", {"reason": "  "}).status_code == 422
    released = rep_a.post(f"{url}/release", {"reason": "客户暂无需求"})
    assert released.status_code == 200, released.content
    assert (released.json()["owner"], released.json()["pool_reason"]) == (None, "客户暂无需求")

    rep_a2 = api(org.rep_a2)
    assert [x["id"] for x in rep_a2.get("/leads/pool").json()["items"]] == [lead["id"]]
    claimed = rep_a2.post(f"{url}/claim")
    assert claimed.status_code == 200, claimed.content
    assert (claimed.json()["owner"]["id"], claimed.json()["pooled_at"]) == (org.rep_a2.pk, None)
    assert rep_a2.get("/leads/pool").json()["items"] == []
    assert api(org.east_manager).post(f"{url}/claim").status_code == 422  # no longer in the pool
    assert rep_a.get(url).status_code == 404  # rep_a2's lead now

    assert rep_a2.post(f"{url}/assign", {"owner_id": org.rep_a.pk}).status_code == 403  # reps do not assign
    assigned = api(org.east_manager).post(f"{url}/assign", {"owner_id": org.rep_b.pk})
    assert assigned.status_code == 200, assigned.content
    assert (assigned.json()["owner"]["id"], assigned.json()["org_unit"]["id"]) == (
        org.rep_b.pk,
        org.team_b.pk,
    )

    rep_b = api(org.rep_b)
    dropped = rep_b.post(f"{url}/status", {"status": "disqualified", "reason": "没有预算"})
    assert dropped.status_code == 200, dropped.content
    assert (dropped.json()["status"], dropped.json()["disqualified_reason"]) == ("disqualified", "没有预算")

    timeline = rep_b.get(f"{url}/activities")
    assert timeline.status_code == 200
    assert [(a["kind"], a["event"]) for a in timeline.json()] == [
        ("system", "status"),
        ("system", "assigned"),
        ("system", "claimed"),
        ("system", "released"),
        ("system", "status"),
        ("call", ""),
        ("system", "created"),
    ]
    texts = [a["text"] for a in timeline.json()]
    assert texts[0] == "Status changed from “Qualified” to “Disqualified”: 没有预算"
    assert texts[1] == f"Assigned from {org.rep_a2} to {org.rep_b}"
    assert texts[2] == "Claimed from the pool"
    assert texts[3] == f"Released to the pool by {org.rep_a}: 客户暂无需求"
    assert texts[5] == "约了下周演示"
    assert len(rep_b.get(f"{url}/activities", {"limit": 2}).json()) == 2


def test_converting_with_an_opportunity_returns_the_new_customer_contact_and_opportunity(
    org, pipeline, regions, api
):
    """Given rep_a's lead with a person, a company, a mobile and a city, when rep_a converts it renaming the
    customer and opening an opportunity, then the answer is the converted lead with the ids and names of the
    customer, contact and opportunity it became, and those records exist and belong together; the converted
    lead can be neither converted again nor edited."""
    client = api(org.rep_a)
    lead = client.post(
        "/leads",
        {
            "name": "陈总",
            "title": "总经理",
            "company": "苏州青禾电子有限公司",
            "phone": "13812345678",
            "province": "320000",
            "city": "320500",
            "source": "exhibition",
        },
    ).json()

    converted = client.post(
        f"/leads/{lead['id']}/convert",
        {
            "customer": {"name": "青禾电子", "level": "a"},
            "opportunity": {
                "pipeline_id": pipeline.pk,
                "name": "青禾产线升级",
                "amount": "80000",
                "currency": "CNY",
            },
        },
    )

    assert converted.status_code == 200, converted.content
    body = converted.json()
    assert (body["status"], body["converted_at"] is not None) == ("converted", True)
    assert (body["customer"]["name"], body["contact"]["name"], body["opportunity"]["name"]) == (
        "青禾电子",
        "陈总",
        "青禾产线升级",
    )
    customer = Customer.objects.get(pk=body["customer"]["id"])
    assert (customer.level, customer.city_id, customer.owner) == ("a", "320500", org.rep_a)
    assert Contact.objects.get(pk=body["contact"]["id"]).customer == customer
    deal = Opportunity.objects.get(pk=body["opportunity"]["id"])
    assert (deal.customer, str(deal.amount), deal.pipeline, deal.source) == (
        customer,
        "80000.00",
        pipeline,
        "exhibition",
    )
    assert client.get(f"/leads/{lead['id']}").json() == body

    again = client.post(f"/leads/{lead['id']}/convert", {})
    assert again.status_code == 422
    edited = client.patch(f"/leads/{lead['id']}", {"version": body["version"], "notes": "x"})
    assert edited.status_code == 422
    assert Customer.objects.count() == 1


def test_converting_into_an_existing_customer_answers_409_then_joins_it(org, make_customer, api):
    """Given rep_a's lead "星河科技" recorded before rep_a's customer of that name, when rep_a converts it, then
    409 names the existing customer and nothing changes; converting onto that customer makes the person a
    contact there. A hidden customer or both a customer and new-customer details are refused naming the field."""
    client = api(org.rep_a)
    lead = client.post("/leads", {"name": "李雷", "company": "星河科技"}).json()
    existing = make_customer(org.rep_a, name="星河科技")
    hidden = make_customer(org.rep_c, name="北方客户")
    url = f"/leads/{lead['id']}/convert"

    collision = client.post(url, {})
    assert collision.status_code == 409, collision.content
    assert (collision.json()["existing_id"], collision.json()["existing_name"]) == (existing.pk, "星河科技")
    assert client.get(f"/leads/{lead['id']}").json()["status"] == "new"
    assert Customer.objects.filter(name="星河科技").count() == 1

    both = client.post(url, {"customer_id": existing.pk, "customer": {"name": "别的"}})
    assert both.status_code == 422 and "customer" in both.json()["fields"]
    not_visible = client.post(url, {"customer_id": hidden.pk})
    assert not_visible.status_code == 422 and "customer_id" in not_visible.json()["fields"]
    unknown_pipeline = client.post(url, {"customer_id": existing.pk, "opportunity": {"pipeline_id": 999999}})
    assert unknown_pipeline.status_code == 422
    assert "opportunity.pipeline_id" in unknown_pipeline.json()["fields"]
    assert Lead.objects.get(pk=lead["id"]).status == "new"

    joined = client.post(url, {"customer_id": existing.pk})
    assert joined.status_code == 200, joined.content
    assert (joined.json()["customer"]["id"], joined.json()["opportunity"]) == (existing.pk, None)
    assert Contact.objects.get(pk=joined.json()["contact"]["id"]).customer == existing


def test_a_pool_lead_must_be_claimed_before_conversion(org, api):
    lead = api(org.rep_a).post("/leads", {"company": "池中公司", "route": "pool"}).json()
    refused = api(org.east_manager).post(f"/leads/{lead['id']}/convert", {})
    assert refused.status_code == 422
    assert Lead.objects.get(pk=lead["id"]).status == "new"


def test_the_conversion_report_counts_by_source_and_by_owner(org, api):
    """Given rep_a's 3 exhibition leads (2 converted), 1 disqualified website lead and 1 pool lead without a
    source, and rep_c's converted lead in the North, then the East manager sees per source and per owner the
    totals, converted, disqualified, open and rate of the East only; a period after the leads is empty."""
    reads_english(org.east_manager)
    rep_a = api(org.rep_a)
    made = [
        rep_a.post("/leads", {"company": f"展会客户{n}", "source": "exhibition"}).json() for n in range(3)
    ]
    for lead in made[:2]:
        assert rep_a.post(f"/leads/{lead['id']}/convert", {}).status_code == 200
    web = rep_a.post("/leads", {"company": "官网客户", "source": "website"}).json()
    rep_a.post(f"/leads/{web['id']}/status", {"status": "disqualified", "reason": "同行"})
    rep_a.post("/leads", {"company": "池中客户", "route": "pool"})
    rep_c = api(org.rep_c)
    north = rep_c.post("/leads", {"company": "北方客户", "source": "exhibition"}).json()
    rep_c.post(f"/leads/{north['id']}/convert", {})
    manager = api(org.east_manager)

    by_source = manager.get("/leads/conversion", {"by": "source"})
    assert by_source.status_code == 200, by_source.content
    rows = {
        r["key"]: (r["label"], r["total"], r["converted"], r["disqualified"], r["open"], r["rate"])
        for r in by_source.json()["rows"]
    }
    assert rows == {
        "exhibition": ("Exhibition", 3, 2, 0, 1, 66.7),
        "website": ("Website", 1, 0, 1, 0, 0.0),
        "": ("Not given", 1, 0, 0, 1, 0.0),
    }
    assert (by_source.json()["total"], by_source.json()["converted"], by_source.json()["rate"]) == (
        5,
        2,
        40.0,
    )

    by_owner = manager.get("/leads/conversion", {"by": "owner"}).json()
    assert [(r["key"], r["label"], r["total"], r["converted"], r["open"]) for r in by_owner["rows"]] == [
        (str(org.rep_a.pk), str(org.rep_a), 4, 2, 1),
        ("", "Lead pool", 1, 0, 1),
    ]

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    later = manager.get("/leads/conversion", {"since": tomorrow.isoformat(), "until": tomorrow.isoformat()})
    assert (later.json()["rows"], later.json()["total"], later.json()["rate"]) == ([], 0, 0.0)
    backwards = manager.get("/leads/conversion", {"since": tomorrow.isoformat(), "until": "2020-01-01"})
    assert backwards.status_code == 422 and "since" in backwards.json()["fields"]
    assert manager.get("/leads/conversion", {"by": "city"}).status_code == 422


def test_list_filters_and_cursor_pages(org, api):
    """Given 6 leads of rep_a (2 disqualified, 2 from exhibitions), 3 of rep_b and 2 in team A's pool, when the
    East manager filters the list, then each filter returns exactly its leads, and the pages of a cursor walk
    cover every lead once."""
    mine = [services.lead_create(actor=org.rep_a, data={"company": f"甲{n}"}) for n in range(4)]
    shows = [
        services.lead_create(actor=org.rep_a, data={"company": f"展{n}", "source": "exhibition"})
        for n in range(2)
    ]
    for lead in mine[:2]:
        services.lead_set_status(actor=org.rep_a, lead=lead, status="disqualified", reason="无效")
    theirs = [services.lead_create(actor=org.rep_b, data={"company": f"乙{n}"}) for n in range(3)]
    pooled = [
        services.lead_create(actor=org.rep_a, data={"company": f"池{n}"}, route=services.ROUTE_POOL)
        for n in range(2)
    ]
    client = api(org.east_manager)

    def ids(**params):
        response = client.get("/leads", {"limit": 50, **params})
        assert response.status_code == 200, (params, response.content)
        return {x["id"] for x in response.json()["items"]}

    everything = {x.pk for x in [*mine, *shows, *theirs, *pooled]}
    assert ids() == everything
    assert ids(status="disqualified") == {x.pk for x in mine[:2]}
    assert ids(status="open") == everything - {x.pk for x in mine[:2]}
    assert ids(owner=str(org.rep_b.pk)) == {x.pk for x in theirs}
    assert ids(owner="none") == {x.pk for x in pooled}
    assert ids(unit=org.team_b.pk) == {x.pk for x in theirs}
    assert ids(source="exhibition") == {x.pk for x in shows}
    assert ids(q="展1") == {shows[1].pk}
    assert api(org.rep_a).get("/leads", {"owner": "me"}).json()["items"][0]["owner"]["id"] == org.rep_a.pk

    seen, cursor = [], None
    for _page in range(10):
        page = client.get(
            "/leads", {"limit": 4, "sort": "created", **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(everything) and len(seen) == len(everything)
    assert seen == sorted(seen, reverse=True)


def test_the_list_reads_the_same_number_of_queries_for_1_or_10_leads(org, api, django_assert_max_num_queries):
    """Given leads of two teams, each with a region, when the East manager lists 1 and then 10 of them, then both
    pages take the same, small number of queries (owners and units come with the rows)."""
    for n, owner in enumerate([org.rep_a, org.rep_b] * 5):
        services.lead_create(actor=owner, data={"company": f"客户{n}"})
    services.lead_create(actor=org.rep_a, data={"company": "池中"}, route=services.ROUTE_POOL)
    client = api(org.east_manager)
    client.get("/leads")  # the token's first use is recorded once; the pages below are compared
    counts = []
    for limit in (1, 10):
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get("/leads", {"limit": limit}).json()["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[1]):
        assert len(client.get("/leads/pool", {"limit": 10}).json()["items"]) == 1
    with django_assert_max_num_queries(4):  # token, memberships, units, leads
        assert len(client.get("/leads", {"limit": 50, "status": "open"}).json()["items"]) == 11


def test_delete_moves_the_lead_to_the_recycle_bin(org, api):
    client = api(org.rep_a)
    lead = client.post("/leads", {"company": "星河"}).json()
    assert client.delete(f"/leads/{lead['id']}").status_code == 204
    assert client.get(f"/leads/{lead['id']}").status_code == 404
    assert client.get("/leads").json()["items"] == []
    assert Lead.all_objects.get(pk=lead["id"]).deleted_at is not None
