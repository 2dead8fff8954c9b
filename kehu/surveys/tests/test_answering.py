"""Answering through a link, as a respondent does (the page `/q/<token>/`, no login): a customer's link takes one
response; the skip logic is followed by the server (answers to skipped questions are discarded, required
questions are required on the path taken only); the anonymous link takes many answers but not a flood;
expired links, closed and draft surveys take none; the customer's survey figures follow."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kehu.core.exceptions import ValidationFailed
from kehu.surveys import links, services
from kehu.surveys.models import Answer, CustomerSurveyStats, Invitation, Response
from kehu.surveys.tests.helpers import answer


def page(client, url, data=None, **extra):
    path = url.replace("http://127.0.0.1:8000", "")
    if data is None:
        return client.get(path, **extra)
    return client.post(path, data, **extra)


def test_a_customer_answers_once_through_their_own_link(org, make_survey, make_customer):
    customer = make_customer(org.rep_a, name="杭州一品茶业")
    survey = make_survey()
    urls = services.invitations_create_many(
        survey=survey, customer_ids=[customer.pk], channel="email", source={"campaign": 7}
    )
    url = urls[customer.pk]
    assert url.startswith("http://127.0.0.1:8000/q/")
    client = Client()
    shown = page(client, url)
    assert shown.status_code == 200
    body = shown.content.decode()
    assert "您对我们的服务满意吗？" in body and 'data-section="s4"' in body
    assert Invitation.objects.get().opened_at is not None

    sent = page(
        client,
        url,
        {
            "q-Q1": "4",
            "q-Q2": "5",
            "q-Q3": ["tmall", "jd"],
            "q-Q4": "9",
            "q-Q5": "包装可以更好",
            "q-Q6": "yes",
            "q-Q7": "3",
        },
    )
    assert sent.status_code == 200 and 'data-testid="survey-state-thanks"' in sent.content.decode()
    response = Response.objects.get()
    assert response.customer == customer and response.invitation.source == {"campaign": 7}
    stored = {
        (a.question.code, a.number, a.choice, a.text) for a in response.answers.select_related("question")
    }
    assert stored == {
        ("Q1", 4, "", ""),
        ("Q2", 5, "", ""),
        ("Q3", None, "tmall", ""),
        ("Q3", None, "jd", ""),
        ("Q4", 9, "", ""),
        ("Q5", None, "", "包装可以更好"),
        ("Q6", None, "yes", ""),
        ("Q7", 3, "", ""),
    }

    again = page(client, url, {"q-Q1": "1", "q-Q5": "再来一次"})
    assert 'data-testid="survey-state-answered"' in again.content.decode()
    assert 'data-testid="survey-state-answered"' in page(client, url).content.decode()
    assert Response.objects.count() == 1
    stats = CustomerSurveyStats.objects.get(customer=customer)
    assert stats.last_nps == 9 and stats.last_satisfaction == Decimal("4.00") and stats.responses == 1


def test_the_server_follows_the_skip_logic_and_requires_only_the_path(org, make_survey, make_customer):
    """Q1 不满意 (2) jumps to s3: the answers given to s2 anyway are discarded and its required NPS is not asked;
    Q5 on the path is required. Q6 "no" ends the questionnaire: Q7's answer is discarded too."""
    survey = make_survey()
    customer = make_customer(org.rep_a)
    url = links.invitation_url(services.invitation_create(survey=survey, customer=customer, channel="sms"))
    client = Client()

    missing = page(client, url, {"q-Q1": "2", "q-Q4": "10"})
    assert missing.status_code == 400
    body = missing.content.decode()
    assert body.count('data-testid="question-error"') == 1 and 'id="q-Q5"' in body
    assert 'value="2" autocomplete="off" checked' in body  # what was answered is kept
    assert not Response.objects.exists()

    done = page(
        client, url, {"q-Q1": "2", "q-Q3": "tmall", "q-Q4": "10", "q-Q5": "太慢了", "q-Q6": "no", "q-Q7": "5"}
    )
    assert done.status_code == 200
    codes = sorted(Answer.objects.values_list("question__code", flat=True))
    assert codes == ["Q1", "Q5", "Q6"]


