"""The public pool (公海): claiming, the owner cap, releasing with a reason, the cooldown and the recycle
job."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from kehu.activities.models import Notification, TimelineEntry
from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.customers.exceptions import OwnerCapReached
from kehu.customers.models import Customer, PoolRule
from kehu.customers.selectors import pool_list
from kehu.customers.services import (
    customer_assign,
    customer_claim,
    customer_create,
    customer_release,
    customers_bulk,
    pool_recycle_due,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def pooled(org, unit, name):
    return customer_create(actor=org.admin, data={"name": name}, owner=None, org_unit=unit)


def pool_names(actor) -> set[str]:
    return {c.name for c in pool_list(actor=actor, size=100).items}


def notices(user, kind) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=kind))


# --- claiming -----------------------------------------------------------------------------------------------


def test_a_rep_claims_a_pool_customer_of_their_team(org):
    """Given a customer in team A's pool, when rep_a claims it, then rep_a owns it, it leaves the pool and the
    timeline records the claim."""
    customer = pooled(org, org.team_a, "星辰科技")
    assert "星辰科技" in pool_names(org.rep_a)

    customer_claim(actor=org.rep_a, customer=customer)

    customer.refresh_from_db()
    assert customer.owner == org.rep_a
    assert customer.org_unit == org.team_a
    assert customer.pooled_at is None
    assert customer.claimed_at is not None
    assert "星辰科技" not in pool_names(org.rep_a)
    event = TimelineEntry.objects.get(customer=customer, event="claimed")
    assert event.author == org.rep_a


def test_a_rep_of_another_region_neither_sees_nor_claims_the_pool_customer(org):
    """Given a customer in team A's pool, when rep_c of the North region looks or tries to claim, then it is
    not in their pool and the claim is refused."""
    customer = pooled(org, org.team_a, "星辰科技")
    pooled(org, org.team_c, "北方客户")

    assert pool_names(org.rep_c) == {"北方客户"}
    with pytest.raises(PermissionDenied):
        customer_claim(actor=org.rep_c, customer=customer)
    customer.refresh_from_db()
    assert customer.owner is None


def test_a_customer_already_claimed_cannot_be_claimed_again(org):
    """Given rep_a claimed a pool customer, when rep_a2 claims the same one (a stale page), then it is
    refused."""
    customer = pooled(org, org.team_a, "星辰科技")
    customer_claim(actor=org.rep_a, customer=customer)

    with pytest.raises(ValidationFailed):
        customer_claim(actor=org.rep_a2, customer=customer)
    customer.refresh_from_db()
    assert customer.owner == org.rep_a


def test_the_analyst_may_not_claim(org):
    """Given the read-only analyst of the East region, when claiming a pool customer, then it is refused."""
    customer = pooled(org, org.east, "星辰科技")

    with pytest.raises(PermissionDenied):
        customer_claim(actor=org.analyst, customer=customer)


def test_the_owner_cap_stops_claims_and_creates_beyond_the_limit(org):
    """Given a rule allowing two customers per rep in the East region and rep_a owning two, when rep_a claims
    a third or creates one, then both are refused; another rep may still claim."""
    PoolRule.objects.create(unit=org.east, owner_cap=2)
    customer_create(actor=org.rep_a, data={"name": "客户一"})
    customer_create(actor=org.rep_a, data={"name": "客户二"})
    customer = pooled(org, org.team_a, "星辰科技")

    with pytest.raises(OwnerCapReached) as caught:
        customer_claim(actor=org.rep_a, customer=customer)
    assert "owner" in caught.value.fields
    with pytest.raises(OwnerCapReached):
        customer_create(actor=org.rep_a, data={"name": "客户三"})
    with pytest.raises(OwnerCapReached):
        customer_assign(actor=org.east_manager, customer=customer, owner=org.rep_a)

    customer_claim(actor=org.rep_a2, customer=customer)
    assert Customer.objects.filter(owner=org.rep_a).count() == 2


def test_the_nearest_rule_up_the_tree_decides_the_cap(org):
    """Given a company-wide cap of one and a looser cap of three for team A, when rep_a claims two customers,
    then team A's rule applies and both claims succeed, while rep_b (under the company rule) is stopped at
    one."""
    PoolRule.objects.create(unit=org.company, owner_cap=1)
    PoolRule.objects.create(unit=org.team_a, owner_cap=3)
    for name in ("客户一", "客户二"):
        customer_claim(actor=org.rep_a, customer=pooled(org, org.team_a, name))
    customer_claim(actor=org.rep_b, customer=pooled(org, org.team_b, "客户三"))

    with pytest.raises(OwnerCapReached):
        customer_claim(actor=org.rep_b, customer=pooled(org, org.team_b, "客户四"))
    assert Customer.objects.filter(owner=org.rep_a).count() == 2


# --- releasing ----------------------------------------------------------------------------------------------


def test_release_requires_a_reason(org):
    """Given rep_a's customer, when released without a reason (or only spaces), then it is refused and
    kept."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})

    for reason in ("", "   "):
        with pytest.raises(ValidationFailed) as caught:
            customer_release(actor=org.rep_a, customer=customer, reason=reason)
        assert "reason" in caught.value.fields

    customer.refresh_from_db()
    assert customer.owner == org.rep_a


