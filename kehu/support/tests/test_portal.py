"""The complainant's side: the acknowledgement and rating mails through a real SMTP server, the status page
reached by its link (public items only, nothing of other customers), adding information there, the rating
link (once per ticket, expiring), and the return visit planned after a close."""

import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kehu.activities.models import Notification, Task
from kehu.core.exceptions import Conflict, ValidationFailed
from kehu.support import links, portal, services
from kehu.support.models import FollowUp, Rating, SlaPolicy, Ticket, TicketEvent, TicketType
from kehu.support.tests.conftest import at

S = Ticket.Status
LINK = re.compile(r"http://testserver(/s/\S+)")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.KEHU = {**settings.KEHU, "SITE_URL": "http://testserver"}


def open_ticket(desk, now="2026-11-23 09:00", **data):
    data.setdefault("subject", "收到的货物破损")
    data.setdefault("ticket_type", TicketType.COMPLAINT)
    data.setdefault("customer", desk.customer)
    return services.ticket_create(
        actor=desk.admin, data=data, team=desk.team_a, assignee=desk.agent_a, now=at(now)
    )


def to_customer(smtp) -> list:
    """Mail to the complainant (colleagues get notification mail through the same server)."""
    return [message for recipients, message in smtp.messages if recipients == ["service@yuanhang.test"]]


def path_of(url: str) -> str:
    return urlsplit(url).path


def signed_days_ago(ticket: Ticket, purpose: str, days: int) -> str:
    """A real link as it was issued `days` ago."""

    class Then(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - days * 86400)

    return Then(salt=purpose).sign_object({"t": ticket.pk, "n": ticket.number})


def resolve(desk, ticket, now="2026-11-23 15:00"):
    return services.ticket_transition(
        actor=desk.agent_a, ticket=ticket, status=S.RESOLVED, resolution="已补发新品", now=at(now)
    )


# --- mail and the status page ---------------------------------------------------------------------------------


def test_the_complainant_is_mailed_their_number_and_a_status_link_that_opens_their_ticket(
    desk, smtp, django_capture_on_commit_callbacks
):
    SlaPolicy.objects.create(name="标准", first_response_minutes=120, resolution_minutes=960)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(desk, description="外箱压坏，杯子碎了两个")
    (message,) = to_customer(smtp)
    assert message["Subject"] == f"[{ticket.number}] 收到的货物破损"
    text = message.get_content()
    assert ticket.number in text and "2 个工作小时内答复" in text
    page = Client().get(LINK.search(text).group(1))
    assert page.status_code == 200
    html = page.content.decode()
    assert ticket.number in html and "外箱压坏，杯子碎了两个" in html
    assert "2 个工作小时内答复" in html and "2026-11-23 11:00" in html  # the commitment and when it falls due


def test_the_status_page_shows_public_items_only_and_nothing_of_other_customers(desk, make_customer):
    ticket = open_ticket(desk)
    services.ticket_note(actor=desk.agent_a, ticket=ticket, body="内部：客户是老客户，可以多补偿")
    services.ticket_reply(actor=desk.agent_a, ticket=ticket, body="您好，新品今天发出。", by_email=False)
    other = open_ticket(desk, customer=make_customer(desk.rep_a, name="别家公司"), subject="别家的投诉")
    services.ticket_note(actor=desk.agent_a, ticket=other, body="别家的内部备注")
    html = Client().get(path_of(links.status_url(ticket))).content.decode()
    assert "新品今天发出" in html
    assert "内部" not in html and "可以多补偿" not in html  # internal note
    assert "别家" not in html and other.number not in html
    assert desk.team_a.name not in html  # assignment events stay inside
    assert "郑组长" not in html


def test_forged_moved_and_expired_links_do_not_open_the_ticket(desk):
    ticket = open_ticket(desk)
    other = open_ticket(desk, subject="另一张")
    token = path_of(links.status_url(ticket)).split("/")[2]
    client = Client()
    assert client.get(f"/s/{token[:-2]}xx/").status_code == 404
    moved = signing.TimestampSigner(salt="wrong").sign_object({"t": other.pk, "n": other.number})
    assert client.get(f"/s/{moved}/").status_code == 404
    rating_token = path_of(links.rating_url(ticket)).split("/")[3]
    assert client.get(f"/s/{rating_token}/").status_code == 404  # a rating link is not a status link
    stale = signed_days_ago(ticket, links.STATUS, days=31)
    page = client.get(f"/s/{stale}/")
    assert page.status_code == 410 and "链接已过期" in page.content.decode()
    assert client.get(f"/s/{signed_days_ago(ticket, links.STATUS, days=29)}/").status_code == 200
    ticket.delete()
    assert client.get(f"/s/{token}/").status_code == 404


