"""Marketplace chats imported from CSV: the rows of a conversation become one ticket (its earliest message the
description, the later ones messages from the customer in time order), buyers and orders are found as the order
import recorded them, a second import of the same or a longer export adds only what is new, bad rows are reported
with their row number and reason, and the tickets go where the routing rules send them."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.integrations import message_import, services
from kehu.integrations.models import ImportJob
from kehu.integrations.tests.exports import counts, order, orders_file, run, run_file
from kehu.sales.models import BuyerIdentity, Order, Shop
from kehu.support import services as support_services
from kehu.support.models import Channel, RoutingRule, Ticket, TicketEvent
from kehu.support.selectors import ticket_scope

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")
HEADERS = ["店铺", "会话ID", "买家昵称", "时间", "消息内容", "订单号", "标题", "类型"]
C1_FIRST = "你好，我买的保温杯收到的时候杯盖是裂的，能换一个吗？"


@pytest.fixture
def shop(org, regions, tmp_path):
    """Team A's Taobao shop, with the orders of two buyers imported from its order report."""
    shop = Shop.objects.create(platform=Shop.Platform.TAOBAO, name="客户旗舰店", org_unit=org.team_a)
    path = orders_file(
        tmp_path,
        "ExportOrderList202603050900.csv",
        [
            order("351531314732935790", "tb小王", 收货人姓名="王小明"),
            order("351531314732935791", "阿花", 收货人姓名="李花", 联系手机="'13800001111"),
        ],
    )
    assert counts(run(org.east_manager, shop, path)) == (2, 0, 0, 0)
    return shop


def write_csv(tmp_path, rows, *, name="chats.csv", encoding="utf-8-sig", headers=HEADERS):
    path = tmp_path / name
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def import_messages(actor, path, *, options=None, dry_run=False) -> ImportJob:
    return run_file(actor, message_import.KIND, path, options=options or {}, dry_run=dry_run)


CHATS = [
    # conversation A1 with 小王, out of time order in the file; the order number comes with his second message
    ["客户旗舰店", "A1", "tb小王", "2026-03-06 10:05:00", "订单号是351531314732935790", "351531314732935790", "", ""],
    ["客户旗舰店", "A1", "tb小王", "2026-03-06 10:00:00", C1_FIRST, "", "", ""],
    ["客户旗舰店", "A1", "tb小王", "2026/03/06 10:12", "好的，谢谢！", "", "", ""],
    # conversation B7: someone without orders, a complaint with its own subject
    ["客户旗舰店", "B7", "路人甲", "2026-03-06 11:00:00", "发货太慢了", "", "物流慢", "投诉"],
    # rejected rows
    ["客户旗舰店", "B8", "路人乙", "2026-03-06 11:30:00", "", "", "", ""],
    ["客户旗舰店", "B9", "路人丙", "昨天下午", "在吗", "", "", ""],
    ["别人的店", "C1", "买家", "2026-03-06 12:00:00", "在吗", "", "", ""],
    ["客户旗舰店", "", "路人丁", "2026-03-06 12:00:00", "在吗", "", "", ""],
    ["客户旗舰店", "D1", "阿花", "2026-03-06 12:10:00", "查一下订单", "3.51531E+17", "", ""],
    ["客户旗舰店", "D2", "阿花", "2026-03-06 12:20:00", "我要退货", "", "", "退款"],
]  # fmt: skip


