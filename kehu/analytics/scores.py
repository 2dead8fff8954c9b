"""RFM and ABC for every customer with a purchase, in one set-based statement over the purchase statistics.

What counts (the import rules): a purchase is a completed order (交易成功); money is what the buyer paid net of
refunds; recency is the whole days since the last purchase. These are `sales.BuyerStats`, kept by every service
that writes orders, so the scores read one row per customer, never the orders.

1-5 scores (`ScoreSettings.method`):
- quintiles: a customer's score is 1 + ⌊5 × percent rank⌋ (at most 5) among all scored customers — the percent
  rank of tied values is that of the first of them, so equal values always score the same; recency ranks the
  longest absence first, so the most recent buyers score 5;
- thresholds: four ascending bounds per measure for scores 2-5 (recency: at most so many days).

The eight classes (重要价值 … 一般挽留) call R, F and M high when the customer bought at least as recently, as
often and as much as the average customer (or, if the settings say so, within `recent_days`, at least
`frequent_orders` orders, at least `big_spend`). The named groups follow `GROUP_RULES`, first match wins.
Each computation also records this month's class, group and ABC per customer (`ScoreMonth`), so segment
migration can be read month by month.

The lifecycle stage (seed 002): in decline (退化期) after `lapse_days` without a purchase; otherwise stable (稳定期)
from `stable_orders` purchases on, forming (形成期) from the second, exploring (考察期) after the first.

The customer class (seed 002): new (新客户) while the first purchase is at most `new_days` old; loyal (忠诚客户)
after `stable_orders` purchases over at least `loyal_days` and still buying (within `lapse_days`); frequent
(常客) from `frequent_orders` purchases; returning (老客户) otherwise. Customers who have not bought yet are the
potential ones (潜在客户) and have no scores.

ABC sorts customers by money spent: A until the customers before reach `abc_a`% of all sales, B until `abc_a +
abc_b`%, C the rest (a customer who spent nothing is C).
"""

from django.db import connection, transaction
from django.db.models import Avg, Max, Min
from django.utils import timezone

from kehu.analytics.models import CustomerScore, RfmClass, RfmGroup, ScoreMonth, ScoreRun, ScoreSettings
from kehu.analytics.reports import segments_rebuild
from kehu.core.rawsql import adapt_datetime, chunks
from kehu.customers.models import Customer
from kehu.sales.models import BuyerStats

G = RfmGroup
# The named groups from the 1-5 scores r, f, m; the first rule that holds names the group.
GROUP_RULES = [
    (G.CHAMPIONS, "r >= 4 AND f >= 4 AND m >= 4"),
    (G.LOYAL, "r >= 3 AND f >= 4"),
    (G.CANNOT_LOSE, "r <= 2 AND f >= 4 AND m >= 4"),
    (G.AT_RISK, "r <= 2 AND f >= 3"),
    (G.POTENTIAL_LOYALIST, "r >= 4 AND f >= 2"),
    (G.NEW, "r = 5 AND f = 1"),
    (G.PROMISING, "r = 4 AND f = 1"),
    (G.NEED_ATTENTION, "r = 3"),
    (G.ABOUT_TO_SLEEP, "r = 2"),
    (G.HIBERNATING, "r = 1 AND (f >= 2 OR m >= 3)"),
    (G.LOST, "1 = 1"),
]
C = RfmClass
CLASSES = {  # (recent, frequent, big spender) → class
    (True, True, True): C.IMPORTANT_VALUE,
    (True, False, True): C.IMPORTANT_DEVELOP,
    (False, True, True): C.IMPORTANT_KEEP,
    (False, False, True): C.IMPORTANT_WIN_BACK,
    (True, True, False): C.GENERAL_VALUE,
    (True, False, False): C.GENERAL_DEVELOP,
    (False, True, False): C.GENERAL_KEEP,
    (False, False, False): C.GENERAL_WIN_BACK,
}


def settings_get() -> ScoreSettings:
    return ScoreSettings.objects.order_by("pk").first() or ScoreSettings()


