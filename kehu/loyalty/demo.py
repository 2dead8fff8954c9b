"""Demo data for the loyalty programme, built through the services on top of the demo company's customers and
orders (run after `kehu seed_demo`): points for every order, tiers, two coupons with codes issued to the best
members, an invitation, a gift and an adjustment. Running it again adds nothing new."""

from django.db import transaction

from kehu.loyalty import services
from kehu.loyalty.models import Coupon, CouponDefinition, Member, Referral
from kehu.loyalty.services.common import ladder_ensure
from kehu.users.models import Membership, Role, User


def _admin() -> User | None:
    found = (
        Membership.objects.filter(role=Role.SYSTEM_ADMIN, user__is_active=True).select_related("user").first()
    )
    return found.user if found else User.objects.filter(is_superuser=True, is_active=True).first()


def loyalty_seed_demo() -> dict:
    """Seed (or top up) the loyalty demo; returns what it did."""
    ladder_ensure()
    actor = _admin()
    counts = {"points": services.points_accrue()}
    counts["tiers"] = services.tiers_evaluate()
    if actor is None or CouponDefinition.all_objects.filter(name="满200减20").exists():
        return counts
    with transaction.atomic():
        off = services.coupon_definition_create(
            actor=actor,
            data={
                "name": "满200减20",
                "description": "会员专享：订单满 ¥200 减 ¥20，领取后 30 天内有效。",
                "kind": "amount",
                "value": 20,
                "min_spend": 200,
                "valid_days": 30,
                "per_customer_limit": 1,
                "quantity": 1000,
                "points_cost": 500,
            },
        )
        services.coupon_codes_generate(actor=actor, definition=off, count=50)
        percent = services.coupon_definition_create(
            actor=actor,
            data={
                "name": "VIP 95折",
                "kind": "percent",
                "value": 5,
                "code_mode": "shared",
                "shared_code": "VIP95",
                "per_customer_limit": 1,
            },
        )
        best = list(Member.objects.order_by("-points", "id").values_list("customer_id", flat=True)[:20])
        issued = services.coupons_issue_many(
            actor=actor, definition=off, customer_ids=best, source="campaign"
        )
        vips = list(
            Member.objects.filter(tier__position__gte=2)
            .order_by("-points")
            .values_list("customer_id", flat=True)[:10]
        )
        services.coupons_issue_many(actor=actor, definition=percent, customer_ids=vips, source="campaign")
        counts["coupons"] = Coupon.objects.exclude(status=Coupon.Status.AVAILABLE).count()
        top = Member.objects.select_related("customer").order_by("-points", "id").first()
        if top is not None:
            services.points_adjust(actor=actor, customer=top.customer, points=200, reason="周年庆活动补发")
            services.points_redeem_gift(actor=actor, customer=top.customer, points=300, gift="定制保温杯")
            code = services.member_referral_code(actor=actor, customer=top.customer)
            invitee = (
                type(top.customer)
                .objects.filter(orders__isnull=True, kind="individual")
                .exclude(pk__in=Referral.objects.values("invitee"))
                .first()
            )
            if invitee is not None:
                services.referral_record(actor=actor, invitee=invitee, code=code)
        counts["issued"] = len(issued)
    return counts