def test_a_chat_export_becomes_tickets_with_their_messages_in_time_order(org, shop, tmp_path):
    job = import_messages(org.east_manager, write_csv(tmp_path, CHATS))

    assert (job.status, job.processed_rows) == ("done", len(CHATS))
    assert counts(job) == (2, 2, 0, 6)
    wang = BuyerIdentity.objects.get(shop=shop, nick="tb小王").customer
    first = Ticket.objects.get(customer=wang)
    assert (first.channel, first.ticket_type, first.status) == (Channel.MARKETPLACE, "consultation", "new")
    assert first.description == C1_FIRST and first.subject == C1_FIRST
    opened = first.events.get(kind="created")
    assert opened.created_at == datetime(2026, 3, 6, 10, 0, tzinfo=BEIJING)  # when the buyer wrote
    assert opened.data["conversation"] == f"{shop.pk}:A1"
    assert first.created_at > opened.created_at  # the ticket (number, clocks) opens on import
    assert first.order == Order.objects.get(number="351531314732935790")
    assert first.requester_name == "tb小王" and first.created_by == org.east_manager
    assert first.team == org.east  # no routing rule: the importer's unit
    timeline = [
        (e.kind, e.body, e.created_at.astimezone(BEIJING).strftime("%H:%M")) for e in first.events.all()
    ]
    assert timeline == [
        ("created", C1_FIRST, "10:00"),
        ("inbound", "订单号是351531314732935790", "10:05"),
        ("inbound", "好的，谢谢！", "10:12"),
    ]

    stranger = Ticket.objects.get(requester_name="路人甲")
    assert (stranger.customer, stranger.order) == (None, None)
    assert (stranger.subject, stranger.ticket_type, stranger.description) == (
        "物流慢",
        "complaint",
        "发货太慢了",
    )

    with translation.override("zh-hans"):  # reasons are written in the importer's language
        labels = {c.key: str(c.label) for c in message_import.columns()}
    rejected = {r.row_number: r for r in job.rejections.all()}
    assert {number: r.column for number, r in rejected.items()} == {
        6: labels["message"],
        7: labels["time"],
        8: labels["shop"],
        9: labels["conversation"],
        10: labels["order_number"],
        11: labels["ticket_type"],
    }
    assert "“昨天下午”" in rejected[7].message
    assert "“别人的店”" in rejected[8].message  # a shop the importer does not manage, or none at all
    assert "3.51531E+17" in rejected[10].message and "Excel" in rejected[10].message
    assert "“退款”" in rejected[11].message
    assert [r.values[1] for r in rejected.values()] == [
        "B8",
        "B9",
        "C1",
        "",
        "D1",
        "D2",
    ]  # cells as in the file


def test_importing_the_same_file_again_changes_nothing_and_a_longer_export_adds_only_new_messages(
    org, shop, tmp_path
):
    path = write_csv(tmp_path, CHATS[:4])
    assert counts(import_messages(org.east_manager, path)) == (2, 2, 0, 0)
    events = TicketEvent.objects.count()

    assert counts(import_messages(org.east_manager, path)) == (0, 0, 4, 0)
    assert Ticket.objects.count() == 2 and TicketEvent.objects.count() == events

    ticket = Ticket.objects.get(requester_name="tb小王")
    support_services.ticket_transition(
        actor=org.east_manager,
        ticket=ticket,
        status="resolved",
        resolution="已补发杯盖",
        now=datetime(2026, 3, 6, 12, 0, tzinfo=BEIJING),
    )
    later = [
        *CHATS[:3],
        ["客户旗舰店", "A1", "tb小王", "2026-03-07 09:00:00", "换的杯子收到了", "", "", ""],
    ]
    assert counts(import_messages(org.east_manager, write_csv(tmp_path, later, name="later.csv"))) == (
        0,
        1,
        3,
        0,
    )
    ticket.refresh_from_db()
    assert ticket.events.filter(kind="inbound").count() == 3
    assert [e.kind for e in ticket.events.all()][-3:] == ["status", "status", "inbound"]  # resolved, reopened
    assert ticket.events.last().body == "换的杯子收到了"
    assert (ticket.status, ticket.reopen_count) == ("in_progress", 1)  # the buyer wrote again after the fix


def test_a_gbk_export_without_a_shop_column_uses_the_chosen_shop(org, shop, tmp_path):
    headers = ["会话编号", "买家", "发送时间", "聊天内容", "关联订单"]
    rows = [
        ["9001", "阿花", "2026-03-08 20:00:00", "我的订单什么时候发货", "351531314732935791"],
        ["9001", "阿花", "2026-03-08 20:01:00", "着急用", ""],
    ]
    path = write_csv(tmp_path, rows, name="咚咚.csv", encoding="gb18030", headers=headers)
    with pytest.raises(ValidationFailed) as refused:
        import_messages(org.east_manager, path)  # neither a shop column nor a chosen shop
    assert "shop" in refused.value.fields

    job = import_messages(org.east_manager, path, options={"shop": shop.pk})
    assert job.encoding == "gb18030"
    assert job.mapping == ["conversation", "buyer_nick", "time", "message", "order_number"]
    assert counts(job) == (1, 1, 0, 0)
    ahua = BuyerIdentity.objects.get(shop=shop, nick="阿花").customer
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.order.number) == (ahua, "351531314732935791")
    assert ticket.subject == "我的订单什么时候发货"


