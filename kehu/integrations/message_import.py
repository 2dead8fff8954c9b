"""Marketplace customer-service chats (Taobao 千牛, JD 咚咚, Douyin 飞鸽, Pinduoduo) exported as CSV or XLSX become
tickets with the channel "marketplace message".

Each row is one message from a buyer. The rows of one conversation (the same shop and conversation id) make one
ticket: its earliest message opens it as the description, every later one is added to its timeline as a message
from the customer (`ticket_receive`). The runner gets the rows sorted by their time (file order among equal
times), so a file in any order gives the same tickets; the sort holds the file in memory, which chat exports fit.
A conversation's subject, type and order number are the first given in any of its rows.

Idempotent: the ticket's opening event remembers its shop and conversation id, and a message already on the
ticket (same time, same text) counts as unchanged. The same file again writes nothing; a later export of a
conversation that went on adds only the new messages. A conversation whose ticket went to the recycle bin stays
there.

Where the messages belong: the shop (by name or platform shop id, among the shops the importer manages — the
file's column, else the shop chosen for the job). The buyer is (shop, nick) as the order import recorded them;
an order number of that shop links the order and, through it, its buyer. Tickets go where the routing rules send
them, else to the importer's unit. A ticket opens when it is imported (its number and service-level clocks start
then); its timeline shows when each message was sent. Nothing is mailed to buyers: they are answered on the
platform.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.text import fold
from kehu.customers.models import Customer
from kehu.integrations import importers, marketplace
from kehu.integrations.customer_import import _choice_lookup
from kehu.integrations.importers import CREATED, UNCHANGED, UPDATED, Column
from kehu.integrations.marketplace import CellError, Kind
from kehu.integrations.tabular import open_table
from kehu.sales.models import BuyerIdentity, Order, Shop
from kehu.sales.selectors.orders import order_scope
from kehu.sales.selectors.shops import shop_find, shop_list
from kehu.support import services as support_services
from kehu.support.models import Channel, Ticket, TicketEvent, TicketType
from kehu.users import scoping
from kehu.users.models import User

KIND = "marketplace_messages"
SUBJECT_LENGTH = 60  # a subject taken from the first message is cut here
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def columns() -> list[Column]:
    return [
        Column(
            "shop",
            gettext_lazy("Shop"),
            ("店铺", "店铺名称", "店铺名", "店铺ID", "shop", "shop name", "store"),
            help=gettext_lazy("The shop's name or platform shop id; or choose the shop when you start."),
        ),
        Column(
            "conversation",
            gettext_lazy("Conversation ID"),
            (
                "会话ID",
                "会话编号",
                "会话",
                "咨询ID",
                "conversation",
                "conversation id",
                "session id",
                "chat id",
            ),
            required=True,
        ),
        Column(
            "buyer_nick",
            gettext_lazy("Buyer nick"),
            ("买家昵称", "买家", "买家账号", "买家会员名", "客户昵称", "用户昵称", "顾客", "buyer", "nick"),
        ),
        Column(
            "time",
            gettext_lazy("Sent at"),
            ("时间", "发送时间", "消息时间", "日期", "time", "sent", "date"),
            required=True,
        ),
        Column(
            "message",
            gettext_lazy("Message"),
            ("消息内容", "消息", "内容", "聊天内容", "message", "content", "text"),
            required=True,
        ),
        Column(
            "order_number",
            gettext_lazy("Order number"),
            ("订单号", "订单编号", "订单ID", "关联订单", "order no", "order id"),
        ),
        Column("subject", gettext_lazy("Subject"), ("标题", "主题", "subject", "title")),
        Column(
            "ticket_type",
            gettext_lazy("Type"),
            ("类型", "工单类型", "咨询类型", "type"),
            help=gettext_lazy(
                "Consultation, complaint, after-sale, suggestion or dispute, in either language."
            ),
        ),
    ]


@dataclass(frozen=True)
class Message:
    shop: Shop
    conversation: str
    at: datetime
    text: str
    nick: str
    order_number: str
    ticket_type: str

    @property
    def key(self) -> str:
        """What names the conversation for good: its shop and the platform's conversation id."""
        return f"{self.shop.pk}:{self.conversation}"


@dataclass
class Context:
    job: object
    actor: User
    default_shop: Shop | None
    types: dict[str, str]
    shops: dict[str, Shop] = field(default_factory=dict)  # a shop cell → the shop
    buyers: dict[tuple[int, str], Customer | None] = field(default_factory=dict)
    tickets: dict[str, int] = field(default_factory=dict)  # conversation key → ticket id
    handled: dict[str, set] = field(default_factory=dict)  # conversation key → (time, text) of rows done
    conversations: dict[str, dict] | None = None  # conversation key → its subject, type and order number


# --- the file's rows in time order ----------------------------------------------------------------------------


def _moment_or_none(text: str) -> datetime | None:
    try:
        return marketplace.moment(text)
    except CellError:
        return None