def _days_since_sql(column: str) -> str:
    """Whole days from `column` to the moment given as the parameter."""
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM (%s::timestamptz - {column})) / 86400) AS INTEGER)"
    return f"CAST(julianday(%s) - julianday({column}) AS INTEGER)"


def _quintile(column: str) -> str:
    return f"CASE WHEN {column} >= 0.8 THEN 5 WHEN {column} >= 0.6 THEN 4 WHEN {column} >= 0.4 THEN 3 " + (
        f"WHEN {column} >= 0.2 THEN 2 ELSE 1 END"
    )


def _bounded(column: str, bounds: list, *, fewer_is_better: bool) -> tuple[str, list]:
    """A CASE giving 5 … 1 by four ascending bounds."""
    bounds = sorted(bounds)[:4]
    if len(bounds) != 4:
        raise ValueError("four bounds per measure")
    if fewer_is_better:  # at most bounds[0] → 5, … more than bounds[3] → 1
        parts = [f"WHEN {column} <= %s THEN {5 - i}" for i in range(4)]
        return "CASE " + " ".join(parts) + " ELSE 1 END", bounds
    parts = [f"WHEN {column} >= %s THEN {5 - i}" for i in range(4)]
    return "CASE " + " ".join(parts) + " ELSE 1 END", list(reversed(bounds))


def _scores(settings: ScoreSettings) -> tuple[str, str, str, list]:
    if settings.method == ScoreSettings.Method.THRESHOLDS:
        r, r_params = _bounded("d", settings.recency_days, fewer_is_better=True)
        f, f_params = _bounded("f", settings.frequency_bounds, fewer_is_better=False)
        m, m_params = _bounded("m", settings.monetary_bounds, fewer_is_better=False)
        return r, f, m, [*r_params, *f_params, *m_params]
    return _quintile("pr_r"), _quintile("pr_f"), _quintile("pr_m"), []


def _class_sql(settings: ScoreSettings) -> tuple[str, list]:
    if settings.classes_by_thresholds:
        tests = ("d < %s", "f >= %s", "m >= %s")
        params = [settings.recent_days, settings.frequent_orders, settings.big_spend]
    else:
        tests, params = ("d <= avg_d", "f >= avg_f", "m >= avg_m"), []
    cases = []
    case_params: list = []
    for (recent, frequent, big), code in CLASSES.items():
        conditions = [
            test if high else f"NOT ({test})"
            for test, high in zip(tests, (recent, frequent, big), strict=True)
        ]
        cases.append(f"WHEN {' AND '.join(conditions)} THEN '{code.value}'")
        case_params += params  # every branch tests all three
    return "CASE " + " ".join(cases) + " END", case_params


def _group_sql() -> str:
    return "CASE " + " ".join(f"WHEN {rule} THEN '{group.value}'" for group, rule in GROUP_RULES) + " END"


def _cut_case(column: str, cuts: dict, *, fewer_is_better: bool) -> tuple[str, list]:
    """A CASE giving the highest score whose stored cut the value reaches, else 1."""
    parts, params = [], []
    for score in (5, 4, 3, 2):
        bound = cuts.get(str(score))
        if bound is not None:
            parts.append(f"WHEN {column} {'<=' if fewer_is_better else '>='} %s THEN {score}")
            params.append(bound)
    return ("CASE " + " ".join(parts) + " ELSE 1 END", params) if parts else ("1", [])


