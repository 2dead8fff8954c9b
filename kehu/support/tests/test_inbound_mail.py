"""Inbound e-mail through real mailboxes: real RFC 5322 messages delivered into a Maildir under tmp_path, and
into a real IMAP server on localhost (pymap, a pure-Python IMAP server, a test dependency), fetched by
`mail_fetch` as the worker does every minute."""

import imaplib
import logging
import mailbox
import socket
import subprocess
import sys
import time
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from kehu.activities.models import Notification
from kehu.activities.tests.conftest import free_port
from kehu.customers.services import contact_create
from kehu.support import services
from kehu.support.inbound_mail import MailSourceError, mail_fetch, without_quote
from kehu.support.models import Channel, RoutingRule, Ticket, TicketAttachment, TicketEvent
from kehu.support.tests.conftest import at

S = Ticket.Status
SUPPORT = "kf@kehu.test"


class Maildir:
    """A real Maildir: deliver into new/ as a mail server does, and see what was left there or moved to cur/."""

    def __init__(self, path: Path):
        self.path = path
        self.box = mailbox.Maildir(path, create=True)

    def deliver(self, message: EmailMessage | bytes) -> None:
        self.box.add(message if isinstance(message, bytes) else message.as_bytes())

    def waiting(self) -> list[str]:
        return sorted(p.name for p in (self.path / "new").iterdir())

    def read(self) -> list[str]:
        return sorted(p.name for p in (self.path / "cur").iterdir())


@pytest.fixture
def maildir(settings, tmp_path):
    """A Maildir the service desk reads; nothing else configured."""
    inbox = Maildir(tmp_path / "Maildir")
    settings.KEHU = {
        **settings.KEHU,
        "SUPPORT_MAILDIR": str(inbox.path),
        "SUPPORT_IMAP_URL": "",
        "SUPPORT_EMAIL": f"客服中心 <{SUPPORT}>",
    }
    return inbox


@pytest.fixture
def email_rule(desk):
    """Mail goes to team A's 吴客服."""
    return RoutingRule.objects.create(
        name="邮件",
        channel=Channel.EMAIL,
        team=desk.team_a,
        method=RoutingRule.Method.FIXED,
        assignee=desk.agent_a,
    )


def letter(
    body="您好，收到的货物有破损，请处理。",
    *,
    subject="收到的货物破损",
    sender="张经理 <zhang@yuanhang.test>",
    **headers,
) -> EmailMessage:
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = SUPPORT
    if subject:
        message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="yuanhang.test")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def inbound(ticket: Ticket) -> TicketEvent:
    return ticket.events.get(kind=TicketEvent.Kind.INBOUND)


# --- new tickets --------------------------------------------------------------------------------------------------


def test_new_mail_opens_a_routed_ticket_for_the_customer_of_the_contact_who_wrote(desk, maildir, email_rule):
    """Given a contact of a customer with this address and a rule for e-mail, when their mail is fetched, then a
    ticket on the e-mail channel is open for that customer and contact, routed by the rule, its Message-ID on
    the timeline, and the message is moved to cur/ as seen."""
    contact = contact_create(
        actor=desk.admin, customer=desk.customer, data={"name": "张经理", "email": "Zhang@YuanHang.test"}
    )
    message = letter()
    maildir.deliver(message)

    assert mail_fetch(now=at("2026-11-23 09:00")) == 1

    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.subject) == (Channel.EMAIL, "收到的货物破损")
    assert ticket.description == "您好，收到的货物有破损，请处理。"
    assert (ticket.customer, ticket.contact) == (desk.customer, contact)
    assert (ticket.team, ticket.assignee, ticket.status) == (desk.team_a, desk.agent_a, S.ASSIGNED)
    assert ticket.number == "T20261123-0001"
    opened = ticket.events.get(kind=TicketEvent.Kind.CREATED)
    assert opened.message_id == message["Message-ID"]
    assert opened.data["from"] == "张经理 <zhang@yuanhang.test>"
    assert Notification.objects.filter(recipient=desk.agent_a, kind="ticket_assigned").exists()
    assert maildir.waiting() == []
    assert [name.rsplit(":2,", 1)[1] for name in maildir.read()] == ["S"]


def test_mail_from_an_unknown_address_keeps_the_sender_as_requester_and_reads_html(desk, maildir):
    """Given an HTML-only mail from an address no customer has, when fetched, then the ticket has no customer,
    the sender is its requester and the description is the HTML's text."""
    message = letter(sender="王女士 <wang@example.com>", subject="订单没收到")
    message.set_content(
        "<html><head><style>p { color: red }</style></head><body><p>订单 <b>SO20261120-0007</b> 还没收到</p>"
        "<p>谢谢&amp;再见</p><script>alert(1)</script></body></html>",
        subtype="html",
    )
    maildir.deliver(message)

    assert mail_fetch() == 1

    ticket = Ticket.objects.get()
    assert ticket.customer is None and ticket.contact is None
    assert (ticket.requester_name, ticket.requester_email) == ("王女士", "wang@example.com")
    assert ticket.description == "订单 SO20261120-0007 还没收到\n\n谢谢&再见"