def _rows_by_time(job, path: str) -> list[tuple[int, list[str]]]:
    """Every row, earliest message first; rows without a readable time come first (they are rejected)."""
    rows = list(open_table(path).rows())
    position = job.mapping.index("time") if "time" in job.mapping else None

    def sent(row):
        number, cells = row
        at = _moment_or_none(cells[position]) if position is not None and position < len(cells) else None
        return (at is not None, at or _NO_TIME, number)

    rows.sort(key=sent)
    return rows


def open_rows(job, path):
    rows = _rows_by_time(job, path)
    return len(rows), iter(rows)


def _conversations(ctx: Context) -> dict[str, dict]:
    """For each conversation of the file, the first subject, valid type and valid order number among its rows."""
    if ctx.conversations is None:
        from kehu.integrations.services import local_path  # services imports the importers

        found: dict[str, dict] = {}
        with local_path(ctx.job) as path:
            rows = _rows_by_time(ctx.job, path)
        for _number, cells in rows:
            values = importers.row_values(ctx.job.mapping, cells)
            try:
                shop = _shop(ctx, fold(values.get("shop")))
            except ValidationFailed:
                continue
            facts = found.setdefault(f"{shop.pk}:{fold(values.get('conversation'))}", {})
            subject = fold(values.get("subject"))[:200]
            if subject:
                facts.setdefault("subject", subject)
            ticket_type = ctx.types.get(fold(values.get("ticket_type")).casefold())
            if ticket_type:
                facts.setdefault("ticket_type", ticket_type)
            try:
                number = marketplace.order_number(values.get("order_number", ""), kind=Kind.PDD)
            except CellError:
                number = ""
            if number:
                facts.setdefault("order_number", number)
        ctx.conversations = found
    return ctx.conversations


# --- one row --------------------------------------------------------------------------------------------------


def _shop(ctx: Context, cell: str) -> Shop:
    if not cell:
        if ctx.default_shop is None:
            raise ValidationFailed(
                fields={"shop": _("Name the shop, or choose one when you start the import.")}
            )
        return ctx.default_shop
    if cell not in ctx.shops:
        found = shop_find(actor=ctx.actor, name=cell)
        if not found:
            raise ValidationFailed(
                fields={"shop": _("“%(shop)s” is not one of the shops you manage.") % {"shop": cell}}
            )
        if len(found) > 1:
            raise ValidationFailed(
                fields={
                    "shop": _("Several of your shops are called “%(shop)s”; name it by its platform shop id.")
                    % {"shop": cell}
                }
            )
        ctx.shops[cell] = found[0]
    return ctx.shops[cell]


def _parse(ctx: Context, values: dict[str, str]) -> Message:
    errors: dict[str, str] = {}
    shop = None
    try:
        shop = _shop(ctx, fold(values.get("shop")))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    conversation = fold(values.get("conversation"))
    if not conversation:
        errors["conversation"] = _("The conversation id is empty.")
    elif len(conversation) > 100:
        errors["conversation"] = _("A conversation id has at most 100 characters.")
    at = None
    try:
        at = marketplace.moment(values.get("time", ""))
    except CellError as exc:
        errors["time"] = str(exc)
    else:
        if at is None:
            errors["time"] = _("The time the message was sent is missing.")
    text = (values.get("message") or "").strip()
    if not text:
        errors["message"] = _("The message is empty.")
    order_number = ""
    if values.get("order_number"):
        try:
            order_number = marketplace.order_number(values["order_number"], kind=Kind.PDD)
        except CellError as exc:
            errors["order_number"] = str(exc)
    ticket_type = ""
    if fold(values.get("ticket_type")):
        ticket_type = ctx.types.get(fold(values["ticket_type"]).casefold(), "")
        if not ticket_type:
            errors["ticket_type"] = _("“%(value)s” is not one of the options.") % {
                "value": values["ticket_type"]
            }
    if errors:
        raise ValidationFailed(fields=errors)
    return Message(
        shop=shop,
        conversation=conversation,
        at=at,
        text=text,
        nick=marketplace.nick(values.get("buyer_nick", ""))[:100],
        order_number=order_number,
        ticket_type=ticket_type,
    )


def _buyer(ctx: Context, shop: Shop, nick: str) -> Customer | None:
    """The customer the order import knows as this nick in this shop; masked nicks are never keys."""
    if not nick or marketplace.is_masked(nick):
        return None
    key = (shop.pk, nick)
    if key not in ctx.buyers:
        identity = (
            BuyerIdentity.objects.filter(scoping.visible_q(ctx.actor, BuyerIdentity), shop=shop, nick=nick)
            .select_related("customer")
            .first()
        )
        ctx.buyers[key] = identity.customer if identity and not identity.customer.is_deleted else None
    return ctx.buyers[key]


