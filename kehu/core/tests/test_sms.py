"""Text messages: billed segments, template rules, the number check, the per-number daily cap, and delivery
through the file backend by the worker's job."""

import datetime
import json

import pytest

from kehu.core import sms
from kehu.core.admin import SmsTemplateForm
from kehu.core.exceptions import ValidationFailed
from kehu.core.models import SmsMessage, SmsTemplate
from kehu.core.tasks import sms_deliver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    settings.KEHU = {
        **settings.KEHU,
        "SMS_FILE_DIR": str(tmp_path),
        "SMS_SIGNATURE": "远航",
        "SMS_DAILY_CAP": 3,
    }
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    sms.purpose_register("test_notice", "test", ("number", "link"))
    yield tmp_path
    sms.PURPOSES.pop("test_notice", None)


@pytest.fixture
def template():
    return SmsTemplate.objects.create(
        purpose="test_notice", name="通知", code="SMS_100200300", text="您的工单${number}有新进展：${link}"
    )


@pytest.mark.parametrize(
    ("length", "parts"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (500, 8)], ids=lambda v: str(v)
)
def test_a_message_is_billed_as_one_part_up_to_70_characters_then_in_parts_of_67(length, parts):
    assert sms.segments("字" * length) == parts
    assert sms.segments("a" * length) == parts  # every character counts one, Chinese or Latin


def test_the_signature_counts_towards_the_length():
    text = sms.signed("字" * 66)
    assert text == "【远航】" + "字" * 66 and len(text) == 70 and sms.segments(text) == 1
    assert sms.segments(sms.signed("字" * 67)) == 2


def test_template_rules_promotions_carry_no_variables_and_only_known_ones_are_used():
    assert sms.template_problems(purpose="test_notice", kind="notice", text="工单${number}：${link}") == {}
    assert "text" in sms.template_problems(purpose="test_notice", kind="promotion", text="双十一${number}折")
    assert (
        sms.template_problems(purpose="test_notice", kind="promotion", text="双十一全场包邮，回T退订") == {}
    )
    unknown = sms.template_problems(purpose="test_notice", kind="notice", text="亲爱的${name}")
    assert "${number}" in unknown["text"] and "name" in unknown["text"]
    assert "purpose" in sms.template_problems(purpose="nothing", kind="notice", text="好")


def test_the_admin_form_refuses_a_promotion_with_a_variable():
    form = SmsTemplateForm(
        data={
            "purpose": "test_notice",
            "name": "促销",
            "code": "SMS_1",
            "kind": "promotion",
            "text": "${link}",
        }
    )
    assert not form.is_valid() and "text" in form.errors


def test_a_message_is_rendered_stored_and_then_handed_to_the_backend_once(
    template, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = sms.sms_send(
            phone="+86 138-0013-8000",
            purpose="test_notice",
            params={"number": "T1", "link": "https://k.test/s/ab"},
        )
    message.refresh_from_db()
    assert message.phone == "13800138000" and message.status == SmsMessage.Status.SENT
    assert message.text == "【远航】您的工单T1有新进展：https://k.test/s/ab" and message.segments == 1
    (line,) = [json.loads(raw) for raw in next(outbox.glob("outbox-*.jsonl")).read_text().splitlines()]
    assert line["template_code"] == "SMS_100200300" and line["signature"] == "远航"
    assert (
        line["params"] == {"number": "T1", "link": "https://k.test/s/ab"}
        and line["id"] == message.provider_id
    )
    assert sms_deliver.call(message.pk) is False  # already handed over: never twice
    assert len(sms.outbox()) == 1


@pytest.mark.parametrize("phone", ["", "010-88886666", "1380013800", "23800138000", "abc"])
def test_only_a_mainland_mobile_number_is_texted(template, phone):
    with pytest.raises(ValidationFailed) as refused:
        sms.sms_send(phone=phone, purpose="test_notice", params={})
    assert "不是中国大陆手机号" in str(refused.value.fields["phone"])
    assert not SmsMessage.objects.exists()


def test_without_an_approved_template_nothing_is_sent():
    with pytest.raises(ValidationFailed) as refused:
        sms.sms_send(phone="13800138000", purpose="test_notice", params={})
    assert "未设置" in str(refused.value.message)


def test_a_number_gets_at_most_the_daily_cap_and_again_the_next_day(template):
    day = datetime.datetime(2026, 11, 23, 23, 0, tzinfo=datetime.UTC)  # 07:00 on the 24th in Shanghai
    for _ in range(3):
        sms.sms_send(phone="13800138000", purpose="test_notice", params={}, now=day)
    with pytest.raises(ValidationFailed) as refused:
        sms.sms_send(phone="13800138000", purpose="test_notice", params={}, now=day)
    assert "今天已收到 3 条" in str(refused.value.fields["phone"])
    sms.sms_send(phone="13900139000", purpose="test_notice", params={}, now=day)  # another number
    SmsMessage.objects.filter(phone="13800138000").update(status=SmsMessage.Status.FAILED)
    sms.sms_send(phone="13800138000", purpose="test_notice", params={}, now=day)  # failed ones do not count
    tomorrow = day + datetime.timedelta(hours=17)  # 00:00 on the 25th in Shanghai
    for _ in range(3):
        sms.sms_send(phone="13900139000", purpose="test_notice", params={}, now=tomorrow)


def test_a_provider_refusal_marks_the_message_failed_with_its_reason(
    template, settings, django_capture_on_commit_callbacks
):
    settings.KEHU = {**settings.KEHU, "SMS_BACKEND": "kehu.core.tests.test_sms.RefusingBackend"}
    with django_capture_on_commit_callbacks(execute=True):
        message = sms.sms_send(
            phone="13800138000", purpose="test_notice", params={"number": "1", "link": "x"}
        )
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.FAILED and message.error == "isv.BUSINESS_LIMIT_CONTROL"


class RefusingBackend(sms.Backend):
    """A provider answering as Aliyun does when its own per-number limit is hit."""

    def send(self, message):
        raise sms.SmsError("isv.BUSINESS_LIMIT_CONTROL")


def test_a_text_too_long_for_any_provider_is_refused(template):
    with pytest.raises(ValidationFailed) as refused:
        sms.sms_send(phone="13800138000", purpose="test_notice", params={"number": "长" * 600, "link": ""})
    assert "500" in str(refused.value.message)