def test_an_address_two_customers_share_matches_neither(desk, maildir, make_customer):
    """Given the customer's address is also a contact's at another customer, when mail comes from it, then the
    ticket names no customer (a guess could show one customer's complaint to another's rep)."""
    other = make_customer(desk.admin, name="上海远航物流")
    contact_create(actor=desk.admin, customer=other, data={"name": "前台", "email": "service@yuanhang.test"})
    maildir.deliver(letter(sender="service@yuanhang.test"))

    assert mail_fetch() == 1

    ticket = Ticket.objects.get()
    assert ticket.customer is None and ticket.requester_email == "service@yuanhang.test"


def test_gbk_mail_is_decoded_and_its_attachment_stored(desk, maildir, settings):
    """Given a mail as Chinese clients send it (GBK encoded words in From and Subject, a body labelled GB2312
    that holds a GBK-only character) with a PDF and an .exe attached, when fetched, then subject, name and body
    read right, the PDF is stored on the ticket and the .exe is listed as skipped."""
    message = EmailMessage()
    message["To"] = SUPPORT
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content("张喆您好：\n包装破损，照片见附件。", charset="gbk")
    message.set_param("charset", "gb2312")
    message.add_attachment(b"%PDF-1.4 photo", maintype="application", subtype="pdf", filename="破损照片.pdf")
    message.add_attachment(
        b"MZ\x90\x00", maintype="application", subtype="octet-stream", filename="setup.exe"
    )
    # Foxmail and 163 Mail write these headers as GBK encoded words; EmailMessage would write UTF-8 ones.
    raw = (
        b"From: " + Header("李四", "gbk").encode().encode() + b" <li@example.com>\n"
        b"Subject: " + Header("货物破损，要求退货", "gbk").encode().encode() + b"\n" + message.as_bytes()
    )
    assert b"=?gbk?" in raw
    maildir.deliver(raw)

    assert mail_fetch() == 1

    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.requester_name) == ("货物破损，要求退货", "李四")
    assert ticket.description == "张喆您好：\n包装破损，照片见附件。"
    (attachment,) = TicketAttachment.objects.filter(event__ticket=ticket)
    assert (attachment.name, attachment.size, attachment.content_type) == (
        "破损照片.pdf",
        14,
        "application/pdf",
    )
    with attachment.file.open("rb") as stored:
        assert stored.read() == b"%PDF-1.4 photo"
    opened = attachment.event
    assert opened.kind == TicketEvent.Kind.CREATED
    assert [item["name"] for item in opened.data["skipped_attachments"]] == ["setup.exe"]


# --- answers ------------------------------------------------------------------------------------------------------


def test_an_answer_by_number_resumes_a_waiting_ticket_and_ends_its_pause(desk, maildir, email_rule):
    """Given a mailed ticket waiting on the customer since Monday 10:00, when their answer with the number in
    the subject is fetched on Tuesday 10:00, then it is on the ticket without the quoted original, the ticket is
    in progress again, the nine working hours of waiting are added to the pause and the assignee is told."""
    maildir.deliver(letter())
    mail_fetch(now=at("2026-11-23 09:00"))
    ticket = Ticket.objects.get()
    services.ticket_reply(actor=desk.agent_a, ticket=ticket, body="请补充照片。", now=at("2026-11-23 09:30"))
    services.ticket_transition(
        actor=desk.agent_a, ticket=ticket, status=S.WAITING, now=at("2026-11-23 10:00")
    )
    answer = letter(
        "照片已补充。\n\n在 2026年11月23日 09:30，客服中心 <kf@kehu.test> 写道：\n> 请补充照片。\n",
        subject=f"回复：[{ticket.number}] 收到的货物破损",
    )
    maildir.deliver(answer)

    assert mail_fetch(now=at("2026-11-24 10:00")) == 1

    ticket.refresh_from_db()
    assert (ticket.status, ticket.paused_at, ticket.paused_seconds) == (S.IN_PROGRESS, None, 9 * 3600)
    event = inbound(ticket)
    assert (event.body, event.public, event.author) == ("照片已补充。", True, None)
    assert event.message_id == answer["Message-ID"]
    assert event.data["from"] == "张经理 <zhang@yuanhang.test>"
    assert Ticket.objects.count() == 1
    assert Notification.objects.filter(recipient=desk.agent_a, kind="ticket_customer_replied").exists()


