"""`kehu seed_demo`: the demo company through the services, and the bulk generator's rows."""

import copy
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone, translation

from kehu.activities.models import Task, TimelineEntry
from kehu.analytics.models import ValueModel
from kehu.core.models import Region
from kehu.customers import selectors
from kehu.customers.models import Contact, Customer, PoolRule
from kehu.customers.services import contact_derive, customer_derive
from kehu.demo import shop
from kehu.demo.bulk import bulk_generate
from kehu.demo.seed import DEMO_PASSWORD, demo_counts
from kehu.sales import buyer_stats
from kehu.sales.models import BuyerStats, Lead, LeadActivity, Opportunity, OrderLine
from kehu.users.models import Membership, Role, User

DERIVED = ["name_key", "phone_key", "email_key", "pinyin", "pinyin_initials", "search_text"]


@pytest.fixture
def demo_regions(db):
    call_command("load_regions", stdout=StringIO())


def seed(*args) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def assert_derived_like_services(customers, contacts):
    for customer in customers:
        expected = copy.copy(customer)
        customer_derive(expected)
        assert [getattr(customer, f) for f in DERIVED] == [getattr(expected, f) for f in DERIVED], customer.pk
    for contact in contacts:
        expected = copy.copy(contact)
        contact_derive(expected)
        assert (contact.mobile_key, contact.email_key, contact.search_text) == (
            expected.mobile_key,
            expected.email_key,
            expected.search_text,
        ), contact.pk


def assert_collision_keys_unique():
    for key in ("name_key", "phone_key", "email_key"):
        values = Counter(Customer.all_objects.exclude(**{key: ""}).values_list(key, flat=True))
        assert not [v for v, n in values.items() if n > 1], key


def assert_regions_consistent(customers):
    parents = dict(Region.objects.values_list("code", "parent_id"))
    for c in customers:
        assert c.province_id and parents[c.city_id] == c.province_id, c.pk
        assert c.district_id is None or parents[c.district_id] == c.city_id, c.pk


@pytest.mark.django_db
def test_seed_demo_builds_the_company_once_and_prints_the_logins(demo_regions):
    """Given loaded regions, when seed_demo runs twice, then the demo company exists once, obeys the
    services' rules, and both runs print the demo logins."""
    first = seed()
    counts = demo_counts()
    second = seed()

    assert demo_counts() == counts
    assert "already present" in second
    for output in (first, second):
        assert "http://127.0.0.1:8000/" in output
        for username in ("admin", "manager_east", "rep_sh1", "rep_sh2", "agent", "analyst"):
            assert username in output
        assert DEMO_PASSWORD in output

    buyers = Customer.objects.filter(buyer_identities__isnull=False).distinct()
    assert 330 <= counts["customers"] - buyers.count() <= 460  # 360 seeded, and those converted from leads
    assert (
        250 <= counts["buyers"] <= shop.BUYERS and counts["orders"] >= shop.ORDERS
    )  # the demo shop's import
    assert BuyerStats.objects.filter(order_count__gt=1).exists() and buyer_stats.drift() == {}
    assert OrderLine.objects.filter(order__shop__isnull=False).count() > shop.ORDERS
    # Enough buyers for the lifetime-value models to fit, so the demo shows predictions.
    assert ValueModel.objects.filter(status=ValueModel.Status.FITTED).count() == 2
    assert counts["leads"] >= 180
    statuses = Counter(Lead.objects.values_list("status", flat=True))
    assert all(statuses[s] for s in ("new", "contacted", "qualified", "disqualified", "converted")), statuses
    assert Lead.objects.filter(owner__isnull=True).exists()  # the East pool rule caught some
    assert Lead.objects.filter(status="converted", opportunity__isnull=False).exists()
    with_lines = Opportunity.objects.filter(lines__isnull=False).distinct()
    assert with_lines.count() >= 30
    assert all(o.amount == sum(line.amount for line in o.lines.all()) for o in with_lines)
    assert not LeadActivity.objects.filter(occurred_at__gt=timezone.now()).exists()
    assert Customer.objects.filter(kind=Customer.Kind.INDIVIDUAL).count() >= 50
    assert counts["pool"] >= 25
    released = Customer.objects.filter(owner__isnull=True).exclude(pk__in=buyers.values("pk"))
    assert released.exclude(pool_reason="").count() == counts["pool"] - buyers.count()
    assert PoolRule.objects.get(unit__kind="company").owner_cap == 200
    roles = Counter(Membership.objects.values_list("role", flat=True))
    assert roles[Role.MANAGER] == 3 and roles[Role.SALES_REP] >= 12
    assert roles[Role.SERVICE_AGENT] == 1 and roles[Role.ANALYST] == 1 and roles[Role.SYSTEM_ADMIN] == 1
    assert User.objects.get(username="rep_sh1").check_password(DEMO_PASSWORD)

    customers = list(Customer.objects.all())
    contacts = list(Contact.objects.all())
    assert_collision_keys_unique()
    assert_derived_like_services(customers, contacts)
    assert_regions_consistent(
        [c for c in customers if c.pk not in {b.pk for b in buyers}]
    )  # masked: no region
    assert any(c.name.startswith(("曾", "单", "解", "区")) for c in contacts)
    assert Contact.objects.filter(reports_to__isnull=False).exists()
    assert not Contact.objects.exclude(reports_to__isnull=True).exclude(
        reports_to__customer_id=F("customer_id")
    )

    entries = TimelineEntry.objects.exclude(kind=TimelineEntry.Kind.SYSTEM)
    assert {"call", "visit", "note"} <= set(entries.values_list("kind", flat=True))
    now = timezone.now()
    assert not entries.filter(occurred_at__gt=now).exists()
    assert entries.filter(occurred_at__lt=now - timezone.timedelta(days=30)).exists()
    today = timezone.localdate()
    open_tasks = Task.objects.filter(status=Task.Status.OPEN)
    assert any(timezone.localdate(t.due_at) == today for t in open_tasks)
    assert open_tasks.filter(due_at__lt=now - timezone.timedelta(days=1)).exists()
    assert open_tasks.filter(remind_at__isnull=False).exists()


