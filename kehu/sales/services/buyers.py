"""Buyers who may be one person: confirming a suggested link merges the two customers, dismissing it records
that someone looked. A merge moves the buyer identities and recomputes the survivor's purchase figures."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.customers.models import Customer
from kehu.customers.services import customer_merge
from kehu.sales import buyer_stats
from kehu.sales.models import BuyerIdentity, BuyerLinkSuggestion
from kehu.users import scoping
from kehu.users.models import User

Status = BuyerLinkSuggestion.Status


@transaction.atomic
def buyer_link_decide(*, actor: User, suggestion: BuyerLinkSuggestion, confirm: bool) -> Customer | None:
    """Confirm (merge the newer customer into the older; only system admins merge) or dismiss a suggestion.
    Returns the surviving customer when confirmed."""
    suggestion = BuyerLinkSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != Status.PENDING:
        raise ValidationFailed(_("This suggestion has already been decided."))
    first, second = Customer.objects.filter(pk__in=[suggestion.customer_id, suggestion.other_id]).order_by(
        "pk"
    )
    if not (scoping.can_edit(actor, first) and scoping.can_edit(actor, second)):
        raise PermissionDenied(_("You may not change these customers."))
    if confirm:
        return customer_merge(actor=actor, survivor=first, merged=second)
    suggestion.status, suggestion.decided_by, suggestion.decided_at = Status.DISMISSED, actor, timezone.now()
    suggestion.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return None


def buyers_move_to_survivor(*, actor, survivor: Customer, merged: Customer) -> dict:
    """`customer.merged`: the merged buyer's identities (nicks) belong to the survivor, whose figures are
    recomputed from the orders that moved with them; suggestions between the two are confirmed, and the
    merged customer's other suggestions now concern the survivor."""
    identities = BuyerIdentity.objects.filter(customer=merged).update(customer=survivor)
    buyer_stats.refresh([survivor.pk, merged.pk])
    pair = Q(customer=survivor, other=merged) | Q(customer=merged, other=survivor)
    BuyerLinkSuggestion.objects.filter(pair).update(
        status=Status.CONFIRMED, decided_by=actor, decided_at=timezone.now()
    )
    for suggestion in BuyerLinkSuggestion.objects.filter(Q(customer=merged) | Q(other=merged)):
        customer_id = survivor.pk if suggestion.customer_id == merged.pk else suggestion.customer_id
        other_id = survivor.pk if suggestion.other_id == merged.pk else suggestion.other_id
        taken = BuyerLinkSuggestion.objects.filter(
            Q(customer_id=customer_id, other_id=other_id) | Q(customer_id=other_id, other_id=customer_id)
        ).exists()
        if taken:
            suggestion.delete()
        else:
            suggestion.customer_id, suggestion.other_id = customer_id, other_id
            suggestion.save(update_fields=["customer", "other", "updated_at"])
    return {"buyer_identities": identities}