def test_an_answer_to_our_reply_reopens_a_resolved_ticket(desk, maildir, email_rule):
    """Given a resolved ticket, when the customer answers our reply (In-Reply-To its Message-ID, a subject
    without the number), then the ticket is reopened: in progress, counted, its resolve cleared."""
    maildir.deliver(letter())
    mail_fetch(now=at("2026-11-23 09:00"))
    ticket = Ticket.objects.get()
    reply = services.ticket_reply(actor=desk.agent_a, ticket=ticket, body="已为您补发。")
    services.ticket_transition(actor=desk.agent_a, ticket=ticket, status=S.RESOLVED, resolution="补发")
    maildir.deliver(letter("补发的也坏了。", subject="Re: 已为您补发", In_Reply_To=reply.message_id))

    assert mail_fetch() == 1

    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count, ticket.resolved_at) == (S.IN_PROGRESS, 1, None)
    status = ticket.events.filter(kind=TicketEvent.Kind.STATUS).last()
    assert status.data == {"from": S.RESOLVED, "to": S.IN_PROGRESS, "reopened": True}
    assert inbound(ticket).body == "补发的也坏了。"


def test_a_bracketed_word_that_is_no_ticket_number_opens_a_new_ticket(desk, maildir):
    """Given a subject like "[紧急] …", when fetched, then it opens a ticket of its own."""
    maildir.deliver(letter(subject="[紧急] 发票开错了"))

    assert mail_fetch() == 1

    assert Ticket.objects.get().subject == "[紧急] 发票开错了"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("好的。\n\n-----Original Message-----\nFrom: 客服中心", "好的。"),
        ("收到\n------------------ 原始邮件 ------------------\n发件人: 客服中心", "收到"),
        ("谢谢\n\nOn Mon, Nov 23, 2026 at 9:30 AM 客服中心 <kf@kehu.test> wrote:\n> 您好", "谢谢"),
        ("在说明书上写道：\n不可水洗，但没洗也坏了。", "在说明书上写道：\n不可水洗，但没洗也坏了。"),
        ("> 只有引用", "> 只有引用"),
    ],
)
def test_an_answer_loses_the_original_it_quotes_and_nothing_else(text, kept):
    """The timeline keeps what the customer wrote this time, not the whole thread again."""
    assert without_quote(text) == kept


# --- nothing twice, nothing lost ----------------------------------------------------------------------------------


def test_a_message_delivered_again_is_stored_once(desk, maildir):
    """Given a message already fetched, when the same message arrives again (a second delivery, or a pass that
    died before marking it), then the next pass marks it done and stores nothing."""
    message = letter()
    maildir.deliver(message)
    assert mail_fetch() == 1
    maildir.deliver(message)
    maildir.deliver(message)

    assert mail_fetch() == 2

    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.filter(message_id=message["Message-ID"]).count() == 1
    assert maildir.waiting() == [] and len(maildir.read()) == 3
    assert mail_fetch() == 0


def test_auto_replies_bounces_and_our_own_mail_are_marked_done_without_a_ticket(desk, maildir, caplog):
    """Given an out-of-office reply, a bulk mail, a bounce and a copy of our own mail, when fetched, then
    each is logged and marked done and no ticket is opened (no loop with an auto-responder)."""
    maildir.deliver(letter("我正在休假。", subject="自动回复：收到的货物破损", Auto_Submitted="auto-replied"))
    maildir.deliver(letter("双十一大促！", Precedence="bulk"))
    maildir.deliver(letter("Delivery failed.", sender="MAILER-DAEMON@mx.example.com"))
    maildir.deliver(letter("已为您补发。", sender=f"客服中心 <{SUPPORT.upper()}>"))

    with caplog.at_level(logging.INFO, logger="kehu.support.inbound_mail"):
        assert mail_fetch() == 4

    assert not Ticket.objects.exists()
    assert maildir.waiting() == []
    reasons = [record.reason for record in caplog.records if record.msg == "support.mail_ignored"]
    assert reasons == ["auto-submitted: auto-replied", "precedence: bulk", "bounce", "from our own address"]


def test_mail_without_a_sender_or_that_cannot_be_stored_stays_unread(db, maildir, caplog):
    """Given a message without a From address, and one that cannot become a ticket yet (there is no org unit to
    give it to), when fetched, then both are logged and stay in new/ for a person; nothing is stored."""
    maildir.deliver(letter(sender=""))
    maildir.deliver(letter(sender="王女士 <wang@example.com>"))

    with caplog.at_level(logging.INFO, logger="kehu.support.inbound_mail"):
        assert mail_fetch() == 0

    assert not Ticket.objects.exists() and not TicketEvent.objects.exists()
    assert len(maildir.waiting()) == 2
    assert sorted(record.msg for record in caplog.records) == [
        "support.mail_failed",
        "support.mail_without_sender",
    ]


