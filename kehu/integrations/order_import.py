"""Marketplace order import: Taobao/Tmall, JD and Pinduoduo exports into a shop's orders, line items, buyers,
products and the buyers' purchase statistics.

The job machinery (`services.import_run`) reads the file in batches and runs `run_batch` for each in one
transaction that also moves the job's position, so an import that dies anywhere resumes at the first row not
committed. A batch is handled set-based, a few queries whatever its size:

1. order numbers are read first; a row whose cells hash to the digest stored on its order changes nothing and
   is counted as a duplicate without being parsed (a re-import costs little more than reading the file);
2. the other rows are parsed (`marketplace.Export`); a row with a bad cell is rejected with the column and
   reason, a scientific-notation order number included;
3. orders already in Kehu are updated when this export is at least as new as the one that wrote them (the
   newest export wins), each change written to the order's history; older exports change nothing;
4. new orders find their buyer by (shop, nick): a known identity, or a new individual customer in the shop's
   unit (unowned, so in that unit's pool). A nick whose first unmasked receiver has the mobile *and* name of
   an existing buyer joins that customer; the same mobile under another name is only suggested. Masked values
   never decide anything. A gift order (another receiver) still counts for the buyer but leaves their address;
5. line items (the Taobao 宝贝报表, or JD / Pinduoduo rows) are matched to their order and to a product by
   商家编码, platform item id, or title + attributes; unknown products are created in the "imported" category;
6. the changed orders' contributions to their buyers' statistics are applied (`kehu.sales.buyer_stats`).

Rows are written with `kehu.core.rawsql.RowWriter` (COPY on PostgreSQL), not one model instance at a time.
"""

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.analytics.tasks import scores_refresh_imported
from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.rawsql import RowWriter, chunks
from kehu.core.text import mask_name, mask_phone, normalise_phone
from kehu.customers.models import Customer
from kehu.customers.services import derived_columns
from kehu.integrations import marketplace
from kehu.integrations.customer_import import RegionIndex
from kehu.integrations.importers import CREATED, UNCHANGED, UPDATED, Column, Importer, register
from kehu.integrations.marketplace import CellError, Kind, clean_cell, order_number
from kehu.loyalty.tasks import orders_imported as loyalty_orders_imported
from kehu.sales import buyer_stats
from kehu.sales.models import (
    BuyerIdentity,
    BuyerLinkSuggestion,
    Order,
    OrderLine,
    Product,
    ProductCategory,
    Shop,
)
from kehu.sales.selectors.shops import shop_list
from kehu.sales.services.shops import shop_create
from kehu.users import scoping
from kehu.users.services import primary_unit_of

KIND = "marketplace_orders"
BEIJING = ZoneInfo("Asia/Shanghai")
IMPORTED_CATEGORY = ("导入商品", "Imported")
_STAMP = re.compile(r"(20\d{2})(\d{2})(\d{2})(\d{2})(\d{2})")

# What an order-level row sets on its order, and what a later export may change.
ORDER_FIELDS = [
    "status",
    "platform_status",
    "close_reason",
    "goods_amount",
    "shipping_amount",
    "discount_amount",
    "total_amount",
    "paid_amount",
    "refunded_amount",
    "ordered_at",
    "paid_at",
    "shipped_at",
    "completed_at",
    "delivery_address",
    "notes",
    "buyer_nick",
    "receiver_name",
    "receiver_phone",
    "receiver_masked",
    "logistics_company",
    "logistics_no",
    "buyer_message",
]
ORDER_COLUMNS = [
    "channel",
    "number",
    "currency",
    "tax_amount",
    "shop_id",
    "customer_id",
    "org_unit_id",
    "created_by_id",
    "exported_at",
    "import_digest",
    "created_at",
    "updated_at",
    *ORDER_FIELDS,
]
LINE_FIELDS = [
    "product_id",
    "sku",
    "title",
    "quantity",
    "unit_price",
    "amount",
    "refunded_amount",
    "item_id",
    "attributes",
    "platform_status",
]
LINE_COLUMNS = ["order_id", "position", "sub_order_no", "tax_rate", "discount", *LINE_FIELDS]
DERIVED_COLUMNS = ["name_key", "phone_key", "email_key", "pinyin", "pinyin_initials", "search_text"]
CUSTOMER_COLUMNS = [
    "kind",
    "name",
    "source",
    "status",
    "province_id",
    "city_id",
    "district_id",
    "address",
    "phone",
    "org_unit_id",
    "pooled_at",
    "created_by_id",
    *DERIVED_COLUMNS,
    "created_at",
    "updated_at",
]
IDENTITY_COLUMNS = [
    "shop_id",
    "platform",
    "nick",
    "customer_id",
    "receiver_name",
    "mobile",
    "first_order_at",
    "last_order_at",
    "created_at",
    "updated_at",
]
CHANNELS = {
    Shop.Platform.TAOBAO: Order.Channel.TAOBAO,
    Shop.Platform.TMALL: Order.Channel.TMALL,
    Shop.Platform.JD: Order.Channel.JD,
    Shop.Platform.PDD: Order.Channel.PDD,
    Shop.Platform.OWN_SITE: Order.Channel.OWN_SITE,
    Shop.Platform.OFFLINE: Order.Channel.OFFLINE,
}
FITS = {  # which exports a shop of each platform takes
    Kind.TAOBAO_ORDERS: {Shop.Platform.TAOBAO, Shop.Platform.TMALL},
    Kind.TAOBAO_ITEMS: {Shop.Platform.TAOBAO, Shop.Platform.TMALL},
    Kind.JD: {Shop.Platform.JD},
    Kind.PDD: {Shop.Platform.PDD},
}


