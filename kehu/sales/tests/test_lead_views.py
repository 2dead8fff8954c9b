"""The lead pages: list and pool, the form with assignment choices, the detail page's actions, conversion with
its collision choice, the conversion report, and the public capture form."""

import pytest
from django.test import Client

from kehu.customers.models import Customer
from kehu.sales.models import Lead, LeadAssignmentRule, LeadCaptureForm
from kehu.sales.services import leads as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(org):
    return services.lead_create(
        actor=org.rep_a,
        data={"name": "陈总", "company": "苏州青禾电子", "phone": "13812345678", "source": "exhibition"},
    )


def test_the_list_shows_the_reps_leads_with_filters_and_a_query_budget(
    org, lead, login, django_assert_max_num_queries
):
    services.lead_create(actor=org.rep_c, data={"company": "北方客户"})
    client = login(org.rep_a)
    with django_assert_max_num_queries(12):
        html = client.get("/leads/?status=open").content.decode()
    assert "陈总" in html and "北方客户" not in html
    assert "陈总" not in client.get("/leads/?status=disqualified").content.decode()
    assert "陈总" in client.get("/leads/?q=szqh").content.decode()  # 苏州青禾 by pinyin initials


def test_creating_a_lead_through_the_rules_passes_it_on(org, login):
    """Given a round-robin rule over team B, when rep_a records a lead choosing "by the assignment rules", then
    it belongs to rep_b and rep_a is sent back to the list with a note saying so."""
    LeadAssignmentRule.objects.create(name="转杭州", unit=org.company, method="round_robin", team=org.team_b)
    response = login(org.rep_a).post(
        "/leads/new/", {"name": "王五", "company": "杭州某厂", "route": "rules", "score": 0}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/leads/"
    assert Lead.objects.get(name="王五").owner == org.rep_b


def test_a_collision_is_shown_on_the_form(org, lead, login):
    response = login(org.rep_b).post(
        "/leads/new/", {"name": "别人", "phone": "138-1234-5678", "score": 0, "route": "me"}
    )
    assert response.status_code == 422
    assert "陈总" in response.content.decode() and str(org.rep_a) in response.content.decode()


def test_logging_and_status_and_history_on_the_detail_page(org, lead, login):
    client = login(org.rep_a)
    client.post(f"/leads/{lead.pk}/activity/", {"kind": "call", "content": "约了演示"})
    client.post(f"/leads/{lead.pk}/status/", {"status": "qualified"})
    html = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "约了演示" in html
    lead.refresh_from_db()
    assert lead.status == "qualified"
    history = client.get(f"/leads/{lead.pk}/?tab=history").content.decode()
    assert "状态变更" in history and "已确认" in history  # the change, in the reader's words


def test_the_detail_page_reads_activities_in_a_fixed_number_of_queries(
    org, lead, login, django_assert_max_num_queries
):
    for n in range(12):
        services.lead_activity_log(
            actor=org.east_manager if n % 2 else org.rep_a, lead=lead, kind="call", content=f"第{n}次"
        )
    client = login(org.rep_a)
    with django_assert_max_num_queries(10):
        html = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "第11次" in html


def test_another_teams_rep_gets_404_on_every_lead_page(org, lead, login):
    client = login(org.rep_c)
    for path in ("", "edit/", "convert/"):
        assert client.get(f"/leads/{lead.pk}/{path}").status_code == 404, path
    for path in ("activity/", "status/", "assign/", "claim/", "release/", "delete/", "convert/"):
        assert client.post(f"/leads/{lead.pk}/{path}", {"status": "qualified"}).status_code == 404, path


def test_converting_with_an_opportunity_opens_it(org, lead, pipeline, login):
    response = login(org.rep_a).post(
        f"/leads/{lead.pk}/convert/",
        {
            "customer_name": "苏州青禾电子有限公司",
            "create_opportunity": "on",
            "pipeline": pipeline.pk,
            "opportunity_name": "青禾扩产",
            "amount": "50000",
            "currency": "CNY",
        },
    )
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.opportunity is not None
    assert response["Location"] == f"/opportunities/{lead.opportunity_id}/"
    assert lead.customer.name == "苏州青禾电子有限公司"


def test_a_customer_collision_offers_to_add_to_the_existing_customer(org, lead, make_customer, login):
    existing = make_customer(org.rep_a, name="苏州青禾电子")
    client = login(org.rep_a)
    refused = client.post(f"/leads/{lead.pk}/convert/", {"customer_name": "苏州青禾电子"})
    assert refused.status_code == 422
    assert f'name="existing_customer" value="{existing.pk}"' in refused.content.decode()

    done = client.post(
        f"/leads/{lead.pk}/convert/", {"customer_name": "苏州青禾电子", "existing_customer": existing.pk}
    )
    assert done["Location"] == f"/customers/{existing.pk}/"
    assert Customer.objects.filter(name="苏州青禾电子").count() == 1


def test_the_pool_page_lists_and_claims(org, login):
    pooled = services.lead_create(actor=org.rep_a, data={"name": "池中人"}, route=services.ROUTE_POOL)
    client = login(org.rep_a2)
    assert "池中人" in client.get("/leads/pool/").content.decode()
    client.post(f"/leads/{pooled.pk}/claim/")
    pooled.refresh_from_db()
    assert pooled.owner == org.rep_a2


def test_the_conversion_report_page(org, lead, login):
    services.lead_convert(actor=org.rep_a, lead=lead)
    html = login(org.east_manager).get("/leads/report/?by=owner").content.decode()
    assert str(org.rep_a) in html and "100.0%" in html


def test_the_capture_form_is_public_embeddable_and_makes_a_lead(org):
    """Given an active capture form of team A asking for consent, when an anonymous visitor opens it, then the
    page may be framed by any site; posting without consent is refused, with consent a lead lands in team A's
    pool and the visitor is thanked; an unknown form address is 404."""
    form = LeadCaptureForm.objects.create(
        name="官网咨询",
        org_unit=org.team_a,
        ask_consent=True,
        consent_text="同意联系我",
        thank_you="谢谢，我们会尽快联系您",
    )
    visitor = Client()
    page = visitor.get(f"/f/{form.token}/")
    assert page.status_code == 200
    assert "X-Frame-Options" not in page.headers
    assert "frame-ancestors *" in page.headers["Content-Security-Policy"]
    assert "同意联系我" in page.content.decode()

    refused = visitor.post(f"/f/{form.token}/", {"name": "访客", "phone": "13700000001"})
    assert refused.status_code == 422 and not Lead.objects.exists()

    thanked = visitor.post(f"/f/{form.token}/", {"name": "访客", "phone": "13700000001", "consent": "on"})
    assert "谢谢，我们会尽快联系您" in thanked.content.decode()
    lead = Lead.objects.get()
    assert (lead.owner, lead.org_unit, lead.capture_form) == (None, org.team_a, form)
    assert visitor.get("/f/nope/").status_code == 404


def test_the_capture_forms_bot_trap_makes_nothing_but_looks_the_same(org):
    form = LeadCaptureForm.objects.create(name="官网", org_unit=org.team_a)
    page = Client().post(f"/f/{form.token}/", {"name": "bot", "phone": "13700000001", "website": "http://x"})
    assert page.status_code == 200 and 'data-testid="capture-done"' in page.content.decode()
    assert not Lead.objects.exists()
