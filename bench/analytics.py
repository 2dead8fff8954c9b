"""Customer analytics at scale: the full recompute of scores, reports and predicted values over millions of
marketplace orders, the refresh after an import, the analytics pages, and DuckDB over Parquet as a reference.

    .venv/bin/python bench/analytics.py                                  # both databases, 1M customers, 10M lines
    .venv/bin/python bench/analytics.py --db sqlite --customers 20000 --lines 200000
    .venv/bin/python bench/analytics.py --fresh                          # drop the bench databases, generate again
    .venv/bin/python bench/analytics.py --skip-generate --db postgres    # measure whatever the database holds

Targets (product requirement): the full recompute in ≤ 60 s on PostgreSQL, the refresh after an import in ≤ 5 s,
the analytics pages in ≤ 200 ms p95.

For each database it uses a throwaway database (var/bench/analytics.sqlite3, and kehu_analytics_bench on the
local PostgreSQL server; `--sqlite-url` / `--postgres-url` pick others):

1. migrated, regions loaded and N customers generated with `kehu seed_demo --bulk N` (bench/run.py's
   `prepare()`); then, unless the bench shop already has orders, one Taobao shop, 24 products and ~lines/2.5
   orders with their lines written straight into the tables (COPY on PostgreSQL, `executemany` on SQLite, in
   transactions of 100,000 orders, indexes kept): buyers with a purchase rate and a buying span of their own,
   order times over the last 3 years following a seasonal pattern (6.18, Double 11, 12.12, a quiet Spring
   Festival, evenings), 95% completed with payment time, partial refunds and closed orders; then one buyer
   identity per buyer and `sales.BuyerStats` filled from the orders in one INSERT … SELECT (the rules of
   `kehu/sales/buyer_stats.py`), and ANALYZE;
2. the full recompute, in-process with `DEBUG` off: `kehu.analytics.scores.recompute`,
   `kehu.analytics.reports.rebuild` and `kehu.analytics.values.recompute`, each timed, with the process's peak
   RSS (a phase whose module or function does not exist yet is reported as not available);
3. the reference: the completed orders (customer, purchase time, money) streamed from the database into a CSV
   under var/bench, turned into Parquet by DuckDB, and the RFM quintile scores computed by DuckDB over the Parquet
   file exactly as `kehu/analytics/scores.py` does; the customers whose (r, f, m) differ from the stored
   `CustomerScore` rows are counted and explained;
4. the incremental refresh: a Taobao export of 10,000 new orders (`kehu/demo/marketplace_data.py`) whose buyer
   nicks are replaced by the nicks of existing buyers, imported with `kehu import-orders` (timed, not the
   target), then `kehu.analytics.services.scores_refresh` for the customers of the imported orders;
5. the analytics pages through `django.test.Client`, as the system admin and as a manager, 3 warm-ups and 30
   samples each (3 when a request takes over 2 s); a URL name that does not resolve is not available.

Prints a summary with the targets and writes bench/results/analytics-<database>.json. Never part of the test suite.
"""

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as base  # bench/run.py: prepare(), setup_django(), percentile()

ROOT = base.ROOT
RESULTS = base.RESULTS
WORK = ROOT / "var" / "bench"
DATABASES = {
    "sqlite": f"sqlite:///{WORK / 'analytics.sqlite3'}",
    "postgres": "postgres://postgres@127.0.0.1:5432/kehu_analytics_bench",
}
TARGETS = {"recompute_s": 60.0, "incremental_s": 5.0, "page_p95_ms": 200.0}
PAGES = [
    "analytics:rfm",
    "analytics:value",
    "analytics:churn",
    "analytics:migration",
    "analytics:composition",
    "analytics:products",
    "analytics:seasonal",
    "analytics:cohorts",
]
USERS = {"admin": "admin", "manager": "manager_east"}  # demo org usernames
SHOP_NAME = "分析基准店"
SHOP_UNIT = "上海一组"
SEED = 2026
LINES_PER_ORDER = 2.5
INCREMENTAL_ORDERS = 10_000
SLOW_MS = 2000.0  # a page slower than this is sampled 3 times only


# --- orchestration (no Django in this process) ----------------------------------------------------------------


