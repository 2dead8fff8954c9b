"""Writes for quotes (报价单): made from an opportunity's products, priced, sent, decided, revised and expired.

A quote's number stays the same across its revisions; only the newest revision of a number can be sent or
accepted. Amounts are Decimal throughout and rounded half up to the cent once per line."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import hooks
from kehu.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from kehu.core.records import (
    assign_fields,
    check_version,
    move_to_recycle_bin,
    restore_from_recycle_bin,
    save_audited,
    validate,
)
from kehu.core.sequences import next_number
from kehu.sales.models import Opportunity, OpportunityContact, Product, Quote, QuoteLine, Stage
from kehu.sales.selectors.opportunities import contact_choices
from kehu.sales.selectors.products import price_list_for, prices_for
from kehu.sales.selectors.quotes import quote_is_newest
from kehu.sales.services.products import _fits, line_amount, line_tax
from kehu.users import scoping

VALID_DAYS = 30
MOST = Decimal(10) ** 14  # amounts are stored with 16 digits, 2 of them decimals
QUOTE_FIELDS = {"title", "contact", "language", "issued_on", "valid_until", "terms", "notes"}


# --- arithmetic ---------------------------------------------------------------------------------------------------


def _price(line: QuoteLine) -> QuoteLine:
    line.amount = line_amount(line.quantity, line.unit_price, line.discount)
    line.tax_amount = line_tax(line.amount, line.tax_rate)
    return line


def _set_totals(quote: Quote, lines: list[QuoteLine]) -> None:
    quote.subtotal = sum((line.amount for line in lines), Decimal(0))
    quote.tax_total = sum((line.tax_amount for line in lines), Decimal(0))
    quote.total = quote.subtotal + quote.tax_total


# --- helpers ------------------------------------------------------------------------------------------------------


def _record_event(*, actor, quote: Quote, event: str, data: dict | None = None) -> None:
    hooks.emit(
        "customer.event",
        actor=actor,
        customer=quote.customer,
        event=event,
        data={
            "quote": quote.label,
            "quote_id": quote.pk,
            "total": f"{quote.currency} {quote.total:,.2f}",
            **(data or {}),
        },
    )


def _lock(quote: Quote) -> Quote:
    return (
        Quote.objects.select_for_update()
        .select_related("opportunity", "customer", "opportunity__customer")
        .get(pk=quote.pk)
    )


def _check_edit(actor, quote: Quote) -> None:
    if not scoping.can_edit(actor, quote.opportunity):
        raise PermissionDenied()


def _check_newest(quote: Quote) -> None:
    if not quote_is_newest(quote=quote):
        raise ValidationFailed(
            _("Revision %(revision)s is no longer the newest: work on the newest revision of %(number)s.")
            % {"revision": quote.revision, "number": quote.number}
        )


def _check_draft(quote: Quote) -> None:
    if quote.status != Quote.Status.DRAFT:
        raise ValidationFailed(
            _("Only a draft quote can change; this one is “%(status)s”. Make a new revision to change it.")
            % {"status": quote.get_status_display()}
        )


def _check_status(quote: Quote, *allowed: str) -> None:
    if quote.status not in allowed:
        raise ValidationFailed(
            _("This cannot be done to a quote that is “%(status)s”.") % {"status": quote.get_status_display()}
        )


def default_language(actor) -> str:
    """The actor's language when it is one a quote is written in, else the site's."""
    language = (getattr(actor, "language", "") or settings.LANGUAGE_CODE or "").lower()
    return Quote.Language.EN if language.startswith("en") else Quote.Language.ZH


def _check_header(quote: Quote, *, actor) -> None:
    errors = {}
    if quote.contact_id and quote.contact_id not in {
        c.pk for c in contact_choices(actor=actor, customer=quote.customer, opportunity=quote.opportunity)
    }:
        # Only contacts the author may see (or already on the deal): the PDF prints their name and phone.
        errors["contact"] = _("Choose a contact of this customer.")
    if quote.issued_on and quote.valid_until and quote.valid_until < quote.issued_on:
        errors["valid_until"] = _("The quote cannot expire before its date.")
    if not (quote.title or "").strip():
        errors["title"] = _("This field is required.")
    if errors:
        raise ValidationFailed(fields=errors)
    validate(
        quote,
        exclude=["opportunity", "customer", "contact", "price_list", "created_by", "decided_by", "number"],
    )


# --- create and edit ----------------------------------------------------------------------------------------------


@transaction.atomic
def quote_create(*, actor, opportunity: Opportunity, data: dict | None = None) -> Quote:
    """A draft quote for the opportunity's customer, in the opportunity's currency, with the opportunity's
    products (quantity, unit price and discount as they are there; tax rate and unit from the product).
    `data` may set the title (default: the opportunity's name), the contact (default: the opportunity's first
    contact), the language (default: the actor's), the date (today) and valid-until (30 days later), terms
    and notes."""
    opportunity = Opportunity.objects.select_for_update().select_related("customer").get(pk=opportunity.pk)
    if not scoping.can_edit(actor, opportunity):
        raise PermissionDenied()
    data = dict(data or {})
    issued_on = data.get("issued_on") or timezone.localdate()
    first_contact = (
        OpportunityContact.objects.filter(opportunity=opportunity, contact__deleted_at__isnull=True)
        .order_by("id")
        .values_list("contact_id", flat=True)
        .first()
    )
    quote = Quote(
        opportunity=opportunity,
        customer=opportunity.customer,
        currency=opportunity.currency,
        price_list=price_list_for(customer=opportunity.customer, on=issued_on),
        title=opportunity.name,
        language=default_language(actor),
        contact_id=first_contact,
        issued_on=issued_on,
        valid_until=issued_on + datetime.timedelta(days=VALID_DAYS),
        created_by=actor,
    )
    if data.get("issued_on") and not data.get("valid_until"):
        data["valid_until"] = issued_on + datetime.timedelta(days=VALID_DAYS)
    assign_fields(quote, {k: v for k, v in data.items() if v is not None}, QUOTE_FIELDS)
    _check_header(quote, actor=actor)
    quote.number = next_number("quote")
    lines = [
        _price(
            QuoteLine(
                product=line.product,
                position=index,
                quantity=line.quantity,
                unit=line.product.unit,
                unit_price=line.unit_price,
                discount=line.discount,
                tax_rate=line.product.tax_rate,
            )
        )
        for index, line in enumerate(opportunity.lines.select_related("product").order_by("position", "id"))
    ]
    _set_totals(quote, lines)
    save_audited(quote, actor=actor, reason="created", bump_version=False)
    for line in lines:
        line.quote = quote
    QuoteLine.objects.bulk_create(lines)
    return quote


@transaction.atomic
def quote_update(*, actor, quote: Quote, data: dict, version: int | None) -> Quote:
    """Edit a draft's header: title, contact, language, dates, terms and notes."""
    quote = _lock(quote)
    _check_edit(actor, quote)
    _check_draft(quote)
    check_version(quote, version, fields=sorted(QUOTE_FIELDS))
    changed = assign_fields(quote, data, QUOTE_FIELDS)
    if not changed:
        return quote
    _check_header(quote, actor=actor)
    save_audited(quote, actor=actor)
    return quote


@transaction.atomic
def quote_lines_set(*, actor, quote: Quote, lines: list[dict], version: int | None) -> Quote:
    """Replace a draft's lines: each {"product_id", "quantity", "unit_price"?, "discount"?, "tax_rate"?,
    "description"?}. A line without a unit price takes the price of the quote's price list (which must be in the
    quote's currency); without a tax rate, the product's. The totals follow the lines."""
    quote = _lock(quote)
    _check_edit(actor, quote)
    _check_draft(quote)
    check_version(quote, version, fields=["subtotal", "tax_total", "total"])
    wanted = {line.get("product_id") for line in lines}
    products = Product.objects.filter(
        pk__in=[p for p in wanted if isinstance(p, int)], is_active=True
    ).in_bulk()
    unpriced = [
        products[line.get("product_id")]
        for line in lines
        if line.get("unit_price") is None and line.get("product_id") in products
    ]
    prices = prices_for(customer=quote.customer, products=unpriced, on=quote.issued_on) if unpriced else {}
    made, errors = [], {}
    for index, line in enumerate(lines):
        product = products.get(line.get("product_id"))
        if product is None:
            errors[f"lines.{index}.product_id"] = _("Choose an active product.")
            continue
        numbers = {
            name: Decimal(line[name]) if line.get(name) is not None else default
            for name, default in (("quantity", 0), ("discount", 0), ("tax_rate", None), ("unit_price", None))
        }
        unusable = [
            name
            for name, places in (("quantity", 3), ("discount", 2), ("tax_rate", 2), ("unit_price", 2))
            if numbers[name] is not None and not _fits(Decimal(numbers[name]), places)
        ]
        if unusable:
            for name in unusable:
                errors[f"lines.{index}.{name}"] = _(
                    "Enter a number with at most %(places)s decimal places."
                ) % {"places": 3 if name == "quantity" else 2}
            continue
        quantity, discount = Decimal(numbers["quantity"]), Decimal(numbers["discount"])
        tax_rate = numbers["tax_rate"] if numbers["tax_rate"] is not None else product.tax_rate
        if quantity <= 0:
            errors[f"lines.{index}.quantity"] = _("Enter a quantity above zero.")
        if not Decimal(0) <= discount <= Decimal(100):
            errors[f"lines.{index}.discount"] = _("A discount is between 0 and 100%.")
        if not Decimal(0) <= tax_rate <= Decimal(100):
            errors[f"lines.{index}.tax_rate"] = _("A tax rate is between 0 and 100%.")
        unit_price = numbers["unit_price"]
        if unit_price is None:
            price = prices[product.pk]
            if price.currency != quote.currency:
                errors[f"lines.{index}.unit_price"] = _(
                    "The price list is in %(list)s and the quote in %(quote)s: enter the unit price."
                ) % {"list": price.currency, "quote": quote.currency}
                continue
            unit_price = price.unit_price
        if unit_price < 0:
            errors[f"lines.{index}.unit_price"] = _("A price cannot be negative.")
        if errors:
            continue
        priced = _price(
            QuoteLine(
                quote=quote,
                product=product,
                description=(line.get("description") or "")[:255],
                position=index,
                quantity=quantity,
                unit=product.unit,
                unit_price=unit_price,
                discount=discount,
                tax_rate=tax_rate,
            )
        )
        if priced.amount + priced.tax_amount >= MOST:
            errors[f"lines.{index}.quantity"] = _("The amount is too large.")
            continue
        made.append(priced)
    if not errors and sum((x.amount + x.tax_amount for x in made), Decimal(0)) >= MOST:
        errors["lines"] = _("The total is too large.")
    if errors:
        raise ValidationFailed(fields=errors)
    quote.lines.all().delete()
    QuoteLine.objects.bulk_create(made)
    _set_totals(quote, made)
    save_audited(quote, actor=actor, reason="lines")
    return quote


# --- the quote's life ---------------------------------------------------------------------------------------------


@transaction.atomic
def quote_send(*, actor, quote: Quote) -> Quote:
    """The draft goes to the customer: it can no longer change, only be accepted, rejected or revised."""
    quote = _lock(quote)
    _check_edit(actor, quote)
    _check_status(quote, Quote.Status.DRAFT)
    _check_newest(quote)
    if not quote.lines.exists():
        raise ValidationFailed(_("Add at least one product before sending the quote."))
    if quote.valid_until < timezone.localdate():
        raise ValidationFailed(fields={"valid_until": _("The quote has expired: move its valid-until date.")})
    quote.status = Quote.Status.SENT
    quote.sent_at = timezone.now()
    save_audited(quote, actor=actor, reason="sent")
    _record_event(actor=actor, quote=quote, event="quote_sent")
    return quote


@dataclass
class Acceptance:
    quote: Quote
    opportunity_moved: bool = False
    not_moved_reason: str = ""


def _won_stage(opportunity: Opportunity) -> Stage | None:
    return (
        Stage.objects.filter(pipeline_id=opportunity.pipeline_id, outcome=Stage.Outcome.WON)
        .order_by("position", "id")
        .first()
    )


def _win(actor, opportunity: Opportunity) -> tuple[bool, str]:
    """Move the opportunity to its pipeline's first won stage; (moved, why not)."""
    from kehu.sales.services.opportunities import opportunity_move

    stage = _won_stage(opportunity)
    if stage is None:
        return False, _("The opportunity's pipeline has no won stage.")
    if opportunity.stage_id == stage.pk:
        return False, _("The opportunity is already won.")
    try:
        opportunity_move(actor=actor, opportunity=opportunity, stage=stage)
    except ValidationFailed as exc:
        missing = [
            str(Opportunity._meta.get_field(name).verbose_name) if name != "contacts" else _("contacts")
            for name in exc.fields
            if name in {f.name for f in Opportunity._meta.get_fields()} or name == "contacts"
        ]
        detail = ", ".join(missing) or str(exc.message)
        return False, _("The opportunity stays at its stage: “%(stage)s” requires %(fields)s.") % {
            "stage": stage.label,
            "fields": detail,
        }
    except PermissionDenied:
        return False, _("You may not move the opportunity.")
    return True, ""


@transaction.atomic
def quote_accept(*, actor, quote: Quote, win_opportunity: bool = True) -> Acceptance:
    """The customer accepted the sent quote. With `win_opportunity`, the opportunity moves to its pipeline's
    first won stage; when that stage asks for fields the opportunity lacks, the acceptance still stands and
    the answer says why the opportunity did not move."""
    quote = _lock(quote)
    _check_edit(actor, quote)
    _check_status(quote, Quote.Status.SENT)
    _check_newest(quote)
    quote.status = Quote.Status.ACCEPTED
    quote.decided_at, quote.decided_by = timezone.now(), actor
    save_audited(quote, actor=actor, reason="accepted")
    _record_event(actor=actor, quote=quote, event="quote_accepted")
    result = Acceptance(quote=quote)
    if win_opportunity:
        result.opportunity_moved, result.not_moved_reason = _win(actor, quote.opportunity)
    return result


@transaction.atomic
def quote_reject(*, actor, quote: Quote, reason: str) -> Quote:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say why the customer rejected the quote.")})
    quote = _lock(quote)
    _check_edit(actor, quote)
    _check_status(quote, Quote.Status.SENT)
    _check_newest(quote)
    quote.status = Quote.Status.REJECTED
    quote.decided_at, quote.decided_by, quote.decision_note = timezone.now(), actor, reason[:255]
    save_audited(quote, actor=actor, reason="rejected")
    _record_event(actor=actor, quote=quote, event="quote_rejected", data={"reason": quote.decision_note})
    return quote


@transaction.atomic
def quote_revise(*, actor, quote: Quote) -> Quote:
    """A new draft revision under the same number with the same header and lines, dated today and valid as
    long as the one before; the one before is superseded. An accepted quote is final."""
    quote = _lock(quote)
    _check_edit(actor, quote)
    if quote.status == Quote.Status.ACCEPTED:
        raise ValidationFailed(_("An accepted quote cannot be revised."))
    _check_newest(quote)
    today = timezone.localdate()
    validity = max((quote.valid_until - quote.issued_on).days, 1)
    # Revisions in the recycle bin keep their numbers: the new one comes after every revision ever made.
    newest = Quote.all_objects.filter(number=quote.number).aggregate(n=Max("revision"))["n"] or quote.revision
    revision = Quote(
        number=quote.number,
        revision=newest + 1,
        opportunity=quote.opportunity,
        customer=quote.customer,
        contact_id=quote.contact_id,
        title=quote.title,
        language=quote.language,
        currency=quote.currency,
        price_list_id=quote.price_list_id,
        issued_on=today,
        valid_until=today + datetime.timedelta(days=validity),
        subtotal=quote.subtotal,
        tax_total=quote.tax_total,
        total=quote.total,
        terms=quote.terms,
        notes=quote.notes,
        created_by=actor,
    )
    save_audited(revision, actor=actor, reason="revised", bump_version=False)
    QuoteLine.objects.bulk_create(
        [
            QuoteLine(
                quote=revision,
                product_id=line.product_id,
                description=line.description,
                position=line.position,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                discount=line.discount,
                tax_rate=line.tax_rate,
                amount=line.amount,
                tax_amount=line.tax_amount,
            )
            for line in quote.lines.all()
        ]
    )
    if quote.status != Quote.Status.SUPERSEDED:
        quote.status = Quote.Status.SUPERSEDED
        save_audited(quote, actor=actor, reason="superseded")
    return revision


@transaction.atomic
def quote_delete(*, actor, quote: Quote) -> None:
    """A draft goes to the recycle bin; a quote the customer has seen is kept."""
    quote = _lock(quote)
    _check_edit(actor, quote)
    if quote.status != Quote.Status.DRAFT:
        raise Conflict(_("Only a draft quote can be deleted."))
    move_to_recycle_bin(quote, actor=actor)


@transaction.atomic
def quote_restore(*, actor, quote: Quote) -> Quote:
    """Back from the recycle bin (system admins, like every restore of a sales record)."""
    if not scoping.is_system_admin(actor):
        raise PermissionDenied()
    quote = Quote.all_objects.select_for_update().get(pk=quote.pk)
    restore_from_recycle_bin(quote, actor=actor)
    return quote


# --- scheduled work and hooks -------------------------------------------------------------------------------------


def quotes_expire_due(*, now=None) -> int:
    """Sent quotes whose valid-until date has passed become expired (the scheduler runs this daily)."""
    today = timezone.localdate(now)
    expired = 0
    for pk in Quote.objects.filter(status=Quote.Status.SENT, valid_until__lt=today).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            quote = Quote.objects.select_for_update().filter(pk=pk, status=Quote.Status.SENT).first()
            if quote is None:  # decided meanwhile
                continue
            quote.status = Quote.Status.EXPIRED
            save_audited(quote, actor=None, reason="expired")
            expired += 1
    return expired


def quotes_move_to_survivor(*, actor, survivor, merged) -> dict:
    """`customer.merged`: the merged customer's quotes belong to the survivor now."""
    moved = list(Quote.all_objects.filter(customer=merged))
    for quote in moved:
        quote.customer = survivor
        save_audited(quote, actor=actor, reason="merged", bump_version=False)
    return {"quotes": len(moved)}


def quotes_purge_for_customers(*, customer_ids: list[int]) -> None:
    """`customers.purging`: the customers' quotes go before their opportunities (which they protect)."""
    Quote.all_objects.filter(customer_id__in=customer_ids).delete()


def quotes_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: quotes binned before `cutoff`, and the quotes of opportunities purged with it."""
    from django.db.models import Q

    return (
        Quote.all_objects.filter(Q(deleted_at__lt=cutoff) | Q(opportunity__deleted_at__lt=cutoff))
        .filter(contracts__isnull=True)  # a contract keeps the quote it was made from
        .delete()[0]
    )
