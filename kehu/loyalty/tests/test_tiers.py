"""Tiers: members move up as soon as they meet a tier's rule over the window, move down only at their review and
at most one tier per review (unless configured), and every move is in the tier history with who or what moved it
and why. The full evaluation is set-based; it also enrols customers with qualifying orders."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.loyalty import selectors, services
from kehu.loyalty.models import LoyaltySettings, Member, Tier, TierChange
from kehu.loyalty.tests.conftest import at, refund

R = TierChange.Reason


def tier_of(customer) -> str:
    return Member.objects.select_related("tier").get(customer=customer).tier.key


def test_a_member_is_upgraded_by_spend_or_by_orders_and_the_change_is_recorded(
    org, buyer, place, make_customer
):
    """¥2,000 paid in the window makes a senior member; five orders do as well; ¥5,000 jumps straight to VIP."""
    by_orders = make_customer(org.rep_a, name="订单多")
    big = make_customer(org.rep_a, name="大买家")
    now = at(2026, 3, 1)
    place(buyer, "2000", when=at(2025, 12, 1))
    for day in range(1, 6):
        place(by_orders, "10", when=at(2026, 1, day))
    place(big, "5200", when=at(2026, 2, 1))
    place(make_customer(org.rep_a, name="过期的"), "9000", when=at(2024, 12, 1))  # outside the 365 days

    counts = services.tiers_evaluate(now=now)
    assert counts["enrolled"] == 3 and counts["upgraded"] == 3 and counts["downgraded"] == 0
    assert (tier_of(buyer), tier_of(by_orders), tier_of(big)) == ("senior", "senior", "vip")
    change = TierChange.objects.get(customer=big)
    assert (
        change.from_tier.key,
        change.to_tier.key,
        change.reason,
        change.spend,
        change.orders,
        change.actor,
    ) == (
        "regular",
        "vip",
        R.UPGRADE,
        5200,
        1,
        None,
    )
    assert services.tiers_evaluate(now=now)["upgraded"] == 0  # nothing moves twice


def test_refunds_count_against_the_spend(org, buyer, place):
    order = place(buyer, "2100", when=at(2026, 1, 5))
    refund(order, "200")
    services.tiers_evaluate(now=at(2026, 2, 1))
    member = Member.objects.get(customer=buyer)
    assert (member.tier.key, member.window_spend, member.window_orders) == ("regular", 1900, 1)


def test_a_downgrade_waits_for_the_review_and_takes_one_step(org, buyer, place):
    """A supreme member who paid only ¥100 stays supreme until the review on 1 January, then becomes VIP (one
    step, not all the way down), and senior at the next year's review."""
    Member.objects.create(
        customer=buyer, tier=Tier.objects.get(key="supreme"), reviewed_on=datetime.date(2025, 1, 1)
    )
    place(buyer, "100", when=at(2025, 6, 1))
    services.tiers_evaluate(now=at(2025, 12, 31))
    assert tier_of(buyer) == "supreme"
    counts = services.tiers_evaluate(now=at(2026, 1, 1, 3))
    assert counts["downgraded"] == 1 and tier_of(buyer) == "vip"
    assert Member.objects.get(customer=buyer).reviewed_on == datetime.date(2026, 1, 1)
    services.tiers_evaluate(now=at(2026, 1, 2))  # reviewed already this year
    assert tier_of(buyer) == "vip"
    services.tiers_evaluate(now=at(2027, 1, 1))
    assert tier_of(buyer) == "senior"
    history = list(
        TierChange.objects.filter(customer=buyer).order_by("id").values_list("to_tier__key", "reason")
    )
    assert history == [("vip", R.REVIEW), ("senior", R.REVIEW)]


def test_more_steps_down_when_configured(org, buyer):
    settings = LoyaltySettings.objects.get()
    settings.downgrade_steps = 3
    settings.save()
    Member.objects.create(
        customer=buyer, tier=Tier.objects.get(key="supreme"), reviewed_on=datetime.date(2025, 1, 1)
    )
    services.tiers_evaluate(now=at(2026, 1, 1))
    assert tier_of(buyer) == "regular"


def test_a_member_still_meeting_the_rule_keeps_the_tier_at_review(org, buyer, place):
    Member.objects.create(
        customer=buyer, tier=Tier.objects.get(key="vip"), reviewed_on=datetime.date(2025, 1, 1)
    )
    place(buyer, "6000", when=at(2025, 10, 1))
    counts = services.tiers_evaluate(now=at(2026, 1, 1))
    assert counts["downgraded"] == 0 and counts["reviewed"] == 1 and tier_of(buyer) == "vip"


