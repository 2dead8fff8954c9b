"""What marketing reads: merge values in a fixed number of queries for any number of customers, tier upgrades since
an id, the points-expiring list, and the segment fields and segments added through the hooks."""

import datetime

from kehu.loyalty import selectors, services
from kehu.loyalty.models import Member, Tier
from kehu.loyalty.tests.conftest import at
from tests.api_client import ApiClient


def test_merge_values_in_two_queries_for_any_number_of_customers(
    org, buyer, place, make_customer, django_assert_max_num_queries
):
    place(buyer, "100", when=at(2025, 3, 1))
    services.points_accrue(now=at(2025, 3, 2))
    stranger = make_customer(org.rep_a, name="非会员")
    with django_assert_max_num_queries(3):
        values = selectors.merge_values([buyer.pk, stranger.pk])
    assert values[buyer.pk] == {
        "tier": Tier.objects.get(key="regular").label,
        "points": 100,
        "points_expiring": 100,
        "expiry_date": datetime.date(2026, 12, 31),
    }
    assert values[stranger.pk]["points"] == 0 and values[stranger.pk]["expiry_date"] is None
    many = [buyer.pk, *range(10_000_000, 10_002_000)]  # more than fit in one IN list
    with django_assert_max_num_queries(3):
        values = selectors.merge_values(many)
    assert len(values) == 2001 and values[buyer.pk]["points"] == 100


def test_the_points_expiring_list(org, buyer, place, make_customer):
    other = make_customer(org.rep_c, name="北方")
    place(buyer, "100", when=at(2024, 5, 1))
    place(other, "30", when=at(2024, 6, 1))
    services.points_accrue(now=at(2024, 6, 2))
    services.points_redeem_gift(actor=org.admin, customer=other, points=30, gift="伞")
    today = datetime.date(2025, 12, 1)
    soon = datetime.date(2025, 12, 31)
    assert selectors.points_expiring(soon, today=today) == {buyer.pk: 100}
    assert selectors.points_expiring(datetime.date(2025, 12, 30), today=today) == {}
    assert selectors.points_expiring(soon, actor=org.rep_b, today=today) == {}
    assert selectors.points_expiring(soon, actor=org.rep_a, today=today) == {buyer.pk: 100}


def test_segments_select_members_by_tier_points_and_expiry(org, buyer, place, make_customer):
    """Through marketing's live count (the builder's): the fields come from the hook."""
    poor = make_customer(org.rep_a, name="少积分")
    place(buyer, "2500")
    place(poor, "5")
    services.points_accrue()
    services.tiers_evaluate()
    rep = ApiClient(org.rep_a)
    fields = {f["key"]: f for f in rep.get("/segments/fields").json()}
    assert fields["loyalty_tier"]["type"] == "choice"
    assert [value for value, _label in fields["loyalty_tier"]["choices"]] == [
        "regular",
        "senior",
        "vip",
        "supreme",
    ]
    assert (
        fields["loyalty_points"]["type"] == "number" and fields["loyalty_points_expiring"]["type"] == "number"
    )

    def count(rule) -> int:
        return rep.post("/segments/count", {"rules": {"match": "all", "rules": [rule]}}).json()["count"]

    assert count({"field": "loyalty_tier", "op": "in", "value": ["senior"]}) == 1
    assert count({"field": "loyalty_points", "op": "gte", "value": 100}) == 1
    assert count({"field": "loyalty_points_expiring", "op": "gt", "value": 0}) == 2
    assert count({"field": "loyalty_points", "op": "lt", "value": 10}) == 1
    listed = rep.get("/customers", {"segment": "loyalty_tier:senior"}).json()["items"]
    assert [c["name"] for c in listed] == [buyer.name]
    assert Member.objects.count() == 2
