"""Care automations: each trigger on a frozen clock, once per occasion, the quiet hours, the marketing rules (and
the shipment notice that skips consent), the owner's scope, the pages and the API."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.utils import timezone

from kehu.activities.tests.conftest import smtp  # noqa: F401
from kehu.core.exceptions import ValidationFailed
from kehu.marketing import automations, festivals, messaging
from kehu.marketing.models import Automation, Message, Suppression
from kehu.sales.models import Order, OrderLine, Product, ProductCategory
from tests.api_client import ApiClient

TZ = ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=TZ)


@pytest.fixture
def template(org):
    return messaging.template_create(
        actor=org.rep_a,
        data={"name": "关怀", "channel": "email", "subject_zh": "您好 {{name}}", "body_zh": "祝您快乐"},
    )


def customer(org, make_customer, name, *, consent=True, owner=None, **fields):
    owner = owner or org.rep_a
    made = make_customer(owner, name=name, email=f"c{name.encode().hex()[:16]}@example.com", **fields)
    if consent:
        messaging.consent_set(actor=owner, customer=made, channel="email", granted=True, source="test")
    return made


def automation(org, template, trigger, actor=None, **data):
    return automations.automation_create(
        actor=actor or org.rep_a,
        data={
            "name": trigger,
            "trigger": trigger,
            "channel": "email",
            "template": template,
            "active": True,
            **data,
        },
    )


def outcome(auto):
    return sorted(
        (m.customer.name, m.occasion, m.status, m.reason)
        for m in Message.objects.filter(automation=auto).select_related("customer")
    )


def order(org, buyer, **fields):
    return Order.objects.create(
        number=f"SO-{Order.all_objects.count() + 1}",
        customer=buyer,
        ordered_at=NOON - datetime.timedelta(days=30),
        owner=org.rep_a,
        org_unit=buyer.org_unit,
        **fields,
    )


def test_birthday_once_a_year_with_29_february_on_28_february_and_consent(org, make_customer, template, smtp):  # noqa: F811
    today = NOON.date()
    customer(org, make_customer, "寿星", birthday=datetime.date(1990, today.month, today.day))
    customer(
        org, make_customer, "未同意", consent=False, birthday=datetime.date(1985, today.month, today.day)
    )
    customer(org, make_customer, "别的日子", birthday=datetime.date(1990, 1, 2))
    care = automation(org, template, "birthday")

    automations.automations_run(now=NOON)
    automations.automations_run(now=NOON + datetime.timedelta(hours=1))  # the next hourly pass adds nothing
    assert outcome(care) == [
        ("寿星", "birthday:2026", "sent", ""),
        ("未同意", "birthday:2026", "suppressed", "no_consent"),
    ]
    assert [rcpt for rcpt, _mail in smtp.messages] == [[Message.objects.get(status="sent").address]]
    assert "寿星" in smtp.messages[0][1]["Subject"]
    care.refresh_from_db()
    assert care.last_run_at == NOON + datetime.timedelta(hours=1)

    leap = customer(org, make_customer, "闰日", birthday=datetime.date(2000, 2, 29))
    feb28 = datetime.datetime(2027, 2, 28, 10, 0, tzinfo=TZ)  # 2027 is a common year
    automations.automations_run(now=feb28)
    assert Message.objects.get(automation=care, customer=leap).occasion == "birthday:2027"
    automations.automations_run(now=datetime.datetime(2028, 2, 28, 10, 0, tzinfo=TZ))  # 2028 has a 29th
    assert not Message.objects.filter(automation=care, customer=leap, occasion="birthday:2028").exists()


def test_quiet_hours_store_nothing_and_the_next_pass_does_it(org, make_customer, template, smtp):  # noqa: F811
    night = datetime.datetime(2026, 3, 10, 22, 0, tzinfo=TZ)
    customer(org, make_customer, "夜猫", birthday=datetime.date(1990, 3, 10))
    care = automation(org, template, "birthday")
    assert automations.automations_run(now=night) == {}
    assert not Message.objects.exists() and smtp.messages == []
    care.refresh_from_db()
    assert care.last_run_at is None
    automations.automations_run(now=NOON)
    assert outcome(care) == [("夜猫", "birthday:2026", "sent", "")]


def test_festival_days_before_and_the_frequency_cap(org, make_customer, template, smtp, settings):  # noqa: F811
    settings.KEHU = {**settings.KEHU, "MARKETING_CAP": 1}
    greeted = customer(org, make_customer, "顾客")
    busy = customer(org, make_customer, "常客")
    day = festivals.festival_date("mid_autumn", 2026)
    due = datetime.datetime(day.year, day.month, day.day, 10, 0, tzinfo=TZ) - datetime.timedelta(days=3)
    Message.objects.create(  # one marketing message to 常客 yesterday: the cap of one is reached
        template=template,
        customer=busy,
        channel="email",
        address="x@example.com",
        status="sent",
        token="t-busy",
        created_at=due,
        sent_at=due - datetime.timedelta(days=1),
    )
    care = automation(org, template, "festival", festival="mid_autumn", days=3)
    automations.automations_run(now=due - datetime.timedelta(days=1))
    assert outcome(care) == []
    automations.automations_run(now=due)
    automations.automations_run(now=due + datetime.timedelta(hours=2))
    assert outcome(care) == [
        ("常客", "festival:mid_autumn:2026", "suppressed", "frequency_cap"),
        ("顾客", "festival:mid_autumn:2026", "sent", ""),
    ]
    assert [rcpt for rcpt, _mail in smtp.messages] == [[greeted.email]]
    rows = {a.pk: a for a in automations.automation_list(actor=org.rep_a, now=due)}
    assert (rows[care.pk].sent, rows[care.pk].suppressed) == (1, 1)


def test_days_after_an_order_arrived_catches_up_but_not_forever(org, make_customer, template, smtp):  # noqa: F811
    done = customer(org, make_customer, "签收")
    assumed = customer(org, make_customer, "未确认")
    old = customer(org, make_customer, "太久")
    completed = order(
        org,
        done,
        status="completed",
        shipped_at=NOON - datetime.timedelta(days=9),
        completed_at=NOON - datetime.timedelta(days=8),
    )  # due yesterday: caught up
    shipped = order(org, assumed, status="shipped", shipped_at=NOON - datetime.timedelta(days=10, hours=1))
    order(org, old, status="completed", completed_at=NOON - datetime.timedelta(days=20))
    care = automation(org, template, "order_delivered", days=7)
    automations.automations_run(now=NOON)
    automations.automations_run(now=NOON)
    assert outcome(care) == [
        ("未确认", f"order:{shipped.pk}", "sent", ""),
        ("签收", f"order:{completed.pk}", "sent", ""),
    ]
    assert len(smtp.messages) == 2


def test_shipment_is_transactional_and_reads_from_its_cursor(org, make_customer, template, smtp):  # noqa: F811
    buyer = customer(org, make_customer, "买家", consent=False)
    gone = customer(org, make_customer, "退订", consent=False)
    Suppression.objects.create(channel="email", address=gone.email.lower(), reason="unsubscribed")
    dead = customer(org, make_customer, "退信", consent=False)
    Suppression.objects.create(channel="email", address=dead.email.lower(), reason="bounced")
    first = order(org, buyer, status="shipped", shipped_at=NOON - datetime.timedelta(hours=2))
    left = order(org, gone, status="shipped", shipped_at=NOON - datetime.timedelta(hours=2))
    bounced = order(org, dead, status="shipped", shipped_at=NOON - datetime.timedelta(hours=2))
    order(org, buyer, status="shipped", shipped_at=NOON - datetime.timedelta(days=3))  # before the first look
    care = automation(org, template, "shipment")
    assert care.transactional
    automations.automations_run(now=NOON)
    second = order(org, buyer, status="shipped", shipped_at=NOON + datetime.timedelta(minutes=30))
    automations.automations_run(now=NOON + datetime.timedelta(hours=1))
    assert outcome(care) == [
        ("买家", f"shipped:{first.pk}", "sent", ""),
        ("买家", f"shipped:{second.pk}", "sent", ""),
        ("退信", f"shipped:{bounced.pk}", "suppressed", "suppressed"),
        ("退订", f"shipped:{left.pk}", "sent", ""),  # left the marketing, still told about the parcel
    ]
    assert all(Message.objects.filter(automation=care).values_list("transactional", flat=True))
    assert len(smtp.messages) == 3
    care.refresh_from_db()
    assert care.cursor["shipped_at"] == (NOON + datetime.timedelta(hours=1)).isoformat()


def test_new_arrivals_go_to_who_bought_in_the_category(org, make_customer, template, smtp):  # noqa: F811
    tea = ProductCategory.objects.create(name="茶叶")
    cups = ProductCategory.objects.create(name="茶具")
    old_tea = Product.objects.create(sku="T-1", name="龙井", category=tea)
    cup = Product.objects.create(sku="C-1", name="茶杯", category=cups)
    fan, other = customer(org, make_customer, "茶客"), customer(org, make_customer, "杯客")
    OrderLine.objects.create(
        order=order(org, fan, status="completed"),
        product=old_tea,
        title="龙井",
        quantity=1,
        unit_price=80,
        amount=80,
    )
    OrderLine.objects.create(
        order=order(org, other, status="completed"),
        product=cup,
        title="茶杯",
        quantity=1,
        unit_price=20,
        amount=20,
    )
    Product.objects.filter(pk__in=[old_tea.pk, cup.pk]).update(created_at=NOON - datetime.timedelta(days=90))
    care = automation(org, template, "new_arrivals", category=str(tea.pk))
    automations.automations_run(now=NOON)
    assert outcome(care) == []
    new_tea = Product.objects.create(sku="T-2", name="碧螺春", category=tea)
    Product.objects.filter(pk=new_tea.pk).update(created_at=NOON + datetime.timedelta(minutes=10))
    automations.automations_run(now=NOON + datetime.timedelta(hours=1))
    automations.automations_run(now=NOON + datetime.timedelta(hours=2))
    assert outcome(care) == [("茶客", f"arrival:{new_tea.pk}", "sent", "")]


def test_win_back_once_a_month_for_churn_warned_customers(org, make_customer, template, smtp):  # noqa: F811
    warned = customer(org, make_customer, "流失")
    customer(org, make_customer, "常来")
    apps.get_model("analytics", "ChurnWarning").objects.create(
        customer=warned,
        raised_at=NOON,
        reason="one_time",
        days_since=200,
        threshold_days=180,
        value_at_risk=100,
    )
    care = automation(org, template, "win_back")
    automations.automations_run(now=NOON)
    automations.automations_run(now=NOON + datetime.timedelta(days=5))
    assert outcome(care) == [("流失", "winback:2026-03", "sent", "")]


def test_loyalty_tier_upgrade_and_points_expiring(org, make_customer, template, smtp):  # noqa: F811
    Tier = apps.get_model("loyalty", "Tier")
    Member = apps.get_model("loyalty", "Member")
    TierChange = apps.get_model("loyalty", "TierChange")
    PointsEntry = apps.get_model("loyalty", "PointsEntry")
    # loyalty reads points against today's date, so this pass runs at noon today
    today = timezone.localdate()
    now = datetime.datetime(today.year, today.month, today.day, 12, 0, tzinfo=TZ)
    low = Tier.objects.filter(position=1).first() or Tier.objects.create(key="t1", name="一", position=1)
    high = Tier.objects.filter(position=2).first() or Tier.objects.create(key="t2", name="二", position=2)
    up, expiring = customer(org, make_customer, "升级"), customer(org, make_customer, "过期")
    change = TierChange.objects.create(customer=up, from_tier=low, to_tier=high, reason="upgrade")
    expiry = today + datetime.timedelta(days=5)
    Member.objects.create(customer=expiring, tier=low, points=50, expiring_points=50, expiring_on=expiry)
    PointsEntry.objects.create(
        customer=expiring,
        kind="earn",
        source="order",
        reference="o-1",
        points=50,
        requested=50,
        expires_on=expiry,
    )
    tier_care = automation(org, template, "tier_upgrade")
    points_care = automation(org, template, "points_expiring", days=7)
    automations.automations_run(now=now)
    automations.automations_run(now=now + datetime.timedelta(hours=1))
    assert outcome(tier_care) == [("升级", f"tier:{change.pk}", "sent", "")]
    assert outcome(points_care) == [("过期", f"points:{expiry.isoformat()}", "sent", "")]
    tier_care.refresh_from_db()
    assert tier_care.cursor["after_id"] == change.pk


def test_an_automation_reaches_only_its_owners_customers(org, make_customer, template, smtp):  # noqa: F811
    customer(org, make_customer, "甲的", birthday=datetime.date(1990, 3, 10))
    customer(org, make_customer, "乙的", owner=org.rep_b, birthday=datetime.date(1990, 3, 10))
    theirs = messaging.template_create(
        actor=org.rep_b, data={"name": "乙", "channel": "email", "subject_zh": "您好", "body_zh": "生日快乐"}
    )
    with pytest.raises(ValidationFailed) as refused:  # not rep_b's template to use
        automation(org, template, "birthday", actor=org.rep_b)
    assert "template" in refused.value.fields
    care = automation(org, theirs, "birthday", actor=org.rep_b)
    automations.automations_run(now=NOON)
    assert outcome(care) == [("乙的", "birthday:2026", "sent", "")]


def test_validation_speaks_per_field(org, template):
    from kehu.core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        automations.automation_create(
            actor=org.rep_a,
            data={
                "name": "x",
                "trigger": "festival",
                "festival": "nope",
                "days": 400,
                "channel": "sms",
                "template": template,
            },
        )
    assert set(caught.value.fields) == {"festival", "days", "template"}
    with pytest.raises(ValidationFailed) as caught:
        automations.automation_create(
            actor=org.rep_a,
            data={"name": "x", "trigger": "new_arrivals", "channel": "email", "template": template},
        )
    assert set(caught.value.fields) == {"category"}


def test_pages_list_create_log_and_switch(org, login, make_customer, template, smtp, settings):  # noqa: F811
    settings.KEHU = {
        **settings.KEHU,
        "QUIET_HOURS": "00:00-00:00",
    }  # the page counts the last 30 days: run now
    today = timezone.localdate()
    born = datetime.date(1992, today.month, 28 if (today.month, today.day) == (2, 29) else today.day)
    client = login(org.rep_a)
    assert client.get("/marketing/automations/").status_code == 200
    assert client.get("/marketing/automations/new/").status_code == 200
    bad = client.post(
        "/marketing/automations/new/",
        {"name": "节日", "trigger": "festival", "channel": "email", "template": template.pk, "days": 3},
    )
    assert bad.status_code == 200 and "is-invalid" in bad.content.decode()
    saved = client.post(
        "/marketing/automations/new/",
        {"name": "生日祝福", "trigger": "birthday", "channel": "email", "template": template.pk},
    )
    assert saved.status_code == 302
    care = Automation.objects.get(name="生日祝福")
    assert not care.active
    client.post(f"/marketing/automations/{care.pk}/toggle/")
    care.refresh_from_db()
    assert care.active
    customer(org, make_customer, "寿星", birthday=born)
    automations.automations_run(now=timezone.now())
    listing = client.get("/marketing/automations/").content.decode()
    assert "生日祝福" in listing and 'data-testid="sent">1<' in listing
    log = client.get(f"/marketing/automations/{care.pk}/log/").content.decode()
    assert "寿星" in log and f"birthday:{today.year}" in log
    edit = client.get(f"/marketing/automations/{care.pk}/edit/")
    assert edit.status_code == 200 and "生日祝福" in edit.content.decode()
    other = login(org.rep_b)
    assert "生日祝福" not in other.get("/marketing/automations/").content.decode()
    assert other.get(f"/marketing/automations/{care.pk}/log/").status_code == 404


def test_api_round_trip(org, make_customer, template, smtp):  # noqa: F811
    api = ApiClient(org.rep_a)
    made = api.post(
        "/automations",
        {
            "name": "生日",
            "trigger": "birthday",
            "channel": "email",
            "template_id": template.pk,
            "active": True,
        },
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["active"] and body["template_id"] == template.pk and body["sent"] == 0
    bad = api.post(
        "/automations",
        {
            "name": "节日",
            "trigger": "festival",
            "festival": "nope",
            "channel": "email",
            "template_id": template.pk,
        },
    )
    assert bad.status_code == 422 and "festival" in bad.json()["fields"]
    customer(org, make_customer, "寿星", birthday=datetime.date(1990, 3, 10))
    automations.automations_run(now=NOON)
    log = api.get(f"/automations/{body['id']}/log").json()
    assert [(e["customer_name"], e["occasion"], e["status"]) for e in log["items"]] == [
        ("寿星", "birthday:2026", "sent")
    ]
    patched = api.patch(f"/automations/{body['id']}", {"version": body["version"], "name": "生日祝福"})
    assert patched.status_code == 200 and patched.json()["name"] == "生日祝福"
    assert (
        api.patch(f"/automations/{body['id']}", {"version": body["version"], "name": "旧"}).status_code == 409
    )
    assert [a["name"] for a in api.get("/automations").json()] == ["生日祝福"]
    assert ApiClient(org.rep_b).get(f"/automations/{body['id']}").status_code == 404
    assert ApiClient(org.rep_b).get(f"/automations/{body['id']}/log").status_code == 404
    assert api.delete(f"/automations/{body['id']}").status_code == 204
    assert api.get("/automations").json() == []
