"""The points ledger: orders earn net of refunds and give back when refunded (in part or in full), each order
once however often the pass runs; the balance is always the sum of the entries and never below zero; earnings
expire first in, first out."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.loyalty import services
from kehu.loyalty.models import LoyaltySettings, Member, PointsEntry, Tier
from kehu.loyalty.tests.conftest import at, refund
from kehu.sales.models import Order

E = PointsEntry


def entries(customer):
    return list(PointsEntry.objects.filter(customer=customer).order_by("id").values_list("kind", "points"))


def balance(customer) -> int:
    return Member.objects.get(customer=customer).points


def test_a_completed_order_earns_a_point_per_yuan_once_however_often_the_pass_runs(org, buyer, place):
    """Given a completed order of ¥399.90, when the accrual runs twice, then it earned 399 points once."""
    order = place(buyer, "399.90")
    place(buyer, "50", status=Order.Status.PAID)  # paid, not completed yet: earns nothing by default
    first = services.points_accrue()
    again = services.points_accrue()
    assert first["entries"] == 1 and again["entries"] == 0
    entry = PointsEntry.objects.get(customer=buyer)
    assert (entry.kind, entry.source, entry.reference, entry.points, entry.order_id) == (
        E.Kind.EARN,
        E.Source.ORDER,
        str(order.pk),
        399,
        order.pk,
    )
    assert entry.amount == Decimal("399.90") and entry.rate == 1
    assert balance(buyer) == 399 and services.ledger_drift() == {}


def test_the_tier_multiplier_and_the_rate_apply_when_the_order_first_earns(org, buyer, place):
    """A VIP earns ×1.5; a later refund gives back at the rate the order earned at, not today's."""
    vip = Tier.objects.get(key="vip")
    Member.objects.create(customer=buyer, tier=vip)
    order = place(buyer, "100")
    services.points_accrue()
    assert balance(buyer) == 150
    Member.objects.filter(customer=buyer).update(tier=Tier.objects.get(key="regular"))
    refund(order, "40")
    services.points_accrue()
    assert entries(buyer) == [(E.Kind.EARN, 150), (E.Kind.REVERSE, -60)]  # 60 × 1.5 = 90 points kept
    assert balance(buyer) == 90


def test_partial_refunds_reverse_their_share_and_a_full_refund_the_rest(org, buyer, place):
    order = place(buyer, "200")
    services.points_accrue()
    refund(order, "50")
    services.points_accrue()
    services.points_accrue()
    refund(order, "200")
    order.status = Order.Status.CLOSED
    order.save()
    services.points_accrue()
    assert entries(buyer) == [(E.Kind.EARN, 200), (E.Kind.REVERSE, -50), (E.Kind.REVERSE, -150)]
    references = list(
        PointsEntry.objects.filter(customer=buyer).order_by("id").values_list("reference", flat=True)
    )
    assert references == [str(order.pk), f"{order.pk}:2", f"{order.pk}:3"]
    assert balance(buyer) == 0 and services.ledger_drift() == {}


def test_a_refund_through_the_service_desk_counts_once_with_the_exports(org, buyer, place):
    """A line refunded by an after-sale request reverses its share; the export later reporting the same refund
    does not reverse it again (the larger of the two counts)."""
    from kehu.sales.models import OrderLine
    from kehu.support import aftersale
    from kehu.support import services as desk
    from kehu.support.models import TicketType

    order = place(buyer, "100")
    line = OrderLine.objects.create(order=order, title="骨瓷杯", quantity=2, unit_price=50, amount=100)
    services.points_accrue()
    ticket = desk.ticket_create(
        actor=org.admin,
        data={"subject": "退货", "ticket_type": TicketType.AFTER_SALE, "customer": buyer, "order": order},
        team=org.team_a,
        assignee=org.agent_a,
        acknowledge=False,
    )
    request = aftersale.after_sale_create(
        actor=org.agent_a,
        ticket=ticket,
        data={"kind": "refund", "reason": "quality"},
        lines=[{"order_line": line.pk, "quantity": "1"}],
    )
    aftersale.after_sale_advance(actor=org.agent_a, after_sale=request, status="approved")
    aftersale.after_sale_advance(actor=org.agent_a, after_sale=request, status="refunded")
    services.points_accrue_changed()  # finds the order through the after-sale refunded since the last pass
    assert balance(buyer) == 50
    refund(order, "50")
    services.points_accrue()
    assert entries(buyer) == [(E.Kind.EARN, 100), (E.Kind.REVERSE, -50)]


def test_the_periodic_pass_takes_orders_changed_since_it_last_ran(org, buyer, place):
    place(buyer, "10")
    services.points_accrue_changed()
    assert LoyaltySettings.objects.get().accrued_until is not None
    later = place(buyer, "20")
    assert services.points_accrue_changed()["entries"] == 1
    assert PointsEntry.objects.filter(order=later).count() == 1 and balance(buyer) == 30