# --- the job's context ---------------------------------------------------------------------------------------


@dataclass
class Context:
    job: object
    actor: object
    shop: Shop
    export: marketplace.Export
    exported_at: datetime
    channel: str = ""
    regions: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)
    region_index: RegionIndex | None = None
    category_id: int | None = None
    order_positions: list[int] = field(default_factory=list)
    writers: dict = field(default_factory=dict)
    carried_lines: Counter = field(
        default_factory=Counter
    )  # (order id, line key) → rows seen, last order only
    rows_read: int = 0
    analyzed_at: int = 0  # rows_read when the tables were last analysed

    def writer(self, model, columns) -> RowWriter:
        key = model._meta.label
        if key not in self.writers:
            self.writers[key] = RowWriter(model, columns)
        return self.writers[key]


def export_time(filename: str, fallback: datetime) -> datetime:
    """When the platform wrote the file: the stamp in its name (ExportOrderList202611240930.csv), else `fallback`."""
    match = _STAMP.search(filename)
    if match:
        try:
            return datetime(*(int(g) for g in match.groups()), tzinfo=BEIJING)
        except ValueError:
            pass
    return fallback


def check_shop(actor, shop_id) -> Shop:
    shop = next((s for s in shop_list(actor=actor) if str(s.pk) == str(shop_id)), None)
    if shop is None:
        raise ValidationFailed(fields={"shop": _("Choose one of your shops.")})
    return shop


def check_file(job, shop: Shop, export: marketplace.Export) -> None:
    if shop.platform not in FITS[export.kind]:
        raise ValidationFailed(
            fields={
                "file": _("%(file)s is a %(kind)s; the shop %(shop)s is on %(platform)s.")
                % {
                    "file": job.filename,
                    "kind": marketplace.KIND_LABELS[export.kind],
                    "shop": shop.name,
                    "platform": shop.get_platform_display(),
                }
            }
        )


def prepare(job, actor) -> Context:
    if not scoping.scope_for(actor).is_system_admin and not scoping.is_manager(actor):
        raise PermissionDenied(_("Only managers of a shop's unit import its orders."))
    if "shop" not in job.options and "new_shop" in job.options:  # opened when the import is started
        new = job.options.pop("new_shop")
        unit = primary_unit_of(actor)
        if unit is None:
            raise ValidationFailed(fields={"shop": _("You belong to no org unit to open a shop in.")})
        job.options["shop"] = shop_create(
            actor=actor, platform=new["platform"], name=new["name"], org_unit=unit
        ).pk
    shop = check_shop(actor, job.options.get("shop"))
    from kehu.integrations.services import local_path

    with local_path(job) as path:
        export = marketplace.read_export(path)
    check_file(job, shop, export)
    exported_at = datetime.fromisoformat(job.options["exported_at"])
    ctx = Context(job=job, actor=actor, shop=shop, export=export, exported_at=exported_at)
    ctx.channel = CHANNELS[shop.platform]
    ctx.order_positions = sorted(export.positions.values())
    return ctx


def open_rows(job, path):
    """The export's data rows as the file has them, and an estimate of their number."""
    export = marketplace.read_export(path)
    return export.table.estimate_rows(), export.table.raw_rows()


# --- one batch ----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    counts: Counter = field(default_factory=Counter)
    rejected: list[tuple[int, str, str, list[str]]] = field(
        default_factory=list
    )  # row, column, reason, cells

    def reject(self, row_number: int, column: str, reason: str, cells: list[str]) -> None:
        self.counts["rejected"] += 1
        self.rejected.append((row_number, column, reason, cells))


def run_batch(ctx: Context, batch: list[tuple[int, list[str]]]) -> Outcome:
    outcome = Outcome()
    if connection.vendor == "postgresql":
        # Check foreign keys as rows go in, not all at commit from a queue of deferred checks.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    if ctx.export.kind == Kind.TAOBAO_ITEMS:
        _item_rows(ctx, batch, outcome)
    else:
        _order_rows(ctx, batch, outcome)
    ctx.rows_read += len(batch)
    _refresh_statistics(ctx)
    return outcome