def test_adding_information_resumes_a_waiting_ticket_and_its_files_are_downloadable(desk):
    ticket = open_ticket(desk)
    services.ticket_transition(
        actor=desk.agent_a, ticket=ticket, status=S.WAITING, now=at("2026-11-23 10:00")
    )
    services.ticket_note(actor=desk.agent_a, ticket=ticket, body="内部")
    url = path_of(links.status_url(ticket))
    photo = SimpleUploadedFile("破损.jpg", b"\xff\xd8\xff jpeg bytes", content_type="image/jpeg")
    response = Client().post(url, {"body": "补充照片，请查收", "files": [photo]})
    assert response.status_code == 302 and response["Location"].endswith("?sent=1")
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS and ticket.paused_at is None
    message = ticket.events.get(kind=TicketEvent.Kind.INBOUND)
    assert message.public and message.body == "补充照片，请查收"
    (attachment,) = message.attachments.all()
    download = Client().get(f"{url}files/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"\xff\xd8\xff jpeg bytes"
    assert Notification.objects.filter(recipient=desk.agent_a, kind="ticket_customer_replied").exists()


def test_attachments_of_internal_items_and_of_other_tickets_are_not_served(desk):
    ticket = open_ticket(desk)
    other = open_ticket(desk, subject="另一张")
    services.ticket_receive(
        ticket=other,
        body="别人的",
        uploads=[SimpleUploadedFile("a.pdf", b"%PDF", content_type="application/pdf")],
    )
    foreign = other.events.get(kind=TicketEvent.Kind.INBOUND).attachments.get()
    note = services.ticket_note(actor=desk.agent_a, ticket=ticket, body="内部附件")
    internal = note.attachments.create(
        file=SimpleUploadedFile("内部.pdf", b"%PDF"), name="内部.pdf", size=4, content_type="application/pdf"
    )
    url = path_of(links.status_url(ticket))
    assert Client().get(f"{url}files/{foreign.pk}/").status_code == 404
    assert Client().get(f"{url}files/{internal.pk}/").status_code == 404


def test_an_empty_message_or_a_forbidden_file_is_refused_with_the_reason(desk):
    ticket = open_ticket(desk)
    url = path_of(links.status_url(ticket))
    page = Client().post(url, {"body": "  "})
    assert page.status_code == 200 and "请写下留言或附上文件。" in page.content.decode()
    bad = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    page = Client().post(url, {"body": "看附件", "files": [bad]})
    assert "不允许上传 .exe 类型的文件。" in page.content.decode()
    assert not ticket.events.filter(kind=TicketEvent.Kind.INBOUND).exists()


def test_writing_on_a_resolved_ticket_reopens_it(desk):
    ticket = resolve(desk, open_ticket(desk))
    services.ticket_receive(ticket=ticket, body="问题又出现了")
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS and ticket.reopen_count == 1 and ticket.resolved_at is None


# --- rating -------------------------------------------------------------------------------------------------------


def test_a_resolve_mails_the_rating_link_which_takes_one_answer(
    desk, smtp, django_capture_on_commit_callbacks
):
    ticket = open_ticket(desk)
    smtp.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        resolve(desk, ticket)
    (message,) = to_customer(smtp)
    assert (
        message["Subject"].strip() == f"[{ticket.number}] 您对我们的服务满意吗？"
    )  # folded: parsed with a lead space
    url = LINK.search(message.get_content()).group(1)
    client = Client()
    question = client.get(url + "?score=5")
    assert question.status_code == 200 and not Rating.objects.exists()  # following the link answers nothing
    answer = client.post(url, {"score": "5", "comment": "处理很快"})
    assert answer.status_code == 200 and "您的评分：5 分" in answer.content.decode()
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment, rating.agent, rating.team) == (
        5,
        "处理很快",
        desk.agent_a,
        desk.team_a,
    )
    assert rating.fully_satisfied
    again = client.post(url, {"score": "1"})
    assert "已评价过" in again.content.decode()
    assert Rating.objects.get(ticket=ticket).score == 5
    assert portal.rating_request_send(ticket_id=ticket.pk) is False  # answered: never asked again


def test_a_low_score_tells_the_assignee_and_the_team_lead(desk):
    ticket = resolve(desk, open_ticket(desk))
    portal.rating_submit(ticket=ticket, score=2, comment="太慢了")
    assert Notification.objects.filter(kind="ticket_rated_low", recipient=desk.agent_a).exists()
    assert Notification.objects.filter(kind="ticket_rated_low", recipient=desk.lead_a).exists()
    assert ticket.events.get(kind=TicketEvent.Kind.RATING).data == {"score": 2}


def test_rating_refuses_bad_scores_reopened_tickets_and_expired_links(desk):
    ticket = resolve(desk, open_ticket(desk))
    with pytest.raises(ValidationFailed):
        portal.rating_submit(ticket=ticket, score=6)
    stale = signed_days_ago(ticket, links.RATING, days=8)
    assert Client().post(f"/s/rate/{stale}/", {"score": "5"}).status_code == 410
    ticket = services.ticket_transition(actor=desk.agent_a, ticket=ticket, status=S.IN_PROGRESS)
    with pytest.raises(Conflict):
        portal.rating_submit(ticket=ticket, score=4)
    page = Client().post(path_of(links.rating_url(ticket)), {"score": "4"})
    assert page.status_code == 400 and not Rating.objects.exists()


