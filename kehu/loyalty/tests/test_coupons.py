"""Coupons: definitions edited by admins and managers; unique codes from an unambiguous alphabet or one shared
code; issuing one, many (a campaign) or for a ticket within the per-customer limit and the total quantity, with
who was skipped and why; buying with points; and redemption, each refusal with its reason."""

import csv
import datetime
import io

import pytest
from django.utils import timezone, translation

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.loyalty import rules, services
from kehu.loyalty.models import Coupon, CouponDefinition, Member, PointsEntry

C = Coupon.Status


def define(actor, **data):
    return services.coupon_definition_create(
        actor=actor, data={"name": "满200减20", "kind": "amount", "value": 20, "min_spend": 200, **data}
    )


def refused(call) -> str:
    """The reason a refused call gives, in English."""
    with translation.override("en"), pytest.raises(ValidationFailed) as error:
        call()
    return " ".join([str(error.value.message), *map(str, error.value.fields.values())])


def test_only_admins_and_managers_define_coupons_and_generate_codes(org):
    with pytest.raises(PermissionDenied):
        define(org.rep_a)
    definition = define(org.east_manager, quantity=50)
    assert definition.version == 1 and definition.history.count() == 1
    with pytest.raises(PermissionDenied):
        services.coupon_codes_generate(actor=org.rep_a, definition=definition, count=5)
    assert services.coupon_codes_generate(actor=org.admin, definition=definition, count=40) == 40
    codes = list(definition.coupons.values_list("code", flat=True))
    assert len(set(codes)) == 40
    assert all(len(c) == 10 and set(c) <= set(rules.CODE_ALPHABET) for c in codes)
    assert not set("".join(codes)) & set("0O1IL")
    assert "10 more codes can be made" in refused(
        lambda: services.coupon_codes_generate(actor=org.admin, definition=definition, count=11)
    )


def test_issuing_to_a_campaign_respects_the_limit_and_the_quantity_and_says_who_was_skipped(
    org, make_customer
):
    definition = define(org.admin, quantity=3, per_customer_limit=1)
    mine = [make_customer(org.rep_a, name=f"客户{i}") for i in range(4)]
    hidden = make_customer(org.rep_c, name="北京客户")
    first = services.coupon_issue(actor=org.rep_a, definition=definition, customer=mine[0])
    assert first.status == C.ISSUED and first.source == Coupon.Source.MANUAL
    with translation.override("en"):
        result = services.coupons_issue_many(
            actor=org.rep_a,
            definition=definition,
            customer_ids=[mine[0].pk, mine[1].pk, mine[2].pk, mine[3].pk, hidden.pk, 999999],
            source="campaign",
        )
    assert sorted(result) == [mine[1].pk, mine[2].pk]
    assert result.skipped == {
        mine[0].pk: "Already holds 1 of this coupon, the most a customer may.",
        mine[3].pk: "All 3 coupons have been issued.",
        hidden.pk: "No such customer among those you see.",
        999999: "No such customer among those you see.",
    }
    issued = Coupon.objects.filter(definition=definition, status=C.ISSUED)
    assert issued.count() == 3
    assert {c.customer_id: c.code for c in issued if c.customer_id != mine[0].pk} == dict(result)
    assert all(c.source == "campaign" for c in issued.exclude(customer=mine[0]))


def test_a_shared_code_is_issued_as_copies_and_validity_runs_from_issue(org, buyer):
    definition = define(
        org.admin,
        code_mode="shared",
        shared_code="vip-2026",
        valid_days=7,
        per_customer_limit=2,
        kind="percent",
        value=10,
    )
    assert definition.shared_code == "VIP2026"
    coupon = services.coupon_issue(actor=org.rep_a, definition=definition, customer=buyer)
    today = timezone.localdate()
    assert (coupon.code, coupon.shared, coupon.valid_until) == (
        "VIP2026",
        True,
        today + datetime.timedelta(days=6),
    )
    services.coupon_issue(actor=org.rep_a, definition=definition, customer=buyer)
    assert "the most a customer may" in refused(
        lambda: services.coupon_issue(actor=org.rep_a, definition=definition, customer=buyer)
    )