def test_nothing_is_fetched_when_no_mailbox_is_set(settings, db):
    """Inbound e-mail is off until a mailbox is set: the worker's pass returns at once."""
    settings.KEHU = {**settings.KEHU, "SUPPORT_MAILDIR": "", "SUPPORT_IMAP_URL": ""}

    assert mail_fetch() == 0


def test_a_missing_maildir_stops_the_pass_with_the_reason(settings, tmp_path, db):
    """A mistyped path fails the job with the path in the reason, rather than passing quietly."""
    settings.KEHU = {**settings.KEHU, "SUPPORT_MAILDIR": str(tmp_path / "nowhere"), "SUPPORT_IMAP_URL": ""}

    with pytest.raises(MailSourceError, match="nowhere"):
        mail_fetch()


# --- the operator's command ---------------------------------------------------------------------------------------


def test_the_fetch_mail_command_runs_one_pass_and_says_how_many(desk, maildir, settings):
    """`kehu fetch_mail` runs one pass and prints the count; without a mailbox set it fails saying so."""
    maildir.deliver(letter())
    maildir.deliver(letter("另一件事", subject="发票"))
    out = StringIO()

    call_command("fetch_mail", stdout=out)

    assert "2" in out.getvalue()
    assert Ticket.objects.count() == 2
    settings.KEHU = {**settings.KEHU, "SUPPORT_MAILDIR": ""}
    with pytest.raises(CommandError):
        call_command("fetch_mail", stdout=out)


# --- a real IMAP server -------------------------------------------------------------------------------------------


@pytest.fixture
def imap(settings, tmp_path):
    """A real IMAP server on localhost (pymap's in-memory backend, in a process of its own) that the desk reads,
    and a client logged in to it to deliver and inspect mail."""
    port = free_port()
    command = [sys.executable, "-c", "from pymap.main import main; main()", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-tls", "dict", "--demo-user", "kf", "--demo-password", "secret"]
    with (tmp_path / "pymap.log").open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 - a local test server
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                server.wait()
                pytest.fail("pymap did not start: " + (tmp_path / "pymap.log").read_text())
            time.sleep(0.05)
    client = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    client.login("kf", "secret")
    client.select("INBOX")
    settings.KEHU = {
        **settings.KEHU,
        "SUPPORT_IMAP_URL": f"imap://kf:secret@127.0.0.1:{port}/INBOX",
        "SUPPORT_MAILDIR": "",
        "SUPPORT_EMAIL": SUPPORT,
    }
    yield SimpleNamespace(client=client, port=port)
    client.logout()
    server.terminate()
    server.wait(timeout=10)


def unseen(client: imaplib.IMAP4) -> list[bytes]:
    client.noop()
    status, found = client.uid("SEARCH", None, "UNSEEN")
    assert status == "OK"
    return found[0].split()


def test_imap_unseen_mail_becomes_tickets_and_answers_thread_then_all_is_flagged_seen(desk, imap, email_rule):
    """Given an IMAP inbox with an already read message, a new one and an auto-reply, when the pass runs, then
    only the new one opens a ticket and both unseen ones are flagged \\Seen; an answer by number appended later
    joins that ticket."""
    imap.client.append("INBOX", r"(\Seen)", None, letter("早已处理。", subject="旧邮件").as_bytes())
    imap.client.append("INBOX", None, None, letter(sender="远航客服 <service@yuanhang.test>").as_bytes())
    imap.client.append("INBOX", None, None, letter("休假中", Auto_Submitted="auto-replied").as_bytes())

    assert mail_fetch(now=at("2026-11-23 09:00")) == 2

    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.customer, ticket.assignee) == (
        "收到的货物破损",
        desk.customer,
        desk.agent_a,
    )
    assert unseen(imap.client) == []
    imap.client.append(
        "INBOX", None, None, letter("补充：外箱也压坏了。", subject=f"Re: [{ticket.number}]").as_bytes()
    )

    assert mail_fetch(now=at("2026-11-23 11:00")) == 1

    assert inbound(ticket).body == "补充：外箱也压坏了。"
    assert Ticket.objects.count() == 1 and unseen(imap.client) == []


def test_imap_with_a_wrong_password_stops_the_pass_and_leaves_the_mail_unread(desk, imap, settings):
    """A refused login fails the job with the server named; the mail stays unseen for the next pass."""
    imap.client.append("INBOX", None, None, letter().as_bytes())
    settings.KEHU = {**settings.KEHU, "SUPPORT_IMAP_URL": f"imap://kf:wrong@127.0.0.1:{imap.port}/INBOX"}

    with pytest.raises(MailSourceError, match=r"127\.0\.0\.1"):
        mail_fetch()

    assert len(unseen(imap.client)) == 1 and not Ticket.objects.exists()
