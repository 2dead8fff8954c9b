"""The public web form of a team (/help/<unit>/), driven with the test client as a complainant's browser: the
ticket lands in that team's queue with the channel "web form", the person is matched to the one customer with
their phone or e-mail, the order number links one of the team's orders silently, bots that fill the trap are
thanked and ignored, and an address that submits too often gets 429. (The cache is cleared before every test by
the root conftest.)"""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from kehu.customers.services import customer_create
from kehu.sales.models import Order, Shop
from kehu.support.models import Channel, Ticket, TicketEvent
from kehu.support.public_views import RATE_LIMIT
from kehu.users.services import user_deactivate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A request in English leaves English active in this thread; the next test expects the default."""
    yield
    translation.deactivate()


def form_data(**changes) -> dict:
    data = {
        "name": "刘女士",
        "phone": "139 1000 2000",
        "email": "",
        "ticket_type": "complaint",
        "order_number": "",
        "subject": "快递三天没动",
        "description": "订单显示已发货，但物流三天没有更新。",
        "severity": "2",
        "website": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def buyer(org, make_customer):
    """An individual customer of team A with the mobile the form gives."""
    return make_customer(org.rep_a, name="刘芳", kind="individual", phone="13910002000")


def order_of(customer, number: str, **fields) -> Order:
    return Order.objects.create(
        number=number,
        customer=customer,
        owner=customer.owner,
        org_unit=customer.org_unit,
        status=Order.Status.SHIPPED,
        ordered_at=timezone.now() - datetime.timedelta(days=4),
        total_amount=Decimal("129.00"),
        **fields,
    )


def test_the_form_opens_a_web_form_ticket_in_the_team_for_the_matching_customer(org, buyer, client):
    page = client.get(f"/help/{org.team_a.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "上海一组" in html and 'name="website"' in html and "csrfmiddlewaretoken" in html
    assert "1 · 非常愤怒" in html and "扬言向平台、监管部门或媒体投诉" in html  # levels with their guidance

    response = client.post(f"/help/{org.team_a.pk}/", form_data())

    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/help/{org.team_a.pk}/thanks/"
    assert (ticket.team, ticket.channel, ticket.customer) == (org.team_a, Channel.WEB_FORM, buyer)
    assert (ticket.ticket_type, ticket.severity, ticket.subject) == ("complaint", 2, "快递三天没动")
    assert (ticket.requester_name, ticket.requester_phone) == ("刘女士", "139 1000 2000")
    assert ticket.created_by is None and ticket.assignee is None and ticket.status == Ticket.Status.NEW
    opened = ticket.events.get(kind=TicketEvent.Kind.CREATED)
    assert opened.author is None and opened.data["channel"] == "web_form"
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200 and ticket.number in thanks.content.decode()
    follow = re.search(r'href="(/s/[^"]+/)"', thanks.content.decode()).group(1)
    status = client.get(follow)  # the status page of this very ticket
    assert status.status_code == 200 and "快递三天没动" in status.content.decode()


def test_someone_unknown_is_kept_as_the_requester(org, client):
    client.post(
        f"/help/{org.team_a.pk}/",
        form_data(name="Anna Lee", phone="", email="anna@example.com", severity="4"),
    )
    ticket = Ticket.objects.get()
    assert ticket.customer is None
    assert (ticket.requester_name, ticket.requester_email, ticket.requester_phone) == (
        "Anna Lee",
        "anna@example.com",
        "",
    )


def test_a_phone_shared_by_two_customers_matches_nobody(org, buyer, client):
    customer_create(
        actor=org.east_manager,
        data={"name": "刘芳的公司", "phone": "13910002000"},
        owner=org.rep_b,
        override_collision=True,
    )
    client.post(f"/help/{org.team_a.pk}/", form_data())
    assert Ticket.objects.get().customer is None


def test_without_a_phone_or_e_mail_the_form_says_what_is_missing_in_either_language(org, client):
    response = client.post(f"/help/{org.team_a.pk}/", form_data(phone="", email=""))
    assert response.status_code == 422
    assert '<html lang="zh-hans">' in response.content.decode()
    assert 'data-field-error="phone"' in response.content.decode()
    assert not Ticket.objects.exists()

    client.cookies["django_language"] = "en"
    response = client.post(
        f"/help/{org.team_a.pk}/", form_data(phone="", email="", subject="", severity="9", name="")
    )
    errors = response.context["form"].errors
    assert errors["phone"] == ["Please leave a phone number or an e-mail address so that we can reply."]
    assert errors["subject"] == ["Please say in a few words what it is about."]
    assert errors["name"] == ["Please tell us your name."]
    assert "severity" in errors
    assert "Please leave a phone number or an e-mail address" in response.content.decode()


def test_a_phone_with_letters_or_too_few_digits_is_refused(org, client):
    for phone in ("call me", "123"):
        response = client.post(f"/help/{org.team_a.pk}/", form_data(phone=phone))
        assert response.status_code == 422 and "phone" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_a_filled_trap_field_is_thanked_but_creates_nothing(org, client):
    response = client.post(f"/help/{org.team_a.pk}/", form_data(website="http://spam.example"))
    assert response.status_code == 302 and response["Location"] == f"/help/{org.team_a.pk}/thanks/"
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200 and 'data-testid="help-number"' not in thanks.content.decode()
    assert not Ticket.objects.exists()


def test_an_address_over_the_limit_gets_429_until_the_window_passes(org, client):
    for _n in range(RATE_LIMIT + 1):  # corrections of a form with errors do not count
        assert client.post(f"/help/{org.team_a.pk}/", form_data(subject="")).status_code == 422
    for _n in range(RATE_LIMIT):
        assert client.post(f"/help/{org.team_a.pk}/", form_data()).status_code == 302
    refused = client.post(f"/help/{org.team_a.pk}/", form_data(), REMOTE_ADDR="127.0.0.1")
    assert refused.status_code == 429
    assert 'data-testid="help-limited"' in refused.content.decode()
    assert Ticket.objects.count() == RATE_LIMIT
    trapped = client.post(f"/help/{org.team_a.pk}/", form_data(website="http://spam.example"))
    assert trapped.status_code == 429  # bots too
    other_team = client.post(f"/help/{org.team_b.pk}/", form_data())  # each form counts on its own
    assert other_team.status_code == 302
    elsewhere = client.post(f"/help/{org.team_a.pk}/", form_data(), REMOTE_ADDR="10.0.0.9")
    assert elsewhere.status_code == 302


def test_only_teams_with_active_members_take_requests(org, client):
    assert client.get(f"/help/{org.east.pk}/").status_code == 404  # a region
    assert client.get("/help/999999/").status_code == 404
    user_deactivate(actor=org.admin, user=org.rep_c, successor=org.rep_a)
    assert client.get(f"/help/{org.team_c.pk}/").status_code == 404  # nobody left in team C
    assert client.post(f"/help/{org.team_c.pk}/", form_data()).status_code == 404
    assert not Ticket.objects.exists()


def test_an_order_number_of_the_team_links_the_order_and_its_buyer(org, buyer, make_customer, client):
    shop = Shop.objects.create(platform=Shop.Platform.TMALL, name="客户天猫店", org_unit=org.team_a)
    other = make_customer(org.rep_a, name="王强", kind="individual", phone="13700001111")
    order = order_of(other, "4012345678901234567", shop=shop, channel=Order.Channel.TMALL)
    order_of(make_customer(org.rep_c, name="北方客户"), "TB900001")  # team C's order

    client.post(f"/help/{org.team_a.pk}/", form_data(order_number=" 4012345678901234567 "))
    linked = Ticket.objects.get()
    assert linked.order == order and linked.customer == other  # the order's buyer, not the phone's

    response = client.post(f"/help/{org.team_a.pk}/", form_data(order_number="TB900001"))
    assert response.status_code == 302  # another team's order: accepted all the same …
    unlinked = Ticket.objects.latest("id")
    assert unlinked.order is None and unlinked.customer == buyer  # … and not linked
    assert client.get(response["Location"]).content.decode().count("TB900001") == 0


def test_the_page_switches_language_and_loads_only_local_assets(org, client):
    chinese = client.get(f"/help/{org.team_a.pk}/").content.decode()
    assert '<html lang="zh-hans">' in chinese and 'name="language" value="en"' in chinese
    switched = client.post(
        "/language/", {"language": "en", "next": f"/help/{org.team_a.pk}/"}, follow=True
    ).content.decode()
    assert '<html lang="en">' in switched and "Contact customer service" in switched
    assert 'name="language" value="zh-hans"' in switched
    head = switched.split("<body")[0]
    assert "/static/vendor/bootstrap/bootstrap.min.css" in head
    assert "http://" not in head and "https://" not in head and "<script" not in switched
