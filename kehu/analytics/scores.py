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
from django.utils import timezone

from kehu.analytics.models import CustomerScore, RfmClass, RfmGroup, ScoreMonth, ScoreSettings
from kehu.core.rawsql import adapt_datetime
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


@transaction.atomic
def recompute(*, now=None) -> int:
    """Replace every customer's scores with fresh ones; returns how many customers were scored."""
    now = now or timezone.now()
    settings = settings_get()
    r_sql, f_sql, m_sql, score_params = _scores(settings)
    class_sql, class_params = _class_sql(settings)
    a_share = settings.abc_a / 100
    b_share = (settings.abc_a + settings.abc_b) / 100
    stats, customers, scores = (
        BuyerStats._meta.db_table,
        Customer._meta.db_table,
        CustomerScore._meta.db_table,
    )
    moment = adapt_datetime(now)
    sql = f"""
        INSERT INTO {scores}
            (customer_id, computed_at, recency_days, frequency, monetary, r, f, m, rfm_class, rfm_group, abc,
             lifecycle, customer_class, first_purchase_at)
        WITH base AS (
            SELECT s.customer_id AS id, {_days_since_sql("s.last_purchase_at")} AS d, s.order_count AS f,
                s.total_paid AS m, s.first_purchase_at AS first_at,
                {_days_since_sql("COALESCE(s.first_purchase_at, s.last_purchase_at)")} AS age
            FROM {stats} s JOIN {customers} c ON c.id = s.customer_id
            WHERE s.order_count > 0 AND s.last_purchase_at IS NOT NULL AND c.deleted_at IS NULL
        ), ranked AS (
            SELECT id, d, f, m, first_at, age,
                PERCENT_RANK() OVER (ORDER BY d DESC) AS pr_r,
                PERCENT_RANK() OVER (ORDER BY f) AS pr_f,
                PERCENT_RANK() OVER (ORDER BY m) AS pr_m,
                AVG(d) OVER () AS avg_d, AVG(f) OVER () AS avg_f, AVG(m) OVER () AS avg_m,
                SUM(m) OVER (ORDER BY m DESC, id ROWS UNBOUNDED PRECEDING) - m AS before,
                SUM(m) OVER () AS total
            FROM base
        ), scored AS (
            SELECT id, d, f AS frequency, m AS monetary, first_at, age, {r_sql} AS r, {f_sql} AS f, {m_sql} AS m,
                {class_sql} AS rfm_class, before, total
            FROM ranked
        )
        SELECT id, %s, d, frequency, monetary, r, f, m, rfm_class, {_group_sql()},
            CASE WHEN total <= 0 OR monetary <= 0 THEN 'C' WHEN before < total * %s THEN 'A'
                 WHEN before < total * %s THEN 'B' ELSE 'C' END,
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
        *score_params,
        *class_params,
        moment,
        a_share,
        b_share,
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
