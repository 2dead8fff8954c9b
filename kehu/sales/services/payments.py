"""Writes for a contract's money: the payment plan (回款计划), receipts (回款) allocated to its instalments,
and invoices (发票). Every amount is a Decimal in the contract's currency, to the cent; nothing is rounded
away: a receipt is either allocated in full or refused."""

import calendar
import datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import hooks
from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.records import save_audited
from kehu.sales.models import Contract, Invoice, PaymentInstalment, Receipt, ReceiptAllocation
from kehu.sales.money import CENT
from kehu.users import scoping
from kehu.users.models import User

PLAN_STATUSES = {Contract.Status.DRAFT, Contract.Status.PENDING, Contract.Status.ACTIVE}
MONEY_STATUSES = {Contract.Status.ACTIVE, Contract.Status.COMPLETED}
LARGEST = Decimal(10) ** 14  # the amount columns hold 16 digits, 2 of them cents
MAX_SPLIT = 120


def _cents(value, *, field: str, positive: bool = True) -> Decimal:
    """A money amount as entered: a number to the cent (never rounded here: 0.005 is a typing slip)."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationFailed(fields={field: _("Enter an amount.")}) from exc
    if not amount.is_finite() or abs(amount) >= LARGEST:
        raise ValidationFailed(fields={field: _("Enter an amount.")})
    if amount != amount.quantize(CENT):
        raise ValidationFailed(fields={field: _("Enter an amount to the cent (at most 2 decimal places).")})
    if positive and amount <= 0:
        raise ValidationFailed(fields={field: _("Enter an amount above zero.")})
    return amount.quantize(CENT)


def _show(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.2f}"


def _lock(contract: Contract) -> tuple[Contract, list[PaymentInstalment]]:
    """The contract and its instalments, locked in that order (every payment write takes the same order)."""
    contract = Contract.objects.select_for_update().select_related("customer").get(pk=contract.pk)
    instalments = list(
        PaymentInstalment.objects.select_for_update().filter(contract=contract).order_by("position", "id")
    )
    return contract, instalments


def _check_edit(actor: User, contract: Contract) -> None:
    if not scoping.can_edit(actor, contract):
        raise PermissionDenied(_("You may not change the payments of this contract."))


def _record_event(*, actor, contract: Contract, event: str, data: dict) -> None:
    hooks.emit(
        "customer.event",
        actor=actor,
        customer=contract.customer,
        event=event,
        data={"contract": contract.number, "contract_id": contract.pk, **data},
    )


def _settle(instalment: PaymentInstalment) -> None:
    instalment.is_settled = instalment.received >= instalment.amount


# --- the plan -----------------------------------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the month's last day when it is shorter (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def payment_plan_split(
    *, actor: User, contract: Contract, parts: int, first_due_on: datetime.date, every_months: int = 1
) -> list[dict]:
    """Propose `parts` equal instalments of the contract amount, `every_months` apart from `first_due_on`.
    Each is the amount divided and cut to the cent; the cents left over go on the last one
    (100,000.00 in 3 → 33,333.33 / 33,333.33 / 33,333.34). Nothing is saved."""
    if not scoping.can_see(actor, contract):
        raise PermissionDenied()
    if not 1 <= int(parts) <= MAX_SPLIT:
        raise ValidationFailed(
            fields={"parts": _("Split into 1 to %(max)s instalments.") % {"max": MAX_SPLIT}}
        )
    if not 0 <= int(every_months) <= 24:
        raise ValidationFailed(fields={"every_months": _("Enter 0 to 24 months between instalments.")})
    total = contract.amount
    each = (total / parts).quantize(CENT, rounding=ROUND_DOWN)
    if each <= 0:
        raise ValidationFailed(
            fields={"parts": _("The contract amount is too small for that many instalments.")}
        )
    last = total - each * (parts - 1)
    return [
        {
            "due_on": add_months(first_due_on, index * every_months),
            "amount": last if index == parts - 1 else each,
            "note": "",
        }
        for index in range(parts)
    ]


@transaction.atomic
def payment_plan_set(*, actor: User, contract: Contract, instalments: list[dict]) -> list[PaymentInstalment]:
    """Replace the contract's payment plan with `instalments` ({"due_on", "amount", "note"?}), numbered 1..n by
    due date. The plan must total the contract amount exactly. An instalment that has received money keeps its
    row (matched by position) and cannot be planned below what it received, nor removed."""
    contract, current = _lock(contract)
    _check_edit(actor, contract)
    if contract.status not in PLAN_STATUSES:
        raise ValidationFailed(
            _("The payment plan can change while the contract is a draft, pending approval or active.")
        )
    errors: dict[str, str] = {}
    rows = []
    for index, item in enumerate(instalments):
        due_on = item.get("due_on")
        if not isinstance(due_on, datetime.date):
            errors[f"instalments.{index}.due_on"] = _("Enter the due date.")
        try:
            amount = _cents(item.get("amount"), field=f"instalments.{index}.amount")
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        note = (item.get("note") or "").strip()
        if len(note) > 255:
            errors[f"instalments.{index}.note"] = _("Keep the note under 255 characters.")
        rows.append((due_on, index, amount, note))
    if errors:
        raise ValidationFailed(fields=errors)
    rows.sort(key=lambda row: (row[0], row[1]))
    planned = sum((row[2] for row in rows), Decimal(0))
    if planned != contract.amount:
        message = _(
            "The plan totals %(planned)s but the contract amount is %(amount)s: a difference of %(difference)s."
        ) % {
            "planned": _show(planned, contract.currency),
            "amount": _show(contract.amount, contract.currency),
            "difference": _show(planned - contract.amount, contract.currency),
        }
        raise ValidationFailed(message, fields={"instalments": message})
    by_position = {instalment.position: instalment for instalment in current}
    for position, (_due, index, amount, _note) in enumerate(rows, start=1):
        kept = by_position.get(position)
        if kept is not None and amount < kept.received:
            errors[f"instalments.{index}.amount"] = _(
                "Instalment %(position)s has already received %(received)s: it cannot be planned below that."
            ) % {"position": position, "received": _show(kept.received, contract.currency)}
    for instalment in current:
        if instalment.position > len(rows) and instalment.received > 0:
            errors["instalments"] = _(
                "Instalment %(position)s has already received %(received)s: it cannot be removed."
            ) % {"position": instalment.position, "received": _show(instalment.received, contract.currency)}
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)

    result = []
    for position, (due_on, _index, amount, note) in enumerate(rows, start=1):
        instalment = by_position.get(position) or PaymentInstalment(contract=contract, position=position)
        changed = instalment.pk is None or (instalment.due_on, instalment.amount, instalment.note) != (
            due_on,
            amount,
            note,
        )
        instalment.due_on, instalment.amount, instalment.note = due_on, amount, note
        _settle(instalment)
        if changed:
            save_audited(instalment, actor=actor, reason="plan")
        result.append(instalment)
    removed = [i.pk for i in current if i.position > len(rows)]
    if removed:
        PaymentInstalment.objects.filter(pk__in=removed).delete()
    _record_event(
        actor=actor,
        contract=contract,
        event="payment_plan_set",
        data={"count": len(rows), "amount": _show(planned, contract.currency)},
    )
    return result


# --- receipts -----------------------------------------------------------------------------------------------------


def _allocate_oldest_first(open_instalments: list[PaymentInstalment], amount: Decimal) -> dict[int, Decimal]:
    allocations: dict[int, Decimal] = {}
    left = amount
    for instalment in open_instalments:
        if left <= 0:
            break
        part = min(left, instalment.outstanding)
        if part > 0:
            allocations[instalment.pk] = part
            left -= part
    return allocations


def _explicit_allocations(
    instalments: list[PaymentInstalment], amount: Decimal, wanted: dict, currency: str
) -> dict[int, Decimal]:
    by_id = {instalment.pk: instalment for instalment in instalments}
    allocations: dict[int, Decimal] = {}
    errors = {}
    for raw_id, raw_amount in wanted.items():
        try:
            instalment = by_id.get(int(raw_id))
        except (TypeError, ValueError):
            instalment = None
        field = f"allocations.{raw_id}"
        if instalment is None:
            errors[field] = _("Choose an instalment of this contract.")
            continue
        try:
            part = _cents(raw_amount, field=field)
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        if part > instalment.outstanding:
            errors[field] = _("Instalment %(position)s has only %(outstanding)s outstanding.") % {
                "position": instalment.position,
                "outstanding": _show(instalment.outstanding, currency),
            }
            continue
        allocations[instalment.pk] = part
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    allocated = sum(allocations.values(), Decimal(0))
    if allocated != amount:
        message = _("The allocations total %(allocated)s but the receipt is %(amount)s.") % {
            "allocated": _show(allocated, currency),
            "amount": _show(amount, currency),
        }
        raise ValidationFailed(message, fields={"allocations": message})
    return allocations


@transaction.atomic
def receipt_record(
    *,
    actor: User,
    contract: Contract,
    received_on: datetime.date,
    amount,
    method: str = Receipt.Method.BANK,
    reference: str = "",
    note: str = "",
    allocations: dict | None = None,
) -> Receipt:
    """Record money received on an active or completed contract and allocate it to the plan: to the instalments
    named in `allocations` ({instalment id: amount}, summing to the receipt), or else oldest due first. A
    receipt larger than what is outstanding is refused, saying how much is."""
    contract, instalments = _lock(contract)
    _check_edit(actor, contract)
    if contract.status not in MONEY_STATUSES:
        raise ValidationFailed(_("Receipts are recorded on active or completed contracts."))
    amount = _cents(amount, field="amount")
    errors = {}
    if not isinstance(received_on, datetime.date):
        errors["received_on"] = _("Enter the date the money was received.")
    elif received_on > timezone.localdate():
        errors["received_on"] = _("A receipt cannot be dated in the future.")
    if method not in Receipt.Method.values:
        errors["method"] = _("Choose a payment method.")
    if len(reference or "") > 100 or len(note or "") > 255:
        errors["reference" if len(reference or "") > 100 else "note"] = _("This text is too long.")
    if errors:
        raise ValidationFailed(fields=errors)
    open_instalments = sorted(
        (i for i in instalments if i.outstanding > 0), key=lambda i: (i.due_on, i.position, i.pk)
    )
    outstanding = sum((i.outstanding for i in open_instalments), Decimal(0))
    if not open_instalments:
        raise ValidationFailed(
            fields={"amount": _("Nothing is outstanding on this contract: set up its payment plan first.")}
        )
    if amount > outstanding:
        raise ValidationFailed(
            fields={
                "amount": _("Only %(outstanding)s is outstanding on this contract: record at most that.")
                % {"outstanding": _show(outstanding, contract.currency)}
            }
        )
    if allocations:
        split = _explicit_allocations(instalments, amount, allocations, contract.currency)
    else:
        split = _allocate_oldest_first(open_instalments, amount)
    receipt = Receipt(
        contract=contract,
        received_on=received_on,
        amount=amount,
        method=method,
        reference=(reference or "").strip(),
        note=(note or "").strip(),
        recorded_by=actor,
    )
    save_audited(receipt, actor=actor)
    ReceiptAllocation.objects.bulk_create(
        [ReceiptAllocation(receipt=receipt, instalment_id=pk, amount=part) for pk, part in split.items()]
    )
    for instalment in instalments:
        if instalment.pk in split:
            instalment.received += split[instalment.pk]
            _settle(instalment)
            save_audited(instalment, actor=actor, reason="receipt")
    _record_event(
        actor=actor,
        contract=contract,
        event="receipt_recorded",
        data={"amount": _show(amount, contract.currency), "receipt_id": receipt.pk},
    )
    if contract.owner_id != actor.pk and contract.owner.is_active:
        hooks.emit(
            "notify",
            recipient=contract.owner,
            kind="receipt_recorded",
            params={
                "by": str(actor),
                "amount": _show(amount, contract.currency),
                "contract": contract.number,
            },
            url=f"/contracts/{contract.pk}/",
        )
    return receipt


def _recompute(instalment_ids: list[int], *, actor) -> None:
    """Set `received` of these (locked) instalments from their remaining allocations."""
    sums = dict(
        ReceiptAllocation.objects.filter(instalment_id__in=instalment_ids)
        .values("instalment_id")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("instalment_id", "total")
    )
    for instalment in PaymentInstalment.objects.filter(pk__in=instalment_ids):
        instalment.received = sums.get(instalment.pk) or Decimal(0)
        _settle(instalment)
        save_audited(instalment, actor=actor, reason="receipt voided")


@transaction.atomic
def receipt_void(*, actor: User, receipt: Receipt, reason: str) -> Receipt:
    """Void a receipt entered by mistake: the row stays (with who, when and why), its allocations are taken
    back and the instalments it paid are recomputed from the receipts that remain."""
    _lock(receipt.contract)
    receipt = Receipt.objects.select_for_update().select_related("contract__customer").get(pk=receipt.pk)
    contract = receipt.contract
    _check_edit(actor, contract)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say why the receipt is voided.")})
    if receipt.voided_at is not None:
        raise ValidationFailed(_("This receipt is already voided."))
    affected = list(receipt.allocations.values_list("instalment_id", flat=True))
    receipt.allocations.all().delete()
    _recompute(affected, actor=actor)
    receipt.voided_at = timezone.now()
    receipt.voided_by = actor
    receipt.void_reason = reason[:255]
    save_audited(receipt, actor=actor, reason="voided")
    _record_event(
        actor=actor,
        contract=contract,
        event="receipt_voided",
        data={"amount": _show(receipt.amount, contract.currency), "reason": receipt.void_reason},
    )
    return receipt


# --- invoices -----------------------------------------------------------------------------------------------------


@transaction.atomic
def invoice_record(
    *,
    actor: User,
    contract: Contract,
    number: str,
    kind: str,
    amount,
    issued_on: datetime.date,
    note: str = "",
) -> Invoice:
    """Record an invoice issued on an active or completed contract. Invoice numbers are unique; the invoices
    may run ahead of the money received, but never above the contract amount."""
    contract, _instalments = _lock(contract)
    _check_edit(actor, contract)
    if contract.status not in MONEY_STATUSES:
        raise ValidationFailed(_("Invoices are recorded on active or completed contracts."))
    amount = _cents(amount, field="amount")
    number = (number or "").strip()
    errors = {}
    if not number:
        errors["number"] = _("Enter the invoice number.")
    elif len(number) > 40:
        errors["number"] = _("An invoice number has at most 40 characters.")
    elif Invoice.objects.filter(number=number).exists():
        errors["number"] = _("Invoice number %(number)s is already recorded.") % {"number": number}
    if kind not in Invoice.Kind.values:
        errors["kind"] = _("Choose the kind of invoice.")
    if not isinstance(issued_on, datetime.date):
        errors["issued_on"] = _("Enter the date the invoice was issued.")
    if len(note or "") > 255:
        errors["note"] = _("This text is too long.")
    if errors:
        raise ValidationFailed(fields=errors)
    invoiced = contract.invoices.filter(voided_at__isnull=True).aggregate(total=Sum("amount"))["total"] or 0
    if invoiced + amount > contract.amount:
        raise ValidationFailed(
            fields={
                "amount": _(
                    "Invoices would total %(total)s, more than the contract amount %(amount)s "
                    "(%(left)s can still be invoiced)."
                )
                % {
                    "total": _show(invoiced + amount, contract.currency),
                    "amount": _show(contract.amount, contract.currency),
                    "left": _show(contract.amount - invoiced, contract.currency),
                }
            }
        )
    invoice = Invoice(
        contract=contract,
        number=number,
        kind=kind,
        amount=amount,
        issued_on=issued_on,
        note=(note or "").strip(),
        created_by=actor,
    )
    try:
        with transaction.atomic():
            save_audited(invoice, actor=actor)
    except IntegrityError as exc:  # recorded by someone else a moment ago
        raise ValidationFailed(
            fields={"number": _("Invoice number %(number)s is already recorded.") % {"number": number}}
        ) from exc
    _record_event(
        actor=actor,
        contract=contract,
        event="invoice_issued",
        data={"number": number, "amount": _show(amount, contract.currency)},
    )
    return invoice


@transaction.atomic
def invoice_void(*, actor: User, invoice: Invoice, reason: str) -> Invoice:
    """Void an invoice (红冲/作废): it stays listed, struck out, and no longer counts as invoiced. Its number
    stays taken."""
    _lock(invoice.contract)
    invoice = Invoice.objects.select_for_update().select_related("contract__customer").get(pk=invoice.pk)
    _check_edit(actor, invoice.contract)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say why the invoice is voided.")})
    if invoice.voided_at is not None:
        raise ValidationFailed(_("This invoice is already voided."))
    invoice.voided_at = timezone.now()
    invoice.void_reason = reason[:255]
    save_audited(invoice, actor=actor, reason="voided")
    _record_event(
        actor=actor,
        contract=invoice.contract,
        event="invoice_voided",
        data={"number": invoice.number, "reason": invoice.void_reason},
    )
    return invoice


# --- the scheduler ------------------------------------------------------------------------------------------------


def instalments_notify_overdue(*, on: datetime.date | None = None) -> int:
    """Tell each contract owner about the instalments that fell overdue on `on` (due the day before and still
    open). Run once a day: each instalment is announced once, the day it becomes overdue."""
    on = on or timezone.localdate()
    due = on - datetime.timedelta(days=1)
    sent = 0
    overdue = (
        PaymentInstalment.objects.filter(
            is_settled=False,
            due_on=due,
            contract__deleted_at__isnull=True,
            contract__status__in=MONEY_STATUSES,
        )
        .select_related("contract__owner", "contract__customer")
        .order_by("id")
    )
    for instalment in overdue.iterator(chunk_size=500):
        contract = instalment.contract
        if not contract.owner.is_active:
            continue
        hooks.emit(
            "notify",
            recipient=contract.owner,
            kind="instalment_overdue",
            params={
                "position": instalment.position,
                "contract": contract.number,
                "customer": contract.customer.name,
                "amount": _show(instalment.outstanding, contract.currency),
                "due": due.isoformat(),
            },
            url=f"/contracts/{contract.pk}/",
        )
        sent += 1
    return sent