ANALYZED_TABLES = (Order, OrderLine, Customer, BuyerIdentity)


def _refresh_statistics(ctx: Context) -> None:
    """PostgreSQL plans the lookups of each batch from table statistics; a table that grew from nothing during
    this import still looks empty to it (autovacuum analyses much later), and an order-number lookup then scans
    the whole table. So the tables written are analysed whenever the rows read have doubled since the last
    time (after 10,000, 20,000, 40,000 … rows: a handful of samples, well under a second each)."""
    if connection.vendor != "postgresql" or ctx.rows_read < max(10_000, 2 * ctx.analyzed_at):
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(model._meta.db_table for model in ANALYZED_TABLES))
    ctx.analyzed_at = ctx.rows_read


def _digest(cells: list[str], positions: list[int]) -> str:
    width = len(cells)
    text = "\x1f".join(cells[i] if i < width else "" for i in positions)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _number(ctx: Context, cells: list[str], outcome: Outcome, row_number: int) -> str | None:
    index = ctx.export.positions["order_no"]
    text = cells[index] if index < len(cells) else ""
    try:
        return order_number(clean_cell(text), kind=ctx.export.kind)
    except CellError as exc:
        outcome.reject(row_number, ctx.export.headers["order_no"], str(exc), cells)
        return None


def _parse(ctx: Context, row_number: int, cells: list[str], outcome: Outcome):
    parsed = ctx.export.parse(row_number, cells)
    if parsed.errors:
        columns = "、".join(dict.fromkeys(header for header, _reason in parsed.errors))
        outcome.reject(row_number, columns, _("; ").join(reason for _h, reason in parsed.errors), cells)
        return None
    return parsed


def _existing_orders(ctx: Context, numbers: list[str]) -> dict[str, tuple]:
    """number → (id, import digest, why it may not be touched or "") of the channel's orders with these
    numbers. Orders in the recycle bin, and orders of another shop (another unit's data), are left alone."""
    found = {}
    table = Order._meta.db_table
    select = f"SELECT number, id, import_digest, deleted_at, shop_id FROM {table} WHERE channel = %s AND "
    with connection.cursor() as cursor:
        for part in chunks(numbers, 5000 if connection.vendor == "postgresql" else 900):
            if connection.vendor == "postgresql":  # one array parameter: no planning of a long IN list
                cursor.execute(select + "number = ANY(%s)", [ctx.channel, part])
            else:
                cursor.execute(select + f"number IN ({', '.join(['%s'] * len(part))})", [ctx.channel, *part])
            for number, pk, digest, deleted_at, shop_id in cursor.fetchall():
                refused = ""
                if shop_id != ctx.shop.pk:
                    refused = _("Order %(number)s belongs to another shop; import it there.") % {
                        "number": number
                    }
                elif deleted_at is not None:
                    refused = _("Order %(number)s is in the recycle bin; restore it to update it.") % {
                        "number": number
                    }
                found[number] = (pk, digest, refused)
    return found


def _order_values(ctx: Context, parsed) -> dict:
    v = parsed.values
    kind = ctx.export.kind
    address = v.get("receiver_address") or marketplace.Address()
    goods = v.get("goods_amount")
    shipping = v.get("shipping_amount") or 0
    paid = v.get("paid_amount")
    discount = sum((v.get(k) or 0) for k in ("shop_discount", "platform_discount", "payment_discount"))
    if goods is None and kind == Kind.JD:
        goods = (v.get("total_amount") or 0) - shipping
    total = v.get("total_amount")
    if total is None:
        total = (goods or 0) + shipping - discount
    status_text = _raw(parsed, ctx, "status")
    refunded = v.get("refunded_amount") or 0
    if kind == Kind.PDD and "退款成功" in (v.get("after_sale") or "") + status_text:
        refunded = paid or 0
    mobile = v.get("receiver_mobile") or v.get("receiver_phone") or ""
    masked = bool(parsed.masked & {"receiver_name", "receiver_mobile", "receiver_phone"})
    status = v.get("status") or Order.Status.PAID
    return {
        "status": status,
        "platform_status": status_text[:40],
        "close_reason": (v.get("close_reason") or "")[:60] if status == Order.Status.CLOSED else "",
        "goods_amount": goods or 0,
        "shipping_amount": shipping,
        "discount_amount": discount,
        "total_amount": total,
        "paid_amount": paid or 0,
        "refunded_amount": refunded,
        "ordered_at": v.get("ordered_at") or v.get("paid_at") or ctx.exported_at,
        "paid_at": v.get("paid_at") if status != Order.Status.UNPAID else None,
        "shipped_at": v.get("shipped_at"),
        "completed_at": v.get("received_at") or v.get("completed_at"),
        "delivery_address": " ".join(
            p for p in (address.province, address.city, address.district, address.detail) if p
        )[:255],
        "notes": v.get("seller_note") or "",
        "buyer_nick": (v.get("buyer_nick") or "")[:100],
        "receiver_name": (v.get("receiver_name") or "")[:100],
        "receiver_phone": mobile[:40],
        "receiver_masked": masked,
        "logistics_company": (v.get("logistics_company") or "")[:60],
        "logistics_no": (v.get("logistics_no") or "")[:100],
        "buyer_message": v.get("buyer_message") or "",
    }


