"""Demo marketing: birthdays and marketing consent for the individual customers, the approved SMS templates,
e-mail templates, a segment, and a campaign sent through the real pipeline (to a mail backend that discards, the
demo addresses being made up) with some recipients having opened and clicked."""

import datetime
import random

from django.test.utils import override_settings
from django.utils import timezone

from kehu.core.models import SmsTemplate
from kehu.customers.models import Customer
from kehu.marketing import campaigns, messaging
from kehu.marketing.automations import automation_create, automations_run
from kehu.marketing.models import Channel, Consent, Message, Suppression
from kehu.marketing.services import segment_create

SOURCES = ("门店登记", "官网注册", "淘宝会员入会", "电话回访时同意")


def marketing_for(rng: random.Random, *, org, now: datetime.datetime) -> None:
    manager = org.manager_of_region["华东大区"]
    individuals = list(Customer.objects.filter(kind=Customer.Kind.INDIVIDUAL).order_by("pk"))
    for customer in individuals:
        birthday = datetime.date(rng.randint(1965, 2003), rng.randint(1, 12), rng.randint(1, 28))
        Customer.objects.filter(pk=customer.pk).update(birthday=birthday)
    consents = []
    for customer in individuals:
        for channel, share in ((Channel.EMAIL, 0.6), (Channel.SMS, 0.5)):
            if rng.random() < share:
                at = now - datetime.timedelta(days=rng.randint(5, 400))
                consents.append(
                    Consent(
                        customer=customer,
                        channel=channel,
                        status="granted",
                        source=rng.choice(SOURCES),
                        at=at,
                    )
                )
    Consent.objects.bulk_create(consents)
    for address in ("tuiding@example.com", "bounced@example.com"):
        reason = Suppression.Reason.BOUNCED if "bounced" in address else Suppression.Reason.UNSUBSCRIBED
        Suppression.objects.create(channel=Channel.EMAIL, address=address, reason=reason)

    promotion = SmsTemplate.objects.create(
        purpose="marketing",
        kind=SmsTemplate.Kind.PROMOTION,
        name="双十一预热",
        code="SMS_482011",
        text="双十一会员专享：全场满300减50，11月1日起。拒收请回复R",
    )
    care = SmsTemplate.objects.create(
        purpose="care",
        kind=SmsTemplate.Kind.NOTICE,
        name="生日祝福",
        code="SMS_482012",
        text="${name}您好，祝您生日快乐！您的会员积分为${points}，生日当月下单双倍积分。",
    )
    birthday_text = messaging.template_create(
        actor=manager, data={"name": "生日祝福短信", "channel": Channel.SMS, "sms_template": care}
    )
    template = messaging.template_create(
        actor=manager,
        data={
            "name": "冬季新品上市",
            "channel": Channel.EMAIL,
            "subject_zh": "{{name}}，冬季新品已上架",
            "body_zh": "{{name}}您好：\n\n感谢您一直以来的支持。您上次购买的{{last_product}}用得还好吗？冬季新品已上架，"
            "会员下单享九折：https://shop.example.com/winter\n\n如不想再收到此类邮件，请点此退订：{{unsubscribe_link}}",
            "subject_en": "{{name}}, the winter collection is here",
            "body_en": "Hello {{name}},\n\nThank you for staying with us. Our winter collection is in, 10% off for "
            "members: https://shop.example.com/winter",
        },
    )
    segment = segment_create(
        actor=manager,
        data={
            "name": "华东个人客户",
            "description": "个人客户（网店买家与散客）",
            "rules": {"match": "all", "rules": [{"field": "kind", "op": "in", "value": ["individual"]}]},
        },
    )
    campaign = campaigns.campaign_create(
        actor=manager,
        data={
            "name": "冬季新品邮件",
            "goal": "老客户复购",
            "channel": Channel.EMAIL,
            "segments": [segment],
            "template": template,
            "attribution_days": 14,
        },
    )
    sent_at = timezone.localtime(now - datetime.timedelta(days=3)).replace(hour=10, minute=0)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        run = campaigns.run_start(campaign=campaign, actor=manager, now=sent_at)
        campaigns.run_process(run_id=run.pk, now=sent_at)
    for message in Message.objects.filter(campaign=campaign, status=Message.Status.SENT):
        if rng.random() < 0.45:
            messaging.message_opened(token=message.token)
            if rng.random() < 0.35:
                messaging.message_clicked(token=message.token)
    texts = messaging.template_create(
        actor=manager, data={"name": "双十一预热短信", "channel": Channel.SMS, "sms_template": promotion}
    )
    sms_campaign = campaigns.campaign_create(
        actor=manager,
        data={
            "name": "双十一预热短信",
            "goal": "网店老客户回购",
            "channel": Channel.SMS,
            "segments": [segment],
            "template": texts,
            "budget": "20.00",
            "attribution_days": 14,
        },
    )
    campaigns.run_start(campaign=sms_campaign, actor=manager, now=sent_at)
    campaigns.run_process(run_id=sms_campaign.runs.get().pk, now=sent_at)
    campaigns.campaign_create(
        actor=manager,
        data={
            "name": "双十二预告（草稿）",
            "channel": Channel.EMAIL,
            "segments": [segment],
            "template": template,
        },
    )
    automation_create(
        actor=manager,
        data={
            "name": "生日祝福",
            "trigger": "birthday",
            "channel": Channel.SMS,
            "template": birthday_text,
            "active": True,
        },
    )
    automation_create(
        actor=manager,
        data={
            "name": "春节问候",
            "trigger": "festival",
            "festival": "spring_festival",
            "days": 3,
            "channel": Channel.EMAIL,
            "template": template,
        },
    )
    automations_run(now=now)