def test_a_reversal_takes_only_what_is_left_and_the_balance_never_goes_below_zero(org, buyer, place):
    """Points spent before the refund came: the reversal takes what is left and says what it asked for."""
    order = place(buyer, "100")
    services.points_accrue()
    services.points_redeem_gift(actor=org.rep_a, customer=buyer, points=80, gift="保温杯")
    refund(order, "100")
    services.points_accrue()
    reversal = PointsEntry.objects.filter(customer=buyer, kind=E.Kind.REVERSE).get()
    assert (reversal.requested, reversal.points) == (-100, -20)
    assert balance(buyer) == 0
    services.points_accrue()  # the order is settled: nothing more is asked
    assert PointsEntry.objects.filter(customer=buyer).count() == 3
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(customer=buyer).update(points=-1)  # the database refuses a negative balance


def test_spending_more_than_the_balance_is_refused_and_writes_nothing(org, buyer, place):
    place(buyer, "30")
    services.points_accrue()
    with translation.override("en"), pytest.raises(ValidationFailed) as error:
        services.points_redeem_gift(actor=org.rep_a, customer=buyer, points=31, gift="雨伞")
    assert error.value.fields["points"] == "Not enough points: 31 are needed and the balance is 30."
    with pytest.raises(ValidationFailed):
        services.points_adjust(actor=org.admin, customer=buyer, points=-31, reason="错录")
    assert balance(buyer) == 30 and PointsEntry.objects.filter(customer=buyer).count() == 1


def test_a_retried_redemption_with_the_same_key_spends_once(org, buyer, place):
    place(buyer, "100")
    services.points_accrue()
    first = services.points_redeem_gift(actor=org.rep_a, customer=buyer, points=40, gift="雨伞", key="req-1")
    again = services.points_redeem_gift(actor=org.rep_a, customer=buyer, points=40, gift="雨伞", key="req-1")
    assert first.pk == again.pk and balance(buyer) == 60


def test_manual_adjustments_need_a_manager_of_the_unit_and_a_reason(org, buyer):
    with pytest.raises(PermissionDenied):
        services.points_adjust(actor=org.rep_a, customer=buyer, points=10, reason="补偿")
    with pytest.raises(PermissionDenied):
        services.points_adjust(actor=org.rep_c, customer=buyer, points=10, reason="补偿")
    with pytest.raises(ValidationFailed) as error:
        services.points_adjust(actor=org.east_manager, customer=buyer, points=10, reason=" ")
    assert "reason" in error.value.fields
    entry = services.points_adjust(actor=org.east_manager, customer=buyer, points=25, reason="活动补发")
    assert (entry.kind, entry.source, entry.points, entry.note, entry.actor) == (
        E.Kind.ADJUST,
        E.Source.MANUAL,
        25,
        "活动补发",
        org.east_manager,
    )
    services.points_adjust(actor=org.admin, customer=buyer, points=-5, reason="多发")
    assert balance(buyer) == 20 and services.ledger_drift() == {}


def test_a_review_earns_once_per_review(org, buyer):
    services.points_award_review(actor=org.rep_a, customer=buyer, reference="review-88")
    services.points_award_review(actor=org.rep_a, customer=buyer, reference="review-88")
    assert balance(buyer) == LoyaltySettings.objects.get().review_points == 10
    with pytest.raises(PermissionDenied):  # a rep may not choose the number
        services.points_award_review(actor=org.rep_a, customer=buyer, reference="review-89", points=500)


def test_entries_are_never_changed(org, buyer, place):
    place(buyer, "10")
    services.points_accrue()
    entry = PointsEntry.objects.get(customer=buyer)
    entry.points = 1000
    with pytest.raises(ValueError, match="never changed"):
        entry.save()


def test_earnings_expire_first_in_first_out_at_the_end_of_the_year_after(org, buyer, place):
    """Earned 100 in 2024 and 100 in 2025, spent 130 in 2025: the 2024 points are gone, and 30 of the 2025 ones.
    On 1 January 2026 nothing of 2024 is left to expire; on 1 January 2027 the remaining 70 of 2025 expire."""
    place(buyer, "100", when=at(2024, 6, 1))
    services.points_accrue(now=at(2024, 6, 2))
    place(buyer, "100", when=at(2025, 3, 1))
    services.points_accrue(now=at(2025, 3, 2))
    assert list(
        PointsEntry.objects.filter(customer=buyer).order_by("id").values_list("expires_on", flat=True)
    ) == [
        datetime.date(2025, 12, 31),
        datetime.date(2026, 12, 31),
    ]
    member = Member.objects.get(customer=buyer)
    assert (member.expiring_on, member.expiring_points) == (datetime.date(2025, 12, 31), 100)
    services.points_redeem_gift(actor=org.rep_a, customer=buyer, points=130, gift="行李箱")
    member.refresh_from_db()
    assert (member.expiring_on, member.expiring_points) == (datetime.date(2026, 12, 31), 70)

    assert services.points_expire(today=datetime.date(2025, 12, 31)) == {"members": 0, "points": 0}
    assert services.points_expire(today=datetime.date(2026, 1, 1)) == {"members": 0, "points": 0}
    assert balance(buyer) == 70
    assert services.points_expire(today=datetime.date(2027, 1, 1)) == {"members": 1, "points": 70}
    assert services.points_expire(today=datetime.date(2027, 1, 1)) == {"members": 0, "points": 0}
    expiry = PointsEntry.objects.get(customer=buyer, kind=E.Kind.EXPIRE)
    assert (expiry.points, expiry.reference) == (-70, f"{buyer.pk}:2027-01-01")
    member.refresh_from_db()
    assert (member.points, member.expiring_on, member.expiring_points) == (0, None, 0)


