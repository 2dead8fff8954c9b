"""Territories hand pool customers to their reps in turn: on the page, through the API, only by managers."""

import pytest

from kehu.core.exceptions import PermissionDenied
from kehu.customers.models import Customer
from kehu.customers.services import customer_release
from kehu.sales.models import Territory
from kehu.sales.services.territories import customers_assign_by_territory
from tests.api_client import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def zhejiang(org, regions):
    territory = Territory.objects.create(name="浙江区域", org_unit=org.east)
    territory.provinces.add("330000")
    territory.reps.add(org.rep_a, org.rep_b)
    return territory


def pooled(org, make_customer, name, **place):
    customer = make_customer(org.rep_a, name=name, **place)
    return customer_release(actor=org.rep_a, customer=customer, reason="无人跟进")


def test_pool_customers_go_to_the_territorys_reps_in_turn(org, make_customer, zhejiang):
    """Three pool customers in Hangzhou and one in Beijing: the Hangzhou ones go to rep_a, rep_b, rep_a; the
    Beijing one stays in the pool."""
    hangzhou = [
        pooled(org, make_customer, f"杭州客户{n}", province="330000", city="330100") for n in range(3)
    ]
    beijing = pooled(org, make_customer, "北京客户", province="110000")
    run = customers_assign_by_territory(actor=org.east_manager, unit=org.east)
    assert [owner for _c, owner, _t in run.assigned] == [org.rep_a, org.rep_b, org.rep_a]
    assert [c.pk for c in run.unmatched] == [beijing.pk]
    owners = dict(Customer.objects.filter(pk__in=[c.pk for c in hangzhou]).values_list("pk", "owner_id"))
    assert sorted(owners.values()) == sorted([org.rep_a.pk, org.rep_b.pk, org.rep_a.pk])
    assert Customer.objects.get(pk=beijing.pk).owner_id is None
    zhejiang.refresh_from_db()
    assert zhejiang.last_assigned == org.rep_a


def test_only_managers_assign_and_the_pool_page_offers_it_to_them(org, make_customer, zhejiang, login):
    pooled(org, make_customer, "杭州客户", province="330000")
    with pytest.raises(PermissionDenied):
        customers_assign_by_territory(actor=org.rep_a, unit=org.east)
    assert "/territories/assign/" not in login(org.rep_a).get("/customers/pool/").content.decode()
    assert login(org.rep_a).get("/territories/assign/").status_code == 403
    manager = login(org.east_manager)
    assert "/territories/assign/" in manager.get("/customers/pool/").content.decode()
    page = manager.get("/territories/assign/").content.decode()
    assert "杭州客户" in page
    assert manager.post("/territories/assign/", {"unit": org.east.pk}).status_code == 302
    assert Customer.objects.get(name="杭州客户").owner == org.rep_a


def test_the_api_reports_what_went_where(org, make_customer, zhejiang):
    customer = pooled(org, make_customer, "杭州客户", province="330000")
    response = ApiClient(org.east_manager).post("/territories/assign-pool", {"unit_id": org.east.pk})
    assert response.status_code == 200
    assert response.json() == {
        "assigned": [{"customer_id": customer.pk, "owner_id": org.rep_a.pk, "territory": "浙江区域"}],
        "unmatched_customer_ids": [],
    }
    assert (
        ApiClient(org.rep_a).post("/territories/assign-pool", {"unit_id": org.team_a.pk}).status_code == 403
    )
    assert ApiClient(org.rep_c).post("/territories/assign-pool", {"unit_id": org.east.pk}).status_code == 422


def test_naming_a_unit_the_manager_may_not_hand_out_answers_404_and_changes_nothing(
    org, make_customer, zhejiang, login
):
    customer = pooled(org, make_customer, "杭州客户", province="330000")
    manager = login(org.east_manager)
    assert manager.post("/territories/assign/", {"unit": org.north.pk}).status_code == 404
    assert manager.get(f"/territories/assign/?unit={org.north.pk}").status_code == 404
    assert Customer.objects.get(pk=customer.pk).owner_id is None
