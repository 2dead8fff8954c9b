"""/api/v1/ opportunities, pipelines and the board: status codes, validation, scope and query budgets."""

import pytest

from kehu.customers.services import contact_create
from kehu.sales.models import Opportunity
from tests.api_client import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return ApiClient


def test_create_move_and_read_an_opportunity(org, pipeline, make_customer, api):
    """Given a rep's customer with a contact, when the rep opens an opportunity through the API, moves it to
    the proposal stage (first without, then with what it requires) and reads its stage history, then each
    answer says what happened."""
    customer = make_customer(org.rep_a, name="苏州青禾电子有限公司")
    contact = contact_create(actor=org.rep_a, customer=customer, data={"name": "陈总"})
    client = api(org.rep_a)

    created = client.post(
        "/opportunities",
        {
            "name": "青禾产线升级",
            "customer_id": customer.pk,
            "pipeline_id": pipeline.pk,
            "amount": "88000.50",
            "currency": "CNY",
            "contacts": [{"contact_id": contact.pk, "role": "decision_maker"}],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["stage"]["id"], body["probability"], body["amount"]) == (pipeline.qualify.pk, 10, "88000.50")
    assert body["contacts"] == [{"contact_id": contact.pk, "name": "陈总", "role": "decision_maker"}]

    refused = client.post(f"/opportunities/{body['id']}/move", {"stage_id": pipeline.proposal.pk})
    assert refused.status_code == 422
    assert refused.json()["required"] == ["expected_close_on"]

    moved = client.post(
        f"/opportunities/{body['id']}/move",
        {"stage_id": pipeline.proposal.pk, "expected_close_on": "2026-12-20", "version": body["version"]},
    )
    assert moved.status_code == 200, moved.content
    assert (moved.json()["stage"]["id"], moved.json()["probability"]) == (pipeline.proposal.pk, 50)

    history = client.get(f"/opportunities/{body['id']}/stage-history").json()
    assert [(h["from_stage"] and h["from_stage"]["id"], h["to_stage"]["id"]) for h in history] == [
        (None, pipeline.qualify.pk),
        (pipeline.qualify.pk, pipeline.proposal.pk),
    ]


def test_validation_errors_name_the_field(org, pipeline, make_customer, api):
    client = api(org.rep_a)
    customer = make_customer(org.rep_a)
    cases = [
        ({"name": "x", "customer_id": customer.pk, "amount": "-1"}, "amount"),
        ({"name": "x", "customer_id": customer.pk, "currency": "XXX"}, "currency"),
        ({"name": "x", "customer_id": customer.pk, "probability": 101}, "probability"),
        ({"name": "  ", "customer_id": customer.pk}, "name"),
        ({"name": "x", "customer_id": 999999}, "customer_id"),
        ({"name": "x", "customer_id": customer.pk, "pipeline_id": 999999}, "pipeline_id"),
        (
            {"name": "x", "customer_id": customer.pk, "pipeline_id": pipeline.pk, "stage_id": 999999},
            "stage_id",
        ),
    ]
    for body, field in cases:
        response = client.post("/opportunities", body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["fields"], (body, response.json())


def test_a_stale_version_answers_409(org, pipeline, make_customer, api):
    client = api(org.rep_a)
    created = client.post(
        "/opportunities",
        {"name": "x", "customer_id": make_customer(org.rep_a).pk, "pipeline_id": pipeline.pk},
    ).json()
    assert (
        client.patch(f"/opportunities/{created['id']}", {"version": 1, "next_step": "a"}).status_code == 200
    )
    stale = client.patch(f"/opportunities/{created['id']}", {"version": 1, "next_step": "b"})
    assert stale.status_code == 409
    assert "next_step" in stale.json()["changes"]


def test_other_teams_get_404_and_empty_lists(org, pipeline, make_customer, api):
    """Given rep_a's opportunity, then rep_c gets 404 on it and does not find it in lists or on the board."""
    mine = api(org.rep_a).post(
        "/opportunities",
        {"name": "秘密商机", "customer_id": make_customer(org.rep_a).pk, "pipeline_id": pipeline.pk},
    )
    opportunity_id = mine.json()["id"]
    outsider = api(org.rep_c)
    assert outsider.get(f"/opportunities/{opportunity_id}").status_code == 404
    assert (
        outsider.post(f"/opportunities/{opportunity_id}/move", {"stage_id": pipeline.won.pk}).status_code
        == 404
    )
    assert outsider.get("/opportunities").json()["items"] == []
    columns = outsider.get(f"/pipelines/{pipeline.pk}/board").json()["columns"]
    assert sum(c["count"] for c in columns) == 0
    manager = api(org.east_manager).get("/opportunities", {"pipeline": pipeline.pk}).json()
    assert [o["id"] for o in manager["items"]] == [opportunity_id]


def test_list_filters_and_query_budget(org, pipeline, make_customer, api, django_assert_max_num_queries):
    """Given 12 opportunities, when listing won ones and those closing in a month, then only those come back,
    with a number of queries that does not grow with the rows."""
    client = api(org.rep_a)
    customer = make_customer(org.rep_a)
    for n in range(12):
        client.post(
            "/opportunities",
            {
                "name": f"deal {n}",
                "customer_id": customer.pk,
                "pipeline_id": pipeline.pk,
                "stage_id": pipeline.won.pk if n % 4 == 0 else pipeline.qualify.pk,
                "expected_close_on": f"2026-{1 + n % 3:02d}-15",
            },
        )
    with django_assert_max_num_queries(6):
        won = client.get("/opportunities", {"status": "won", "limit": 50}).json()
    assert len(won["items"]) == 3
    january = client.get("/opportunities", {"close_month": "2026-01"}).json()
    assert len(january["items"]) == 4
    assert client.get("/opportunities", {"close_month": "2026-13"}).status_code == 422
    assert client.get("/opportunities", {"owner": "someone"}).status_code == 422
    with django_assert_max_num_queries(12):
        board = client.get(f"/pipelines/{pipeline.pk}/board", {"cards": 2}).json()
    assert [c["count"] for c in board["columns"]] == [9, 0, 3, 0]
    assert len(board["columns"][0]["cards"]) == 2


def test_pipelines_list_their_stages_in_the_readers_language(org, pipeline, api):
    """Given a rep who reads English and one who reads Chinese, when they list pipelines, then each stage's
    `name` is in their language and both names are there."""
    org.rep_a.language = "en"
    org.rep_a.save(update_fields=["language"])
    client = api(org.rep_a)
    found = next(p for p in client.get("/pipelines").json() if p["id"] == pipeline.pk)
    assert [s["name_zh"] for s in found["stages"]] == ["初步接洽", "方案报价", "赢单", "输单"]
    assert found["stages"][1]["required_fields"] == ["amount", "expected_close_on"]
    assert [s["name"] for s in found["stages"]] == ["Qualify", "Proposal", "Won", "Lost"]
    assert found["name"] == "Test pipeline"
    org.rep_a2.language = "zh-hans"
    org.rep_a2.save(update_fields=["language"])
    chinese = next(p for p in api(org.rep_a2).get("/pipelines").json() if p["id"] == pipeline.pk)
    assert [s["name"] for s in chinese["stages"]] == ["初步接洽", "方案报价", "赢单", "输单"]


def test_delete_moves_to_the_recycle_bin(org, pipeline, make_customer, api):
    client = api(org.rep_a)
    created = client.post(
        "/opportunities",
        {"name": "x", "customer_id": make_customer(org.rep_a).pk, "pipeline_id": pipeline.pk},
    ).json()
    assert client.delete(f"/opportunities/{created['id']}").status_code == 204
    assert client.get(f"/opportunities/{created['id']}").status_code == 404
    assert Opportunity.all_objects.get(pk=created["id"]).deleted_at is not None


def test_the_list_reads_the_same_number_of_queries_for_1_or_10_opportunities_across_units(
    org, pipeline, make_customer, api
):
    """Given opportunities owned in two teams, when the East manager lists 1 and then 10 of them, then both
    pages take the same number of queries (owners, customers, stages and units come with the rows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n, owner in enumerate([org.rep_a, org.rep_b] * 5):
        api(owner).post(
            "/opportunities",
            {"name": f"deal {n}", "customer_id": make_customer(owner).pk, "pipeline_id": pipeline.pk},
        )
    client = api(org.east_manager)
    client.get("/opportunities")  # the token's first use is recorded once; the pages below are compared
    counts = []
    for limit in (1, 10):
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get("/opportunities", {"limit": limit}).json()["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