def _raw(parsed, ctx: Context, name: str) -> str:
    index = ctx.export.positions.get(name)
    if index is None or index >= len(parsed.raw):
        return ""
    return " ".join(clean_cell(parsed.raw[index]).split())


def _line_values(ctx: Context, parsed, *, order_status: str = "") -> dict:
    v = parsed.values
    quantity = v.get("quantity") or 1
    unit_price = v.get("unit_price")
    amount = v.get("paid_amount") if ctx.export.kind == Kind.TAOBAO_ITEMS else None
    if ctx.export.kind == Kind.PDD:
        amount = v.get("goods_amount")
    if unit_price is None:
        unit_price = (amount or 0) / quantity if quantity else 0
        unit_price = round(unit_price, 2)
    if amount is None:
        amount = unit_price * quantity
    title = (v.get("title") or "").strip() or _("(untitled item)")
    return {
        "sub_order_no": v.get("sub_order_no") or "",
        "product_id": None,
        "sku": (v.get("merchant_code") or v.get("merchant_item_code") or "")[:64],
        "title": title[:255],
        "quantity": quantity,
        "unit_price": unit_price,
        "amount": amount,
        "refunded_amount": v.get("refunded_amount") or 0,
        "item_id": (v.get("item_id") or "")[:64],
        "attributes": (v.get("attributes") or "")[:255],
        "platform_status": (_raw(parsed, ctx, "status") or order_status)[:40],
    }


def _order_rows(ctx: Context, batch, outcome: Outcome) -> None:
    """Order reports (one row per order) and JD / Pinduoduo exports (one row per item, order values repeated)."""
    with_lines = ctx.export.kind in (Kind.JD, Kind.PDD)
    rows = []
    for row_number, cells in batch:
        number = _number(ctx, cells, outcome, row_number)
        if number is not None:
            rows.append((row_number, cells, number, _digest(cells, ctx.order_positions)))
    existing = _existing_orders(ctx, list(dict.fromkeys(r[2] for r in rows)))

    orders: dict[str, dict] = {}  # number → the order's values from its last row in this batch
    first_row: dict[str, int] = {}
    lines: list[tuple[str, dict, int, list[str]]] = []
    digests: dict[str, str] = {}
    row_outcome: dict[int, str] = {}
    for row_number, cells, number, digest in rows:
        known = existing.get(number)
        if known and known[2]:
            outcome.reject(row_number, ctx.export.headers["order_no"], known[2], cells)
            continue
        if known and known[1] == digest and not with_lines:
            row_outcome[row_number] = UNCHANGED
            continue
        parsed = _parse(ctx, row_number, cells, outcome)
        if parsed is None:
            continue
        if number in orders and not with_lines:
            row_outcome[first_row[number]] = UNCHANGED  # the later row of the same order wins
        values = _order_values(ctx, parsed)
        if not (with_lines and number in orders):
            orders[number] = values
            digests[number] = digest
            first_row[number] = row_number
        row_outcome[row_number] = UNCHANGED
        if with_lines:
            lines.append(
                (number, _line_values(ctx, parsed, order_status=values["platform_status"]), row_number, cells)
            )

    deltas = buyer_stats.Deltas()
    changed_numbers = _update_orders(
        ctx, {n: v for n, v in orders.items() if n in existing}, existing, digests, deltas
    )
    new = {n: v for n, v in orders.items() if n not in existing}
    ids = _insert_orders(ctx, new, digests, deltas)
    for number in changed_numbers:
        row_outcome[first_row[number]] = UPDATED
    for number in new:
        row_outcome[first_row[number]] = CREATED
    if lines:
        ids.update({n: existing[n][0] for n in existing})
        for row_number, result in _upsert_lines(ctx, lines, ids).items():
            if result == CREATED or (result == UPDATED and row_outcome.get(row_number) != CREATED):
                row_outcome[row_number] = result
    buyer_stats.apply(deltas)
    outcome.counts.update(row_outcome.values())


# --- orders -------------------------------------------------------------------------------------------------


