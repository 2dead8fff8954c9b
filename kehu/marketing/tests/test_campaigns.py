"""Campaigns end to end: the audience is screened by the anti-harassment rules (each refusal counted with its
reason), the rest goes through a real local SMTP server with an unsubscribe header, and opens, clicks and
unsubscribes are recorded."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from kehu.activities.tests.conftest import smtp  # noqa: F401 - a fixture
from kehu.customers.models import Customer
from kehu.marketing import campaigns, messaging, rules
from kehu.marketing.models import Campaign, Channel, Consent, Message, Suppression
from kehu.marketing.services import segment_create
from kehu.support.models import TicketType
from kehu.support.services import ticket_create

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)
RULES = {"match": "all", "rules": [{"field": "level", "op": "in", "value": ["a"]}]}


@pytest.fixture
def mailing(org, make_customer, smtp):  # noqa: F811
    def customer(name, email, consent=True, **extra):
        c = make_customer(org.rep_a, name=name, email=email, level="a", **extra)
        if consent:
            messaging.consent_set(
                actor=org.rep_a, customer=c, channel=Channel.EMAIL, granted=True, source="门店登记"
            )
        return c

    people = {
        "ok": customer("王小明", "xiaoming@example.com"),
        "ok2": customer("李娜", "lina@example.com"),
        "no_consent": customer("赵六", "zhao@example.com", consent=False),
        "no_address": customer("钱七", ""),
        "suppressed": customer("孙八", "sun@example.com"),
        "duplicate": customer("周九", "zhou@example.com"),
        "complaint": customer("吴十", "wu@example.com"),
    }
    # an import may leave two customers with one address (the collision check is the form's)
    Customer.objects.filter(pk=people["duplicate"].pk).update(email="XiaoMing@Example.com")
    make_customer(org.rep_b, name="别组客户", email="other@example.com", level="a")
    messaging.suppression_add(actor=org.admin, channel=Channel.EMAIL, address="sun@example.com")
    ticket_create(
        actor=org.rep_a,
        data={"subject": "破损投诉", "customer": people["complaint"], "ticket_type": TicketType.COMPLAINT},
    )
    segment = segment_create(actor=org.rep_a, data={"name": "A级客户", "rules": RULES})
    template = messaging.template_create(
        actor=org.rep_a,
        data={
            "name": "双十一预告",
            "channel": Channel.EMAIL,
            "subject_zh": "{{name}}，双十一专享",
            "body_zh": "亲爱的{{name}}：\n\n您的专享优惠见 https://shop.example.com/sale?id=1\n\n退订：{{unsubscribe_link}}",
        },
    )
    return people, segment, template


def launch(org, segment, template, **data):
    campaign = campaigns.campaign_create(
        actor=org.rep_a,
        data={
            "name": "双十一",
            "channel": Channel.EMAIL,
            "template": template,
            "segments": [segment],
            **data,
        },
    )
    campaigns.campaign_launch(actor=org.rep_a, campaign=campaign, now=NOON)
    run = campaign.runs.get()
    assert campaigns.run_process(run_id=run.pk, now=NOON) == "sent"
    campaign.refresh_from_db()
    return campaign


def test_a_campaign_mails_who_may_be_mailed_and_counts_every_refusal(org, mailing, smtp, settings):  # noqa: F811
    people, segment, template = mailing
    campaign = launch(org, segment, template)
    assert campaign.status == Campaign.Status.SENT
    outcome = {m.customer_id: (m.status, m.reason) for m in Message.objects.filter(campaign=campaign)}
    assert outcome == {
        people["ok"].pk: ("sent", ""),
        people["ok2"].pk: ("sent", ""),
        people["no_consent"].pk: ("suppressed", "no_consent"),
        people["no_address"].pk: ("suppressed", "no_address"),
        people["suppressed"].pk: ("suppressed", "suppressed"),
        people["duplicate"].pk: ("suppressed", "duplicate"),
        people["complaint"].pk: ("suppressed", "open_complaint"),
    }  # rep_b's customer is not in rep_a's audience at all
    assert sorted(rcpt[0] for rcpt, _mail in smtp.messages) == ["lina@example.com", "xiaoming@example.com"]
    mail = next(m for rcpt, m in smtp.messages if rcpt == ["xiaoming@example.com"])
    assert mail["Subject"] == "王小明，双十一专享"
    message = Message.objects.get(customer=people["ok"])
    assert mail["List-Unsubscribe"] == f"<{settings.KEHU['SITE_URL']}/m/u/{message.token}/>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert "亲爱的王小明" in text and f"/m/u/{message.token}/" in text
    assert f"/m/o/{message.token}.gif" in html and f"/m/c/{message.token}/?to=" in html


def test_opens_clicks_and_the_one_click_unsubscribe_are_recorded(org, mailing, smtp):  # noqa: F811
    people, segment, template = mailing
    campaign = launch(org, segment, template)
    message = Message.objects.get(campaign=campaign, customer=people["ok"])
    anonymous = Client()
    pixel = anonymous.get(f"/m/o/{message.token}.gif")
    assert pixel.status_code == 200 and pixel["Content-Type"] == "image/gif"
    html = (
        next(m for rcpt, m in smtp.messages if rcpt == ["xiaoming@example.com"])
        .get_body(("html",))
        .get_content()
    )
    link = html.split('href="')[1].split('"')[0].replace("&amp;", "&").split("/m/c/")[1]
    clicked = anonymous.get("/m/c/" + link)
    assert clicked.status_code == 302 and clicked["Location"] == "https://shop.example.com/sale?id=1"
    tampered = anonymous.get(f"/m/c/{message.token}/?to=https://evil.example.com:x")
    assert tampered.status_code == 404
    page = anonymous.get(f"/m/u/{message.token}/")
    assert page.status_code == 200 and 'data-testid="unsubscribe-confirm"' in page.content.decode()
    one_click = anonymous.post(f"/m/u/{message.token}/", {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and 'data-testid="unsubscribed"' in one_click.content.decode()
    message.refresh_from_db()
    assert message.opened_at and message.clicked_at and message.clicks == 1 and message.unsubscribed_at
    assert Consent.objects.get(customer=people["ok"], channel="email").status == "withdrawn"
    assert Suppression.objects.filter(address="xiaoming@example.com", reason="unsubscribed").exists()

    smtp.messages.clear()
    launch(org, segment, template)  # the next mailing skips the one who left
    assert [rcpt for rcpt, _m in smtp.messages] == [["lina@example.com"]]


def test_the_frequency_cap_and_quiet_hours(org, mailing, smtp, settings):  # noqa: F811
    people, segment, template = mailing
    settings.KEHU = {**settings.KEHU, "MARKETING_CAP": 2, "MARKETING_CAP_DAYS": 7}
    launch(org, segment, template)
    launch(org, segment, template)
    third = launch(org, segment, template)
    reasons = set(
        Message.objects.filter(campaign=third, customer=people["ok"]).values_list("reason", flat=True)
    )
    assert reasons == {"frequency_cap"}
    assert len(smtp.messages) == 4

    late = datetime.datetime(2026, 11, 20, 22, 30, tzinfo=SHANGHAI)
    assert rules.in_quiet_hours(late) and not rules.in_quiet_hours(NOON)
    assert rules.quiet_ends(late) == datetime.datetime(2026, 11, 21, 9, 0, tzinfo=SHANGHAI)
    assert rules.quiet_ends(datetime.datetime(2026, 11, 21, 3, 0, tzinfo=SHANGHAI)).hour == 9
    night = campaigns.campaign_create(
        actor=org.rep_a, data={"name": "夜", "channel": "email", "template": template, "segments": [segment]}
    )
    campaigns.campaign_launch(actor=org.rep_a, campaign=night, now=late)
    assert campaigns.run_process(run_id=night.runs.get().pk, now=late) == "quiet"
    assert not Message.objects.filter(campaign=night).exists()


def test_variants_split_stably(org, mailing, smtp):  # noqa: F811
    _people, segment, template = mailing
    other = messaging.template_create(
        actor=org.rep_a, data={"name": "B", "channel": "email", "subject_zh": "B版", "body_zh": "B版内容"}
    )
    campaign = launch(org, segment, template, template_b=other, share_b=50)
    variants = dict(Message.objects.filter(campaign=campaign).values_list("customer_id", "variant"))
    pick = campaigns.variant_picker(campaign)
    assert all(variants[c] == pick(c) for c in variants) and set(variants.values()) <= {"A", "B"}
    subjects = {m["Subject"] for _rcpt, m in smtp.messages}
    sent_variants = set(
        Message.objects.filter(campaign=campaign, status="sent").values_list("variant", flat=True)
    )
    assert ("B版" in subjects) == ("B" in sent_variants)
    assert campaigns.next_time(NOON, "month") == NOON.replace(month=12)
    assert campaigns.next_time(datetime.datetime(2027, 1, 31, 9, tzinfo=SHANGHAI), "month").day == 28


def test_an_sms_campaign_keeps_to_its_budget_and_texts_through_the_provider(
    org, make_customer, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.KEHU = {**settings.KEHU, "SMS_FILE_DIR": str(tmp_path), "SMS_PRICE": "0.05"}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from kehu.core import sms
    from kehu.core.models import SmsTemplate

    approved = SmsTemplate.objects.create(
        purpose="marketing",
        kind=SmsTemplate.Kind.PROMOTION,
        code="SMS_9001",
        text="双十一全场五折，拒收请回复R",
        active=True,
    )
    for n, phone in enumerate(("13800000001", "13800000002", "13800000003")):
        c = make_customer(org.rep_a, name=f"短信{n}", phone=phone, level="a")
        messaging.consent_set(
            actor=org.rep_a, customer=c, channel=Channel.SMS, granted=True, source="会员注册"
        )
    segment = segment_create(actor=org.rep_a, data={"name": "A", "rules": RULES})
    template = messaging.template_create(
        actor=org.rep_a, data={"name": "短信", "channel": "sms", "sms_template": approved.pk}
    )
    campaign = campaigns.campaign_create(
        actor=org.rep_a,
        data={
            "name": "短信",
            "channel": "sms",
            "template": template,
            "segments": [segment],
            "budget": "0.10",
        },
    )
    campaigns.campaign_launch(actor=org.rep_a, campaign=campaign, now=NOON)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.run_process(run_id=campaign.runs.get().pk, now=NOON)
    statuses = sorted(Message.objects.filter(campaign=campaign).values_list("status", "reason"))
    assert statuses == [("sent", ""), ("sent", ""), ("suppressed", "budget")]  # ¥0.05 a text, ¥0.10 to spend
    texts = sms.outbox()
    assert len(texts) == 2 and texts[0]["template_code"] == "SMS_9001" and texts[0]["text"].startswith("【")

    unapproved = SmsTemplate.objects.create(
        purpose="marketing", kind=SmsTemplate.Kind.PROMOTION, code="X", text="五折", active=True
    )
    from kehu.core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed) as no_stop:
        messaging.template_create(
            actor=org.rep_a, data={"name": "x", "channel": "sms", "sms_template": unapproved.pk}
        )
    assert "拒收请回复R" in no_stop.value.fields["sms_template"]
    assert messaging.sms_reply_record(phone="13800000001", text=" t ") is True
    assert Suppression.objects.filter(channel="sms", address="13800000001").exists()


def test_campaign_refusals_are_explained(org, mailing):
    _people, _segment, template = mailing
    from kehu.core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed) as wrong:
        campaigns.campaign_create(
            actor=org.rep_a, data={"name": "", "channel": "sms", "template": template, "segments": []}
        )
    assert set(wrong.value.fields) == {"name", "template", "segments"}
    with pytest.raises(ValidationFailed) as unknown:
        messaging.template_create(
            actor=org.rep_a, data={"name": "x", "channel": "email", "subject_zh": "s", "body_zh": "{{nmae}}"}
        )
    assert "nmae" in unknown.value.fields["body_zh"]
    hidden = segment_create(actor=org.rep_b, data={"name": "别组", "rules": None})
    with pytest.raises(ValidationFailed) as foreign:
        campaigns.campaign_create(
            actor=org.rep_a,
            data={"name": "x", "channel": "email", "template": template, "segments": [hidden.pk]},
        )
    assert "segments" in foreign.value.fields


def test_each_recipient_gets_a_coupon_code_and_a_survey_link_of_their_own(org, mailing, smtp):  # noqa: F811
    from kehu.loyalty.models import Coupon
    from kehu.loyalty.services import coupon_definition_create
    from kehu.surveys import services as surveys
    from kehu.surveys.links import invitation_url
    from kehu.surveys.models import Invitation

    people, segment, _template = mailing
    coupon = coupon_definition_create(
        actor=org.admin, data={"name": "满200减20", "kind": "amount", "value": 20, "min_spend": 200}
    )
    survey = surveys.survey_create(
        actor=org.rep_a,
        data={"title": "满意度回访"},
        sections=[
            {
                "key": "s1",
                "title": "总体",
                "questions": [{"code": "Q1", "kind": "likert", "text": "满意吗？"}],
            }
        ],
    )
    surveys.survey_publish(actor=org.rep_a, survey=survey)
    template = messaging.template_create(
        actor=org.rep_a,
        data={
            "name": "回访",
            "channel": "email",
            "subject_zh": "{{name}}，送您一张券",
            "body_zh": "券码 {{coupon_code}}，填问卷：{{survey_link}}",
        },
    )
    launch(org, segment, template, coupon=coupon.pk, survey=survey.pk)
    sent = {rcpt[0]: mail.get_body(("plain",)).get_content() for rcpt, mail in smtp.messages}
    assert set(sent) == {"xiaoming@example.com", "lina@example.com"}
    for customer in (people["ok"], people["ok2"]):
        code = Coupon.objects.get(customer=customer, definition=coupon).code
        invitation = Invitation.objects.get(customer=customer, survey=survey)
        text = sent[customer.email]
        assert f"券码 {code}" in text and invitation_url(invitation) in text
    assert Coupon.objects.filter(definition=coupon).count() == 2  # none for who was held back
