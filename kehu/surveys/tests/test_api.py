"""/api/v1/surveys round trips: create with the questionnaire, edit it while a draft, publish (then frozen: 409),
the indicator tree, invitations for customer ids, responses, results and the index; and the segment fields
marketing gets through the hook."""

import copy

from django.test import Client

from kehu.surveys.tests.helpers import QUESTIONNAIRE
from tests.api_client import ApiClient


def test_a_survey_from_creation_to_its_index_through_the_api(org, make_customer):
    rep = ApiClient(org.rep_a)
    customer = make_customer(org.rep_a, name="上海云帆贸易")
    made = rep.post(
        "/surveys", {"title": "季度回访", "title_en": "Quarterly check", "sections": QUESTIONNAIRE}
    )
    assert made.status_code == 201, made.content
    survey = made.json()
    assert survey["status"] == "draft" and survey["public_url"] is None
    assert [s["key"] for s in survey["sections"]] == ["s1", "s2", "s3", "s4"]
    assert survey["sections"][0]["questions"][0]["logic"] == [{"op": "lte", "value": 2, "goto": "s3"}]

    broken = copy.deepcopy(QUESTIONNAIRE)
    broken[1]["questions"][1]["logic"] = [{"op": "gte", "value": 9, "goto": "s1"}]
    refused = rep.patch(f"/surveys/{survey['id']}", {"sections": broken})
    assert refused.status_code == 422 and "Q4.logic.0" in refused.json()["fields"]

    shorter = copy.deepcopy(QUESTIONNAIRE)
    shorter[3]["questions"].append({"kind": "rating", "text": "客服打分", "required": False})
    patched = rep.patch(
        f"/surveys/{survey['id']}", {"version": survey["version"], "intro": "两分钟", "sections": shorter}
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["intro"] == "两分钟"
    assert [q["code"] for q in patched.json()["sections"][3]["questions"]] == ["Q7", "Q8"]
    q1_id = survey["sections"][0]["questions"][0]["id"]
    assert patched.json()["sections"][0]["questions"][0]["id"] == q1_id  # kept codes keep their rows

    tree = {
        "indicators": [
            {"name": "服务", "name_en": "Service", "weight": "0.7", "questions": ["Q1"]},
            {"name": "物流", "weight": "0.3", "questions": ["Q7", "Q8"]},
        ]
    }
    assert rep.put(f"/surveys/{survey['id']}/indicators", tree).status_code == 200
    assert rep.get(f"/surveys/{survey['id']}/indicators").json()[1]["questions"] == ["Q7", "Q8"]

    published = rep.post(f"/surveys/{survey['id']}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert published.json()["public_url"].startswith("http://127.0.0.1:8000/q/")
    frozen = rep.patch(f"/surveys/{survey['id']}", {"sections": QUESTIONNAIRE})
    assert frozen.status_code == 409

    invited = rep.post(
        f"/surveys/{survey['id']}/invitations",
        {"customer_ids": [customer.pk], "channel": "email", "source": {"campaign": 3}},
    )
    assert invited.status_code == 201
    url = invited.json()["urls"][str(customer.pk)]
    assert rep.post(f"/surveys/{survey['id']}/invitations", {"customer_ids": [999999]}).status_code == 422

    page = Client().post(
        url.replace("http://127.0.0.1:8000", ""),
        {"q-Q1": "4", "q-Q4": "10", "q-Q5": "很好", "q-Q7": "5", "q-Q8": "3"},
    )
    assert page.status_code == 200

    responses = rep.get(f"/surveys/{survey['id']}/responses").json()
    assert responses["next_cursor"] is None
    (response,) = responses["items"]
    assert response["customer"] == {"id": customer.pk, "name": "上海云帆贸易"}
    assert {a["question"]: a["number"] or a["text"] for a in response["answers"]} == {
        "Q1": 4,
        "Q4": 10,
        "Q5": "很好",
        "Q7": 5,
        "Q8": 3,
    }
    results = {q["code"]: q for q in rep.get(f"/surveys/{survey['id']}/results").json()["questions"]}
    assert results["Q4"]["nps"]["score"] == 100.0 and results["Q1"]["mean"] == 4.0
    # Q1 → (4−1)/4 = 75; Q7 5, Q8 3 → 4 → 75; 0.7·4 + 0.3·4 = 4 → 75.0
    index = rep.get(f"/surveys/{survey['id']}/index", {"period": "quarter"}).json()
    assert index["overall"]["index"] == 75.0 and index["overall"]["fully_satisfied"] == 15.0
    assert len(index["periods"]) == 1 and index["periods"][0]["respondents"] == 1
    invitations = rep.get(f"/surveys/{survey['id']}/invitations").json()["items"]
    assert invitations[0]["answered"] is True and invitations[0]["source"] == {"campaign": 3}

    assert rep.post(f"/surveys/{survey['id']}/close").json()["status"] == "closed"
    copied = rep.post(f"/surveys/{survey['id']}/copy")
    assert copied.status_code == 201 and copied.json()["status"] == "draft"
    assert rep.delete(f"/surveys/{survey['id']}").status_code == 204
    assert [s["id"] for s in rep.get("/surveys").json()] == [copied.json()["id"]]


def test_marketing_segments_select_by_survey_answers(org, make_survey, make_customer):
    """The `segment.fields` hook: "answered survey", "last NPS score" and "last satisfaction" as rules."""
    from kehu.surveys.tests.helpers import answer

    survey = make_survey()
    happy = make_customer(org.rep_a, name="满意客户")
    unhappy = make_customer(org.rep_a, name="不满客户")
    make_customer(org.rep_a, name="没答的客户")
    answer(survey, happy, Q1=5, Q2=4, Q4=10, Q5="好")
    answer(survey, unhappy, Q1=2, Q5="差")
    rep = ApiClient(org.rep_a)
    fields = {f["key"]: f for f in rep.get("/segments/fields").json()}
    assert fields["survey_answered"]["choices"] == [[str(survey.pk), survey.title]]
    assert fields["survey_last_nps"]["type"] == "number"

    def count(rule):
        return rep.post("/segments/count", {"rules": {"match": "all", "rules": [rule]}}).json()["count"]

    assert count({"field": "survey_answered", "op": "in", "value": [str(survey.pk)]}) == 2
    assert count({"field": "survey_answered", "op": "empty"}) == 1
    assert count({"field": "survey_last_nps", "op": "gte", "value": 9}) == 1
    assert count({"field": "survey_last_satisfaction", "op": "lte", "value": 2}) == 1  # 不满客户: Q1 2
    assert (
        count({"field": "survey_last_satisfaction", "op": "between", "value": [4.5, 5]}) == 1
    )  # (5 + 4) / 2