def cutoffs() -> dict:
    """Where the last full computation drew its lines, read back from the scores it wrote: per score the longest
    recency and the least frequency and money that still earned it, the averages, and the least money of an A and
    of a B customer. Customers scored between two full runs are placed by these lines."""
    qs = CustomerScore.objects.order_by()
    found: dict = {"r": {}, "f": {}, "m": {}}
    for measure, column, fewer_is_better in (
        ("r", "recency_days", True),
        ("f", "frequency", False),
        ("m", "monetary", False),
    ):
        rows = {row[measure]: row for row in qs.values(measure).annotate(low=Min(column), high=Max(column))}
        for score in (5, 4, 3, 2):
            reached = [rows[k]["high" if fewer_is_better else "low"] for k in rows if k >= score]
            if reached:
                bound = max(reached) if fewer_is_better else min(reached)
                found[measure][str(score)] = float(bound) if measure == "m" else int(bound)
    averages = qs.aggregate(d=Avg("recency_days"), f=Avg("frequency"), m=Avg("monetary"))
    found["avg"] = {key: float(value or 0) for key, value in averages.items()}
    for grade in ("A", "B"):
        least = qs.filter(abc=grade, monetary__gt=0).aggregate(least=Min("monetary"))["least"]
        found[grade] = float(least) if least is not None else None
    return found


@transaction.atomic
def recompute(*, now=None) -> int:
    """Replace every customer's scores with fresh ones; returns how many customers were scored."""
    now = now or timezone.now()
    count = _write(now=now, settings=settings_get())
    run = ScoreRun.objects.order_by("pk").first() or ScoreRun()
    run.computed_at, run.customers, run.cutoffs = now, count, cutoffs()
    run.save()
    segments_rebuild()
    return count


@transaction.atomic
def refresh(customer_ids: list[int], *, now=None) -> int:
    """Score again only these customers (their purchases changed), placed by the lines of the last full computation;
    the next full computation ranks everyone afresh, and the stored page figures (`reports.segments_rebuild`) with
    it. Without one, everyone is scored now."""
    now = now or timezone.now()
    run = ScoreRun.objects.order_by("pk").first()
    if run is None:
        return recompute(now=now)
    count = 0
    for ids in chunks(sorted(set(customer_ids))):
        count += _write(now=now, settings=settings_get(), customer_ids=ids, cuts=run.cutoffs)
    return count