def run_child(url: str, *args: str) -> dict:
    """This script again, inside Django for one database; its JSON result (progress goes to stderr)."""
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(  # noqa: S603 - this script, run again for one database
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    head, _, data = done.stdout.partition("@@RESULTS@@")
    if head.strip():
        print(head.rstrip(), flush=True)
    return json.loads(data)


def kehu(url: str, *args: str) -> tuple[float, float, str, int]:
    """Run a kehu command; (seconds, peak RSS in MB of that process, its output, exit code)."""
    env = {**os.environ, "DATABASE_URL": url, "LANGUAGE_CODE": "en", "DEBUG": "0"}
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    return elapsed, usage.ru_maxrss / 1024, out, os.waitstatus_to_exitcode(status)


def database_name(url: str) -> str:
    """'analytics' for sqlite:///…/analytics.sqlite3, 'kehu_analytics_bench' for postgres://…/kehu_analytics_bench."""
    return Path(urlsplit(url).path).stem


def prepare(db: str, args) -> dict:
    """Database, regions and customers (bench/run.py), then the orders; the generation figures."""
    url = DATABASES[db]
    started = time.perf_counter()
    base.prepare(db, customers=args.customers, fresh=args.fresh)
    customers_s = time.perf_counter() - started
    print(
        f"[{db}] orders: ~{args.lines:,} lines, ~{round(args.lines / LINES_PER_ORDER):,} orders", flush=True
    )
    generated = run_child(url, "--generate", "--lines", str(args.lines))
    generated["customers_seconds"] = round(customers_s, 1)
    stored = WORK / f"{database_name(url)}-generation.json"
    if generated.get("skipped"):
        return json.loads(stored.read_text()) if stored.exists() else generated
    stored.write_text(json.dumps(generated, indent=2))
    return generated


def incremental(db: str) -> dict:
    url = DATABASES[db]
    export = run_child(url, "--write-incremental", str(INCREMENTAL_ORDERS))
    print(f"[{db}] importing {export['orders']:,} orders ({export['buyers_note']})", flush=True)
    seconds, peak, out, code = kehu(
        url,
        "import-orders",
        "--platform",
        "taobao",
        "--shop",
        SHOP_NAME,
        export["order_file"],
        export["item_file"],
    )
    summary = next((line for line in reversed(out.splitlines()) if line.startswith("all files")), "")
    if code != 0:
        print(out, flush=True)
        summary = f"failed (exit {code}): {out.strip().splitlines()[-1] if out.strip() else ''}"
    refreshed = run_child(url, "--refresh", str(export["max_order_id"]))
    return {
        "export": export,
        "import": {"seconds": round(seconds, 1), "peak_rss_mb": round(peak), "summary": summary},
        "refresh": refreshed,
    }


def measure(db: str, args) -> dict:
    url = DATABASES[db]
    results = {"database": db}
    if not args.skip_generate:
        results["generation"] = prepare(db, args)
    print(f"[{db}] full recompute", flush=True)
    results["recompute"] = run_child(url, "--recompute")
    print(f"[{db}] reference: Parquet and DuckDB", flush=True)
    results["reference"] = run_child(url, "--reference", results["recompute"]["now"])
    print(f"[{db}] incremental: export, import, refresh", flush=True)
    results["incremental"] = incremental(db)
    print(f"[{db}] pages ({args.samples} samples)", flush=True)
    results["pages"] = run_child(url, "--pages", "--samples", str(args.samples))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--lines", type=int, default=10_000_000, help="order lines to generate (~2.5 per order)"
    )
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--fresh", action="store_true", help="drop the bench database and generate again")
    parser.add_argument("--skip-generate", action="store_true", help="measure whatever the database holds")
    parser.add_argument(
        "--sqlite-url", default=DATABASES["sqlite"], help="DATABASE_URL of the SQLite bench db"
    )
    parser.add_argument(
        "--postgres-url", default=DATABASES["postgres"], help="DATABASE_URL of the PostgreSQL one"
    )
    # Internal: the steps that run inside Django, one database per process.
    internal = parser.add_mutually_exclusive_group()
    internal.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    internal.add_argument("--recompute", action="store_true", help=argparse.SUPPRESS)
    internal.add_argument("--reference", metavar="NOW", help=argparse.SUPPRESS)
    internal.add_argument("--write-incremental", type=int, metavar="ORDERS", help=argparse.SUPPRESS)
    internal.add_argument("--refresh", type=int, metavar="AFTER_ORDER_ID", help=argparse.SUPPRESS)
    internal.add_argument("--pages", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    steps = (args.generate, args.recompute, args.reference, args.pages)
    if any(steps) or args.write_incremental is not None or args.refresh is not None:
        inside(args)
        return

    RESULTS.mkdir(parents=True, exist_ok=True)
    WORK.mkdir(parents=True, exist_ok=True)
    DATABASES.update(sqlite=args.sqlite_url, postgres=args.postgres_url)
    base.DATABASES.update(DATABASES)  # prepare() creates, migrates and seeds the database named there
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    command = "bench/analytics.py " + " ".join(sys.argv[1:])
    for db in dbs:
        results = measure(db, args)
        results["command"] = command.strip()
        (RESULTS / f"analytics-{db}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
        print_summary(results)


def inside(args) -> None:
    base.setup_django()
    from django.conf import settings

    settings.DEBUG = False  # no query log: measure what production runs
    if args.generate:
        result = generate(lines=args.lines)
    elif args.recompute:
        result = recompute()
    elif args.reference:
        result = reference(args.reference)
    elif args.write_incremental is not None:
        result = write_incremental(args.write_incremental)
    elif args.refresh is not None:
        result = refresh(args.refresh)
    else:
        result = pages(samples=args.samples)
    print("@@RESULTS@@" + json.dumps(result, ensure_ascii=False))


# --- the summary -----------------------------------------------------------------------------------------------


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return ""
    return "ok" if value <= target else "OVER"


def print_summary(results: dict) -> None:
    db = results["database"]
    rec, meta = results["recompute"], results["recompute"]["data"]
    print()
    print(
        f"## {db}: {meta['customers']:,} customers, {meta['buyers']:,} buyers, {meta['orders']:,} orders, "
        f"{meta['lines']:,} order lines"
    )
    gen = results.get("generation")
    if gen:
        print(
            f"generation: customers {gen.get('customers_seconds', '?')} s (seed_demo --bulk); orders "
            f"{gen.get('seconds', '?')} s = rows {gen.get('rows_seconds', '?')} s, identities "
            f"{gen.get('identities_seconds', '?')} s, buyer stats {gen.get('stats_seconds', '?')} s, "
            f"analyze {gen.get('analyze_seconds', '?')} s"
        )
    print()
    target = TARGETS["recompute_s"]
    print(f"| {'full recompute':<28} | {'wall s':>13} | {'process CPU s':>13} | {'target':>8} |      |")
    print(f"|{'-' * 30}|{'-' * 15}|{'-' * 15}|{'-' * 10}|------|")
    for name in ("scores", "reports", "values"):
        phase = rec["phases"][name]
        if "seconds" not in phase:
            print(f"| {phase['label']:<28} | {phase['status']:>13} | {'':>13} | {'':>8} |      |")
            continue
        print(
            f"| {phase['label']:<28} | {phase['seconds']:>13.1f} | {phase['cpu']:>13.1f} | {'':>8} |      |"
        )
    total = rec["total_seconds"]
    flag = verdict(total, target) if db == "postgres" else f"({verdict(total, target)})"
    print(
        f"| {'total':<28} | {total:>13.1f} | {rec['total_cpu']:>13.1f} | {f'≤ {target:.0f} s':>8} | {flag} |"
    )
    print("process CPU: the benchmark process only (on PostgreSQL the server's work is not in it)")
    print(f"peak RSS of the recompute process: {rec['peak_rss_mb']:.0f} MB")
    print_incremental(results["incremental"])
    print_reference(results["reference"])
    print_pages(results["pages"])


def print_incremental(inc: dict) -> None:
    export, imported, refreshed = inc["export"], inc["import"], inc["refresh"]
    print(
        f"\nincremental: {export['orders']:,} new orders in a Taobao export ({export['buyers_note']}); "
        f"kehu import-orders {imported['seconds']:.1f} s, peak RSS {imported['peak_rss_mb']} MB (not the target)"
        f"\n  {imported['summary']}"
    )
    if "seconds" in refreshed:
        target = TARGETS["incremental_s"]
        print(
            f"  scores_refresh for {refreshed['customers']:,} customers: {refreshed['seconds']:.2f} s "
            f"(target ≤ {target:.0f} s: {verdict(refreshed['seconds'], target)})"
        )
    else:
        print(f"  scores_refresh for {refreshed['customers']:,} customers: {refreshed['status']}")


def print_reference(ref: dict) -> None:
    print(
        f"\nreference: {ref['orders']:,} completed orders to CSV {ref['csv_seconds']:.1f} s "
        f"({ref['csv_mb']:.0f} MB), CSV → Parquet {ref['parquet_seconds']:.1f} s ({ref['parquet_mb']:.0f} MB); "
        f"DuckDB RFM over Parquet {ref['duckdb_seconds']:.2f} s for {ref['customers']:,} customers"
    )
    print(f"  (r, f, m) differing from the stored CustomerScore: {ref['differing']:,}")
    for line in ref["explanation"]:
        print(f"  {line}")


def print_pages(result: dict) -> None:
    target = TARGETS["page_p95_ms"]
    print(f"\npages, p50 / p95 ms ({result['samples']} samples; target p95 ≤ {target:.0f} ms)")
    print(
        f"| {'page':<44} | {'admin p50':>9} | {'admin p95':>11} | {'manager p50':>11} | {'manager p95':>11} |"
    )
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 13}|{'-' * 13}|{'-' * 13}|")
    for row in result["rows"]:
        if "status" in row:
            print(f"| {row['name']:<44} | {row['status']:>9} | {'':>11} | {'':>11} | {'':>11} |")
            continue
        cells = []
        for who in USERS:
            figure = row[who]
            if "status" in figure:
                cells += [figure["status"], ""]
                continue
            few = f" n={figure['samples']}" if figure["samples"] < result["samples"] else ""
            flag = " !" if figure["p95"] > target else ""
            cells += [f"{figure['p50']:.1f}", f"{figure['p95']:.1f}{flag}{few}"]
        label = f"{row['name']} {row['path']}"
        print(f"| {label:<44} | {cells[0]:>9} | {cells[1]:>11} | {cells[2]:>11} | {cells[3]:>11} |")
    print("! = p95 above the target")


# --- inside Django: generation ---------------------------------------------------------------------------------

DAY = 86400
SPAN_DAYS = 3 * 365
BEIJING_OFFSET = 8 * 3600
# (sku, title, price in fen); popularity falls with the position.
PRODUCTS = [
    ("AB-001", "纯棉T恤 夏季新款", 9900),
    ("AB-002", "牛仔裤 直筒宽松", 15900),
    ("AB-003", "袜子 5双装", 2990),
    ("AB-004", "帆布鞋 经典款", 8900),
    ("AB-005", "保温杯 500ml", 6900),
    ("AB-006", "手机壳 防摔", 1990),
    ("AB-007", "数据线 快充", 2590),
    ("AB-008", "面膜 10片装", 5990),
    ("AB-009", "卫衣 加绒", 16800),
    ("AB-010", "羊毛围巾", 12990),
    ("AB-011", "双肩背包 大容量", 19900),
    ("AB-012", "零食大礼包", 6880),
    ("AB-013", "洗面奶", 4590),
    ("AB-014", "毛巾 3条装", 3990),
    ("AB-015", "连衣裙 雪纺", 25900),
    ("AB-016", "蓝牙耳机", 19900),
    ("AB-017", "运动鞋 跑步", 32900),
    ("AB-018", "口红", 16900),
    ("AB-019", "收纳箱", 4990),
    ("AB-020", "坚果礼盒", 12800),
    ("AB-021", "床上四件套", 29900),
    ("AB-022", "茶叶 龙井 250g", 25800),
    ("AB-023", "羽绒服 轻薄", 49900),
    ("AB-024", "电动牙刷", 39900),
]
MONTH_WEIGHTS = [1.0, 0.75, 0.95, 0.95, 1.0, 1.15, 0.9, 0.9, 1.0, 1.05, 1.35, 1.15]  # Feb: Spring Festival
HOUR_WEIGHTS = [
    0.6, 0.35, 0.2, 0.12, 0.1, 0.12, 0.25, 0.45, 0.65, 0.85, 1.0, 1.0,
    1.05, 1.0, 0.95, 0.95, 0.95, 0.9, 0.9, 1.05, 1.3, 1.5, 1.45, 1.0,
]  # fmt: skip
CLOSED_SHARE = 0.045  # closed orders; 40% of them after payment (refunded in full)
PARTIAL_REFUND_SHARE = 0.04  # completed orders with one line refunded
ORDER_BATCH = 100_000
NUMBER_BASE = 200_000_000_000_000_000  # order numbers: the base + id (the demo exports' start with 35…)
NICK_WORDS = ["小", "爱", "猫", "购物", "甜甜", "快乐", "宝贝", "星星", "阳光", "tb", "jd", "happy", "lucky"]

ORDER_COLUMNS = [
    "id", "number", "status", "platform_status", "close_reason", "customer_id", "buyer_nick", "goods_amount",
    "shipping_amount", "total_amount", "paid_amount", "refunded_amount", "ordered_at", "paid_at", "shipped_at",
    "completed_at", "created_at", "updated_at", "channel", "shop_id", "org_unit_id", "created_by_id",
]  # fmt: skip
LINE_COLUMNS = [
    "id", "order_id", "product_id", "sku", "title", "position", "quantity", "unit_price", "amount",
    "refunded_amount", "platform_status",
]  # fmt: skip


def nick_of(customer_id: int) -> str:
    """The bench buyers' Taobao nicks: two words and the customer id, unique and never masked."""
    return f"{NICK_WORDS[customer_id % 13]}{NICK_WORDS[customer_id // 13 % 13]}{customer_id}"


class Season:
    """Order times over [start, end] (epoch seconds) following a weight per hour: month, shopping festivals,
    weekends, the hour of the day (Beijing time) and some growth. Sampled by inverting the cumulative weight."""

    def __init__(self, start: int, end: int):
        import numpy as np

        self.h0 = start // 3600
        hours = np.arange(self.h0, end // 3600 + 2)
        local = hours * 3600 + BEIJING_OFFSET
        days = local // DAY
        weights = self.day_weights(days) * np.asarray(HOUR_WEIGHTS)[(local // 3600) % 24]
        self.w = weights
        self.cum = np.concatenate([[0.0], np.cumsum(weights)])

    @staticmethod
    def day_weights(days):
        import numpy as np

        dates = days.astype("datetime64[D]")
        months = dates.astype("datetime64[M]")
        month = months.astype(int) % 12 + 1
        dom = (dates - months).astype(int) + 1
        w = np.asarray(MONTH_WEIGHTS)[month - 1] * np.where((days + 3) % 7 >= 5, 1.1, 1.0)
        w = (
            w
            * np.where((month == 6) & (dom <= 18), 1.4, 1.0)
            * np.where((month == 6) & (dom == 18), 2.2, 1.0)
        )
        w = (
            w
            * np.where((month == 11) & (dom <= 10), 1.6, 1.0)
            * np.where((month == 11) & (dom == 11), 5.0, 1.0)
        )
        w = (
            w
            * np.where((month == 12) & (dom == 12), 2.5, 1.0)
            * np.where((month == 3) & (dom == 8), 1.8, 1.0)
        )
        return w * (1 + 0.3 * (days - days[0]) / 365)

    def cdf(self, t):
        import numpy as np

        k = np.clip((t // 3600 - self.h0).astype(np.int64), 0, len(self.w) - 1)
        return self.cum[k] + (t - (self.h0 + k) * 3600) / 3600 * self.w[k]

    def sample(self, rng, lo, hi):
        import numpy as np

        low, high = self.cdf(lo), self.cdf(hi)
        c = low + rng.random(len(lo)) * (high - low)
        k = np.clip(np.searchsorted(self.cum, c, side="right") - 1, 0, len(self.w) - 1)
        t = (self.h0 + k) * 3600 + (c - self.cum[k]) / self.w[k] * 3600
        return np.clip(t, lo, hi)


def plan_orders(rng, customer_ids, orders: int, now: int):
    """Which customer buys when. Each customer starts buying at a seasonal moment over the last 4 years (a
    quarter of them before the 3 years of history, so its first months are not empty), buys until now (45%) or
    until some moment before, at a rate of their own (gamma: many buy once, a few often); the orders go to the
    customers in proportion to rate × buying span within the history. Returns (customer per order, order time),
    ordered by time."""
    import numpy as np

    n = len(customer_ids)
    start = now - SPAN_DAYS * DAY
    season = Season(start - 365 * DAY, now)
    lo = season.sample(rng, np.full(n, float(start - 365 * DAY)), np.full(n, float(now)))
    alive = rng.random(n) < 0.45
    hi = np.where(alive, float(now), lo + (now - lo) * rng.random(n) ** 1.5)
    within = np.maximum(lo, start)
    weight = rng.gamma(0.5, 1.0, n) * (np.clip(hi - within, 0, None) + 45 * DAY) * (hi >= start)
    counts = rng.poisson(orders * weight / weight.sum())
    buyers = np.flatnonzero(counts)
    first = buyers[lo[buyers] >= start]  # their first purchase is in the history: at `lo`
    repeat = np.repeat(buyers, counts[buyers] - (lo[buyers] >= start))
    times = np.concatenate([lo[first], season.sample(rng, within[repeat], hi[repeat])])
    who = np.concatenate([customer_ids[first], customer_ids[repeat]])
    order = np.argsort(times, kind="stable")
    return who[order], np.floor(times[order]).astype(np.int64)


def stamps(seconds, mask=None) -> list:
    """Epoch seconds as the UTC text both databases take ('2025-11-11 13:05:09'); None where mask is False."""
    import numpy as np

    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s").tolist()
    text = [s.replace("T", " ") for s in text]
    if mask is None:
        return text
    return [s if keep else None for s, keep in zip(text, mask.tolist(), strict=True)]


def money(fen) -> list:
    return (fen / 100).tolist()  # floats: their repr is the exact 2-decimal amount


def batch_rows(rng, ctx: dict, who, when, first_id: int, first_line_id: int):
    """Order rows and line rows for one batch of planned orders."""
    import numpy as np

    from kehu.demo.marketplace_data import CLOSED, PAID, SHIPPED, SUCCESS, UNPAID

    n, now = len(who), ctx["now"]
    ids = np.arange(first_id, first_id + n)
    closed = rng.random(n) < CLOSED_SHARE
    paid_at = when + rng.integers(30, 3600, n)
    shipped_at = paid_at + rng.integers(6 * 3600, 72 * 3600, n)
    completed_at = shipped_at + rng.integers(2 * DAY, 10 * DAY, n)
    paid = (paid_at <= now) & (~closed | (rng.random(n) < 0.4))
    status = np.select(
        [closed, paid_at > now, completed_at <= now, shipped_at <= now],
        ["closed", "unpaid", "completed", "shipped"],
        "paid",
    )
    completed, shipped = status == "completed", (status == "completed") | (status == "shipped")

    per_order = np.minimum(1 + rng.poisson(1.5, n), 8)
    starts = np.concatenate([[0], np.cumsum(per_order)[:-1]])
    n_lines = int(per_order.sum())
    product = rng.choice(len(PRODUCTS), n_lines, p=ctx["popularity"])
    quantity = rng.choice([1, 2, 3], n_lines, p=[0.72, 0.2, 0.08])
    unit_price = ctx["prices"][product]
    amount = unit_price * quantity
    goods = np.add.reduceat(amount, starts)
    shipping = np.where(goods >= 9900, 0, 1000)
    total = goods + shipping
    paid_amount = np.where(paid, total, 0)
    partial = completed & (rng.random(n) < PARTIAL_REFUND_SHARE)
    refunded = np.where(partial, amount[starts], np.where(closed & paid, paid_amount, 0))
    line_refund = np.where(np.repeat(closed & paid, per_order), amount, 0)
    line_refund[starts[partial]] = amount[starts[partial]]

    texts = {"completed": SUCCESS, "shipped": SHIPPED, "paid": PAID, "unpaid": UNPAID, "closed": CLOSED}
    platform = [texts[s] for s in status.tolist()]
    reasons = np.select([closed & paid, closed], ["退款", "买家未付款"], "").tolist()
    last_event = np.where(
        completed, completed_at, np.where(shipped, shipped_at, np.where(paid, paid_at, when))
    )
    ordered = stamps(when)
    touched = stamps(last_event)
    constant = ("taobao", ctx["shop"], ctx["unit"], ctx["admin"])
    orders = list(
        zip(
            ids.tolist(),
            [str(NUMBER_BASE + i) for i in ids.tolist()],
            status.tolist(),
            platform,
            reasons,
            who.tolist(),
            [nick_of(c) for c in who.tolist()],
            money(goods),
            money(shipping),
            money(total),
            money(paid_amount),
            money(refunded),
            ordered,
            stamps(paid_at, paid),
            stamps(shipped_at, shipped),
            stamps(completed_at, completed),
            touched,
            touched,
            *([value] * n for value in constant),
            strict=True,
        )
    )
    line_ids = np.arange(first_line_id, first_line_id + n_lines)
    position = np.arange(n_lines) - np.repeat(starts, per_order)
    lines = list(
        zip(
            line_ids.tolist(),
            np.repeat(ids, per_order).tolist(),
            ctx["product_ids"][product].tolist(),
            [PRODUCTS[p][0] for p in product.tolist()],
            [PRODUCTS[p][1] for p in product.tolist()],
            position.tolist(),
            quantity.tolist(),
            money(unit_price),
            money(amount),
            money(line_refund),
            np.repeat(np.asarray(platform), per_order).tolist(),
            strict=True,
        )
    )
    return orders, lines


class Writer:
    """Rows into a table as they come: COPY on PostgreSQL, executemany on SQLite; one transaction per batch."""

    def __init__(self, model, columns: list[str]):
        from django.db import connection

        from kehu.core.rawsql import column_defaults

        self.table, self.columns = model._meta.db_table, columns
        extra, self.defaults = column_defaults(model, columns)
        self.names = ", ".join(columns + extra)
        self.postgres = connection.vendor == "postgresql"

    def write(self, rows: list[tuple]) -> None:
        from django.db import connection

        raw, defaults = connection.connection, self.defaults
        if self.postgres:
            with raw.cursor() as cursor, cursor.copy(f"COPY {self.table} ({self.names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + defaults)
            return
        marks = ", ".join("?" * (len(self.columns) + len(defaults)))
        cursor = raw.cursor()
        try:
            cursor.executemany(
                f"INSERT INTO {self.table} ({self.names}) VALUES ({marks})", (row + defaults for row in rows)
            )
        finally:
            cursor.close()


def next_id(model) -> int:
    from django.db.models import Max

    return (model._base_manager.aggregate(m=Max("id"))["m"] or 0) + 1


def shop_and_products() -> dict:
    import numpy as np

    from kehu.sales.models import Product, Shop
    from kehu.users.models import Membership, OrgUnit, Role

    unit = (
        OrgUnit.objects.filter(name=SHOP_UNIT).order_by("pk").first()
        or OrgUnit.objects.order_by("pk").first()
    )
    shop, _created = Shop.objects.get_or_create(
        platform=Shop.Platform.TAOBAO, name=SHOP_NAME, defaults={"org_unit": unit}
    )
    for sku, title, price in PRODUCTS:
        Product.objects.get_or_create(
            sku=sku, defaults={"name": title, "list_price": price / 100, "tax_rate": 0}
        )
    ids = dict(Product.objects.filter(sku__in=[p[0] for p in PRODUCTS]).values_list("sku", "id"))
    admin = (
        Membership.objects.filter(role=Role.SYSTEM_ADMIN, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .first()
    )
    popularity = 1 / np.arange(1, len(PRODUCTS) + 1) ** 0.9
    return {
        "shop": shop.pk,
        "unit": shop.org_unit_id,
        "admin": admin,
        "product_ids": np.asarray([ids[p[0]] for p in PRODUCTS]),
        "prices": np.asarray([p[2] for p in PRODUCTS]),
        "popularity": popularity / popularity.sum(),
    }


def load_tuning(cursor, postgres: bool) -> None:
    if postgres:
        # No foreign-key trigger per row (the rows point at ids just read); session time zone UTC for the text.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")


def write_orders(ctx: dict, who, when) -> tuple[int, int]:
    """Stream the planned orders and their lines into the tables, a transaction per batch."""
    import numpy as np
    from django.db import connection, transaction

    from kehu.sales.models import Order, OrderLine

    rng = np.random.default_rng(SEED + 1)
    postgres = connection.vendor == "postgresql"
    orders_out, lines_out = Writer(Order, ORDER_COLUMNS), Writer(OrderLine, LINE_COLUMNS)
    order_id, line_id = next_id(Order), next_id(OrderLine)
    started, total_lines = time.perf_counter(), 0
    if not postgres:
        with connection.cursor() as cursor:
            cursor.execute(
                "PRAGMA cache_size = -1000000"
            )  # 1 GB: the random order_customer index stays cached
    for begin in range(0, len(who), ORDER_BATCH):
        orders, lines = batch_rows(
            rng, ctx, who[begin : begin + ORDER_BATCH], when[begin : begin + ORDER_BATCH], order_id, line_id
        )
        with transaction.atomic(), connection.cursor() as cursor:
            load_tuning(cursor, postgres)
            orders_out.write(orders)
            lines_out.write(lines)
        order_id, line_id, total_lines = (
            order_id + len(orders),
            line_id + len(lines),
            total_lines + len(lines),
        )
        elapsed = time.perf_counter() - started
        done = begin + len(orders)
        print(
            f"  {done:>10,} orders, {total_lines:>11,} lines  {elapsed:6.1f} s ({done / elapsed:,.0f} orders/s)",
            file=sys.stderr,
            flush=True,
        )
    if postgres:
        with connection.cursor() as cursor:
            for model in (Order, OrderLine):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                )
    return len(who), total_lines


def fill_identities(shop_id: int) -> int:
    """One buyer identity per (shop, nick) of the orders, so an export naming these nicks finds the customers."""
    from django.db import connection, transaction

    from kehu.sales.models import BuyerIdentity, Order

    identities, orders = BuyerIdentity._meta.db_table, Order._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {identities} (shop_id, platform, nick, customer_id, receiver_name, mobile, "
            "first_order_at, last_order_at, created_at, updated_at) "
            "SELECT shop_id, 'taobao', buyer_nick, customer_id, '', '', MIN(ordered_at), MAX(ordered_at), "
            f"MIN(ordered_at), MAX(ordered_at) FROM {orders} "
            "WHERE shop_id = %s AND buyer_nick <> '' AND customer_id IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {identities} i WHERE i.shop_id = %s AND i.nick = buyer_nick) "
            "GROUP BY shop_id, buyer_nick, customer_id",
            [shop_id, shop_id],
        )
        return cursor.rowcount


def fill_buyer_stats() -> int:
    """`sales.BuyerStats` of every customer with orders, set-based (the rules of kehu/sales/buyer_stats.py): a
    purchase is a completed order, money what was paid net of refunds, the purchase moment the payment time
    (else the order time); a paid order counts as paid, and as refunded when refunded or closed after payment."""
    from django.db import connection, transaction

    from kehu.sales.models import BuyerStats, Order

    stats, orders = BuyerStats._meta.db_table, Order._meta.db_table
    paid = "(paid_at IS NOT NULL AND status <> 'unpaid')"
    done = "status = 'completed'"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {stats}")
        cursor.execute(
            f"INSERT INTO {stats} (customer_id, order_count, total_paid, paid_orders, refund_orders, "
            "refunded_total, first_purchase_at, last_purchase_at) "
            f"SELECT customer_id, SUM(CASE WHEN {done} THEN 1 ELSE 0 END), "
            f"ROUND(COALESCE(SUM(CASE WHEN {done} THEN paid_amount - refunded_amount END), 0), 2), "
            f"SUM(CASE WHEN {paid} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {paid} AND (refunded_amount > 0 OR status = 'closed') THEN 1 ELSE 0 END), "
            f"ROUND(COALESCE(SUM(CASE WHEN {paid} THEN refunded_amount END), 0), 2), "
            f"MIN(CASE WHEN {done} THEN COALESCE(paid_at, ordered_at) END), "
            f"MAX(CASE WHEN {done} THEN COALESCE(paid_at, ordered_at) END) "
            f"FROM {orders} WHERE customer_id IS NOT NULL AND deleted_at IS NULL AND ({paid} OR {done}) "
            "GROUP BY customer_id"
        )
        return cursor.rowcount


def analyze() -> None:
    from django.db import connection

    from kehu.sales.models import BuyerIdentity, BuyerStats, Order, OrderLine

    with connection.cursor() as cursor:
        for model in (Order, OrderLine, BuyerIdentity, BuyerStats):
            verb = "VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE"
            cursor.execute(f"{verb} {model._meta.db_table}")


def generate(*, lines: int) -> dict:
    import numpy as np
    from django.utils import timezone

    from kehu.customers.models import Customer
    from kehu.sales.models import Order, Shop

    shop = Shop.objects.filter(platform=Shop.Platform.TAOBAO, name=SHOP_NAME).first()
    if shop and Order.all_objects.filter(shop=shop).exists():
        print(
            "  the bench shop has orders already; not generating (use --fresh to start over)", file=sys.stderr
        )
        return {"skipped": True}
    started = time.perf_counter()
    ctx = shop_and_products()
    ctx["now"] = now = int(timezone.now().timestamp())
    customer_ids = np.asarray(
        Customer.all_objects.filter(deleted_at__isnull=True).order_by("id").values_list("id", flat=True)
    )
    who, when = plan_orders(np.random.default_rng(SEED), customer_ids, round(lines / LINES_PER_ORDER), now)
    planned = time.perf_counter() - started
    print(
        f"  planned {len(who):,} orders for {len(np.unique(who)):,} buyers in {planned:.1f} s",
        file=sys.stderr,
    )
    orders, written_lines = write_orders(ctx, who, when)
    rows_done = time.perf_counter()
    identities = fill_identities(ctx["shop"])
    identities_done = time.perf_counter()
    stats = fill_buyer_stats()
    stats_done = time.perf_counter()
    analyze()
    finished = time.perf_counter()
    return {
        "orders": orders,
        "lines": written_lines,
        "identities": identities,
        "buyer_stats": stats,
        "seconds": round(finished - started, 1),
        "rows_seconds": round(rows_done - started, 1),
        "identities_seconds": round(identities_done - rows_done, 1),
        "stats_seconds": round(stats_done - identities_done, 1),
        "analyze_seconds": round(finished - stats_done, 1),
    }


# --- inside Django: the full recompute -------------------------------------------------------------------------


def phase(label: str, module: str, function: str, **kwargs) -> dict:
    """Time module.function(**kwargs) (wall clock and this process's CPU), or say why it is not available or
    failed (the code is being written while the benchmark runs)."""
    import importlib
    import traceback

    try:
        fn = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        return {"label": label, "status": "not available", "reason": f"{type(exc).__name__}: {exc}"}
    started, cpu = time.perf_counter(), time.process_time()
    try:
        result = fn(**kwargs)
    except Exception as exc:
        traceback.print_exc()
        return {"label": label, "status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"  {label}: {seconds:.1f} s (CPU {cpu:.1f} s)", file=sys.stderr, flush=True)
    summary = result if isinstance(result, int) else None
    return {"label": label, "seconds": round(seconds, 2), "cpu": round(cpu, 2), "result": summary}


def data_counts() -> dict:
    from kehu.customers.models import Customer
    from kehu.sales.models import BuyerStats, Order, OrderLine

    return {
        "customers": Customer.all_objects.count(),
        "buyers": BuyerStats.objects.filter(order_count__gt=0).count(),
        "orders": Order.all_objects.count(),
        "lines": OrderLine.objects.count(),
    }


def recompute() -> dict:
    from django.utils import timezone

    now = timezone.now().replace(microsecond=0)
    phases = {
        "scores": phase("scores.recompute", "kehu.analytics.scores", "recompute", now=now),
        "reports": phase("reports.rebuild", "kehu.analytics.reports", "rebuild", now=now),
        "values": phase("values.recompute", "kehu.analytics.values", "recompute", now=now),
    }
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    timed = [p for p in phases.values() if "seconds" in p]
    return {
        "now": now.isoformat(),
        "phases": phases,
        "total_seconds": round(sum(p["seconds"] for p in timed), 2),
        "total_cpu": round(sum(p["cpu"] for p in timed), 2),
        "peak_rss_mb": round(peak),
        "data": data_counts(),
    }


# --- inside Django: the DuckDB reference -----------------------------------------------------------------------


def export_csv(path: Path) -> int:
    """The completed orders of live customers (customer id, purchase moment as UTC text, paid net of refunds),
    streamed from the database cursor into a CSV file."""
    from django.db import connection

    from kehu.customers.models import Customer
    from kehu.sales.models import Order

    orders, customers = Order._meta.db_table, Customer._meta.db_table
    where = (
        f"FROM {orders} o JOIN {customers} c ON c.id = o.customer_id "
        "WHERE o.status = 'completed' AND o.deleted_at IS NULL AND c.deleted_at IS NULL"
    )
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        select = (
            "SELECT o.customer_id, (COALESCE(o.paid_at, o.ordered_at) AT TIME ZONE 'UTC'), "
            f"o.paid_amount - o.refunded_amount {where}"
        )
        with (
            path.open("wb") as out,
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv)") as copy,
        ):
            for chunk in copy:
                out.write(chunk)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) {where}")
            return cursor.fetchone()[0]
    select = (
        "SELECT o.customer_id, COALESCE(o.paid_at, o.ordered_at), "
        f"printf('%.2f', o.paid_amount - o.refunded_amount) {where}"
    )
    count = 0
    cursor = connection.connection.cursor()
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        cursor.execute(select)
        while rows := cursor.fetchmany(50_000):
            writer.writerows(rows)
            count += len(rows)
    cursor.close()
    return count


def quintile(column: str) -> str:
    return (
        f"CASE WHEN {column} >= 0.8 THEN 5 WHEN {column} >= 0.6 THEN 4 WHEN {column} >= 0.4 THEN 3 "
        f"WHEN {column} >= 0.2 THEN 2 ELSE 1 END"
    )


def duckdb_rfm(duck, parquet: Path, now_text: str) -> None:
    """RFM quintiles as kehu/analytics/scores.py computes them: whole days since the last purchase, ranked longest
    absence first; purchases; money; PERCENT_RANK of each, scored 1-5."""
    duck.execute(
        f"""
        CREATE OR REPLACE TABLE ref AS
        WITH base AS (
            SELECT customer_id AS id, COUNT(*) AS f, SUM(money) AS m,
                CAST((epoch_us(TIMESTAMP '{now_text}') - epoch_us(MAX(purchased_at))) // 86400000000 AS INTEGER) AS d
            FROM read_parquet('{parquet}') GROUP BY customer_id
        ), ranked AS (
            SELECT id, d, f, m,
                PERCENT_RANK() OVER (ORDER BY d DESC) AS pr_r,
                PERCENT_RANK() OVER (ORDER BY f) AS pr_f,
                PERCENT_RANK() OVER (ORDER BY m) AS pr_m
            FROM base
        )
        SELECT id, d, f AS frequency, m AS monetary, {quintile("pr_r")} AS r, {quintile("pr_f")} AS f,
            {quintile("pr_m")} AS m
        FROM ranked
        """
    )


def compare(duck) -> tuple[int, list[str], int]:
    """Customers whose (r, f, m) differ between DuckDB and the stored scores; what explains them."""
    from decimal import Decimal

    from kehu.analytics.models import CustomerScore

    stored = {
        row[0]: row[1:]
        for row in CustomerScore.objects.values_list(
            "customer_id", "recency_days", "frequency", "monetary", "r", "f", "m"
        ).iterator(chunk_size=50_000)
    }
    ours = {
        row[0]: row[1:]
        for row in duck.execute("SELECT id, d, frequency, monetary, r, f, m FROM ref").fetchall()
    }
    differing, inputs, examples = 0, {"recency days": 0, "purchases": 0, "money": 0}, []
    for customer_id in stored.keys() | ours.keys():
        have, want = stored.get(customer_id), ours.get(customer_id)
        if have is None or want is None:
            differing += 1
            examples.append(f"customer {customer_id}: {'only in DuckDB' if have is None else 'only stored'}")
            continue
        if have[3:] == want[3:]:
            continue
        differing += 1
        inputs["recency days"] += have[0] != want[0]
        inputs["purchases"] += have[1] != want[1]
        inputs["money"] += Decimal(have[2]).quantize(Decimal("0.01")) != want[2]
        if len(examples) < 5:
            examples.append(f"customer {customer_id}: stored (d, f, m; r, f, m) = {have}, DuckDB {want}")
    explanation = [f"of those, inputs differing: {', '.join(f'{k} {v:,}' for k, v in inputs.items())}"]
    if differing and not any(inputs.values()):
        explanation.append(
            "same inputs, other scores: a tie group split at a quintile boundary (percent ranks of equal "
            "values rounded differently)"
        )
    if inputs["recency days"]:
        explanation.append(
            "recency days differ at the day boundary: SQLite counts days as julianday differences (floating "
            "point, milliseconds), DuckDB and PostgreSQL from exact microseconds"
        )
    return differing, explanation + examples, len(ours)


def files_folder() -> Path:
    """var/bench/<database name>-files/: the CSV, Parquet and export files of this database's runs."""
    from django.db import connection

    folder = WORK / f"{Path(str(connection.settings_dict['NAME'])).stem}-files"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def reference(now_iso: str) -> dict:
    import datetime

    import duckdb

    now = datetime.datetime.fromisoformat(now_iso).astimezone(datetime.UTC).replace(tzinfo=None)
    folder = files_folder()
    csv_path, parquet = folder / "completed-orders.csv", folder / "completed-orders.parquet"
    started = time.perf_counter()
    orders = export_csv(csv_path)
    csv_seconds = time.perf_counter() - started
    duck = duckdb.connect(
        ":memory:", config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
    )
    started = time.perf_counter()
    duck.execute(
        f"COPY (SELECT customer_id, purchased_at, money FROM read_csv('{csv_path}', header = false, "
        "columns = {'customer_id': 'BIGINT', 'purchased_at': 'TIMESTAMP', 'money': 'DECIMAL(18,2)'})) "
        f"TO '{parquet}' (FORMAT parquet)"
    )
    parquet_seconds = time.perf_counter() - started
    started = time.perf_counter()
    duckdb_rfm(duck, parquet, now.strftime("%Y-%m-%d %H:%M:%S"))
    duckdb_seconds = time.perf_counter() - started
    print(f"  DuckDB RFM over Parquet: {duckdb_seconds:.2f} s", file=sys.stderr, flush=True)
    differing, explanation, customers = compare(duck)
    return {
        "orders": orders,
        "customers": customers,
        "csv_seconds": round(csv_seconds, 2),
        "csv_mb": round(csv_path.stat().st_size / 2**20, 1),
        "parquet_seconds": round(parquet_seconds, 2),
        "parquet_mb": round(parquet.stat().st_size / 2**20, 1),
        "duckdb_seconds": round(duckdb_seconds, 3),
        "duckdb_version": duckdb.__version__,
        "differing": differing,
        "explanation": explanation,
    }


# --- inside Django: the incremental refresh --------------------------------------------------------------------


def rewrite_export(source: Path, target: Path, *, nicks: dict[str, str] | None, offset: int) -> None:
    """Copy an export, moving each order number by `offset` (new orders on every run) and, in the order report,
    replacing the buyer nicks (column 2) by existing buyers' nicks."""
    with (
        source.open(encoding="gb18030", newline="") as src,
        target.open("w", encoding="gb18030", newline="") as out,
    ):
        reader, writer = csv.reader(src), csv.writer(out)
        writer.writerow(next(reader))
        for row in reader:
            row[0] = f'="{int(row[0][2:-1]) + offset}"'
            if nicks is not None:
                row[1] = nicks.get(row[1], row[1])
            writer.writerow(row)


def write_incremental(count: int) -> dict:
    """A Taobao export of `count` new orders whose buyers are existing buyers of the bench shop."""
    import datetime
    import random
    import tempfile

    from django.db.models import Max
    from django.utils import timezone

    from kehu.demo.marketplace_data import write_taobao
    from kehu.sales.models import BuyerIdentity, Order, Shop

    shop = Shop.objects.get(platform=Shop.Platform.TAOBAO, name=SHOP_NAME)
    local_now = timezone.localtime().replace(tzinfo=None, microsecond=0)
    with tempfile.TemporaryDirectory() as scratch:
        # The helper spreads the orders over the 690 days from `start`; they end before now.
        order_file, item_file = write_taobao(
            Path(scratch), count, seed=SEED, start=local_now - datetime.timedelta(days=700)
        )
        with order_file.open(encoding="gb18030", newline="") as handle:
            fresh_nicks = sorted({row[1] for row in list(csv.reader(handle))[1:]})
        known = list(BuyerIdentity.objects.filter(shop=shop).order_by("id").values_list("nick", flat=True))
        picked = random.Random(SEED).sample(known, min(len(known), len(fresh_nicks)))
        nicks = dict(zip(fresh_nicks, picked, strict=False))
        folder = files_folder()
        stamp = local_now.strftime("%Y%m%d%H%M")
        orders_out = folder / f"ExportOrderList{stamp}.csv"
        items_out = folder / f"ExportOrderDetailList{stamp}.csv"
        offset = int(time.time()) * 10**8  # numbers unique per run and apart from the generated ones
        rewrite_export(order_file, orders_out, nicks=nicks, offset=offset)
        rewrite_export(item_file, items_out, nicks=None, offset=offset)
    new = len(fresh_nicks) - len(nicks)
    note = (
        f"{len(nicks):,} existing buyers' nicks"
        if not new
        else f"{len(nicks):,} existing buyers' nicks and {new:,} new buyers (the shop has only {len(known):,})"
    )
    return {
        "orders": count,
        "order_file": str(orders_out),
        "item_file": str(items_out),
        "buyers": len(fresh_nicks),
        "existing_buyers": len(nicks),
        "new_buyers": new,
        "buyers_note": note,
        "max_order_id": Order.all_objects.aggregate(m=Max("id"))["m"] or 0,
    }


def refresh(after_order_id: int) -> dict:
    """Time scores_refresh for the customers of the orders written after `after_order_id`."""
    from django.utils import timezone

    from kehu.sales.models import Order

    customer_ids = sorted(
        set(
            Order.all_objects.filter(id__gt=after_order_id, customer__isnull=False).values_list(
                "customer_id", flat=True
            )
        )
    )
    result = phase(
        "services.scores_refresh",
        "kehu.analytics.services",
        "scores_refresh",
        customer_ids=customer_ids,
        now=timezone.now(),
    )
    return {**result, "customers": len(customer_ids)}


# --- inside Django: the pages ----------------------------------------------------------------------------------


def timed_get(client, path: str, *, samples: int) -> dict:
    import statistics

    def get() -> float:
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise LookupError(f"HTTP {response.status_code}")
        return elapsed

    try:
        first = get()
    except LookupError as exc:
        return {"status": str(exc)}
    except Exception as exc:  # a view being written may fail: report it and go on
        return {"status": f"error {type(exc).__name__}"}
    if first > SLOW_MS:
        samples, warmups = 3, 0
    else:
        warmups = 2
    for _ in range(warmups):
        get()
    times = [get() for _ in range(samples)]
    return {
        "p50": round(statistics.median(times), 1),
        "p95": round(base.percentile(times, 0.95), 1),
        "max": round(max(times), 1),
        "samples": samples,
    }


def pages(*, samples: int) -> dict:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from kehu.users.models import Membership, Role, User

    users = {}
    for who, username in USERS.items():
        role = Role.SYSTEM_ADMIN if who == "admin" else Role.MANAGER
        users[who] = User.objects.filter(username=username, is_active=True).first() or User.objects.get(
            pk=Membership.objects.filter(role=role).order_by("user_id")[0].user_id
        )
    clients = {}
    for who, user in users.items():
        clients[who] = Client(HTTP_HOST="127.0.0.1")
        clients[who].force_login(user)
    rows = []
    for name in PAGES:
        try:
            path = reverse(name)
        except NoReverseMatch:
            rows.append({"name": name, "status": "not available"})
            continue
        row = {"name": name, "path": path}
        for who, client in clients.items():
            row[who] = timed_get(client, path, samples=samples)
        rows.append(row)
        figures = ", ".join(
            f"{who} p95 {row[who]['p95']:.1f} ms" if "p95" in row[who] else f"{who} {row[who]['status']}"
            for who in clients
        )
        print(f"  {name}: {figures}", file=sys.stderr, flush=True)
    return {"samples": samples, "users": {who: user.username for who, user in users.items()}, "rows": rows}


if __name__ == "__main__":
    main()