def _insert_orders(ctx: Context, new: dict[str, dict], digests: dict[str, str], deltas) -> dict[str, int]:
    if not new:
        return {}
    customers = _resolve_buyers(ctx, new)
    now = timezone.now()
    rows = []
    numbers = list(new)
    for number in numbers:
        values = new[number]
        customer_id = customers.get(number)
        rows.append(
            (
                ctx.channel,
                number,
                "CNY",
                0,
                ctx.shop.pk,
                customer_id,
                ctx.shop.org_unit_id,
                ctx.actor.pk,
                ctx.exported_at,
                digests[number],
                now,
                now,
                *(values[f] for f in ORDER_FIELDS),
            )
        )
        deltas.change(customer_id, buyer_stats.NOTHING, _contribution(values))
    ids = ctx.writer(Order, ORDER_COLUMNS).insert(rows)
    return dict(zip(numbers, ids, strict=True))


def _contribution(values: dict) -> buyer_stats.Contribution:
    return buyer_stats.contribution(
        status=values["status"],
        paid_amount=values["paid_amount"],
        refunded_amount=values["refunded_amount"],
        paid_at=values["paid_at"],
        ordered_at=values["ordered_at"],
    )


def _update_orders(ctx: Context, incoming: dict[str, dict], existing, digests, deltas) -> list[str]:
    """Apply a newer export to orders already imported; returns the numbers whose values changed."""
    if not incoming:
        return []
    by_id = {existing[n][0]: n for n in incoming}
    current = {o.pk: o for o in Order.all_objects.filter(pk__in=list(by_id))}
    changed, digest_only = [], []
    for pk, number in by_id.items():
        order = current[pk]
        if order.exported_at and order.exported_at > ctx.exported_at:
            continue  # an older export than the one Kehu has: the newer one wins
        values = incoming[number]
        if order.buyer_nick and not values["buyer_nick"]:
            values["buyer_nick"] = order.buyer_nick
        differences = [f for f in ORDER_FIELDS if _differs(getattr(order, f), values[f])]
        if not differences:
            order.import_digest = digests[number]
            digest_only.append(order)
            continue
        before = _contribution({f: getattr(order, f) for f in ORDER_FIELDS})
        for f in differences:
            setattr(order, f, values[f])
        order.exported_at = ctx.exported_at
        order.import_digest = digests[number]
        order.version += 1
        deltas.change(order.customer_id, before, _contribution(values))
        changed.append(order)
    if digest_only:
        Order.all_objects.bulk_update(digest_only, ["import_digest"])
    if changed:
        _baseline_history(ctx, [o.pk for o in changed])
        now = timezone.now()
        for order in changed:
            order.updated_at = now
        Order.all_objects.bulk_update(
            changed, [*ORDER_FIELDS, "exported_at", "import_digest", "version", "updated_at"]
        )
        for order in changed:
            order._change_reason = "imported"
        Order.history.bulk_history_create(changed, update=True, default_user=ctx.actor)
    return [by_id[o.pk] for o in changed]


def _differs(old, new) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return old != new
    if old is None or new is None:
        return (old is None) != (new is None) and not (old in ("", None) and new in ("", None))
    if isinstance(new, (int, float)) or hasattr(new, "quantize"):
        return old != new
    return str(old) != str(new)


def _baseline_history(ctx: Context, ids: list[int]) -> None:
    """Orders written by an import have no history row yet; record how they stood before this change."""
    seen = set(Order.history.filter(id__in=ids).values_list("id", flat=True).distinct())
    missing = list(Order.all_objects.filter(pk__in=[i for i in ids if i not in seen]))
    for order in missing:
        order._history_date = order.created_at
        order._change_reason = "imported"
    if missing:
        Order.history.bulk_history_create(missing, default_user=ctx.actor)


# --- buyers -------------------------------------------------------------------------------------------------


def _buyer_key(ctx: Context, values: dict) -> str:
    nick = values["buyer_nick"]
    if nick and "*" not in nick:
        return nick
    if ctx.export.kind == Kind.PDD and not values["receiver_masked"]:
        name, mobile = values["receiver_name"], normalise_phone(values["receiver_phone"])
        if name and len(mobile) == 11:
            return f"{name} {mobile}"  # no buyer id on Pinduoduo: an unmasked receiver stands for one
    return ""


def _resolve_buyers(ctx: Context, new: dict[str, dict]) -> dict[str, int]:
    """order number → customer id for the new orders that name a buyer; creates buyers not seen before."""
    wanted: dict[str, list[str]] = {}
    for number, values in new.items():
        key = _buyer_key(ctx, values)
        if key:
            wanted.setdefault(key, []).append(number)
    if not wanted:
        return {}
    known = _identities(ctx, list(wanted))
    fresh = [nick for nick in wanted if nick not in known]
    if fresh:
        known.update(_create_buyers(ctx, {nick: [new[n] for n in wanted[nick]] for nick in fresh}))
    return {number: known[nick] for nick, numbers in wanted.items() for number in numbers}