def _write(
    *, now, settings: ScoreSettings, customer_ids: list[int] | None = None, cuts: dict | None = None
) -> int:
    """Write the scores of every customer (or of `customer_ids`, by the stored `cuts`) and this month's standing."""
    class_sql, class_params = _class_sql(settings)
    a_share = settings.abc_a / 100
    b_share = (settings.abc_a + settings.abc_b) / 100
    stats, customers, scores = (
        BuyerStats._meta.db_table,
        Customer._meta.db_table,
        CustomerScore._meta.db_table,
    )
    moment = adapt_datetime(now)
    only, only_params = "", []
    if customer_ids is not None:
        only = f" AND s.customer_id IN ({', '.join(['%s'] * len(customer_ids))})"
        only_params = list(customer_ids)
    if cuts is None:
        r_sql, f_sql, m_sql, score_params = _scores(settings)
        ranked = """PERCENT_RANK() OVER (ORDER BY d DESC) AS pr_r,
                PERCENT_RANK() OVER (ORDER BY f) AS pr_f,
                PERCENT_RANK() OVER (ORDER BY m) AS pr_m,
                AVG(d) OVER () AS avg_d, AVG(f) OVER () AS avg_f, AVG(m) OVER () AS avg_m,
                SUM(m) OVER (ORDER BY m DESC, id ROWS UNBOUNDED PRECEDING) - m AS before,
                SUM(m) OVER () AS total"""
        ranked_params: list = []
        abc_sql = """CASE WHEN total <= 0 OR monetary <= 0 THEN 'C' WHEN before < total * %s THEN 'A'
                 WHEN before < total * %s THEN 'B' ELSE 'C' END"""
        abc_params: list = [a_share, b_share]
    else:
        if settings.method == ScoreSettings.Method.THRESHOLDS:
            r_sql, f_sql, m_sql, score_params = _scores(settings)
        else:
            r_sql, r_params = _cut_case("d", cuts["r"], fewer_is_better=True)
            f_sql, f_params = _cut_case("f", cuts["f"], fewer_is_better=False)
            m_sql, m_params = _cut_case("m", cuts["m"], fewer_is_better=False)
            score_params = [*r_params, *f_params, *m_params]
        ranked = "%s AS avg_d, %s AS avg_f, %s AS avg_m, 0 AS before, 0 AS total"
        ranked_params = [cuts["avg"]["d"], cuts["avg"]["f"], cuts["avg"]["m"]]
        abc_sql = "CASE WHEN monetary > 0 AND monetary >= %s THEN 'A' WHEN monetary > 0 AND monetary >= %s THEN 'B' ELSE 'C' END"
        # No A (or B) customer at the last run: nobody reaches that class now either.
        abc_params = [
            cuts["A"] if cuts["A"] is not None else 1e18,
            cuts["B"] if cuts["B"] is not None else 1e18,
        ]
    sql = f"""
        INSERT INTO {scores}
            (customer_id, computed_at, recency_days, frequency, monetary, r, f, m, rfm_class, rfm_group, abc,
             lifecycle, customer_class, first_purchase_at)
        WITH base AS (
            SELECT s.customer_id AS id, {_days_since_sql("s.last_purchase_at")} AS d, s.order_count AS f,
                s.total_paid AS m, s.first_purchase_at AS first_at,
                {_days_since_sql("COALESCE(s.first_purchase_at, s.last_purchase_at)")} AS age
            FROM {stats} s JOIN {customers} c ON c.id = s.customer_id
            WHERE s.order_count > 0 AND s.last_purchase_at IS NOT NULL AND c.deleted_at IS NULL{only}
        ), ranked AS (
            SELECT id, d, f, m, first_at, age, {ranked}
            FROM base
        ), scored AS (
            SELECT id, d, f AS frequency, m AS monetary, first_at, age, {r_sql} AS r, {f_sql} AS f, {m_sql} AS m,
                {class_sql} AS rfm_class, before, total
            FROM ranked
        )
        SELECT id, %s, d, frequency, monetary, r, f, m, rfm_class, {_group_sql()},
            {abc_sql},
            CASE WHEN d > %s THEN 'decline' WHEN frequency >= %s THEN 'stable'
                 WHEN frequency >= 2 THEN 'formation' ELSE 'exploration' END,
            CASE WHEN age <= %s THEN 'new' WHEN frequency >= %s AND age >= %s AND d <= %s THEN 'loyal'
                 WHEN frequency >= %s THEN 'frequent' ELSE 'old' END,
            first_at
        FROM scored
    """
    params = [
        moment,
        moment,
        *only_params,
        *ranked_params,
        *score_params,
        *class_params,
        moment,
        *abc_params,
        settings.lapse_days,
        settings.stable_orders,
        settings.new_days,
        settings.stable_orders,
        settings.loyal_days,
        settings.lapse_days,
        settings.frequent_orders,
    ]
    month = timezone.localtime(now).date().replace(day=1)
    months = ScoreMonth._meta.db_table
    with connection.cursor() as cursor:
        if customer_ids is None:
            cursor.execute(f"DELETE FROM {scores}")
            cursor.execute(sql, params)
            count = cursor.rowcount
            # This month's standing is the latest computation's; earlier months stay as they ended.
            cursor.execute(f"DELETE FROM {months} WHERE month = %s", [month])
            cursor.execute(
                f"INSERT INTO {months} (customer_id, month, rfm_class, rfm_group, abc) "
                f"SELECT customer_id, %s, rfm_class, rfm_group, abc FROM {scores}",
                [month],
            )
            return count
        marks = ", ".join(["%s"] * len(customer_ids))
        cursor.execute(f"DELETE FROM {scores} WHERE customer_id IN ({marks})", customer_ids)
        cursor.execute(sql, params)
        count = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {months} WHERE month = %s AND customer_id IN ({marks})", [month, *customer_ids]
        )
        cursor.execute(
            f"INSERT INTO {months} (customer_id, month, rfm_class, rfm_group, abc) "
            f"SELECT customer_id, %s, rfm_class, rfm_group, abc FROM {scores} WHERE customer_id IN ({marks})",
            [month, *customer_ids],
        )
    return count
