"""/api/v1/loyalty/…: members (by customer id), their ledgers, tiers, coupons and referrals. Members follow their
customers' scope (404 for a customer you do not see); the ladder, the settings and the coupon definitions are
read by everyone and changed by system admins and managers."""

from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.schemas import CONFLICT_ERRORS, ERRORS, Id, referenced
from kehu.customers.selectors import customer_get_for
from kehu.loyalty import selectors, services
from kehu.loyalty.models import Member
from kehu.loyalty.schemas import (
    AdjustIn,
    CodesQuery,
    CountOut,
    CouponOut,
    CouponPage,
    DefinitionIn,
    DefinitionOut,
    DefinitionPatch,
    EntryOrCouponOut,
    EntryOut,
    GenerateIn,
    IssueIn,
    IssueOut,
    LedgerPage,
    LedgerQuery,
    MemberDetailOut,
    MemberPage,
    MemberQuery,
    RedeemCouponIn,
    RedeemIn,
    ReferralIn,
    ReferralLinkOut,
    ReferralOut,
    ReviewIn,
    SettingsOut,
    TicketCouponIn,
    TicketPointsIn,
    TierChangeOut,
    TierIn,
    TierOut,
    TierSetIn,
)
from kehu.loyalty.services.common import lowest_tier

router = Router(tags=["loyalty"])


def _member(request, customer_id):
    customer, member = selectors.member_get_for(actor=request.auth, customer_id=customer_id)
    return customer, member


def _detail(customer, member: Member | None) -> Member:
    """The member, or what a customer who has not joined yet is: the lowest tier, no points."""
    if member is None:
        member = Member(customer=customer, tier=lowest_tier(), points=0)
    member.customer = customer
    ladder = selectors.tier_list()
    member.next_tier = next((t for t in ladder if t.position > member.tier.position), None)
    return member


def _with_balance(entry, customer):
    entry.balance = Member.objects.filter(customer=customer).values_list("points", flat=True).first() or 0
    return entry


# --- members ------------------------------------------------------------------------------------------------------