@pytest.mark.django_db
def test_bulk_rows_match_the_services_and_are_searchable(demo_regions):
    """Given an empty database with regions, when 2000 customers are bulk-generated, then the org is created,
    every derived column equals what the services compute, keys are unique, and search finds the rows
    by pinyin initials and by the last four digits of the phone."""
    result = bulk_generate(count=2000, batch=700)

    assert result.customers == 2000 == Customer.objects.count()
    assert 2400 <= Contact.objects.count() <= 3600
    customers = list(Customer.objects.all())
    contacts = list(Contact.objects.all())
    assert_derived_like_services(customers, contacts)
    assert_collision_keys_unique()
    assert_regions_consistent(customers)
    assert Customer.objects.filter(owner__isnull=True).exists()
    assert Customer.objects.filter(owner__isnull=False).values("owner").distinct().count() >= 10

    admin = User.objects.get(username="admin")
    company = next(c for c in customers if c.kind == Customer.Kind.COMPANY and c.pinyin_initials)
    found = selectors.search(actor=admin, q=company.pinyin_initials, limit=50)
    assert company.pk in [c.pk for c in found["customers"]]
    person = next(c for c in customers if c.kind == Customer.Kind.INDIVIDUAL)
    found = selectors.search(actor=admin, q=person.phone_key[-4:], limit=50)
    assert person.pk in [c.pk for c in found["customers"]]
    contact = contacts[7]
    found = selectors.search(actor=admin, q=contact.mobile_key[-4:], limit=50)
    assert contact.pk in [c.pk for c in found["contacts"]]

    # A second run adds to the first without collisions; loading with the indexes dropped and rebuilt
    # leaves the same indexes and a full-text index that finds the new rows.
    before = index_names()
    second = bulk_generate(count=300, batch=300, analyze=False, rebuild_indexes=True)
    assert Customer.objects.count() == 2300
    assert index_names() == before
    assert_collision_keys_unique()
    newest = Customer.objects.get(pk=second.last_id)
    found = selectors.search(actor=admin, q=newest.phone_key[-4:], limit=50)
    assert newest.pk in [c.pk for c in found["customers"]]
    newest_contact = Contact.objects.order_by("-id").first()
    found = selectors.search(actor=admin, q=newest_contact.name, limit=50)
    assert newest_contact.pk in [c.pk for c in found["contacts"]]


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        names = set()
        for model in (Customer, Contact):
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
            names |= {name for name, info in constraints.items() if info["index"]}
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            names |= {row[0] for row in cursor.fetchall()}
        return names