def test_unspent_points_expire_and_later_earnings_stay(org, buyer, place, make_customer):
    other = make_customer(org.rep_b, name="赵六")
    place(buyer, "100", when=at(2024, 6, 1))
    place(other, "40", when=at(2024, 7, 1))
    services.points_accrue(now=at(2024, 7, 2))
    place(buyer, "50", when=at(2025, 2, 1))
    services.points_accrue(now=at(2025, 2, 2))
    assert services.points_expire(today=datetime.date(2026, 1, 1)) == {"members": 2, "points": 140}
    assert balance(buyer) == 50 and balance(other) == 0
    assert services.ledger_drift() == {}


def test_expiry_by_months_and_never(org, buyer, place):
    settings = LoyaltySettings.objects.get()
    settings.expiry, settings.expiry_months = LoyaltySettings.Expiry.MONTHS, 6
    settings.save()
    place(buyer, "10", when=at(2025, 8, 31))
    services.points_accrue(now=at(2025, 8, 31))
    assert PointsEntry.objects.get(customer=buyer).expires_on == datetime.date(2026, 2, 27)
    settings.expiry = LoyaltySettings.Expiry.NEVER
    settings.save()
    place(buyer, "10")
    services.points_accrue()
    assert PointsEntry.objects.filter(customer=buyer, expires_on__isnull=True).count() == 1


def test_the_ledger_page_shows_the_balance_after_each_entry(org, buyer, place):
    from kehu.loyalty import selectors

    place(buyer, "100")
    services.points_accrue()
    services.points_redeem_gift(actor=org.rep_a, customer=buyer, points=30, gift="雨伞")
    services.points_adjust(actor=org.admin, customer=buyer, points=5, reason="补")
    page = selectors.ledger_page(customer=buyer, size=2)
    assert [(e.points, e.balance) for e in page.items] == [(5, 75), (-30, 70)]
    rest = selectors.ledger_page(customer=buyer, cursor=page.next_cursor, size=2)
    assert [(e.points, e.balance) for e in rest.items] == [(100, 100)]
    assert timezone.is_aware(rest.items[0].created_at)


def test_a_merge_folds_the_merged_customers_points_and_tier_into_the_survivor(
    org, buyer, place, make_customer
):
    from kehu.customers.services import customer_merge

    twin = make_customer(org.rep_a, name="王小二（淘宝）")
    place(buyer, "100")
    place(twin, "2500")
    services.points_accrue()
    services.tiers_evaluate()
    survivor = customer_merge(actor=org.admin, survivor=buyer, merged=twin)
    member = Member.objects.select_related("tier").get(customer=survivor)
    assert (member.points, member.tier.key) == (2600, "senior")
    assert not Member.objects.filter(customer=twin).exists()
    assert PointsEntry.objects.filter(customer=survivor).count() == 2 and services.ledger_drift() == {}


def test_an_order_found_late_earns_as_of_the_day_it_completed(org, buyer, place):
    """An old order imported today earns points dated by its completion: they expire on that schedule."""
    place(buyer, "60", when=at(2024, 3, 1))
    services.points_accrue(now=at(2026, 2, 1))
    assert PointsEntry.objects.get(customer=buyer).expires_on == datetime.date(2025, 12, 31)
    assert services.points_expire(today=datetime.date(2026, 2, 2)) == {"members": 1, "points": 60}
    assert balance(buyer) == 0


def test_the_expiry_pass_looks_only_at_earnings_due_since_it_last_ran(org, buyer, place):
    place(buyer, "40", when=at(2024, 3, 1))
    services.points_accrue(now=at(2024, 3, 2))
    services.points_expire(today=datetime.date(2025, 6, 1))  # nothing due yet
    assert LoyaltySettings.objects.get().expired_until == datetime.date(2025, 6, 1)
    assert services.points_expire(today=datetime.date(2026, 1, 1)) == {"members": 1, "points": 40}
    assert LoyaltySettings.objects.get().expired_until == datetime.date(2026, 1, 1)
