"""Inbound e-mail: the worker polls the service desk's mailbox, an IMAP folder (`KEHU_SUPPORT_IMAP_URL`) or a
Maildir that fetchmail or the local mail server delivers into (`KEHU_SUPPORT_MAILDIR`), and turns each new
message into a ticket, or into a message on the ticket it answers.

A message answers a ticket when its In-Reply-To or References name a Message-ID on the ticket's timeline (every
reply we mail carries one) or when its subject holds the ticket's number in brackets, as the subjects of our
mails do ("Re: [T20261124-0001] …"). It goes through `services.ticket_receive`, like a message left on the
status page: a ticket waiting on the customer resumes (its pause ends), a resolved or closed one is reopened,
the assignee is told. Any other message opens a ticket on the e-mail channel for the customer whose address,
or whose contact's address, it came from when exactly one customer has it; otherwise the sender is kept as
the requester. Routing rules apply as for any new ticket. Attachments the upload limits allow are stored on the
event; the others are listed on it as skipped.

Nothing is lost and nothing is stored twice:

- a message is marked done (IMAP: flagged \\Seen; Maildir: moved from new/ to cur/ with the S flag) only
  after what it became was committed. A pass that dies in between meets it again next time; its Message-ID is
  then on a timeline already and it is only marked done.
- auto-replies (Auto-Submitted, X-Autoreply, Precedence: auto_reply, bulk or junk, delivery reports,
  mailer-daemon) and mail from our own address (a loop) are logged and marked done without storing anything.
- a message without a usable From address, or one that cannot be parsed or stored, is logged and left
  unmarked: it stays unread in the mailbox for a person to deal with, and every pass tries it again.

Passes may overlap (several workers, or `kehu fetch_mail` beside the worker). Each message is stored in its own
transaction under a lock (a PostgreSQL advisory lock; on SQLite the IMMEDIATE transaction holds the write
lock), so the Message-ID check and the insert of two passes never interleave.
"""

import hashlib
import imaplib
import logging
import mailbox
import mimetypes
import os
import re
import ssl
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header
from email.message import EmailMessage
from email.utils import parseaddr
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities.services import upload_check
from kehu.core.exceptions import ValidationFailed
from kehu.core.text import normalise_email
from kehu.customers.selectors import customer_by_contact_point
from kehu.support import services
from kehu.support.models import Channel, Ticket, TicketEvent

logger = logging.getLogger(__name__)

IMAP_TIMEOUT = 60  # seconds a mailbox may take to answer before the pass gives up
LOCK_KEY = zlib.crc32(b"kehu.support.inbound_mail")  # the advisory lock that stores one message at a time
BRACKETED = re.compile(r"[\[【［]\s*([^\[\]【】［］\s]{1,32})\s*[\]】］]")
DEFAULT_NUMBER = re.compile(r"\bT\d{8}-\d{4,}\b")  # next_number("ticket") before anyone changes the pattern
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
GB_CHARSETS = {"gb2312", "gbk", "x-gbk", "cp936", "euc-cn", "csgb2312", "gb_2312-80", "x-euc-cn"}
AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk"}
DAEMONS = {"mailer-daemon", "postmaster"}
# Where a reply's quoted original starts: Outlook, QQ Mail, Foxmail, Gmail and Apple Mail, in English and Chinese
# (the "wrote:" lines name an address, so a sentence like "在说明书上写道：" is not taken for one).
QUOTE_START = re.compile(
    r"^\s*(-{2,}\s*(original message|原始邮件|forwarded message|转发的邮件|转发邮件)\s*-{2,}|_{10,}"
    r"|on .{1,200}@.{1,200} wrote:|在.{1,200}@.{1,200}写道\s*[:：])\s*$",
    re.IGNORECASE,
)


class MailSourceError(Exception):
    """The mailbox cannot be reached or opened (wrong address, password or folder): the pass stops."""


# --- sources ------------------------------------------------------------------------------------------------------