def test_an_owner_releases_to_the_pool_with_the_reason_on_record(org):
    """Given rep_a's customer, when rep_a releases it with a reason, then it is in team A's pool with that
    reason, the timeline says so, and rep_a gets no notification about their own action."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})

    customer_release(actor=org.rep_a, customer=customer, reason=" 预算取消 ")

    customer.refresh_from_db()
    assert customer.owner is None
    assert customer.pool_reason == "预算取消"
    assert customer.pooled_at is not None
    assert "星辰科技" in pool_names(org.rep_a2)
    event = TimelineEntry.objects.get(customer=customer, event="released")
    assert event.event_data == {"from": str(org.rep_a), "to": "", "reason": "预算取消"}
    assert customer.history.order_by("-history_id").first().history_change_reason == "released"
    assert notices(org.rep_a, "customer_released") == []


def test_a_manager_release_notifies_the_previous_owner(org):
    """Given rep_a's customer, when the East manager releases it, then rep_a is told, with the reason."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})

    customer_release(actor=org.east_manager, customer=customer, reason="长期未跟进")

    (notice,) = notices(org.rep_a, "customer_released")
    assert notice.params == {"customer": "星辰科技", "reason": "长期未跟进"}
    assert notice.url == f"/customers/{customer.pk}/"


def test_a_teammate_may_not_release_someone_elses_customer(org):
    """Given rep_a's customer, when rep_a2 or the North rep tries to release it, then it is refused."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})

    for actor in (org.rep_a2, org.rep_c):
        with pytest.raises(PermissionDenied):
            customer_release(actor=actor, customer=customer, reason="不要了")


def test_bulk_release_reports_which_items_failed(org):
    """Given two customers, one of rep_a and one of rep_a2, when rep_a bulk-releases both, then rep_a's goes
    to the pool and rep_a2's is listed as failed."""
    mine = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    theirs = customer_create(actor=org.rep_a2, data={"name": "云海数据"})

    result = customers_bulk(actor=org.rep_a, customers=[mine, theirs], action="release", reason="清理")

    assert result["done"] == 1
    assert list(result["failed"]) == [theirs.pk]
    assert Customer.objects.get(pk=mine.pk).owner is None
    assert Customer.objects.get(pk=theirs.pk).owner == org.rep_a2


# --- cooldown -----------------------------------------------------------------------------------------------


def test_a_rep_may_not_reclaim_a_customer_they_released_during_the_cooldown(org):
    """Given a three-day cooldown, when rep_a releases a customer and claims it straight back, then it is
    refused; a teammate may claim it; and after three days rep_a may claim it again."""
    PoolRule.objects.create(unit=org.east, claim_cooldown_days=3)
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    customer_release(actor=org.rep_a, customer=customer, reason="暂时不跟")

    with pytest.raises(ValidationFailed) as caught:
        customer_claim(actor=org.rep_a, customer=customer)
    assert "3" in str(caught.value.message)

    Customer.objects.filter(pk=customer.pk).update(pooled_at=timezone.now() - timedelta(days=3, minutes=1))
    customer_claim(actor=org.rep_a, customer=customer)
    assert Customer.objects.get(pk=customer.pk).owner == org.rep_a


def test_the_cooldown_does_not_stop_another_rep(org):
    """Given a cooldown and a customer released by rep_a, when rep_a2 claims it, then it works."""
    PoolRule.objects.create(unit=org.east, claim_cooldown_days=3)
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    customer_release(actor=org.rep_a, customer=customer, reason="暂时不跟")

    customer_claim(actor=org.rep_a2, customer=customer)

    assert Customer.objects.get(pk=customer.pk).owner == org.rep_a2


# --- assigning ----------------------------------------------------------------------------------------------


