"""Keeping the running totals of `models.rollups` in step with the records they sum.

Every save or delete of an opportunity, a contract, an instalment or a receipt compares what the record added to
the totals before (read from the database just before the write) with what it adds now, and moves the
difference with one upsert per affected row. Writes that bypass the ORM's save (bulk generators, `.update()`)
end with `rollups_rebuild()`, which also runs nightly as a safety net; `rollups_drift()` compares the live
totals with a rebuild and is what the tests check after every kind of write."""

import datetime
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.sales.models import CashRollup, Contract, Opportunity, OpportunityRollup, PaymentInstalment, Receipt

Share = tuple[str, dict, dict]  # (key, dimensions, measures)


def cents(amount) -> int:
    return int((Decimal(amount) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def first_of_month(day) -> datetime.date | None:
    if day is None:
        return None
    if isinstance(day, datetime.datetime):
        day = timezone.localdate(day)
    return day.replace(day=1)


def _upsert(model, key: str, dims: dict, measures: dict, sign: int) -> None:
    """Add (sign 1) or take away (sign -1) `measures` on the row `key`, creating it when missing."""
    table = connection.ops.quote_name(model._meta.db_table)
    q = connection.ops.quote_name
    columns = ["key", *dims, *measures]
    values = [key, *dims.values(), *(sign * v for v in measures.values())]
    updates = ", ".join(f"{q(m)} = {table}.{q(m)} + excluded.{q(m)}" for m in measures)
    sql = (
        f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({q('key')}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)


def _move(model, before: Share | None, after: Share | None) -> None:
    if before == after:
        return
    if before is not None:
        _upsert(model, before[0], before[1], before[2], -1)
    if after is not None:
        _upsert(model, after[0], after[1], after[2], 1)


# --- opportunities ------------------------------------------------------------------------------------------------

OPPORTUNITY_FIELDS = [
    "pipeline_id",
    "stage_id",
    "status",
    "forecast_category",
    "owner_id",
    "org_unit_id",
    "currency",
    "expected_close_on",
    "closed_at",
    "amount",
    "probability",
    "deleted_at",
    "customer_id",
]


def opportunity_share(values: dict, *, customer_binned: bool) -> Share | None:
    """What one opportunity (as field values) adds to the totals; None when it counts for nothing."""
    if values["deleted_at"] is not None or customer_binned:
        return None
    dims = {
        "pipeline_id": values["pipeline_id"],
        "stage_id": values["stage_id"],
        "status": values["status"],
        "forecast_category": values["forecast_category"],
        "owner_id": values["owner_id"],
        "org_unit_id": values["org_unit_id"],
        "currency": values["currency"],
        "close_month": first_of_month(values["expected_close_on"]),
        "closed_month": first_of_month(values["closed_at"]),
    }
    amount = cents(values["amount"])
    measures = {"count": 1, "amount_cents": amount, "weighted_cents": amount * int(values["probability"])}
    return _opportunity_key(dims), dims, measures


def _opportunity_key(dims: dict) -> str:
    months = [f"{d:%Y%m}" if d else "-" for d in (dims["close_month"], dims["closed_month"])]
    return "|".join(
        str(v)
        for v in (
            dims["pipeline_id"],
            dims["stage_id"],
            dims["status"],
            dims["forecast_category"],
            dims["owner_id"],
            dims["org_unit_id"],
            dims["currency"],
            *months,
        )
    )


def _stored_opportunity(pk) -> Share | None:
    row = (
        Opportunity.all_objects.filter(pk=pk)
        .values(*OPPORTUNITY_FIELDS, binned=F("customer__deleted_at"))
        .first()
    )
    return None if row is None else opportunity_share(row, customer_binned=row["binned"] is not None)


def _opportunity_before(sender, instance, **kwargs) -> None:
    instance._rollup_before = _stored_opportunity(instance.pk) if instance.pk else None


def _opportunity_after(sender, instance, **kwargs) -> None:
    before = getattr(instance, "_rollup_before", None)
    values = {name: getattr(instance, name) for name in OPPORTUNITY_FIELDS}
    binned = Customer.all_objects.filter(pk=instance.customer_id, deleted_at__isnull=False).exists()
    _move(OpportunityRollup, before, opportunity_share(values, customer_binned=binned))
    instance._rollup_before = None


def _opportunity_deleted(sender, instance, **kwargs) -> None:
    _move(OpportunityRollup, getattr(instance, "_rollup_before", None), None)


def customer_binned(*, customer, binned: bool) -> None:
    """`customer.binned`: the customer's opportunities leave the totals with it, and come back with it."""
    for row in Opportunity.all_objects.filter(customer_id=customer.pk, deleted_at__isnull=True).values(
        *OPPORTUNITY_FIELDS
    ):
        share = opportunity_share(row, customer_binned=False)
        _move(OpportunityRollup, share if binned else None, None if binned else share)


# --- contracts, instalments, receipts -----------------------------------------------------------------------------

CONTRACT_FIELDS = ["owner_id", "org_unit_id", "currency", "status", "deleted_at"]


def _cash_dims(contract: dict, day) -> tuple[str, dict]:
    dims = {
        "owner_id": contract["owner_id"],
        "org_unit_id": contract["org_unit_id"],
        "currency": contract["currency"],
        "contract_status": contract["status"],
        "month": first_of_month(day),
    }
    key = "|".join(str(v) for v in (*list(dims.values())[:4], f"{dims['month']:%Y%m}"))
    return key, dims


def instalment_share(instalment: dict, contract: dict) -> Share | None:
    if contract["deleted_at"] is not None or instalment["is_settled"]:
        return None
    key, dims = _cash_dims(contract, instalment["due_on"])
    outstanding = cents(instalment["amount"]) - cents(instalment["received"])
    return key, dims, {"open_count": 1, "due_cents": outstanding, "received_cents": 0}


def receipt_share(receipt: dict, contract: dict) -> Share | None:
    if contract["deleted_at"] is not None or receipt["voided_at"] is not None:
        return None
    key, dims = _cash_dims(contract, receipt["received_on"])
    return key, dims, {"open_count": 0, "due_cents": 0, "received_cents": cents(receipt["amount"])}


INSTALMENT_FIELDS = ["contract_id", "due_on", "amount", "received", "is_settled"]
RECEIPT_FIELDS = ["contract_id", "received_on", "amount", "voided_at"]


def _contract_values(contract_id) -> dict | None:
    return Contract.all_objects.filter(pk=contract_id).values(*CONTRACT_FIELDS).first()


def _stored(model, fields, share_of, pk) -> Share | None:
    row = model.objects.filter(pk=pk).values(*fields).first()
    if row is None:
        return None
    contract = _contract_values(row["contract_id"])
    return None if contract is None else share_of(row, contract)


def _cash_before(share_of, fields):
    def handler(sender, instance, **kwargs) -> None:
        instance._rollup_before = _stored(sender, fields, share_of, instance.pk) if instance.pk else None

    return handler


def _cash_after(share_of, fields):
    def handler(sender, instance, **kwargs) -> None:
        contract = _contract_values(instance.contract_id)
        values = {name: getattr(instance, name) for name in fields}
        after = share_of(values, contract) if contract is not None else None
        _move(CashRollup, getattr(instance, "_rollup_before", None), after)
        instance._rollup_before = None

    return handler


def _cash_deleted(sender, instance, **kwargs) -> None:
    _move(CashRollup, getattr(instance, "_rollup_before", None), None)


def _contract_shares(contract_id, contract: dict | None) -> list[Share]:
    if contract is None:
        return []
    shares = [
        instalment_share(row, contract)
        for row in PaymentInstalment.objects.filter(contract_id=contract_id).values(*INSTALMENT_FIELDS)
    ]
    shares += [
        receipt_share(row, contract)
        for row in Receipt.objects.filter(contract_id=contract_id).values(*RECEIPT_FIELDS)
    ]
    return [share for share in shares if share is not None]


def _contract_before(sender, instance, **kwargs) -> None:
    instance._rollup_contract = _contract_values(instance.pk) if instance.pk else None


def _contract_after(sender, instance, **kwargs) -> None:
    """A contract that changes owner, unit, currency, status or bin moves all its money between rows."""
    before = getattr(instance, "_rollup_contract", None)
    after = {name: getattr(instance, name) for name in CONTRACT_FIELDS}
    if before is None or before == after:
        return
    for share in _contract_shares(instance.pk, before):
        _upsert(CashRollup, *share, -1)
    for share in _contract_shares(instance.pk, after):
        _upsert(CashRollup, *share, 1)


# --- rebuilding and checking --------------------------------------------------------------------------------------


def _opportunity_rows() -> dict[str, tuple[dict, Counter]]:
    rows: dict[str, tuple[dict, Counter]] = {}
    dims = ["pipeline_id", "stage_id", "status", "forecast_category", "owner_id", "org_unit_id", "currency"]
    grouped = (
        Opportunity.objects.filter(customer__deleted_at__isnull=True)
        .annotate(cm=TruncMonth("expected_close_on"), dm=TruncMonth("closed_at"))
        .values(*dims, "cm", "dm")
        .annotate(n=Count("id"), total=Sum("amount"), weighted=Sum(F("amount") * F("probability")))
        .order_by()
    )
    for row in grouped:
        values = {**row, "expected_close_on": row["cm"], "closed_at": row["dm"], "deleted_at": None}
        values.update(amount=0, probability=0)
        key, dims_of_row, _measures = opportunity_share(values, customer_binned=False)
        _dims, total = rows.setdefault(key, (dims_of_row, Counter()))
        total.update(
            {"count": row["n"], "amount_cents": cents(row["total"]), "weighted_cents": cents(row["weighted"])}
        )
    return rows


def _cash_rows() -> dict[str, tuple[dict, Counter]]:
    rows: dict[str, tuple[dict, Counter]] = {}
    contract_dims = [f"contract__{name}" for name in CONTRACT_FIELDS if name != "deleted_at"]
    instalments = (
        PaymentInstalment.objects.filter(is_settled=False, contract__deleted_at__isnull=True)
        .annotate(m=TruncMonth("due_on"))
        .values(*contract_dims, "m")
        .annotate(n=Count("id"), owed=Sum("amount"), paid=Sum("received"))
        .order_by()
    )
    receipts = (
        Receipt.objects.filter(voided_at__isnull=True, contract__deleted_at__isnull=True)
        .annotate(m=TruncMonth("received_on"))
        .values(*contract_dims, "m")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row, measures in [
        *((r, {"open_count": r["n"], "due_cents": cents(r["owed"]) - cents(r["paid"])}) for r in instalments),
        *((r, {"received_cents": cents(r["total"])}) for r in receipts),
    ]:
        contract = {name: row.get(f"contract__{name}") for name in CONTRACT_FIELDS}
        key, dims = _cash_dims(contract, row["m"])
        _dims, total = rows.setdefault(key, (dims, Counter()))
        total.update(measures)
    return rows


def _live(model, measures: list[str]) -> dict[str, tuple]:
    return {
        row["key"]: tuple(row[m] for m in measures)
        for row in model.objects.values("key", *measures)
        if any(row[m] for m in measures)
    }


OPPORTUNITY_MEASURES = ["count", "amount_cents", "weighted_cents"]
CASH_MEASURES = ["open_count", "due_cents", "received_cents"]


def rollups_drift() -> dict[str, dict]:
    """Rows whose running totals differ from a rebuild (key → (live, rebuilt)); empty when all is in step."""
    drift = {}
    for name, model, fresh, measures in (
        ("opportunities", OpportunityRollup, _opportunity_rows(), OPPORTUNITY_MEASURES),
        ("cash", CashRollup, _cash_rows(), CASH_MEASURES),
    ):
        live = _live(model, measures)
        rebuilt = {
            key: tuple(total[m] for m in measures)
            for key, (_dims, total) in fresh.items()
            if any(total[m] for m in measures)
        }
        differs = {
            k: (live.get(k), rebuilt.get(k))
            for k in live.keys() | rebuilt.keys()
            if live.get(k) != rebuilt.get(k)
        }
        if differs:
            drift[name] = differs
    return drift


@transaction.atomic
def rollups_rebuild() -> dict[str, int]:
    """Recompute every total from the records (after bulk writes; nightly as a safety net)."""
    counts = {}
    for name, model, fresh in (
        ("opportunities", OpportunityRollup, _opportunity_rows()),
        ("cash", CashRollup, _cash_rows()),
    ):
        model.objects.all().delete()
        model.objects.bulk_create(
            [model(key=key, **dims, **total) for key, (dims, total) in fresh.items()], batch_size=2000
        )
        counts[name] = len(fresh)
    return counts


def connect() -> None:
    """Called once from the app's ready()."""
    pre_save.connect(_opportunity_before, sender=Opportunity, dispatch_uid="rollup_opp_pre")
    post_save.connect(_opportunity_after, sender=Opportunity, dispatch_uid="rollup_opp_post")
    pre_delete.connect(_opportunity_before, sender=Opportunity, dispatch_uid="rollup_opp_pre_delete")
    post_delete.connect(_opportunity_deleted, sender=Opportunity, dispatch_uid="rollup_opp_delete")
    for model, fields, share_of in (
        (PaymentInstalment, INSTALMENT_FIELDS, instalment_share),
        (Receipt, RECEIPT_FIELDS, receipt_share),
    ):
        label = model._meta.model_name
        before = _cash_before(share_of, fields)
        pre_save.connect(before, sender=model, weak=False, dispatch_uid=f"rollup_{label}_pre")
        post_save.connect(
            _cash_after(share_of, fields), sender=model, weak=False, dispatch_uid=f"rollup_{label}_post"
        )
        pre_delete.connect(before, sender=model, weak=False, dispatch_uid=f"rollup_{label}_pre_delete")
        post_delete.connect(_cash_deleted, sender=model, dispatch_uid=f"rollup_{label}_delete")
    pre_save.connect(_contract_before, sender=Contract, dispatch_uid="rollup_contract_pre")
    post_save.connect(_contract_after, sender=Contract, dispatch_uid="rollup_contract_post")