def test_redemption_refusals_each_say_why(org, buyer, place, make_customer):
    definition = define(org.admin, valid_from=datetime.date(2020, 1, 1))
    code = services.coupon_issue(actor=org.rep_a, definition=definition, customer=buyer).code
    small = place(buyer, "150", total="150")
    big = place(buyer, "300", total="300")
    other = make_customer(org.rep_a, name="别人")

    assert "No coupon has this code." in refused(
        lambda: services.coupon_redeem(actor=org.rep_a, code="NOPE2345", customer=buyer)
    )
    assert "issued to another customer" in refused(
        lambda: services.coupon_redeem(actor=org.rep_a, code=code, customer=other)
    )
    assert "needs a spend of at least ¥200.00; the order comes to ¥150.00" in refused(
        lambda: services.coupon_redeem(actor=org.rep_a, code=code, order=small)
    )
    redeemed = services.coupon_redeem(actor=org.rep_a, code=code.lower(), order=big)
    assert (redeemed.status, redeemed.order, redeemed.discount, redeemed.redeemed_by) == (
        C.REDEEMED,
        big,
        20,
        org.rep_a,
    )
    assert "already redeemed on" in refused(
        lambda: services.coupon_redeem(actor=org.rep_a, code=code, order=big)
    )

    later = define(org.admin, name="下月券", valid_from=timezone.localdate() + datetime.timedelta(days=3))
    early = services.coupon_issue(actor=org.rep_a, definition=later, customer=buyer).code
    assert "valid from" in refused(
        lambda: services.coupon_redeem(actor=org.rep_a, code=early, customer=buyer)
    )

    gone = define(org.admin, name="过期券")
    old = services.coupon_issue(actor=org.rep_a, definition=gone, customer=buyer)
    Coupon.objects.filter(pk=old.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    assert "expired on" in refused(
        lambda: services.coupon_redeem(actor=org.rep_a, code=old.code, customer=buyer)
    )

    withdrawn = define(org.admin, name="撤回券")
    kept = services.coupon_issue(actor=org.rep_a, definition=withdrawn, customer=buyer).code
    services.coupon_definition_update(actor=org.admin, definition=withdrawn, data={"active": False})
    assert "withdrawn" in refused(lambda: services.coupon_redeem(actor=org.rep_a, code=kept, customer=buyer))
    assert "Name the customer or the order." in refused(
        lambda: services.coupon_redeem(actor=org.rep_a, code=kept)
    )


def test_a_printed_code_is_issued_when_redeemed_within_the_customers_limit(org, buyer, place):
    definition = define(org.admin, per_customer_limit=1)
    services.coupon_codes_generate(actor=org.admin, definition=definition, count=2)
    printed, second = definition.coupons.order_by("id")
    order = place(buyer, "250", total="250")
    redeemed = services.coupon_redeem(actor=org.rep_a, code=printed.code, order=order)
    assert (redeemed.customer, redeemed.source, redeemed.status) == (
        buyer,
        Coupon.Source.REDEMPTION,
        C.REDEEMED,
    )
    assert "the most a customer may" in refused(
        lambda: services.coupon_redeem(actor=org.rep_a, code=second.code, customer=buyer)
    )


def test_a_percentage_takes_its_share_of_the_order(org, buyer, place):
    definition = define(org.admin, kind="percent", value="12.5", min_spend=0)
    code = services.coupon_issue(actor=org.rep_a, definition=definition, customer=buyer).code
    order = place(buyer, "99.99", total="99.99")
    assert services.coupon_redeem(actor=org.rep_a, code=code, order=order).discount == pytest.approx(12.50)


def test_points_buy_a_coupon_and_the_price_is_taken_with_it(org, buyer, place):
    definition = define(org.admin, points_cost=300)
    place(buyer, "500")
    services.points_accrue()
    coupon = services.points_redeem_for_coupon(
        actor=org.rep_a, customer=buyer, definition=definition, key="k1"
    )
    again = services.points_redeem_for_coupon(
        actor=org.rep_a, customer=buyer, definition=definition, key="k1"
    )
    assert coupon.pk == again.pk and coupon.source == Coupon.Source.POINTS and coupon.customer == buyer
    entry = PointsEntry.objects.get(customer=buyer, kind=PointsEntry.Kind.REDEEM)
    assert (entry.points, entry.coupon) == (-300, coupon)
    assert Member.objects.get(customer=buyer).points == 200
    assert "Not enough points" in refused(
        lambda: services.points_redeem_for_coupon(actor=org.rep_a, customer=buyer, definition=definition)
    )
    assert Coupon.objects.filter(customer=buyer).count() == 1  # the refused purchase issued nothing


def test_a_ticket_compensation_issues_the_coupon_and_records_it_on_the_ticket(org, buyer):
    from kehu.support import services as desk
    from kehu.support.models import Compensation

    ticket = desk.ticket_create(
        actor=org.admin,
        data={"subject": "快递慢", "customer": buyer},
        team=org.team_a,
        assignee=org.agent_a,
        acknowledge=False,
    )
    definition = define(org.admin, name="致歉券", value=30, min_spend=0)
    with pytest.raises(PermissionDenied):
        services.coupon_issue_for_ticket(actor=org.rep_b, ticket=ticket, definition=definition)
    coupon = services.coupon_issue_for_ticket(actor=org.agent_a, ticket=ticket, definition=definition)
    assert (coupon.ticket, coupon.customer, coupon.source) == (ticket, buyer, Coupon.Source.TICKET)
    compensation = Compensation.objects.get(ticket=ticket)
    assert (
        compensation.kind == "coupon" and coupon.code in compensation.description and compensation.cost == 30
    )
    entry = services.points_compensate(actor=org.agent_a, ticket=ticket, points=50, note="致歉")
    assert (entry.ticket, entry.points, Member.objects.get(customer=buyer).points) == (ticket, 50, 50)


def test_the_codes_export_lists_unissued_codes_and_the_readers_customers(org, login, buyer, make_customer):
    definition = define(org.admin)
    services.coupon_codes_generate(actor=org.admin, definition=definition, count=3)
    services.coupon_issue(actor=org.admin, definition=definition, customer=buyer)
    services.coupon_issue(
        actor=org.admin, definition=definition, customer=make_customer(org.rep_c, name="北方客户")
    )
    response = login(org.east_manager).get(f"/loyalty/coupons/{definition.pk}/export/?format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    body = rows[1:]
    assert len(body) == 2 and {r[3] for r in body} == {"", "王小二"}  # rep_c's customer is outside the region
    assert login(org.rep_a).get(f"/loyalty/coupons/{definition.pk}/export/").status_code == 403


def test_a_binned_definition_goes_to_the_recycle_bin_and_comes_back(org, login):
    definition = define(org.admin, name="回收券")
    services.coupon_definition_delete(actor=org.admin, definition=definition)
    assert not CouponDefinition.objects.filter(pk=definition.pk).exists()
    admin = login(org.admin)
    assert "回收券" in admin.get("/recycle-bin/").content.decode()
    admin.post(f"/loyalty/coupons/{definition.pk}/restore/")
    assert CouponDefinition.objects.filter(pk=definition.pk).exists()