def _order(ctx: Context, shop: Shop, number: str) -> Order | None:
    if not number:
        return None
    return order_scope(ctx.actor).filter(shop=shop, number=number).select_related("customer").first()


def _subject_of(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SUBJECT_LENGTH else line[: SUBJECT_LENGTH - 1] + "…"


def _ticket_of(ctx: Context, key: str) -> Ticket | None:
    """The conversation's ticket: remembered by this job (a test run's rolled-back ticket is looked up again),
    else found by the mark on its opening event."""
    cached = ctx.tickets.get(key)
    ticket = Ticket.all_objects.filter(pk=cached).first() if cached else None
    if ticket is None:
        ticket_id = (
            TicketEvent.objects.filter(
                kind=TicketEvent.Kind.CREATED,
                ticket__channel=Channel.MARKETPLACE,
                data__conversation=key,
            )
            .values_list("ticket_id", flat=True)
            .first()
        )
        ticket = Ticket.all_objects.filter(pk=ticket_id).first() if ticket_id else None
    if ticket is not None:
        ctx.tickets[key] = ticket.pk
    return ticket


def _open(ctx: Context, message: Message) -> Ticket:
    facts = _conversations(ctx).get(message.key, {})
    customer = _buyer(ctx, message.shop, message.nick)
    order = _order(ctx, message.shop, message.order_number or facts.get("order_number", ""))
    if order is not None and order.customer_id and customer is not None and order.customer_id != customer.pk:
        customer = None  # the order's buyer decides (the ticket takes it from the order)
    ticket = support_services.ticket_create(
        actor=ctx.actor,
        data={
            "channel": Channel.MARKETPLACE,
            "ticket_type": message.ticket_type or facts.get("ticket_type") or TicketType.CONSULTATION,
            "subject": facts.get("subject") or _subject_of(message.text),
            "description": message.text,
            "requester_name": message.nick,
            "customer": customer,
            "order": order,
        },
        acknowledge=False,
    )
    # The opening item is the first message: it shows when that was sent, and carries the mark that finds the
    # conversation's ticket again on the next import. (The ticket itself opens now, so that its number and its
    # service-level clocks run from when Kehu learnt of it.)
    TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.CREATED).update(
        created_at=message.at, data={"channel": Channel.MARKETPLACE, "conversation": message.key}
    )
    return ticket


def _known(ticket: Ticket, message: Message) -> bool:
    return TicketEvent.objects.filter(
        ticket=ticket,
        kind__in=[TicketEvent.Kind.CREATED, TicketEvent.Kind.INBOUND],
        created_at=message.at,
        body=message.text,
    ).exists()


def import_row(ctx: Context, values: dict[str, str], row_number: int) -> str:
    message = _parse(ctx, values)
    handled = ctx.handled.setdefault(message.key, set())
    ticket = _ticket_of(ctx, message.key)
    if ticket is None and message.key in ctx.tickets:
        # Opened by an earlier batch of this test run, which was rolled back: count what a real run would do.
        outcome = UNCHANGED if (message.at, message.text) in handled else UPDATED
    elif ticket is None:
        ctx.tickets[message.key] = _open(ctx, message).pk
        outcome = CREATED
    elif ticket.is_deleted or _known(ticket, message):
        outcome = UNCHANGED
    else:
        support_services.ticket_receive(ticket=ticket, body=message.text, sender=message.nick, now=message.at)
        outcome = UPDATED
    handled.add((message.at, message.text))
    return outcome


# --- the job kind ---------------------------------------------------------------------------------------------


class OptionsForm(forms.Form):
    shop = forms.ChoiceField(
        label=gettext_lazy("Shop of rows that name none"),
        required=False,
        help_text=gettext_lazy("For an export of one shop without a shop column."),
    )

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shop"].choices = [("", "—")] + [(s.pk, str(s)) for s in shop_list(actor=actor)]

    def options(self) -> dict:
        return {"shop": int(self.cleaned_data["shop"])} if self.cleaned_data.get("shop") else {}


def prepare(job, actor: User) -> Context:
    shops = shop_list(actor=actor)
    if not shops:
        raise PermissionDenied(_("Only managers of a shop's unit import its customer-service messages."))
    default = None
    if job.options.get("shop"):
        default = next((s for s in shops if s.pk == job.options["shop"]), None)
        if default is None:
            raise ValidationFailed(fields={"shop": _("Choose one of your shops.")})
    if "shop" not in job.mapping and default is None:
        raise ValidationFailed(
            fields={"shop": _("Map the column that names the shop, or choose the shop of the file's rows.")}
        )
    return Context(job=job, actor=actor, default_shop=default, types=_choice_lookup(TicketType))


importers.register(
    importers.Importer(
        kind=KIND,
        label=gettext_lazy("Marketplace messages (Taobao, JD, Douyin, Pinduoduo chats)"),
        columns=columns,
        prepare=prepare,
        import_row=import_row,
        options_form=OptionsForm,
        open_rows=open_rows,
    )
)