def _identities(ctx: Context, nicks: list[str]) -> dict[str, int]:
    found = {}
    table = BuyerIdentity._meta.db_table
    with connection.cursor() as cursor:
        for part in chunks(nicks):
            cursor.execute(
                f"SELECT nick, customer_id FROM {table} WHERE shop_id = %s "
                f"AND nick IN ({', '.join(['%s'] * len(part))})",
                [ctx.shop.pk, *part],
            )
            found.update(cursor.fetchall())
    return found


def _own_receiver(orders: list[dict]) -> tuple[str, str, dict]:
    """The buyer's own receiver: the first unmasked one among their orders (name, mobile, order values)."""
    for values in orders:
        mobile = normalise_phone(values["receiver_phone"])
        if not values["receiver_masked"] and values["receiver_name"] and len(mobile) == 11:
            return values["receiver_name"], mobile, values
    return "", "", {}


def _create_buyers(ctx: Context, fresh: dict[str, list[dict]]) -> dict[str, int]:
    receivers = {nick: _own_receiver(orders) for nick, orders in fresh.items()}
    mobiles = sorted({mobile for _name, mobile, _v in receivers.values() if mobile})
    holders: dict[str, list[tuple[str, int]]] = {}
    visible = scoping.visible_q(ctx.actor, BuyerIdentity)  # only buyers the importer may see are joined
    for part in chunks(mobiles):
        # Excluding "" lets the database use the partial index on mobile.
        for mobile, name, customer_id in (
            BuyerIdentity.objects.filter(visible, mobile__in=part)
            .exclude(mobile="")
            .order_by("id")
            .values_list("mobile", "receiver_name", "customer_id")
        ):
            holders.setdefault(mobile, []).append((name, customer_id))
    now = timezone.now()
    linked: dict[str, int] = {}
    suggestions: list[tuple[str, int, str]] = []
    to_create: list[str] = []
    batch_holders: dict[tuple[str, str], str] = {}  # (mobile, name) → the nick of this batch that has it
    for nick, (name, mobile, _values) in receivers.items():
        same = [cid for n, cid in holders.get(mobile, []) if n == name] if mobile else []
        if same:
            linked[nick] = same[0]  # the same mobile and the same name: the same person
            continue
        if mobile and (mobile, name) in batch_holders:
            linked[nick] = batch_holders[(mobile, name)]  # resolved below, once that buyer exists
            continue
        for other_name, other in holders.get(mobile, [])[:3] if mobile else []:
            suggestions.append(
                (
                    nick,
                    other,
                    _("Same mobile %(mobile)s, another receiver (%(name)s, %(other)s).")
                    # stored and shown to anyone who sees the buyers, so personal data is masked
                    % {"mobile": mask_phone(mobile), "name": mask_name(name), "other": mask_name(other_name)},
                )
            )
        if mobile:
            batch_holders[(mobile, name)] = nick
        to_create.append(nick)

    rows = [_customer_row(ctx, nick, receivers[nick], now) for nick in to_create]
    created = dict(zip(to_create, ctx.writer(Customer, CUSTOMER_COLUMNS).insert(rows), strict=True))
    scoping.records_changed()  # written around the ORM: lists of the customers people see are stale
    for nick, target in list(linked.items()):
        if isinstance(target, str):
            linked[nick] = created[target]
    result = {**created, **linked}
    identity_rows = []
    for nick, customer_id in result.items():
        name, mobile, _values = receivers[nick]
        moments = [v["ordered_at"] for v in fresh[nick]]
        identity_rows.append(
            (
                ctx.shop.pk,
                ctx.shop.platform,
                nick[:100],
                customer_id,
                name[:100],
                mobile,
                min(moments),
                max(moments),
                now,
                now,
            )
        )
    ctx.writer(BuyerIdentity, IDENTITY_COLUMNS).insert_many(identity_rows)
    if suggestions:
        BuyerLinkSuggestion.objects.bulk_create(
            [
                BuyerLinkSuggestion(customer_id=created[nick], other_id=other, reason=reason[:200])
                for nick, other, reason in suggestions
            ],
            ignore_conflicts=True,
        )
    return result


def _customer_row(ctx: Context, nick: str, receiver: tuple[str, str, dict], now) -> tuple:
    _name, mobile, values = receiver
    region_ids, detail = (
        _region_of(ctx, values.get("delivery_address", "")) if values else ((None, None, None), "")
    )
    derived = derived_columns(name=nick[:200], phone=mobile)
    return (
        Customer.Kind.INDIVIDUAL,
        nick[:200],
        Customer.Source.MARKETPLACE,
        Customer.Status.ACTIVE,
        *region_ids,
        detail[:255],
        mobile,
        ctx.shop.org_unit_id,
        now,
        ctx.actor.pk,
        *(derived[column] for column in DERIVED_COLUMNS),
        now,
        now,
    )


