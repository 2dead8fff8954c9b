"""Members across customers: a merge folds the merged customer's membership into the survivor's."""

from django.db import transaction
from django.utils import timezone

from kehu.loyalty.models import Coupon, Member, PointsEntry, Referral, TierChange
from kehu.loyalty.services import common


@transaction.atomic
def members_move_to_survivor(*, actor, survivor, merged) -> dict:
    """`customer.merged`: the merged customer's ledger, tier history, coupons and referrals belong to the
    survivor; their balances add up and the survivor keeps the higher tier (a tier change says so)."""
    members = (
        common.members_locked([survivor.pk, merged.pk])
        if Member.objects.filter(customer=merged).exists()
        else {}
    )
    moved = PointsEntry.objects.filter(customer=merged).update(customer=survivor)
    TierChange.objects.filter(customer=merged).update(customer=survivor)
    Coupon.objects.filter(customer=merged).update(customer=survivor)
    Referral.objects.filter(referrer=merged).update(referrer=survivor)
    live = (Referral.Status.PENDING, Referral.Status.REWARDED)
    if Referral.objects.filter(invitee=survivor, status__in=live).exists():
        Referral.objects.filter(invitee=merged, status__in=live).update(
            status=Referral.Status.REFUSED, refusal_detail="merged", decided_at=timezone.now()
        )
    Referral.objects.filter(invitee=merged).update(invitee=survivor)
    if members:
        keep, gone = members[survivor.pk], members[merged.pk]
        keep.points += gone.points
        if gone.tier.position > keep.tier.position:
            TierChange.objects.create(
                customer=survivor,
                from_tier=keep.tier,
                to_tier=gone.tier,
                reason=TierChange.Reason.MERGE,
                actor=actor,
            )
            keep.tier, keep.tier_since = gone.tier, gone.tier_since
        keep.joined_at = min(keep.joined_at, gone.joined_at)
        keep.referral_code = keep.referral_code or gone.referral_code
        gone.delete()
        keep.save()
        common.expiring_refresh([survivor.pk])
    return {"points_entries": moved}