def test_a_manager_assigns_and_both_owners_are_told(org):
    """Given rep_a's customer, when the East manager assigns it to rep_b, then rep_b owns it in team B, rep_b
    is told it was assigned and rep_a that it was reassigned."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})

    customer_assign(actor=org.east_manager, customer=customer, owner=org.rep_b, reason="区域调整")

    customer.refresh_from_db()
    assert (customer.owner, customer.org_unit) == (org.rep_b, org.team_b)
    assert notices(org.rep_b, "customer_assigned")[0].params["customer"] == "星辰科技"
    assert notices(org.rep_a, "customer_reassigned")[0].params["to"] == str(org.rep_b)
    assert TimelineEntry.objects.get(customer=customer, event="assigned").event_data["reason"] == "区域调整"


def test_assigning_outside_the_managers_subtree_is_refused(org):
    """Given rep_a's customer, when a rep assigns it, or the East manager assigns it to the North rep, it is
    refused."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})

    with pytest.raises(PermissionDenied):
        customer_assign(actor=org.rep_a, customer=customer, owner=org.rep_a2)
    with pytest.raises(PermissionDenied):
        customer_assign(actor=org.east_manager, customer=customer, owner=org.rep_c)
    assert Customer.objects.get(pk=customer.pk).owner == org.rep_a


# --- the recycle job ----------------------------------------------------------------------------------------


def test_the_recycle_job_returns_stale_customers_to_the_pool(org):
    """Given a 30-day recycle rule for the East region, a customer last followed up 31 days ago, one never
    followed up since it was claimed 40 days ago, and one followed up yesterday, when the job runs, then the
    two stale ones go back to their unit's pool with a timeline event and a notice to the previous owner; the
    fresh one stays."""
    PoolRule.objects.create(unit=org.east, recycle_after_days=30)
    now = timezone.now()
    stale = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    never = customer_create(actor=org.rep_b, data={"name": "云海数据"})
    fresh = customer_create(actor=org.rep_a, data={"name": "北辰贸易"})
    Customer.objects.filter(pk=stale.pk).update(last_followup_at=now - timedelta(days=31))
    Customer.objects.filter(pk=never.pk).update(claimed_at=now - timedelta(days=40))
    Customer.objects.filter(pk=fresh.pk).update(last_followup_at=now - timedelta(days=1))

    moved = pool_recycle_due()

    assert moved == 2
    for customer, previous, unit in ((stale, org.rep_a, org.team_a), (never, org.rep_b, org.team_b)):
        customer.refresh_from_db()
        assert customer.owner is None
        assert customer.org_unit == unit
        assert "30" in customer.pool_reason
        event = TimelineEntry.objects.get(customer=customer, event="recycled")
        assert event.event_data["from"] == str(previous)
        assert event.author is None
        (notice,) = notices(previous, "customer_recycled")
        assert notice.params == {"customer": customer.name, "days": 30}
    fresh.refresh_from_db()
    assert fresh.owner == org.rep_a
    assert pool_recycle_due() == 0


def test_recycling_follows_the_nearest_rule(org):
    """Given a 30-day company rule and team A's own rule with recycling off, when the job runs, then a stale
    team A customer stays with rep_a while a stale North customer is recycled."""
    PoolRule.objects.create(unit=org.company, recycle_after_days=30)
    PoolRule.objects.create(unit=org.team_a, recycle_after_days=None)
    long_ago = timezone.now() - timedelta(days=60)
    kept = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    recycled = customer_create(actor=org.rep_c, data={"name": "北方客户"})
    Customer.objects.filter(pk__in=[kept.pk, recycled.pk]).update(last_followup_at=long_ago)

    assert pool_recycle_due() == 1

    assert Customer.objects.get(pk=kept.pk).owner == org.rep_a
    assert Customer.objects.get(pk=recycled.pk).owner is None


def test_without_a_rule_nothing_is_recycled(org):
    """Given no pool rule, when a customer has not been followed up for a year, then the job leaves it
    alone."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    Customer.objects.filter(pk=customer.pk).update(last_followup_at=timezone.now() - timedelta(days=365))

    assert pool_recycle_due() == 0
    assert Customer.objects.get(pk=customer.pk).owner == org.rep_a


def test_a_recycled_customer_falls_under_the_cooldown_for_its_previous_owner(org):
    """Given a cooldown and a customer recycled away from rep_a, when rep_a claims it back at once, then it is
    refused."""
    PoolRule.objects.create(unit=org.east, recycle_after_days=30, claim_cooldown_days=7)
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    Customer.objects.filter(pk=customer.pk).update(last_followup_at=timezone.now() - timedelta(days=31))
    pool_recycle_due()

    with pytest.raises(ValidationFailed):
        customer_claim(actor=org.rep_a, customer=customer)
    customer_claim(actor=org.rep_a2, customer=customer)