@router.get("/loyalty/members", response={200: MemberPage, **ERRORS})
def member_list(request, params: Query[MemberQuery]):
    """Members whose customers you see, most points first."""
    filters = selectors.MemberFilters(tier=params.tier, q=params.q.strip(), expiring=params.expiring)
    page = selectors.member_list(actor=request.auth, filters=filters, cursor=params.cursor, size=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/loyalty/members/{customer_id}", response={200: MemberDetailOut, **ERRORS})
def member_get(request, customer_id: Id):
    """A customer's membership (a customer who has not joined yet is on the lowest tier with no points)."""
    return _detail(*_member(request, customer_id))


@router.get("/loyalty/members/{customer_id}/ledger", response={200: LedgerPage, **ERRORS})
def member_ledger(request, customer_id: Id, params: Query[LedgerQuery]):
    """Points entries, newest first, each with the balance after it."""
    customer, _member_row = _member(request, customer_id)
    page = selectors.ledger_page(customer=customer, cursor=params.cursor, size=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/loyalty/members/{customer_id}/tier-history", response={200: list[TierChangeOut], **ERRORS})
def member_tier_history(request, customer_id: Id):
    customer, _member_row = _member(request, customer_id)
    return selectors.tier_history(customer=customer)


@router.get("/loyalty/members/{customer_id}/coupons", response={200: list[CouponOut], **ERRORS})
def member_coupons(request, customer_id: Id):
    customer, _member_row = _member(request, customer_id)
    return selectors.coupons_of(customer=customer)


@router.post("/loyalty/members/{customer_id}/adjust", response={201: EntryOut, **ERRORS})
def member_adjust(request, customer_id: Id, payload: AdjustIn):
    """Add (or, negative, take off) points by hand with the reason: managers of the customer's unit and admins."""
    customer, _member_row = _member(request, customer_id)
    entry = services.points_adjust(
        actor=request.auth, customer=customer, points=payload.points, reason=payload.reason
    )
    return Status(201, _with_balance(entry, customer))


@router.post("/loyalty/members/{customer_id}/redeem", response={201: EntryOrCouponOut, **ERRORS})
def member_redeem(request, customer_id: Id, payload: RedeemIn):
    """Spend points: on a coupon (`definition_id`; the coupon is issued) or on a gift (`gift` and `points`)."""
    customer, _member_row = _member(request, customer_id)
    actor = request.auth
    if payload.definition_id is not None:
        definition = referenced(
            lambda: selectors.coupon_definition_get(definition_id=payload.definition_id),
            field="definition_id",
        )
        coupon = services.points_redeem_for_coupon(
            actor=actor, customer=customer, definition=definition, key=payload.key
        )
        return Status(201, {"coupon": coupon})
    entry = services.points_redeem_gift(
        actor=actor, customer=customer, points=payload.points or 0, gift=payload.gift, key=payload.key
    )
    return Status(201, {"entry": _with_balance(entry, customer)})


@router.post("/loyalty/members/{customer_id}/reviews", response={201: EntryOut, **ERRORS})
def member_review(request, customer_id: Id, payload: ReviewIn):
    """Points for a product review, once per review."""
    customer, _member_row = _member(request, customer_id)
    entry = services.points_award_review(
        actor=request.auth, customer=customer, reference=payload.reference, points=payload.points
    )
    return Status(201, _with_balance(entry, customer))


@router.post("/loyalty/members/{customer_id}/evaluate", response={200: MemberDetailOut, **ERRORS})
def member_evaluate(request, customer_id: Id):
    """Judge the member's tier now (managers and admins): upgrades, and a downgrade when the review is due."""
    customer, _member_row = _member(request, customer_id)
    return _detail(customer, services.member_evaluate(actor=request.auth, customer=customer))


@router.post("/loyalty/members/{customer_id}/tier", response={200: MemberDetailOut, **ERRORS})
def member_tier_set(request, customer_id: Id, payload: TierSetIn):
    customer, _member_row = _member(request, customer_id)
    tier = referenced(lambda: selectors.tier_get(tier_id=payload.tier_id), field="tier_id")
    member = services.member_tier_set(actor=request.auth, customer=customer, tier=tier, reason=payload.reason)
    return _detail(customer, member)


def _referral(request, customer, code):
    return {
        "code": code,
        "link": services.referral_link(code=code, request=request) if code else "",
        "invited": selectors.referrals_of(actor=request.auth, customer=customer)["invited"],
    }


@router.get("/loyalty/members/{customer_id}/referral", response={200: ReferralLinkOut, **ERRORS})
def member_referral(request, customer_id: Id):
    """The member's invitation code and link (empty until made) and the customers they invited."""
    customer, member = _member(request, customer_id)
    return _referral(request, customer, (member.referral_code if member else "") or "")


@router.post("/loyalty/members/{customer_id}/referral", response={200: ReferralLinkOut, **ERRORS})
def member_referral_make(request, customer_id: Id):
    """Make the member's invitation code (kept once made)."""
    customer, _member_row = _member(request, customer_id)
    code = services.member_referral_code(actor=request.auth, customer=customer)
    return _referral(request, customer, code)


# --- referrals ----------------------------------------------------------------------------------------------------


@router.post("/loyalty/referrals", response={201: ReferralOut, **CONFLICT_ERRORS})
def referral_create(request, payload: ReferralIn):
    """Link a customer to the member whose invitation code they came with: an existing customer you work on
    (`customer_id`) or a new one (`customer`). A referral the fraud guard refuses is recorded and returned with
    `status: refused` and the reason; it earns nothing."""
    actor = request.auth
    if payload.customer_id is not None:
        invitee = referenced(
            lambda: customer_get_for(actor=actor, customer_id=payload.customer_id), field="customer_id"
        )
        return Status(201, services.referral_record(actor=actor, invitee=invitee, code=payload.code))
    if payload.customer is None:
        raise ValidationFailed(fields={"customer_id": _("Name an existing customer or give a new one.")})
    _customer, referral = services.referral_customer_create(
        actor=actor, code=payload.code, data=payload.customer.model_dump()
    )
    return Status(201, referral)


# --- tiers and settings -------------------------------------------------------------------------------------------


@router.get("/loyalty/tiers", response={200: list[TierOut], **ERRORS})
def tier_list(request):
    """The membership ladder, lowest first, with each tier's rule and benefits."""
    return selectors.tier_list()


@router.post("/loyalty/tiers", response={201: TierOut, **ERRORS})
def tier_create(request, payload: TierIn):
    return Status(201, services.tier_save(actor=request.auth, data=payload.model_dump()))


@router.put("/loyalty/tiers/{tier_id}", response={200: TierOut, **ERRORS})
def tier_update(request, tier_id: Id, payload: TierIn):
    tier = selectors.tier_get(tier_id=tier_id)
    return services.tier_save(actor=request.auth, tier=tier, data=payload.model_dump())


@router.delete("/loyalty/tiers/{tier_id}", response={204: None, **ERRORS})
def tier_delete(request, tier_id: Id):
    services.tier_delete(actor=request.auth, tier=selectors.tier_get(tier_id=tier_id))
    return Status(204, None)


@router.get("/loyalty/settings", response={200: SettingsOut, **ERRORS})
def settings_get(request):
    return services.settings_get()


# --- coupons ------------------------------------------------------------------------------------------------------


def _definition(definition_id):
    return selectors.coupon_definition_get(definition_id=definition_id)


@router.get("/loyalty/coupon-definitions", response={200: list[DefinitionOut], **ERRORS})
def definition_list(request):
    return selectors.coupon_definition_list()


@router.post("/loyalty/coupon-definitions", response={201: DefinitionOut, **ERRORS})
def definition_create(request, payload: DefinitionIn):
    return Status(201, services.coupon_definition_create(actor=request.auth, data=payload.model_dump()))


@router.get("/loyalty/coupon-definitions/{definition_id}", response={200: DefinitionOut, **ERRORS})
def definition_get(request, definition_id: Id):
    definition = _definition(definition_id)
    definition.counts = selectors.coupon_counts(definition)
    return definition


@router.patch("/loyalty/coupon-definitions/{definition_id}", response={200: DefinitionOut, **CONFLICT_ERRORS})
def definition_update(request, definition_id: Id, payload: DefinitionPatch):
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    return services.coupon_definition_update(
        actor=request.auth, definition=_definition(definition_id), data=data, version=payload.version
    )


@router.delete("/loyalty/coupon-definitions/{definition_id}", response={204: None, **ERRORS})
def definition_delete(request, definition_id: Id):
    """To the recycle bin."""
    services.coupon_definition_delete(actor=request.auth, definition=_definition(definition_id))
    return Status(204, None)


@router.post("/loyalty/coupon-definitions/{definition_id}/generate", response={201: CountOut, **ERRORS})
def definition_generate(request, definition_id: Id, payload: GenerateIn):
    """Make unique codes ready to issue or print (managers and admins)."""
    count = services.coupon_codes_generate(
        actor=request.auth, definition=_definition(definition_id), count=payload.count
    )
    return Status(201, {"count": count})


@router.get("/loyalty/coupon-definitions/{definition_id}/codes", response={200: CouponPage, **ERRORS})
def definition_codes(request, definition_id: Id, params: Query[CodesQuery]):
    """The codes (managers and admins): those not issued, and those of customers you see."""
    if not services.may_configure(request.auth):
        raise PermissionDenied()
    page = selectors.coupon_codes(
        actor=request.auth,
        definition=_definition(definition_id),
        status=params.status or "",
        cursor=params.cursor,
        size=params.limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/loyalty/coupon-definitions/{definition_id}/issue", response={200: IssueOut, **ERRORS})
def definition_issue(request, definition_id: Id, payload: IssueIn):
    """Issue one coupon to each of these customers (a campaign's segment): who got which code, and who was
    skipped and why (not among the customers you see, the per-customer limit, the quantity)."""
    result = services.coupons_issue_many(
        actor=request.auth,
        definition=_definition(definition_id),
        customer_ids=payload.customer_ids,
        source=payload.source,
    )
    return {"issued": dict(result), "skipped": result.skipped}


@router.post("/loyalty/coupons/redeem", response={200: CouponOut, **ERRORS})
def coupon_redeem(request, payload: RedeemCouponIn):
    """Record a coupon used on an order (`order_id`) or by a customer (`customer_id`). A refusal says why."""
    from kehu.sales.selectors.orders import order_get_for

    actor = request.auth
    order = customer = None
    if payload.order_id is not None:
        order = referenced(lambda: order_get_for(actor=actor, order_id=payload.order_id), field="order_id")
    if payload.customer_id is not None:
        customer = referenced(
            lambda: customer_get_for(actor=actor, customer_id=payload.customer_id), field="customer_id"
        )
    return services.coupon_redeem(actor=actor, code=payload.code, order=order, customer=customer)


@router.post("/loyalty/tickets/{ticket_id}/coupons", response={201: CouponOut, **ERRORS})
def ticket_coupon(request, ticket_id: Id, payload: TicketCouponIn):
    """Give the ticket's customer a coupon to make the complaint right; it is recorded on the ticket."""
    from kehu.support.selectors import ticket_get_for

    ticket = ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    definition = referenced(lambda: _definition(payload.definition_id), field="definition_id")
    return Status(
        201, services.coupon_issue_for_ticket(actor=request.auth, ticket=ticket, definition=definition)
    )


@router.post("/loyalty/tickets/{ticket_id}/points", response={201: EntryOut, **ERRORS})
def ticket_points(request, ticket_id: Id, payload: TicketPointsIn):
    """Give the ticket's customer points to make the complaint right; it is recorded on the ticket."""
    from kehu.support.selectors import ticket_get_for

    ticket = ticket_get_for(actor=request.auth, ticket_id=ticket_id)
    entry = services.points_compensate(
        actor=request.auth, ticket=ticket, points=payload.points, note=payload.note
    )
    return Status(201, _with_balance(entry, ticket.customer))