def test_a_later_message_with_the_order_number_links_the_order_when_the_ticket_opens(org, shop, tmp_path):
    """The first message names no order; a later one of the same conversation does."""
    job = import_messages(org.east_manager, write_csv(tmp_path, CHATS[:3]))
    assert counts(job) == (1, 2, 0, 0)
    assert Ticket.objects.get().order.number == "351531314732935790"


def test_an_order_of_another_shop_is_not_linked(org, shop, tmp_path):
    other = Shop.objects.create(platform=Shop.Platform.JD, name="京东店", org_unit=org.team_a)
    rows = [["京东店", "J1", "tb小王", "2026-03-06 10:00:00", "在吗", "351531314732935790", "", ""]]
    assert counts(import_messages(org.east_manager, write_csv(tmp_path, rows))) == (1, 0, 0, 0)
    ticket = Ticket.objects.get()
    assert (ticket.order, ticket.customer) == (None, None)  # 小王 is known in the Taobao shop only
    assert ticket.events.get(kind="created").data["conversation"] == f"{other.pk}:J1"


def test_tickets_follow_the_routing_rules_and_are_seen_by_that_team(org, shop, tmp_path):
    RoutingRule.objects.create(name="平台消息", channel=Channel.MARKETPLACE, team=org.team_a)
    import_messages(org.east_manager, write_csv(tmp_path, CHATS[:4]))

    assert set(Ticket.objects.values_list("team", flat=True)) == {org.team_a.pk}
    assert ticket_scope(org.agent_a).count() == 2  # team A's queue
    assert ticket_scope(org.rep_c).count() == 0  # another region


def test_a_test_run_writes_nothing_even_across_batches(org, shop, monkeypatch, tmp_path):
    monkeypatch.setattr(services, "BATCH_ROWS", 2)  # a conversation spread over several rolled-back batches
    job = import_messages(org.east_manager, write_csv(tmp_path, CHATS[:4]), dry_run=True)
    assert counts(job) == (2, 2, 0, 0)
    assert not Ticket.objects.exists()


def test_only_managers_of_a_shop_import_its_messages(org, shop, tmp_path):
    path = write_csv(tmp_path, CHATS[:1])
    with pytest.raises(PermissionDenied):
        import_messages(org.rep_a, path)
    north = Shop.objects.create(platform=Shop.Platform.PDD, name="北方拼多多店", org_unit=org.team_c)
    with pytest.raises(ValidationFailed):
        import_messages(org.east_manager, path, options={"shop": north.pk})
    assert not Ticket.objects.exists()


def test_the_import_page_offers_the_kind_and_guesses_the_columns(org, shop, login):
    client = login(org.east_manager)
    assert message_import.KIND in client.get(reverse("integrations:new")).content.decode()
    data = io.StringIO()
    csv.writer(data).writerows([HEADERS, CHATS[1]])
    response = client.post(
        reverse("integrations:new"),
        {
            "kind": message_import.KIND,
            "file": SimpleUploadedFile("chats.csv", data.getvalue().encode("utf-8-sig")),
        },
    )
    job = ImportJob.objects.get(kind=message_import.KIND)
    assert response.status_code == 302
    assert job.mapping == [
        "shop",
        "conversation",
        "buyer_nick",
        "time",
        "message",
        "order_number",
        "subject",
        "ticket_type",
    ]
    page = client.get(response.url).content.decode()
    assert 'name="opt-shop"' in page and "客户旗舰店" in page
    template = client.get(reverse("integrations:template", args=[message_import.KIND]))
    assert template.status_code == 200