def _region_of(ctx: Context, delivery_address: str) -> tuple[tuple, str]:
    """(province, city, district) ids and the rest of the address, from "省 市 区 详细"."""
    parts = delivery_address.split(" ", 3)
    if len(parts) < 4:
        return (None, None, None), delivery_address
    key = tuple(parts[:3])
    if key not in ctx.regions:
        if ctx.region_index is None:
            ctx.region_index = RegionIndex()
        try:
            found = ctx.region_index.resolve(*key)
        except ValidationFailed:
            found = {}
        ctx.regions[key] = tuple(
            found[k].pk if k in found else None for k in ("province", "city", "district")
        )
    return ctx.regions[key], parts[3]


# --- line items ---------------------------------------------------------------------------------------------


def _item_rows(ctx: Context, batch, outcome: Outcome) -> None:
    """The Taobao line-item file: each row is one item of an order imported from the order report."""
    parsed_rows = []
    for row_number, cells in batch:
        if _number(ctx, cells, outcome, row_number) is None:
            continue
        parsed = _parse(ctx, row_number, cells, outcome)
        if parsed is not None:
            parsed_rows.append(parsed)
    existing = _existing_orders(ctx, list({p.values["order_no"] for p in parsed_rows}))
    ids = {number: known[0] for number, known in existing.items() if not known[2]}
    lines = []
    for parsed in parsed_rows:
        number = parsed.values["order_no"]
        if number in existing and existing[number][2]:
            outcome.reject(parsed.row_number, ctx.export.headers["order_no"], existing[number][2], parsed.raw)
            continue
        if number not in ids:
            outcome.reject(
                parsed.row_number,
                ctx.export.headers["order_no"],
                _(
                    "Order %(number)s is not in Kehu yet: import the order report (订单报表) of this export "
                    "first, then this file again."
                )
                % {"number": number},
                parsed.raw,
            )
            continue
        lines.append((number, _line_values(ctx, parsed), parsed.row_number, parsed.raw))
    results = _upsert_lines(ctx, lines, ids)
    outcome.counts.update(results.values())


def _line_key(values: dict) -> tuple:
    if values["sub_order_no"]:
        return ("sub", values["sub_order_no"])
    return ("item", values["item_id"] or values["sku"], values["title"], values["attributes"])


def _upsert_lines(
    ctx: Context, lines: list[tuple[str, dict, int, list[str]]], ids: dict[str, int]
) -> dict[int, str]:
    """Insert new line items, update changed ones; row number → outcome."""
    order_ids = sorted({ids[number] for number, *_rest in lines})
    existing: dict[int, dict[tuple, tuple]] = {}  # order id → line key with occurrence → (id, *LINE_FIELDS)
    counts: Counter = Counter()
    read = ["id", "order_id", "sub_order_no", *LINE_FIELDS]
    for part in chunks(order_ids):
        occurrences: Counter = Counter()
        rows = (
            OrderLine.objects.filter(order_id__in=part)
            .order_by("order_id", "position", "id")
            .values_list(*read)
        )
        for pk, order_id, sub_order_no, *stored in rows:
            fields = dict(zip(LINE_FIELDS, stored, strict=True))
            key = _line_key({**fields, "sub_order_no": sub_order_no})
            occurrences[(order_id, key)] += 1
            existing.setdefault(order_id, {})[(*key, occurrences[(order_id, key)])] = (pk, fields)
            counts[order_id] += 1
    _match_products(ctx, [values for _n, values, *_r in lines])
    results: dict[int, str] = {}
    new_rows, changed = [], []
    # The same item twice in one order is two lines, numbered by occurrence. An order whose rows run on from
    # the previous batch carries that batch's count over.
    seen: Counter = Counter(ctx.carried_lines)
    for number, values, row_number, _cells in lines:
        order_id = ids[number]
        key = _line_key(values)
        seen[(order_id, key)] += 1
        line = existing.get(order_id, {}).get((*key, seen[(order_id, key)]))
        if line is None:
            new_rows.append(
                (order_id, counts[order_id], values["sub_order_no"], 0, 0, *(values[f] for f in LINE_FIELDS))
            )
            counts[order_id] += 1
            results[row_number] = CREATED
            continue
        pk, stored = line
        if any(_differs(stored[f], values[f]) for f in LINE_FIELDS):
            changed.append(OrderLine(pk=pk, **{f: values[f] for f in LINE_FIELDS}))
            results[row_number] = UPDATED
        else:
            results[row_number] = UNCHANGED
    if lines:
        last = ids[lines[-1][0]]
        ctx.carried_lines = Counter({k: n for k, n in seen.items() if k[0] == last})
    ctx.writer(OrderLine, LINE_COLUMNS).insert_many(new_rows)
    if changed:
        OrderLine.objects.bulk_update(changed, LINE_FIELDS)
    return results


