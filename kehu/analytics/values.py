"""Predicted purchases and lifetime value per customer, per shop and across shops, and the churn warnings that
follow from each customer's own buying rhythm.

The history: completed orders (交易成功) at their payment time (else their order time), net of refunds — the
import rules — counted in local days, several orders on one day being one purchase. One database query per
level (shop, or across shops) reads every customer's first and last purchase day, purchase days and money, and
the same before and after the check cut-off; everything else is arithmetic over arrays (`kehu.analytics.clv`).

Each level's model is fitted twice: on the days before the last `holdout_days` (the check: what it predicted for
those days against what happened, per number of repeat purchases) and on the whole history (the predictions).
A level with fewer than `min_customers` buyers, or fewer than `min_repeaters` who came back, gets no model and
says so. Fits use at most `FIT_SAMPLE` customers drawn at random (a fixed seed: the same data gives the same
model); predictions cover everyone.

Churn warning (流失预警), from the across-shops history: a customer who bought more than once is overdue after
`churn_gap_factor` × their usual days between purchases (first to last purchase ÷ repeat purchases), a one-time
buyer after `churn_one_time_days`. Warnings are raised only within `churn_window_days` of crossing that line
(longer lapses are already lost, not a warning), once per lapse, and only for a value at risk of at least
`churn_min_value`: what the customer spends in a year while buying (all they spent, if they bought for less than a
year). A purchase after the warning marks it won back.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from kehu.analytics import clv
from kehu.analytics.models import ChurnWarning, CustomerValue, ScoreSettings, ValueModel
from kehu.analytics.scores import settings_get
from kehu.core.rawsql import RowWriter
from kehu.customers.models import Customer
from kehu.sales.models import BuyerStats, Order

FIT_SAMPLE = 100_000
MONTH_DAYS = 365.25 / 12
EPOCH = datetime.date(1970, 1, 1)
HOLDOUT_ROWS = 8  # repeat purchases 0 … 6, then "7 or more"


@dataclass
class Histories:
    """One row per customer (and shop), as arrays."""

    customer: np.ndarray
    shop: np.ndarray  # shop id, or -1 across shops
    first: np.ndarray  # days since 1970-01-01, local time
    last: np.ndarray
    days: np.ndarray  # purchase days
    money: np.ndarray
    first_money: np.ndarray  # spent on the first purchase day
    before_days: np.ndarray  # purchase days up to the cut-off
    before_last: np.ndarray  # last purchase day up to the cut-off (or -1)
    after_days: np.ndarray  # purchase days after the cut-off

    def __len__(self) -> int:
        return len(self.customer)

    def take(self, mask) -> "Histories":
        return Histories(**{name: values[mask] for name, values in vars(self).items()})


def _day_sql() -> tuple[str, list]:
    moment = "COALESCE(o.paid_at, o.ordered_at)"
    if connection.vendor == "postgresql":
        return f"(CAST(({moment} AT TIME ZONE %s) AS date) - DATE '1970-01-01')", [django_settings.TIME_ZONE]
    # SQLite keeps UTC text; the zone's offset now is the zone's offset (China has no daylight saving time).
    offset = int(timezone.localtime().utcoffset().total_seconds())
    return f"CAST(julianday({moment}, %s) - 2440587.5 AS INTEGER)", [f"{offset:+d} seconds"]


def read_histories(*, cutoff: int, by_shop: bool) -> Histories:
    """Every buying customer's history (per shop when `by_shop`; orders without a shop only across shops)."""
    day, day_params = _day_sql()
    shop = "o.shop_id" if by_shop else "-1"
    orders, customers = Order._meta.db_table, Customer._meta.db_table
    sql = f"""
        WITH days AS (
            SELECT o.customer_id AS customer_id, {shop} AS shop_id, {day} AS day,
                SUM(o.paid_amount - o.refunded_amount) AS money
            FROM {orders} o JOIN {customers} c ON c.id = o.customer_id
            WHERE o.status = %s AND o.deleted_at IS NULL AND c.deleted_at IS NULL
                {"AND o.shop_id IS NOT NULL" if by_shop else ""}
            GROUP BY 1, 2, 3
        ), marked AS (
            SELECT customer_id, shop_id, day, money,
                MIN(day) OVER (PARTITION BY customer_id, shop_id) AS first_day
            FROM days
        )
        SELECT customer_id, shop_id, MIN(day), MAX(day), COUNT(*), SUM(money),
            SUM(CASE WHEN day = first_day THEN money ELSE 0 END),
            SUM(CASE WHEN day <= %s THEN 1 ELSE 0 END),
            COALESCE(MAX(CASE WHEN day <= %s THEN day END), -1),
            SUM(CASE WHEN day > %s THEN 1 ELSE 0 END)
        FROM marked
        GROUP BY customer_id, shop_id
        ORDER BY customer_id, shop_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*day_params, Order.Status.COMPLETED, cutoff, cutoff, cutoff])
        rows = cursor.fetchall()
    if not rows:
        return Histories(*(np.zeros(0) for _field in range(10)))
    columns = list(zip(*rows, strict=True))
    ints = [np.asarray(columns[i], dtype=np.int64) for i in (0, 1, 2, 3, 4)]
    money = [np.asarray([float(v or 0) for v in columns[i]]) for i in (5, 6)]
    tail = [np.asarray(columns[i], dtype=np.int64) for i in (7, 8, 9)]
    return Histories(*ints, *money, *tail)


@dataclass
class Fit:
    status: str
    needs: dict = field(default_factory=dict)  # the minimum in force, for the explanation
    customers: int = 0
    repeaters: int = 0
    bgnbd: clv.BgNbd | None = None
    gamma_gamma: clv.GammaGamma | None = None
    log_likelihood: float | None = None


def _sample(n: int) -> np.ndarray | slice:
    if n <= FIT_SAMPLE:
        return slice(None)
    return np.sort(np.random.default_rng(20260101).choice(n, FIT_SAMPLE, replace=False))


def fit(x, t_x, T, m_x, settings: ScoreSettings) -> Fit:
    """Both models over these customers, or why not."""
    customers, repeaters = len(x), int(np.count_nonzero(x > 0))
    needs = {"customers": settings.min_customers, "repeaters": settings.min_repeaters}
    if customers < settings.min_customers or repeaters < settings.min_repeaters:
        return Fit(ValueModel.Status.TOO_LITTLE, needs, customers, repeaters)
    pick = _sample(customers)
    try:
        bgnbd, ll = clv.bgnbd_fit(x[pick], t_x[pick], T[pick])
        gamma_gamma, _ll = clv.gamma_gamma_fit(x[pick], m_x[pick])
    except clv.FitError:
        return Fit(ValueModel.Status.FAILED, needs, customers, repeaters)
    if gamma_gamma.q <= 1 or abs(bgnbd.a - 1) < 1e-9:  # no finite expected spend; eq. 10 undefined at a = 1
        return Fit(ValueModel.Status.FAILED, needs, customers, repeaters)
    return Fit(ValueModel.Status.FITTED, needs, customers, repeaters, bgnbd, gamma_gamma, ll)


def _whole(h: Histories, today: int):
    """x, t_x, T and the average repeat purchase over the whole history."""
    x = (h.days - 1).astype(float)
    m_x = np.divide(h.money - h.first_money, x, out=np.zeros_like(x), where=x > 0)
    return x, (h.last - h.first).astype(float), (today - h.first).astype(float), m_x


def holdout_check(h: Histories, *, cutoff: int, days: int, settings: ScoreSettings) -> dict:
    """Fit on the days up to the cut-off and compare, per number of repeat purchases then, the purchases it
    expected in the following `days` with the purchases made."""
    before = h.take(h.first <= cutoff)
    x = (before.before_days - 1).astype(float)
    t_x = (before.before_last - before.first).astype(float)
    T = (cutoff - before.first).astype(float)
    m_x = np.divide(
        before.money - before.first_money, before.days - 1.0, out=np.zeros_like(x), where=before.days > 1
    )
    check = fit(x, t_x, T, m_x, settings)
    result = {"cutoff": (EPOCH + datetime.timedelta(days=cutoff)).isoformat(), "days": days}
    if check.status != ValueModel.Status.FITTED:
        return {
            **result,
            "status": check.status,
            "customers": check.customers,
            "repeaters": check.repeaters,
            "needs": check.needs,
        }
    predicted = clv.expected_purchases(check.bgnbd, days, x, t_x, T)
    actual = before.after_days.astype(float)
    bucket = np.minimum(x, HOLDOUT_ROWS - 1).astype(int)
    rows = []
    for k in range(HOLDOUT_ROWS):
        mask = bucket == k
        n = int(np.count_nonzero(mask))
        if n:
            rows.append([k, n, round(float(actual[mask].mean()), 3), round(float(predicted[mask].mean()), 3)])
    return {
        **result,
        "bgnbd": check.bgnbd.as_dict(),
        "customers": check.customers,
        "rows": rows,
        "actual": int(actual.sum()),
        "predicted": round(float(predicted.sum()), 1),
    }


def _money(values: np.ndarray) -> list:
    return [None if not np.isfinite(v) else Decimal(f"{v:.2f}") for v in values]


def _predict(h: Histories, model: Fit, today: int, discount: float) -> dict:
    x, t_x, T, m_x = _whole(h, today)
    if model.status != ValueModel.Status.FITTED:
        empty = np.full(len(h), np.nan)
        return {"x": x, "t_x": t_x, "T": T, "m_x": m_x, "p_alive": empty} | dict.fromkeys(
            ("purchases_3", "purchases_6", "purchases_12", "spend", "clv_3", "clv_6", "clv_12"), empty
        )
    spend = clv.expected_spend(model.gamma_gamma, x, m_x)
    out = {"x": x, "t_x": t_x, "T": T, "m_x": m_x, "spend": spend}
    out["p_alive"] = clv.probability_alive(model.bgnbd, x, t_x, T)
    for months in (3, 6, 12):
        out[f"purchases_{months}"] = clv.expected_purchases(model.bgnbd, months * MONTH_DAYS, x, t_x, T)
        out[f"clv_{months}"] = clv.lifetime_value(
            model.bgnbd, spend, x, t_x, T, months=months, month=MONTH_DAYS, yearly_discount=discount
        )
    return out


def _store_values(h: Histories, shop_ids, p: dict, now) -> None:
    writer = RowWriter(
        CustomerValue,
        [
            "customer_id",
            "shop_id",
            "computed_at",
            "repeat_purchases",
            "active_days",
            "age_days",
            "average_value",
            "p_alive",
            "purchases_3",
            "purchases_6",
            "purchases_12",
            "spend",
            "clv_3",
            "clv_6",
            "clv_12",
        ],
    )

    def floats(values):
        return [None if not np.isfinite(v) else round(float(v), 4) for v in values]

    columns = [
        h.customer.tolist(),
        shop_ids,
        [now] * len(h),
        p["x"].astype(int).tolist(),
        p["t_x"].astype(int).tolist(),
        p["T"].astype(int).tolist(),
        _money(p["m_x"]),
        floats(p["p_alive"]),
        floats(p["purchases_3"]),
        floats(p["purchases_6"]),
        floats(p["purchases_12"]),
        _money(p["spend"]),
        _money(p["clv_3"]),
        _money(p["clv_6"]),
        _money(p["clv_12"]),
    ]
    rows = list(zip(*columns, strict=True))
    for start in range(0, len(rows), 50_000):
        writer.insert_many(rows[start : start + 50_000])


def _store_model(shop_id, model: Fit, holdout: dict, now) -> ValueModel:
    return ValueModel.objects.create(
        shop_id=shop_id,
        fitted_at=now,
        status=model.status,
        needs=model.needs,
        customers=model.customers,
        repeaters=model.repeaters,
        bgnbd=model.bgnbd.as_dict() if model.bgnbd else {},
        gamma_gamma=model.gamma_gamma.as_dict() if model.gamma_gamma else {},
        log_likelihood=model.log_likelihood,
        holdout=holdout,
    )


@transaction.atomic
def recompute(*, now=None) -> dict:
    """Fit every level's model, store every customer's predictions, raise and settle churn warnings."""
    now = now or timezone.now()
    settings = settings_get()
    today = (timezone.localtime(now).date() - EPOCH).days
    cutoff = today - settings.holdout_days
    discount = float(settings.yearly_discount) / 100
    ValueModel.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CustomerValue._meta.db_table}")
    models = {}
    across = read_histories(cutoff=cutoff, by_shop=False)
    per_shop = read_histories(cutoff=cutoff, by_shop=True)
    levels = [(None, across)] + [
        (int(s), per_shop.take(per_shop.shop == s)) for s in np.unique(per_shop.shop)
    ]
    across_predictions = None
    for shop_id, h in levels:
        model = fit(*_whole(h, today), settings)
        holdout = (
            holdout_check(h, cutoff=cutoff, days=settings.holdout_days, settings=settings) if len(h) else {}
        )
        models[shop_id] = _store_model(shop_id, model, holdout, now)
        predictions = _predict(h, model, today, discount)
        _store_values(h, [shop_id] * len(h), predictions, now)
        if shop_id is None:
            across_predictions = predictions
    warnings = churn_warnings_raise(across, across_predictions, today=today, now=now, settings=settings)
    won_back = churn_outcomes_settle()
    return {"models": models, "customers": len(across), "warnings": warnings, "won_back": won_back}


def churn_warnings_raise(h: Histories, p: dict | None, *, today: int, now, settings: ScoreSettings) -> int:
    """Raise a warning for each customer who crossed their line within the window and has none for this lapse."""
    if not len(h):
        return 0
    x, t_x = p["x"], p["t_x"]
    since = (today - h.last).astype(float)
    gap = np.divide(t_x, x, out=np.zeros_like(t_x), where=x > 0)
    factor = float(settings.churn_gap_factor)
    threshold = np.where(x > 0, np.ceil(factor * gap), float(settings.churn_one_time_days))
    yearly = h.money * 365 / np.maximum(t_x, 365)
    due = (
        (since > threshold)
        & (since <= threshold + settings.churn_window_days)
        & (yearly >= float(settings.churn_min_value))
        & (h.money > 0)
    )
    if not np.any(due):
        return 0
    # Once per lapse: not for a customer already warned since their last purchase.
    stats = BuyerStats._meta.db_table
    warnings = ChurnWarning._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT w.customer_id FROM {warnings} w JOIN {stats} s ON s.customer_id = w.customer_id "
            f"WHERE w.status IN ('open', 'retaining') OR w.raised_at >= s.last_purchase_at"
        )
        warned = {row[0] for row in cursor.fetchall()}
    p_alive = p["p_alive"]
    new = [
        ChurnWarning(
            customer_id=int(h.customer[i]),
            raised_at=now,
            reason=ChurnWarning.Reason.RHYTHM if x[i] > 0 else ChurnWarning.Reason.ONE_TIME,
            usual_gap_days=round(gap[i]) if x[i] > 0 else None,
            days_since=int(since[i]),
            threshold_days=int(threshold[i]),
            p_alive=float(p_alive[i]) if np.isfinite(p_alive[i]) else None,
            value_at_risk=Decimal(f"{yearly[i]:.2f}"),
        )
        for i in np.flatnonzero(due)
        if int(h.customer[i]) not in warned
    ]
    bulk_create_with_history(new, ChurnWarning, batch_size=1000)
    return len(new)


def churn_outcomes_settle() -> int:
    """A purchase after the warning wins the customer back (whatever was decided), recorded in its history."""
    pending = ChurnWarning.objects.exclude(status=ChurnWarning.Status.WON_BACK).filter(
        customer__buyer_stats__last_purchase_at__gt=F("raised_at")
    )
    settled = list(pending.select_related("customer__buyer_stats"))
    moment = timezone.now()
    for warning in settled:
        warning.status = ChurnWarning.Status.WON_BACK
        warning.won_back_at = warning.customer.buyer_stats.last_purchase_at
        warning.updated_at = moment
    bulk_update_with_history(settled, ChurnWarning, ["status", "won_back_at", "updated_at"], batch_size=1000)
    return len(settled)
