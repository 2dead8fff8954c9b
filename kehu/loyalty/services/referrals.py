"""Referrals: each member's invitation code and link, customers linked to the member who invited them, and the
fraud guard. Points are given by the accrual pass when the invitee's first paid order completes
(`points._referrals_reward`).

The guard refuses — and records why — a referral where the invitee is the referrer, already had orders before
the invitation, or shares a phone number (the customer's, a contact's, a marketplace identity's or an order
receiver's) or a receiver address with the referrer. Phones and addresses are checked again when the first order
completes: a new customer has none to compare until they order.
"""

import re

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.text import normalise_phone
from kehu.customers.models import Contact, Customer
from kehu.customers.services import customer_create
from kehu.loyalty import rules
from kehu.loyalty.models import Member, Referral
from kehu.loyalty.services import common
from kehu.sales.models import BuyerIdentity, Order
from kehu.users import scoping
from kehu.users.models import User

F = Referral.Refusal
_ADDRESS_NOISE = re.compile(r"[\s,，。.;；:：()（）\-—#号]+")


@transaction.atomic
def member_referral_code(*, actor: User, customer: Customer) -> str:
    """The member's invitation code, made on first use (the customer becomes a member if not yet)."""
    if not common.may_work(actor):
        raise PermissionDenied()
    member = common.members_locked([customer.pk])[customer.pk]
    if member.referral_code:
        return member.referral_code
    while True:
        code = rules.new_code(rules.REFERRAL_CODE_LENGTH)
        try:
            with transaction.atomic():
                Member.objects.filter(pk=member.pk).update(referral_code=code)
        except IntegrityError:
            continue
        return code


def referral_link(*, code: str, request=None) -> str:
    """Where an invitation sends people: the shop's sign-up address from the settings, else Kehu's own page
    for entering the invited customer (for staff)."""
    pattern = common.settings_get().referral_link
    if pattern:
        return pattern.replace("{code}", code)
    path = f"{reverse('loyalty:referral_new')}?code={code}"
    return request.build_absolute_uri(path) if request is not None else path


def referrer_of_code(code: str) -> Member:
    code = rules.normal_code(code)
    member = Member.objects.select_related("customer").filter(referral_code=code).first() if code else None
    if member is None or member.customer.deleted_at is not None:
        raise ValidationFailed(fields={"code": _("No member has this invitation code.")})
    return member


def _phones(customer: Customer) -> set[str]:
    raw = [customer.phone, customer.phone2]
    raw += Contact.objects.filter(customer=customer).values_list("mobile", flat=True)
    raw += Contact.objects.filter(customer=customer).values_list("phone", flat=True)
    raw += BuyerIdentity.objects.filter(customer=customer).values_list("mobile", flat=True)
    raw += (
        Order.all_objects.filter(customer=customer, receiver_masked=False)
        .exclude(receiver_phone="")
        .values_list("receiver_phone", flat=True)
        .distinct()[:200]
    )
    return {p for p in (normalise_phone(v) for v in raw if v and "*" not in v) if p}


def _address_key(value: str) -> str:
    return _ADDRESS_NOISE.sub("", value or "").lower()


def _addresses(customer: Customer) -> set[str]:
    raw = [customer.address]
    raw += (
        Order.all_objects.filter(customer=customer)
        .exclude(delivery_address="")
        .values_list("delivery_address", flat=True)
        .distinct()[:200]
    )
    return {k for k in (_address_key(v) for v in raw if v and "*" not in v) if len(k) >= 6}


def shared_details(referrer: Customer, invitee: Customer) -> tuple[str, str] | None:
    """(refusal, detail) when the two customers share a phone number or a receiver address, else None."""
    phones = _phones(referrer) & _phones(invitee)
    if phones:
        phone = sorted(phones)[0]
        return F.SAME_PHONE, _("Both use the phone number ending in %(tail)s.") % {"tail": phone[-4:]}
    if _addresses(referrer) & _addresses(invitee):
        return F.SAME_ADDRESS, _("Both have goods delivered to the same address.")
    return None


def _refusal(referrer: Customer, invitee: Customer, now) -> tuple[str, str] | None:
    if referrer.pk == invitee.pk:
        return F.SELF, ""
    earlier = Order.all_objects.filter(customer=invitee, ordered_at__lt=now, deleted_at__isnull=True)
    first = earlier.order_by("ordered_at").values_list("number", flat=True).first()
    if first is not None:
        return F.PRIOR_ORDERS, _("Order %(number)s came before the invitation.") % {"number": first}
    return shared_details(referrer, invitee)


@transaction.atomic
def referral_record(*, actor: User, invitee: Customer, code: str, now=None) -> Referral:
    """Link a customer the actor works on to the member whose invitation code they came with. A referral the
    guard refuses is recorded as refused, with why, and returned (it earns nothing)."""
    if not common.may_work(actor) or not scoping.can_see(actor, invitee):
        raise PermissionDenied()
    now = now or timezone.now()
    referrer = referrer_of_code(code)
    current = (
        Referral.objects.select_for_update()
        .filter(invitee=invitee, status__in=(Referral.Status.PENDING, Referral.Status.REWARDED))
        .first()
    )
    if current is not None:
        raise ValidationFailed(
            fields={"code": _("This customer was invited already (code %(code)s).") % {"code": current.code}}
        )
    refusal = _refusal(referrer.customer, invitee, now)
    referral = Referral(
        referrer=referrer.customer,
        invitee=invitee,
        code=referrer.referral_code,
        created_by=actor,
        created_at=now,
    )
    if refusal:
        referral.status = Referral.Status.REFUSED
        referral.refusal, referral.refusal_detail = refusal
        referral.decided_at = now
    try:
        with transaction.atomic():
            referral.save()
    except IntegrityError as exc:  # invited at the same moment by someone else
        raise ValidationFailed(fields={"code": _("This customer was invited already.")}) from exc
    common.members_ensure([invitee.pk], now=now)
    return referral


@transaction.atomic
def referral_customer_create(*, actor: User, code: str, data: dict) -> tuple[Customer, Referral]:
    """A new customer who came with an invitation code: created (owned by the actor, as any new customer) and
    linked to the inviting member. A wrong code creates nothing."""
    referrer_of_code(code)
    data = {**data, "source": data.get("source") or Customer.Source.REFERRAL}
    customer = customer_create(actor=actor, data=data)
    return customer, referral_record(actor=actor, invitee=customer, code=code)
