"""Referrals: a member's invitation code links an invitee; both earn points once when the invitee's first paid
order completes; the guard refuses (and records why) self-invitations, invitees with earlier orders, and two
customers sharing a phone number or a receiver address — also when the first order reveals it."""

import pytest
from django.utils import timezone, translation

from kehu.core.exceptions import ValidationFailed
from kehu.loyalty import services
from kehu.loyalty.models import Member, PointsEntry, Referral
from kehu.sales.models import Order

F = Referral.Refusal


@pytest.fixture
def code(org, buyer):
    return services.member_referral_code(actor=org.rep_a, customer=buyer)


def points(customer) -> int:
    return Member.objects.get(customer=customer).points


def test_both_sides_earn_once_when_the_invitees_first_paid_order_completes(org, buyer, code, place):
    assert code == services.member_referral_code(actor=org.rep_a, customer=buyer)  # made once, then kept
    invitee, referral = services.referral_customer_create(
        actor=org.rep_a,
        code=code.lower(),
        data={"name": "新朋友", "kind": "individual", "phone": "13900002222"},
    )
    assert referral.status == Referral.Status.PENDING and invitee.source == "referral"
    place(invitee, "80", status=Order.Status.PAID, when=timezone.now())
    services.points_accrue()
    assert Referral.objects.get().status == Referral.Status.PENDING  # paid, not completed
    order = Order.objects.get(customer=invitee)
    order.status = Order.Status.COMPLETED
    order.save()
    services.points_accrue()
    services.points_accrue()
    referral.refresh_from_db()
    assert (referral.status, referral.order) == (Referral.Status.REWARDED, order)
    assert points(buyer) == 100 and points(invitee) == 50 + 80
    assert PointsEntry.objects.filter(source=PointsEntry.Source.REFERRAL).count() == 2
    place(invitee, "10", when=timezone.now())
    services.points_accrue()
    assert points(buyer) == 100  # only the first order


def test_a_wrong_code_creates_nothing_and_an_invitee_is_invited_once(org, buyer, code, make_customer):
    with translation.override("en"), pytest.raises(ValidationFailed) as error:
        services.referral_customer_create(actor=org.rep_a, code="WRONG234", data={"name": "谁"})
    assert error.value.fields["code"] == "No member has this invitation code."
    assert not type(buyer).objects.filter(name="谁").exists()
    invitee = make_customer(org.rep_a, name="朋友甲")
    services.referral_record(actor=org.rep_a, invitee=invitee, code=code)
    with pytest.raises(ValidationFailed):
        services.referral_record(actor=org.rep_a, invitee=invitee, code=code)


@pytest.mark.parametrize(
    ("setup", "refusal"),
    [
        ("self", F.SELF),
        ("phone", F.SAME_PHONE),
        ("orders", F.PRIOR_ORDERS),
    ],
)
def test_the_guard_refuses_and_records_why(org, buyer, code, make_customer, place, setup, refusal):
    if setup == "self":
        invitee = buyer
    elif setup == "phone":
        from kehu.customers.services import contact_create

        invitee = make_customer(org.rep_a, name="同号的公司")
        contact_create(
            actor=org.rep_a, customer=invitee, data={"name": "王小二", "mobile": "+86 138-0000-1111"}
        )
    else:
        invitee = make_customer(org.rep_a, name="老客户")
        place(invitee, "10")
    referral = services.referral_record(actor=org.rep_a, invitee=invitee, code=code)
    assert (referral.status, referral.refusal) == (Referral.Status.REFUSED, refusal)
    assert referral.decided_at is not None
    place(invitee, "99", when=timezone.now())
    services.points_accrue()
    assert PointsEntry.objects.filter(source=PointsEntry.Source.REFERRAL).count() == 0


def test_a_shared_receiver_address_found_on_the_first_order_refuses_the_reward(org, buyer, code, place):
    place(buyer, "10", delivery_address="浙江省 杭州市 西湖区 文三路 100 号")
    invitee, referral = services.referral_customer_create(actor=org.rep_a, code=code, data={"name": "小号"})
    assert referral.status == Referral.Status.PENDING  # nothing to compare yet
    place(invitee, "50", delivery_address="浙江省杭州市西湖区文三路100号", when=timezone.now())
    services.points_accrue()
    referral.refresh_from_db()
    assert (referral.status, referral.refusal) == (Referral.Status.REFUSED, F.SAME_ADDRESS)
    assert not PointsEntry.objects.filter(source=PointsEntry.Source.REFERRAL).exists()
    assert points(invitee) == 50  # the order itself still earns


def test_linking_a_customer_the_actor_does_not_see_is_refused(org, code, make_customer):
    from kehu.core.exceptions import PermissionDenied

    theirs = make_customer(org.rep_c, name="北京朋友")
    with pytest.raises(PermissionDenied):
        services.referral_record(actor=org.rep_a, invitee=theirs, code=code)