# --- return visit -------------------------------------------------------------------------------------------------


def test_closing_a_complaint_plans_one_return_visit_for_the_customers_owner(desk):
    ticket = resolve(desk, open_ticket(desk))
    services.ticket_transition(actor=desk.agent_a, ticket=ticket, status=S.CLOSED, now=at("2026-11-24 10:00"))
    visit = FollowUp.objects.get(ticket=ticket)
    assert visit.assignee == desk.rep_c  # owns the customer
    assert visit.due_at == at("2026-11-27 10:00")
    task = Task.objects.get(pk=visit.task_id)
    assert task.assignee == desk.rep_c and task.customer == desk.customer and ticket.number in task.title
    services.ticket_transition(actor=desk.agent_a, ticket=ticket, status=S.IN_PROGRESS)
    services.ticket_transition(actor=desk.agent_a, ticket=ticket, status=S.CLOSED)
    assert FollowUp.objects.filter(ticket=ticket).count() == 1  # the open visit stands


def test_questions_get_no_return_visit(desk):
    ticket = open_ticket(desk, ticket_type=TicketType.CONSULTATION)
    services.ticket_transition(actor=desk.agent_a, ticket=ticket, status=S.CLOSED, resolution="已解答")
    assert not FollowUp.objects.exists()


# --- text messages (a customer with a mobile number and no e-mail) ----------------------------------------------


@pytest.fixture
def texts(settings, tmp_path):
    """SMS through the file backend, with the provider's templates for the desk's three purposes."""
    from kehu.core.models import SmsTemplate

    settings.KEHU = {**settings.KEHU, "SMS_FILE_DIR": str(tmp_path), "SMS_SIGNATURE": "远航"}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    for purpose, code, text in (
        ("ticket_received", "SMS_1", "已收到您的问题，编号${number}，进度：${link}"),
        ("ticket_reply", "SMS_2", "您的问题${number}有新回复，请查看：${link}"),
        ("rating_request", "SMS_3", "您的问题${number}已解决，请评价：${link}"),
    ):
        SmsTemplate.objects.create(purpose=purpose, name=purpose, code=code, text=text)
    return tmp_path


def texted() -> list[dict]:
    from kehu.core.sms import outbox

    return outbox()


def test_without_e_mail_the_complainant_is_texted_the_number_reply_and_rating_links(
    desk, texts, make_customer, django_capture_on_commit_callbacks
):
    buyer = make_customer(desk.rep_c, name="王女士", kind="individual", phone="+86 139 0013 9000")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(desk, customer=buyer)
    (received,) = texted()
    assert received["phone"] == "13900139000" and received["template_code"] == "SMS_1"
    assert received["text"].startswith(f"【远航】已收到您的问题，编号{ticket.number}")

    with django_capture_on_commit_callbacks(execute=True):
        event = services.ticket_reply(
            actor=desk.agent_a, ticket=ticket, body="新品今天发出，单号SF123。", by_email=False, by_sms=True
        )
    reply = texted()[1]
    assert reply["template_code"] == "SMS_2" and event.data["sms_to"] == "13900139000"
    page = Client().get(path_of(reply["params"]["link"]))  # the link in the text opens the reply
    assert page.status_code == 200 and "新品今天发出，单号SF123。" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        resolve(desk, ticket)
    rating = texted()[2]
    assert rating["template_code"] == "SMS_3"
    answered = Client().post(path_of(rating["params"]["link"]), {"score": "5"})
    assert answered.status_code in (200, 302) and Rating.objects.get(ticket=ticket).score == 5


def test_a_reply_by_text_needs_a_mobile_and_a_template_and_leaves_nothing_when_refused(
    desk, texts, make_customer
):
    from kehu.core.models import SmsMessage, SmsTemplate

    landline = make_customer(desk.rep_c, name="李先生", kind="individual", phone="010-88886666")
    ticket = open_ticket(desk, customer=landline)
    with pytest.raises(ValidationFailed) as refused:
        services.ticket_reply(actor=desk.agent_a, ticket=ticket, body="您好", by_email=False, by_sms=True)
    assert "手机号" in str(refused.value.fields["body"])

    buyer = make_customer(desk.rep_c, name="赵女士", kind="individual", phone="13700137000")
    ticket = open_ticket(desk, customer=buyer)
    SmsTemplate.objects.filter(purpose="ticket_reply").update(active=False)
    with pytest.raises(ValidationFailed):
        services.ticket_reply(actor=desk.agent_a, ticket=ticket, body="您好", by_email=False, by_sms=True)
    assert not ticket.events.filter(kind=TicketEvent.Kind.REPLY).exists()  # the reply was not half-kept
    assert not SmsMessage.objects.filter(purpose="ticket_reply").exists()
