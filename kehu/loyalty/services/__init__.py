"""Every write of the loyalty domain. One module per part of the programme:

- `points`: the ledger — accrual for orders and referrals, expiry, adjustments, redemptions, reviews;
- `tiers`: evaluation in SQL, tiers set by hand, the ladder and the settings;
- `coupons`: definitions, codes, issuing (one, many, for a ticket, for points) and redemption;
- `referrals`: invitation codes and links, linking invitees, the fraud guard;
- `members`: customer merges.

Other domains call the names re-exported here.
"""

from kehu.loyalty.services.common import may_adjust, may_configure, may_work, settings_get
from kehu.loyalty.services.coupons import (
    IssueResult,
    coupon_codes_generate,
    coupon_definition_create,
    coupon_definition_delete,
    coupon_definition_restore,
    coupon_definition_update,
    coupon_definitions_purge_expired,
    coupon_issue,
    coupon_issue_for_ticket,
    coupon_redeem,
    coupons_issue_many,
    points_redeem_for_coupon,
)
from kehu.loyalty.services.members import members_move_to_survivor
from kehu.loyalty.services.points import (
    ledger_drift,
    points_accrue,
    points_accrue_changed,
    points_adjust,
    points_award_review,
    points_compensate,
    points_expire,
    points_redeem_gift,
)
from kehu.loyalty.services.referrals import (
    member_referral_code,
    referral_customer_create,
    referral_link,
    referral_record,
)
from kehu.loyalty.services.tiers import (
    member_evaluate,
    member_tier_set,
    settings_save,
    tier_delete,
    tier_save,
    tiers_evaluate,
)

__all__ = [
    "IssueResult",
    "coupon_codes_generate",
    "coupon_definition_create",
    "coupon_definition_delete",
    "coupon_definition_restore",
    "coupon_definition_update",
    "coupon_definitions_purge_expired",
    "coupon_issue",
    "coupon_issue_for_ticket",
    "coupon_redeem",
    "coupons_issue_many",
    "ledger_drift",
    "may_adjust",
    "may_configure",
    "may_work",
    "member_evaluate",
    "member_referral_code",
    "member_tier_set",
    "members_move_to_survivor",
    "orders_imported",
    "points_accrue",
    "points_accrue_changed",
    "points_adjust",
    "points_award_review",
    "points_compensate",
    "points_expire",
    "points_redeem_for_coupon",
    "points_redeem_gift",
    "referral_customer_create",
    "referral_link",
    "referral_record",
    "settings_get",
    "settings_save",
    "tier_delete",
    "tier_save",
    "tiers_evaluate",
]


def orders_imported(*, since, shop_id: int | None = None, now=None) -> dict:
    """For the import layer, after an order import: the points of the orders it wrote or changed since it started,
    then the tiers of their customers (upgrades at once; downgrades wait for the review)."""
    from kehu.sales.models import Order

    changed = Order.all_objects.filter(updated_at__gte=since, customer__isnull=False)
    if shop_id:
        changed = changed.filter(shop_id=shop_id)
    order_ids = list(changed.order_by().values_list("pk", flat=True))
    counts = points_accrue(order_ids=order_ids, now=now)
    customer_ids = sorted(set(changed.order_by().values_list("customer_id", flat=True)))
    counts.update(tiers_evaluate(customer_ids=customer_ids, now=now))
    return counts
