"""A rep of team B never reads a team-A customer's answer, by any path: results, free-text answers, cross-tabs,
the index, the CSV/XLSX exports, the API, the invitations. They read the anonymous answers and their own
customers'; the region's manager reads all; another rep's survey answers 404 everywhere."""

import csv
import io

import pytest
from openpyxl import load_workbook

from kehu.core.models import AuditEvent
from kehu.surveys import selectors, services
from kehu.surveys.tests.helpers import answer
from tests.api_client import ApiClient

SECRET = "甲组客户的秘密意见"


@pytest.fixture
def answered(org, make_survey, make_customer):
    """rep_b's survey, answered by a customer of team A (through an invitation marketing made), by rep_b's own
    customer, and anonymously."""
    survey = make_survey(org.rep_b)
    services.indicators_set(
        actor=org.rep_b, survey=survey, tree=[{"name": "总体", "weight": "1", "questions": ["Q1"]}]
    )
    team_a = make_customer(org.rep_a, name="甲组机密客户", level="a")
    team_b = make_customer(org.rep_b, name="乙组客户", level="b")
    answer(survey, team_a, Q1=1, Q5=SECRET, Q6="yes", Q7=1)
    answer(survey, team_b, Q1=5, Q4=10, Q5="乙组意见")
    answer(survey, None, Q1=4, Q4=8, Q5="匿名意见")
    return survey


def _texts(response) -> str:
    return (
        b"".join(response.streaming_content).decode("utf-8-sig")
        if response.streaming
        else response.content.decode()
    )


def test_the_rep_reads_anonymous_and_own_customers_answers_only(org, answered, login):
    survey = answered
    client = login(org.rep_b)
    results = client.get(f"/surveys/{survey.pk}/results/")
    body = results.content.decode()
    assert results.status_code == 200
    assert "乙组意见" in body and "匿名意见" in body and SECRET not in body and "甲组机密客户" not in body
    assert 'data-testid="response-count">2 ' in body

    all_texts = client.get(f"/surveys/{survey.pk}/results/?texts=Q5").content.decode()
    assert "乙组意见" in all_texts and SECRET not in all_texts

    crosstab = client.get(f"/surveys/{survey.pk}/results/?question=Q1&by=level").content.decode()
    assert "crosstab-table" in crosstab and "A级客户" not in crosstab  # team A's customer's level never shows

    exported = _texts(client.get(f"/surveys/{survey.pk}/results/?export=csv"))
    rows = list(csv.reader(io.StringIO(exported)))
    assert len(rows) == 3 and SECRET not in exported and "乙组意见" in exported
    workbook = load_workbook(
        io.BytesIO(b"".join(client.get(f"/surveys/{survey.pk}/results/?export=xlsx").streaming_content))
    )
    sheet = workbook.active
    assert sheet.max_row == 3 and all(
        SECRET not in str(cell.value) for row in sheet.iter_rows() for cell in row
    )
    assert AuditEvent.objects.filter(action="export", target=f"survey-{survey.pk}-responses").count() == 2

    index = selectors.index_report(actor=org.rep_b, survey=survey, filters=selectors.Filters())
    assert index.overall.respondents == 2 and index.overall.score.index == 87.5  # (5 + 4) / 2 → 4.5
    manager = selectors.index_report(actor=org.east_manager, survey=survey, filters=selectors.Filters())
    assert manager.overall.respondents == 3 and manager.overall.score.index == 58.3  # (1 + 5 + 4) / 3

    api = ApiClient(org.rep_b)
    responses = api.get(f"/surveys/{survey.pk}/responses").json()["items"]
    assert len(responses) == 2 and SECRET not in str(responses)
    assert api.get(f"/surveys/{survey.pk}/results").json()["responses"] == 2
    assert api.get(f"/surveys/{survey.pk}/index").json()["overall"]["respondents"] == 2
    invitations = api.get(f"/surveys/{survey.pk}/invitations").json()["items"]
    assert len(invitations) == 1  # the team-A customer's invitation is not listed either
    assert "甲组机密客户" not in client.get(f"/surveys/{survey.pk}/distribute/").content.decode()


def test_the_region_manager_reads_every_answer(org, answered, login):
    body = login(org.east_manager).get(f"/surveys/{answered.pk}/results/?texts=Q5").content.decode()
    assert SECRET in body and "乙组意见" in body
    exported = _texts(login(org.east_manager).get(f"/surveys/{answered.pk}/results/?export=csv"))
    assert SECRET in exported and len(list(csv.reader(io.StringIO(exported)))) == 4


@pytest.mark.parametrize(
    "path",
    [
        "/surveys/{id}/edit/",
        "/surveys/{id}/results/",
        "/surveys/{id}/results/?export=csv",
        "/surveys/{id}/index/",
        "/surveys/{id}/distribute/",
        "/surveys/{id}/indicators/",
        "/surveys/{id}/preview/",
    ],
)
def test_another_reps_survey_is_404_on_every_page(org, answered, login, path):
    assert login(org.rep_a).get(path.format(id=answered.pk)).status_code == 404
    assert login(org.rep_c).get(path.format(id=answered.pk)).status_code == 404


def test_another_reps_survey_is_404_in_the_api(org, answered):
    api = ApiClient(org.rep_a)
    for method, path, body in (
        ("get", "/surveys/{id}", None),
        ("patch", "/surveys/{id}", {"title": "偷改"}),
        ("delete", "/surveys/{id}", None),
        ("get", "/surveys/{id}/responses", None),
        ("get", "/surveys/{id}/results", None),
        ("get", "/surveys/{id}/index", None),
        ("get", "/surveys/{id}/indicators", None),
        ("get", "/surveys/{id}/invitations", None),
        ("post", "/surveys/{id}/invitations", {"customer_ids": [1]}),
        ("post", "/surveys/{id}/close", None),
        ("post", "/surveys/{id}/copy", None),
    ):
        call = getattr(api, method)
        response = (
            call(path.format(id=answered.pk), body) if body is not None else call(path.format(id=answered.pk))
        )
        assert response.status_code == 404, (method, path, response.status_code)
    assert api.get("/surveys").json() == []
    assert (
        ApiClient(org.rep_b).get(f"/customers?segment=survey:{answered.pk}").json()["items"][0]["name"]
        == "乙组客户"
    )
    assert api.get("/customers", {"segment": f"survey:{answered.pk}"}).status_code == 422
