"""The opportunity pages: list, board, create from a customer, detail tabs, stage moves and edits."""

import datetime
from decimal import Decimal

import pytest

from kehu.sales.models import Opportunity
from kehu.sales.services import opportunities as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(org, pipeline, make_customer):
    customer = make_customer(org.rep_a, name="宁波海风家电有限公司")
    return services.opportunity_create(
        actor=org.rep_a,
        data={"name": "海风渠道合作", "customer": customer, "amount": Decimal("260000")},
        pipeline=pipeline,
    )


def test_the_board_shows_columns_with_totals_and_cards(org, deal, pipeline, login):
    page = login(org.rep_a).get(f"/opportunities/board/?pipeline={pipeline.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "海风渠道合作" in html and f'data-stage="{pipeline.proposal.pk}"' in html
    assert '<span data-testid="column-amount">¥260,000.00</span>' in html  # the first column's total


def test_the_board_partial_answers_htmx_with_the_board_only(org, deal, pipeline, login):
    page = login(org.rep_a).get(
        f"/opportunities/board/?pipeline={pipeline.pk}", headers={"HX-Request": "true"}
    )
    html = page.content.decode()
    assert html.lstrip().startswith('<div id="board"') and "<nav" not in html


def test_list_filters_and_query_budget(org, deal, pipeline, login, django_assert_max_num_queries):
    client = login(org.rep_a)
    with django_assert_max_num_queries(12):
        page = client.get("/opportunities/?status=open")
    assert "海风渠道合作" in page.content.decode()
    assert "海风渠道合作" not in client.get("/opportunities/?status=won").content.decode()


def test_the_list_and_the_board_cost_the_same_queries_for_1_and_10_opportunities(
    org, deal, pipeline, make_customer, login
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(org.rep_a)

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    urls = ["/opportunities/", f"/opportunities/board/?pipeline={pipeline.pk}"]
    one = [queries(url) for url in urls]
    for n in range(9):
        customer = make_customer(org.rep_a)
        services.opportunity_create(
            actor=org.rep_a, data={"name": f"机会{n}", "customer": customer}, pipeline=pipeline
        )
    assert [queries(url) for url in urls] == one


def test_creating_from_a_customer_page(org, pipeline, make_customer, login):
    """Given a customer, when the rep fills the new-opportunity form, then it is created at the chosen stage
    and the customer page lists it."""
    customer = make_customer(org.rep_a, name="厦门鹭岛食品有限公司")
    client = login(org.rep_a)
    assert client.get(f"/opportunities/new/?customer={customer.pk}").status_code == 200
    response = client.post(
        f"/opportunities/new/?customer={customer.pk}",
        {
            "customer": customer.pk,
            "name": "鹭岛年度采购",
            "pipeline": pipeline.pk,
            "stage": pipeline.proposal.pk,
            "amount": "36000",
            "currency": "CNY",
            "expected_close_on": "2026-12-31",
        },
    )
    opportunity = Opportunity.objects.get(name="鹭岛年度采购")
    assert response.status_code == 302 and response["Location"] == f"/opportunities/{opportunity.pk}/"
    assert opportunity.stage == pipeline.proposal
    assert "鹭岛年度采购" in client.get(f"/customers/{customer.pk}/").content.decode()


def test_a_stage_that_needs_fields_asks_for_them_in_the_dialog(org, deal, pipeline, login):
    """Given the proposal stage needs a close date (the amount is set), when the board moves the card there,
    then the answer is a dialog asking only for the close date; posting it moves the card (204 + trigger)."""
    client = login(org.rep_a)
    url = f"/opportunities/{deal.pk}/move/"
    asked = client.post(url, {"stage": pipeline.proposal.pk}, headers={"HX-Request": "true"})
    html = asked.content.decode()
    assert asked.status_code == 200 and 'name="expected_close_on"' in html and 'name="amount"' not in html
    deal.refresh_from_db()
    assert deal.stage == pipeline.qualify

    done = client.post(
        url,
        {"stage": pipeline.proposal.pk, "confirm": "1", "expected_close_on": "2026-12-01"},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 204 and done["HX-Trigger"] == "opportunityMoved"
    deal.refresh_from_db()
    assert (deal.stage, deal.expected_close_on) == (pipeline.proposal, datetime.date(2026, 12, 1))


def test_detail_tabs_render(org, deal, login):
    """Each tab shows its own content: the amount, the stage history with the first stage, the audit rows."""
    client = login(org.rep_a)
    shows = {
        "overview": ['data-testid="opportunity-amount"', "¥260,000.00"],
        "stages": ['data-testid="stage-history"', 'data-testid="time-in-stages"', "初步接洽"],
        "history": ['data-testid="history"', "海风渠道合作</span> → 海风渠道合作（二期）"],
    }
    services.opportunity_update(
        actor=org.rep_a, opportunity=deal, data={"name": "海风渠道合作（二期）"}, version=None
    )
    for tab, markers in shows.items():
        page = client.get(f"/opportunities/{deal.pk}/?tab={tab}")
        assert page.status_code == 200 and "海风渠道合作" in page.content.decode()
        html = page.content.decode()
        assert all(marker in html for marker in markers), (tab, [m for m in markers if m not in html])


def test_editing_keeps_contacts_and_refuses_a_stale_form(org, deal, login):
    from kehu.customers.services import contact_create

    buyer = contact_create(actor=org.rep_a, customer=deal.customer, data={"name": "采购王"})
    client = login(org.rep_a)
    form = {"name": "海风渠道合作（二期）", "amount": "300000", "currency": "CNY", "version": deal.version}
    form.update(contact=[buyer.pk], **{f"role_{buyer.pk}": "purchasing"})
    assert client.post(f"/opportunities/{deal.pk}/edit/", form).status_code == 302
    assert [(r.contact, r.role) for r in deal.contact_roles.all()] == [(buyer, "purchasing")]
    stale = client.post(f"/opportunities/{deal.pk}/edit/", {**form, "name": "别的名字"})
    assert stale.status_code == 422 and 'data-testid="stale-changes"' in stale.content.decode()
    deal.refresh_from_db()
    assert deal.name == "海风渠道合作（二期）"


def test_the_edit_form_offers_only_contacts_the_editor_may_see(org, deal, login):
    """Given rep_a's customer with two contacts, one on the deal, when a manager gives the deal to rep_b (who
    cannot see the customer), then rep_b's edit form offers only the deal's contact, and posting the other
    contact's id does not attach it."""
    from kehu.customers.services import contact_create

    on_deal = contact_create(actor=org.rep_a, customer=deal.customer, data={"name": "对接人赵"})
    hidden = contact_create(actor=org.rep_a, customer=deal.customer, data={"name": "隐藏的钱总"})
    services.opportunity_update(
        actor=org.rep_a, opportunity=deal, data={}, version=None, contacts=[(on_deal, "user")]
    )
    services.opportunity_assign(actor=org.east_manager, opportunity=deal, owner=org.rep_b)
    client = login(org.rep_b)
    page = client.get(f"/opportunities/{deal.pk}/edit/").content.decode()
    assert "对接人赵" in page and "隐藏的钱总" not in page
    deal.refresh_from_db()
    client.post(
        f"/opportunities/{deal.pk}/edit/",
        {
            "name": deal.name,
            "amount": "260000",
            "currency": "CNY",
            "version": deal.version,
            "contact": [on_deal.pk, hidden.pk],
            f"role_{on_deal.pk}": "user",
            f"role_{hidden.pk}": "decision_maker",
        },
    )
    assert {r.contact_id for r in deal.contact_roles.all()} == {on_deal.pk}
