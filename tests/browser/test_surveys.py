"""A customer answers a satisfaction survey through their own link on a phone: the page hides the sections the
skip logic passes over as they answer, the server asks for the required question on their path, the link then
says it has been used; a visitor answers the anonymous link in English."""

import pytest
from playwright.sync_api import expect

from kehu.surveys import links, services
from kehu.surveys.models import Answer, Response
from kehu.surveys.tests.helpers import QUESTIONNAIRE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_answers_through_their_link_and_the_skip_logic_is_followed(
    browser_page, live_server, org, make_customer
):
    page, base = browser_page, live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    customer = make_customer(org.rep_a, name="杭州西子茶庄")
    survey = services.survey_create(actor=org.rep_a, data={"title": "茶庄满意度调查"}, sections=QUESTIONNAIRE)
    survey = services.survey_publish(actor=org.rep_a, survey=survey)
    invitation = services.invitation_create(survey=survey, customer=customer, channel="sms")
    url = base + links.invitation_path(invitation)

    page.goto(url)
    expect(page.get_by_text("您对我们的服务满意吗？")).to_be_visible()
    expect(page.locator("[data-section=s2]")).to_be_visible()
    page.click("label[for=q-Q1-2]")  # 不满意: the questionnaire jumps to s3
    expect(page.locator("[data-section=s2]")).to_be_hidden()
    expect(page.locator("[data-question=Q2]")).to_be_hidden()  # the rest of s1 too
    expect(page.locator("[data-section=s3]")).to_be_visible()

    page.click("[data-testid=submit-survey]")  # Q5 is required on this path
    expect(page.locator("[data-testid=question-error]")).to_have_count(1)
    expect(page.locator("#q-Q5 [data-testid=question-error]")).to_be_visible()
    expect(page.locator("[data-section=s2]")).to_be_hidden()  # the answer given is kept, and so is the path
    assert not Response.objects.exists()

    page.fill("textarea[name=q-Q5]", "配送太慢，希望改进")
    page.check("input[name=q-Q6][value=no]")  # "no callback" ends the questionnaire
    expect(page.locator("[data-section=s4]")).to_be_hidden()
    page.click("[data-testid=submit-survey]")
    expect(page.locator("[data-testid=survey-state-thanks]")).to_be_visible()
    response = Response.objects.get()
    assert response.customer == customer
    assert sorted(Answer.objects.values_list("question__code", flat=True)) == ["Q1", "Q5", "Q6"]

    page.goto(url)
    expect(page.locator("[data-testid=survey-state-answered]")).to_be_visible()

    page.goto(base + links.public_path(survey))
    page.click("[data-testid=switch-language]")
    expect(page.get_by_text("Are you satisfied with our service?")).to_be_visible()
    page.click("label[for=q-Q1-5]")
    page.click("label[for=q-Q4-9]")
    page.fill("textarea[name=q-Q5]", "Great service")
    page.click("[data-testid=submit-survey]")
    expect(page.locator("[data-testid=survey-state-thanks]")).to_be_visible()
    anonymous = Response.objects.get(customer__isnull=True)
    assert anonymous.language == "en"
    assert dict(anonymous.answers.filter(number__isnull=False).values_list("question__code", "number")) == {
        "Q1": 5,
        "Q4": 9,
    }
