"""/api/v1/message-templates, /campaigns, consents and the suppression list: round trips, results, and the scope."""

from kehu.activities.tests.conftest import smtp  # noqa: F401 - a fixture
from kehu.marketing.models import Message
from tests.api_client import ApiClient

LEVEL_A = {"match": "all", "rules": [{"field": "level", "op": "in", "value": ["a"]}]}


def test_template_campaign_consent_and_results_through_the_api(
    org,
    make_customer,
    smtp,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.KEHU = {**settings.KEHU, "QUIET_HOURS": "00:00-00:00"}
    customer = make_customer(org.rep_a, name="王小明", email="xiaoming@example.com", level="a")
    hidden = make_customer(org.rep_b, name="别组", email="hidden@example.com", level="a")
    rep, other = ApiClient(org.rep_a), ApiClient(org.rep_b)

    consent = rep.put(
        f"/customers/{customer.pk}/consents", {"channel": "email", "granted": True, "source": "官网注册"}
    )
    assert consent.status_code == 200 and consent.json()["status"] == "granted"
    assert (
        other.put(
            f"/customers/{customer.pk}/consents", {"channel": "email", "granted": False, "source": "x"}
        ).status_code
        == 404
    )
    assert rep.get(f"/customers/{hidden.pk}/consents").status_code == 404

    made = rep.post(
        "/message-templates",
        {"name": "上新", "channel": "email", "subject_zh": "{{name}}，上新了", "body_zh": "{{name}}您好"},
    )
    assert made.status_code == 201, made.content
    template = made.json()
    preview = rep.get(f"/message-templates/{template['id']}/preview", {"customer": customer.pk}).json()
    assert preview["subject"] == "王小明，上新了" and "王小明您好" in preview["text"]
    assert rep.get(f"/message-templates/{template['id']}/preview", {"customer": hidden.pk}).status_code == 404
    assert other.get(f"/message-templates/{template['id']}").status_code == 404
    wrong = rep.post(
        "/message-templates", {"name": "x", "channel": "email", "subject_zh": "s", "body_zh": "{{coupon}}"}
    )
    assert wrong.status_code == 422 and "coupon" in wrong.json()["fields"]["body_zh"]

    segment = rep.post("/segments", {"name": "A级", "rules": LEVEL_A}).json()
    created = rep.post(
        "/campaigns",
        {"name": "上新通知", "channel": "email", "segments": [segment["id"]], "template": template["id"]},
    )
    assert created.status_code == 201, created.content
    campaign = created.json()
    assert campaign["status"] == "draft" and campaign["results"]["sent"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        launched = rep.post(f"/campaigns/{campaign['id']}/launch")
    assert launched.status_code == 200
    done = rep.get(f"/campaigns/{campaign['id']}").json()
    assert done["status"] == "sent" and done["results"]["sent"] == 1
    assert [r for r, _m in smtp.messages] == [
        ["xiaoming@example.com"]
    ]  # rep_b's customer is outside rep_a's scope
    assert other.get(f"/campaigns/{campaign['id']}").status_code == 404
    assert all(c["id"] != campaign["id"] for c in other.get("/campaigns").json())
    again = rep.post(f"/campaigns/{campaign['id']}/launch")
    assert again.status_code == 422

    token = Message.objects.get(customer=customer).token
    manager = ApiClient(org.east_manager)
    assert rep.post("/marketing/bounces", {"token": token}).status_code == 403
    assert manager.post(
        "/marketing/bounces", {"token": token, "reason": "550 mailbox unavailable"}
    ).json() == {"count": 1}
    listed = manager.get("/suppressions", {"q": "xiaoming"}).json()
    assert [(s["address"], s["reason"]) for s in listed] == [("xiaoming@example.com", "bounced")]
    assert rep.get("/suppressions").status_code == 403
    assert rep.get(f"/campaigns/{campaign['id']}").json()["results"]["bounced"] == 1