def _product_key(ctx: Context, values: dict) -> str:
    """The SKU a line's product has in Kehu: the seller's code, else the platform item id, else a digest of the
    title and attributes (so the same item found again is the same product)."""
    if values["sku"]:
        return values["sku"]
    if values["item_id"]:
        return f"{ctx.shop.platform}-{values['item_id']}"[:64]
    text = f"{values['title']}\x1f{values['attributes']}"
    return "IMP-" + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _match_products(ctx: Context, lines: list[dict]) -> None:
    keys = {}
    for values in lines:
        key = _product_key(ctx, values)
        keys.setdefault(key, values)
    missing = [k for k in keys if k not in ctx.products]
    for part in chunks(missing):
        ctx.products.update(Product.objects.filter(sku__in=part).values_list("sku", "id"))
    create = [k for k in missing if k not in ctx.products]
    if create:
        category = _imported_category(ctx)
        Product.objects.bulk_create(
            [
                Product(
                    sku=key,
                    name=keys[key]["title"][:100],
                    description=keys[key]["attributes"],
                    category_id=category,
                    list_price=keys[key]["unit_price"] or 0,
                    tax_rate=0,
                )
                for key in create
            ],
            ignore_conflicts=True,
        )
        ctx.products.update(Product.objects.filter(sku__in=create).values_list("sku", "id"))
    for values in lines:
        values["product_id"] = ctx.products.get(_product_key(ctx, values))


def _imported_category(ctx: Context) -> int:
    if ctx.category_id is None:
        name, name_en = IMPORTED_CATEGORY
        category, _created = ProductCategory.objects.get_or_create(
            name=name, parent=None, defaults={"name_en": name_en}
        )
        ctx.category_id = category.pk
    return ctx.category_id


# --- the job kind -------------------------------------------------------------------------------------------


class OptionsForm(forms.Form):
    NEW = "new"

    shop = forms.ChoiceField(label=gettext_lazy("Shop"))
    new_shop_name = forms.CharField(label=gettext_lazy("New shop's name"), max_length=100, required=False)
    new_shop_platform = forms.ChoiceField(
        label=gettext_lazy("Platform"), choices=Shop.Platform.choices[:4], required=False
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["shop"].choices = [(s.pk, str(s)) for s in shop_list(actor=actor)] + [
            (self.NEW, _("A new shop of my unit…"))
        ]
        shop_field = self.add_prefix("shop")
        for name in ("new_shop_name", "new_shop_platform"):
            self.fields[name].widget.attrs["data-shown-with"] = f"{shop_field}={self.NEW}"

    def clean(self):
        data = super().clean()
        if data.get("shop") == self.NEW and not (data.get("new_shop_name") or "").strip():
            self.add_error("new_shop_name", _("Name the new shop."))
        return data

    def options(self) -> dict:
        if self.cleaned_data["shop"] == self.NEW:
            return {
                "new_shop": {
                    "name": self.cleaned_data["new_shop_name"].strip(),
                    "platform": self.cleaned_data["new_shop_platform"] or Shop.Platform.TAOBAO,
                }
            }
        return {"shop": int(self.cleaned_data["shop"])}


def scores_refresh(job) -> None:
    """New purchases move customers between segments and earn points: the customers of the orders this import
    wrote are scored again (everyone, when nothing was scored yet) and their points and tiers brought up to date,
    in the background."""
    shop = job.options.get("shop")
    since = job.started_at or job.created_at
    shop_id = shop if isinstance(shop, int) else None
    scores_refresh_imported.enqueue(since.isoformat(), shop_id)
    loyalty_orders_imported.enqueue(since.isoformat(), shop_id)


def columns() -> list[Column]:
    return []  # the exports are recognised by their headers: nothing to map


def describe(job) -> str:
    kind = job.options.get("export")
    if not kind:
        return ""
    exported = datetime.fromisoformat(job.options["exported_at"]).astimezone(BEIJING)
    return _("%(kind)s, exported %(when)s") % {
        "kind": marketplace.KIND_LABELS[Kind(kind)],
        "when": exported.strftime("%Y-%m-%d %H:%M"),
    }


def on_upload(job, table) -> None:
    """Refuse a file that is no known export; note which export it is and when the platform wrote it."""
    kind, _positions, _headers = marketplace.recognise_or_refuse(table.headers)
    job.options = {
        **job.options,
        "export": kind.value,
        "exported_at": export_time(job.filename, timezone.now()).isoformat(),
    }


register(
    Importer(
        kind=KIND,
        label=gettext_lazy("Marketplace orders (Taobao/Tmall, JD, Pinduoduo)"),
        columns=columns,
        prepare=prepare,
        import_row=None,
        options_form=OptionsForm,
        run_batch=run_batch,
        open_rows=open_rows,
        batch_rows=lambda: settings.KEHU["ORDER_IMPORT_BATCH_ROWS"],
        on_upload=on_upload,
        describe=describe,
        on_done=scores_refresh,
    )
)