def test_anniversary_reviews(org, buyer):
    settings = LoyaltySettings.objects.get()
    settings.review = LoyaltySettings.Review.ANNIVERSARY
    settings.save()
    Member.objects.create(
        customer=buyer, tier=Tier.objects.get(key="vip"), reviewed_on=datetime.date(2025, 5, 20)
    )
    services.tiers_evaluate(now=at(2026, 5, 19))
    assert tier_of(buyer) == "vip"
    services.tiers_evaluate(now=at(2026, 5, 20))
    assert tier_of(buyer) == "senior"


def test_evaluating_one_member_by_hand_and_setting_a_tier(org, buyer, place):
    place(buyer, "2500")
    with pytest.raises(PermissionDenied):
        services.member_evaluate(actor=org.rep_a, customer=buyer)
    member = services.member_evaluate(actor=org.east_manager, customer=buyer)
    assert member.tier.key == "senior"
    assert TierChange.objects.get(customer=buyer).actor == org.east_manager
    with pytest.raises(ValidationFailed):
        services.member_tier_set(actor=org.admin, customer=buyer, tier=Tier.objects.get(key="vip"), reason="")
    services.member_tier_set(
        actor=org.admin, customer=buyer, tier=Tier.objects.get(key="vip"), reason="大客户"
    )
    last = TierChange.objects.filter(customer=buyer).latest("id")
    assert (last.from_tier.key, last.to_tier.key, last.reason, last.note, last.actor) == (
        "senior",
        "vip",
        R.MANUAL,
        "大客户",
        org.admin,
    )
    assert [row["to_tier"] for row in selectors.tier_changes_since(0)] == ["senior", "vip"]
    assert selectors.tier_changes_since(last.pk) == []


def test_the_full_evaluation_is_set_based(org, place, make_customer):
    """The number of statements does not grow with the number of members or of upgrades: the figures are one
    UPDATE per range of members, the moves one read and two bulk writes."""

    def evaluate_with(buyers: int, day: int) -> int:
        for i in range(buyers):
            place(
                make_customer(org.rep_a, name=f"买家{day}-{i:02d}"),
                "2500" if i % 2 else "10",
                when=at(2026, 1, 10),
            )
        with CaptureQueriesContext(connection) as queries:
            services.tiers_evaluate(now=at(2026, 2, day))
        return len(queries)

    few = evaluate_with(4, 1)
    many = evaluate_with(40, 2)
    assert Member.objects.filter(tier__key="senior").count() == 22
    assert many == few


def test_the_import_hook_accrues_and_upgrades_the_customers_of_changed_orders(org, buyer, place):
    from django.utils import timezone

    started = timezone.now()
    place(buyer, "2200")
    counts = services.orders_imported(since=started)
    assert counts["entries"] == 1 and counts["upgraded"] == 1
    assert tier_of(buyer) == "senior" and Member.objects.get(customer=buyer).points == 2200


def test_the_ladder_is_edited_by_admins_and_managers_only(org):
    regular = Tier.objects.get(key="regular")
    assert [t.key for t in selectors.tier_list()] == ["regular", "senior", "vip", "supreme"]
    with pytest.raises(PermissionDenied):
        services.tier_save(actor=org.rep_a, tier=regular, data={"birthday_gift": "蛋糕"})
    services.tier_save(actor=org.east_manager, tier=regular, data={"birthday_gift": "生日蛋糕券"})
    assert Tier.objects.get(key="regular").birthday_gift == "生日蛋糕券"
    with pytest.raises(ValidationFailed) as error:
        services.tier_save(actor=org.admin, tier=regular, data={"min_spend": 100})
    assert "min_spend" in error.value.fields
    made = services.tier_save(
        actor=org.admin, data={"key": "diamond", "name": "钻石会员", "position": 5, "min_spend": 50000}
    )
    assert made.label == "钻石会员"
    with pytest.raises(ValidationFailed):
        services.tier_save(actor=org.admin, data={"key": "dup", "name": "重复", "position": 5})
    services.tier_delete(actor=org.admin, tier=made)
    assert not Tier.objects.filter(key="diamond").exists()