@dataclass
class Incoming:
    """A message as the mailbox holds it, and how to tell the mailbox it has been dealt with."""

    raw: bytes
    label: str  # where it is, for the log
    mark_done: Callable[[], None]


def configured() -> bool:
    return bool(settings.KEHU.get("SUPPORT_IMAP_URL") or settings.KEHU.get("SUPPORT_MAILDIR"))


def mail_sources() -> list[Iterator[Incoming]]:
    """The configured mailboxes, each read lazily: nothing connects before the pass iterates it."""
    sources = []
    if settings.KEHU.get("SUPPORT_IMAP_URL"):
        sources.append(imap_messages(settings.KEHU["SUPPORT_IMAP_URL"]))
    if settings.KEHU.get("SUPPORT_MAILDIR"):
        sources.append(maildir_messages(settings.KEHU["SUPPORT_MAILDIR"]))
    return sources


def _imap_folder(name: str) -> str:
    if name and not re.search(r'[\s"(){}%*\\]', name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_client(host: str, port: int | None, tls: bool) -> imaplib.IMAP4:
    """imaps:// speaks TLS from the start; imap:// starts TLS when the server offers it."""
    context = ssl.create_default_context()
    if tls:
        return imaplib.IMAP4_SSL(host, port or 993, ssl_context=context, timeout=IMAP_TIMEOUT)
    client = imaplib.IMAP4(host, port or 143, timeout=IMAP_TIMEOUT)
    if "STARTTLS" in client.capabilities:
        try:
            client.starttls(ssl_context=context)
        except (OSError, imaplib.IMAP4.error):
            client.shutdown()
            raise
    return client


def _imap_connect(url: str) -> imaplib.IMAP4:
    """Log in and open the folder the URL names. A new connection every pass: nothing stays open between passes
    to go stale."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise MailSourceError(_("KEHU_SUPPORT_IMAP_URL must look like imaps://user:password@host/INBOX."))
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    client = None
    try:
        client = _imap_client(parts.hostname, parts.port, parts.scheme == "imaps")
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        status, _detail = client.select(_imap_folder(folder))
        if status != "OK":
            raise imaplib.IMAP4.error(_("there is no folder %(folder)s") % {"folder": folder})
    except (OSError, imaplib.IMAP4.error) as error:
        if client is not None:
            with suppress(OSError):
                client.shutdown()
        raise MailSourceError(
            _("The mailbox at %(host)s cannot be read: %(error)s") % {"host": parts.hostname, "error": error}
        ) from error
    return client


def imap_messages(url: str) -> Iterator[Incoming]:
    """Unseen messages of an IMAP folder, read with BODY.PEEK[] (RFC822 would set \\Seen on reading) and flagged
    \\Seen once stored."""
    client = _imap_connect(url)
    try:
        status, found = client.uid("SEARCH", None, "UNSEEN")
        uids = found[0].split() if status == "OK" and found and found[0] else []
        for uid in uids:
            status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data or [] if isinstance(item, tuple)), None)
            if status == "OK" and raw is not None:  # None: expunged meanwhile
                yield Incoming(raw, f"imap uid {uid.decode()}", partial(_imap_seen, client, uid))
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _imap_seen(client: imaplib.IMAP4, uid: bytes) -> None:
    """A folder that refuses flags (read-only) would have every pass store its mail again: stop instead."""
    status, detail = client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
    if status != "OK":
        raise MailSourceError(
            _("The mailbox refused to mark a message read: %(detail)s") % {"detail": detail}
        )


def maildir_messages(path: str) -> Iterator[Incoming]:
    """Messages in a Maildir's new/, oldest first (delivery names start with the time); done, each moves to cur/
    with the S (seen) flag, as a mail reader would move it."""
    try:
        box = mailbox.Maildir(path, factory=None, create=False)
        names = sorted(os.listdir(Path(path, "new")))
    except (OSError, mailbox.NoSuchMailboxError) as error:
        raise MailSourceError(
            _("The Maildir %(path)s cannot be read: %(error)s") % {"path": path, "error": error}
        ) from error
    for name in names:
        if name.startswith("."):
            continue
        key = name.split(box.colon, 1)[0]
        try:
            raw = box.get_bytes(key)
        except KeyError:  # another pass took it meanwhile
            continue
        yield Incoming(raw, f"maildir {name}", partial(_maildir_seen, box, key))


def _maildir_seen(box: mailbox.Maildir, key: str) -> None:
    try:
        message = box.get_message(key)
    except KeyError:  # another pass moved it already
        return
    message.set_subdir("cur")
    message.add_flag("S")
    box[key] = message


# --- reading a message --------------------------------------------------------------------------------------------


@dataclass
class Mail:
    message_id: str
    sender: str  # the From address, "" when there is no usable one
    sender_name: str
    subject: str
    body: str
    references: list[str] = field(default_factory=list)  # In-Reply-To, then References
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # name, content type, bytes
    automatic: str = ""  # why it is an auto-reply or a bounce; "" for a person's mail

    @property
    def sender_label(self) -> str:
        return f"{self.sender_name} <{self.sender}>" if self.sender_name else self.sender


def _codec(charset: str | None) -> str | None:
    """GB2312-labelled mail often holds GBK characters (喆, 镕); GB18030 reads all three."""
    name = (charset or "").strip().strip('"').lower()
    if not name:
        return None
    return "gb18030" if name in GB_CHARSETS else name


def _decode(data: bytes, charset: str | None) -> str:
    """Bytes in their declared charset; a wrong or missing label falls back to UTF-8, then GB18030."""
    declared = _codec(charset)
    for codec in (declared, "utf-8", "gb18030"):
        if codec is None:
            continue
        try:
            return data.decode(codec).replace("\x00", "")  # PostgreSQL text holds no NUL
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace").replace("\x00", "")


def _repair(text: str) -> str:
    """Raw 8-bit header bytes (GBK subjects sent without RFC 2047) arrive as surrogate escapes: decode them."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return _decode(text.encode("utf-8", "surrogateescape"), None)


def _words(raw: str) -> str:
    """A header's text with its RFC 2047 encoded words decoded, whatever charset they name."""
    unfolded = re.sub(r"\r?\n[ \t]+", " ", raw or "")
    text = []
    for chunk, charset in decode_header(unfolded):
        if isinstance(chunk, str):
            text.append(_repair(chunk))
        elif charset is None:  # the plain parts between encoded words
            text.append(_repair(chunk.decode("raw-unicode-escape")))
        else:
            text.append(_decode(chunk, charset))
    return " ".join("".join(text).split())


def _raw(message: EmailMessage, name: str) -> str:
    """A header as it came (policy.default would decode it, but not GBK mislabelled as GB2312)."""
    return next((value for key, value in message.raw_items() if key.lower() == name.lower()), "") or ""


def _address(message: EmailMessage) -> tuple[str, str]:
    name, address = parseaddr(_raw(message, "From"))
    address = address.strip()
    try:
        validate_email(address)
    except ValidationError:
        return "", ""
    return address, _words(name).strip().strip('"')[:100]


def _message_id(message: EmailMessage, raw: bytes) -> str:
    """The Message-ID, or for mail without one an id made from its bytes, so a second pass still knows it."""
    found = MESSAGE_ID.findall(_raw(message, "Message-ID"))
    if found:
        return found[0][:255]
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid>"


def _automatic(message: EmailMessage, sender: str) -> str:
    """RFC 3834 and the de-facto headers of auto-responders, delivery reports and bounces."""
    submitted = _raw(message, "Auto-Submitted").strip().lower()
    if submitted and not submitted.startswith("no"):
        return f"auto-submitted: {submitted}"
    if _raw(message, "X-Autoreply") or _raw(message, "X-Autorespond"):
        return "auto-reply"
    precedence = _raw(message, "Precedence").strip().lower()
    if precedence in AUTO_PRECEDENCE:
        return f"precedence: {precedence}"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    if sender.split("@", 1)[0].lower() in DAEMONS:
        return "bounce"
    return ""


class _HtmlText(HTMLParser):
    """The text of an HTML mail: blocks end lines; scripts, styles and the head are dropped."""

    BLOCKS = frozenset(
        {
            "p",
            "div",
            "br",
            "tr",
            "li",
            "ul",
            "ol",
            "table",
            "blockquote",
            "hr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
        }
    )
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _body(message: EmailMessage) -> tuple[str, EmailMessage | None]:
    """The text/plain body, else the text of the HTML one, decoded by its charset."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", None
    text = _decode(part.get_payload(decode=True) or b"", part.get_content_charset())
    if part.get_content_subtype() == "html":
        text = html_text(text)
    return text.replace("\r\n", "\n").strip(), part


def _file_name(part: EmailMessage, index: int) -> str:
    name = _words(part.get_filename() or "")
    name = os.path.basename(name.replace("\\", "/")).strip()
    if not name:
        extension = ".eml" if part.get_content_type() == "message/rfc822" else None
        extension = extension or mimetypes.guess_extension(part.get_content_type()) or ".bin"
        name = f"attachment-{index}{extension}"
    stem, extension = os.path.splitext(name)
    return stem[: 150 - len(extension)] + extension


def _attachments(message: EmailMessage, body: EmailMessage | None) -> list[tuple[str, str, bytes]]:
    """Every part that is not the body and is a file: named, marked as an attachment, or a forwarded mail."""
    found: list[tuple[str, str, bytes]] = []

    def walk(parts):
        for part in parts:
            if part is body:
                continue
            if part.get_content_type() == "message/rfc822":
                inner = part.get_payload(0)
                found.append((_file_name(part, len(found) + 1), "message/rfc822", inner.as_bytes()))
            elif part.is_multipart():
                walk(part.iter_parts())
            elif part.get_filename() or part.get_content_disposition() == "attachment":
                payload = part.get_payload(decode=True) or b""
                found.append((_file_name(part, len(found) + 1), part.get_content_type(), payload))

    walk(message.iter_parts() if message.is_multipart() else [message])
    return found


def mail_parse(raw: bytes) -> Mail:
    message = message_from_bytes(raw, policy=policy.default)
    sender, sender_name = _address(message)
    body, body_part = _body(message)
    references = [*MESSAGE_ID.findall(_raw(message, "In-Reply-To"))]
    references += reversed(MESSAGE_ID.findall(_raw(message, "References")))
    return Mail(
        message_id=_message_id(message, raw),
        sender=sender,
        sender_name=sender_name,
        subject=_words(_raw(message, "Subject")),
        body=body,
        references=[ref[:255] for ref in references],
        attachments=_attachments(message, body_part),
        automatic=_automatic(message, sender),
    )


def _own_addresses() -> set[str]:
    addresses = (settings.KEHU.get("SUPPORT_EMAIL"), settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL)
    return {normalise_email(parseaddr(a)[1]) for a in addresses if a} - {""}


def without_quote(text: str) -> str:
    """A reply without the original it quotes below (a separator line, "On … wrote:", or trailing > lines)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        rest = lines[index:]
        trailing_quote = line.startswith(">") and all(not r.strip() or r.startswith(">") for r in rest)
        if QUOTE_START.match(line) or trailing_quote:
            return "\n".join(lines[:index]).strip() or text
    return text


# --- storing ------------------------------------------------------------------------------------------------------


def _one_at_a_time() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _answered_ticket(mail: Mail) -> Ticket | None:
    """The ticket a message answers: one whose timeline has a Message-ID it refers to, else the ticket whose
    number its subject holds in brackets (or in the default pattern)."""
    if mail.references:
        ticket = Ticket.objects.filter(events__message_id__in=mail.references).order_by("-id").first()
        if ticket is not None:
            return ticket
    numbers = set(BRACKETED.findall(mail.subject)) | set(DEFAULT_NUMBER.findall(mail.subject))
    if not numbers:
        return None
    return Ticket.objects.filter(number__in=numbers).order_by("-id").first()


def _uploads(mail: Mail) -> tuple[list[SimpleUploadedFile], list[dict]]:
    """The attachments the upload limits (type and size, KEHU_ATTACHMENT_*) allow, and what was skipped and why."""
    allowed, skipped = [], []
    for name, content_type, payload in mail.attachments:
        upload = SimpleUploadedFile(name, payload, content_type=content_type)
        try:
            upload_check(upload)
        except ValidationFailed as refused:
            reason = "; ".join(str(text) for text in (refused.fields or {}).values())
            skipped.append({"name": name, "size": len(payload), "reason": reason})
            continue
        allowed.append(upload)
    return allowed, skipped


def _note(event: TicketEvent, mail: Mail, skipped: list[dict]) -> None:
    event.data = {**event.data, "from": mail.sender_label, "subject": mail.subject[:200]}
    if skipped:
        event.data["skipped_attachments"] = skipped
    event.save(update_fields=["data", "message_id"])


def _thread(ticket: Ticket, mail: Mail, now) -> TicketEvent:
    uploads, skipped = _uploads(mail)
    event = services.ticket_receive(
        ticket=ticket,
        body=without_quote(mail.body) or mail.subject or _("(no text)"),
        uploads=uploads,
        sender=mail.sender_label,
        message_id=mail.message_id,
        now=now,
    )
    _note(event, mail, skipped)
    return event


def _open(mail: Mail, now) -> Ticket:
    customer, contact = customer_by_contact_point(email=mail.sender, contacts=True)
    data = {
        "channel": Channel.EMAIL,
        "subject": mail.subject[:200].strip() or _("(no subject)"),
        "description": mail.body,
        "customer": customer,
        "contact": contact,
        "requester_name": mail.sender_name,
        "requester_email": mail.sender,
    }
    ticket = services.ticket_create(actor=None, data=data, now=now)
    event = ticket.events.get(kind=TicketEvent.Kind.CREATED)
    event.message_id = mail.message_id
    uploads, skipped = _uploads(mail)
    services.attach_uploads(event, uploads)
    _note(event, mail, skipped)
    return ticket


def mail_store(mail: Mail, *, now=None) -> tuple[str, Ticket | None]:
    """Store one message in one transaction: ("duplicate", None), ("threaded", ticket) or ("opened", ticket)."""
    now = now or timezone.now()
    with transaction.atomic():
        _one_at_a_time()
        if TicketEvent.objects.filter(message_id=mail.message_id).exists():
            return "duplicate", None
        ticket = _answered_ticket(mail)
        if ticket is not None:
            _thread(ticket, mail, now)
            return "threaded", ticket
        return "opened", _open(mail, now)


def _take(incoming: Incoming, now) -> bool:
    """Deal with one message; True when it may be marked done."""
    try:
        mail = mail_parse(incoming.raw)
    except Exception:
        logger.exception("support.mail_unreadable", extra={"mail": incoming.label})
        return False
    about = {"mail": incoming.label, "message_id": mail.message_id}
    if mail.automatic:
        logger.info("support.mail_ignored", extra={**about, "reason": mail.automatic})
        return True
    if not mail.sender:
        logger.warning("support.mail_without_sender", extra=about)
        return False
    if normalise_email(mail.sender) in _own_addresses():
        logger.info("support.mail_ignored", extra={**about, "reason": "from our own address"})
        return True
    try:
        outcome, ticket = mail_store(mail, now=now)
    except Exception:
        logger.exception("support.mail_failed", extra=about)
        return False
    logger.info(
        "support.mail_stored", extra={**about, "outcome": outcome, "ticket": getattr(ticket, "number", "")}
    )
    return True


def mail_fetch(*, now=None) -> int:
    """One pass over the configured mailboxes (the worker's job, every minute). Returns how many messages were
    dealt with and marked done: stored, threaded, or recognised as duplicates, auto-replies or loops. Without a
    mailbox configured it returns 0 at once."""
    done = 0
    for source in mail_sources():
        with closing(source):
            for incoming in source:
                if _take(incoming, now):
                    incoming.mark_done()
                    done += 1
    return done