def test_required_questions_and_bad_values_are_refused_with_the_reason(org, make_survey):
    survey = make_survey()
    with pytest.raises(ValidationFailed) as refused:
        answer(survey, Q1=4)  # Q4 (NPS) and Q5 are required on this path
    assert set(refused.value.fields) == {"Q4", "Q5"}
    with pytest.raises(ValidationFailed) as refused:
        answer(survey, Q1=7, Q4=11, Q3=["weibo"], Q5="x")
    assert set(refused.value.fields) == {"Q1", "Q3", "Q4"}
    assert not Response.objects.exists()


def test_the_anonymous_link_takes_many_answers_but_not_a_flood(org, make_survey):
    survey = make_survey()
    url = links.public_url(survey)
    client = Client()
    good = {"q-Q1": "5", "q-Q4": "10", "q-Q5": "很好"}
    for _n in range(3):
        assert page(client, url, good).status_code == 200
    assert Response.objects.filter(customer__isnull=True, invitation__isnull=True).count() == 3
    assert (
        page(client, url, {**good, "website": "http://spam"}).status_code == 200
    )  # the bot trap: not stored
    assert Response.objects.count() == 3
    for _n in range(services.PUBLIC_PER_WINDOW - 3):
        page(client, url, good)
    refused = page(client, url, good)
    assert refused.status_code == 429 and 'data-testid="survey-state-throttled"' in refused.content.decode()
    elsewhere = page(client, url, good, REMOTE_ADDR="10.1.2.3")
    assert elsewhere.status_code == 200
    assert Response.objects.count() == services.PUBLIC_PER_WINDOW + 1


def test_links_that_take_no_answer(org, make_survey, make_customer):
    survey = make_survey()
    customer = make_customer(org.rep_a)
    client = Client()
    invitation = services.invitation_create(
        survey=survey, customer=customer, channel="sms", now=timezone.now() - datetime.timedelta(days=31)
    )
    assert page(client, links.invitation_url(invitation)).status_code == 410  # past the survey's 30 days

    forged = links.invitation_url(invitation)[:-4] + "abc/"
    assert page(client, forged).status_code == 404

    public = links.public_url(survey)
    services.survey_public_link_renew(actor=org.rep_a, survey=survey)
    assert page(client, public).status_code == 404  # the old public link is off
    survey.refresh_from_db()
    assert page(client, links.public_url(survey)).status_code == 200

    services.survey_close(actor=org.rep_a, survey=survey)
    closed = page(client, links.public_url(survey), {"q-Q1": "5", "q-Q4": "9", "q-Q5": "好"})
    assert closed.status_code == 410 and 'data-testid="survey-state-closed"' in closed.content.decode()
    assert not Response.objects.exists()

    draft = make_survey(publish=False)
    assert page(client, links.public_url(draft)).status_code == 404
    with pytest.raises(ValidationFailed):
        services.invitations_create_many(survey=draft, customer_ids=[customer.pk], channel="sms")


def test_the_page_shows_the_respondents_language(org, make_survey):
    survey = make_survey()
    client = Client()
    url = links.public_url(survey)
    assert "您对我们的服务满意吗？" in page(client, url).content.decode()
    english = page(client, url, HTTP_ACCEPT_LANGUAGE="en")
    body = english.content.decode()
    assert "Are you satisfied with our service?" in body and "Overall" in body
    assert "物流满意吗？" in body  # no English text: the Chinese one
    assert 'name="language" value="zh-hans"' in body  # the switch back


def test_unknown_customers_are_refused_by_id_never_skipped(org, make_survey, make_customer):
    survey = make_survey()
    mine = make_customer(org.rep_a)
    theirs = make_customer(org.rep_b)
    with pytest.raises(ValidationFailed) as refused:
        services.invitations_create_many(survey=survey, customer_ids=[mine.pk, 999999], channel="sms")
    assert "999999" in refused.value.fields["customer_ids"]
    with pytest.raises(ValidationFailed):  # with an actor: only customers the actor sees
        services.invitations_create_many(
            survey=survey, customer_ids=[mine.pk, theirs.pk], channel="sms", actor=org.rep_a
        )
    assert not Invitation.objects.exists()
    made = services.invitations_create_many(
        survey=survey, customer_ids=[mine.pk, theirs.pk, mine.pk], channel="wechat", source="工单 T-1"
    )
    assert set(made) == {mine.pk, theirs.pk}
    assert Invitation.objects.get(customer=mine).source == {"text": "工单 T-1"}
    assert len(set(made.values())) == 2
