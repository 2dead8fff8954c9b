"""Marketing at 1M customers: segment counts, and a 100,000-recipient e-mail campaign into a local SMTP sink.

    .venv/bin/python bench/marketing.py                          # both databases, 1,000,000 customers, 100,000 recipients
    .venv/bin/python bench/marketing.py --db sqlite --customers 200000 --recipients 20000
    .venv/bin/python bench/marketing.py --skip-generate --only segments
    .venv/bin/python bench/marketing.py --skip-generate --only campaign --db postgres
    .venv/bin/python bench/marketing.py --fresh                  # drop the bench databases and generate again

Targets (product spec): a segment over 1M customers counts in <= 1 s; a 100,000-recipient e-mail campaign renders
and hands every message to the SMTP server in <= 120 s with constant memory.

For each database (var/bench/kehu_bench_marketing.sqlite3, kehu_bench_marketing on the local PostgreSQL) it
1. migrates, loads the regions and generates the customers as bench/run.py does (`kehu seed_demo --bulk N`);
2. adds synthetic purchase statistics (`sales.BuyerStats`) and standings (`analytics.CustomerScore`) when the tables
   are empty, so the rules over the `segment.fields` of sales and analytics select something;
3. times `marketing.selectors.count` and `POST /api/v1/segments/count` for several rule trees, as the system admin
   and as a sales rep;
4. tags `--recipients` customers that have an e-mail address (and, separately, the first 10,000 of them), grants
   them e-mail consent, and for each audience size in a fresh process: creates a segment "has the tag", a template
   and a campaign as the system admin (`campaign_create`, `campaign_launch`), then runs the job
   (`campaigns.run_process`: `run_prepare`, then `delivery.send_pending`) against an aiosmtpd sink in another
   process, with KEHU_MAIL_RATE=0 (no throttle). Times prepare and send, counts the queries, reads the peak RSS
   of the process and the messages the sink received.

Results also go to bench/results/marketing-<database>.json. Never part of the test suite.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import run as base  # noqa: E402 - bench/run.py: prepare(), setup_django(), percentile()

RESULTS = ROOT / "bench" / "results"
DATABASES = {
    "sqlite": f"sqlite:///{ROOT / 'var' / 'bench' / 'kehu_bench_marketing.sqlite3'}",
    "postgres": "postgres://postgres@127.0.0.1:5432/kehu_bench_marketing",
}
SEGMENT_TARGET_MS = 1000.0
CAMPAIGN_TARGET_S = 120.0
SMALL_AUDIENCE = 10_000
TAG_PREFIX = "营销基准"
CAMPAIGN_PREFIX = "bench: "


# --- orchestration (no Django in this process) ----------------------------------------------------------------


def child(url: str, *args: str, env: dict | None = None) -> dict:
    """Run this script again for one database; its last line is `@@RESULTS@@<json>`."""
    done = subprocess.run(  # noqa: S603 - this script, run again for one database
        [sys.executable, str(Path(__file__).resolve()), *args],
        env={**os.environ, **(env or {}), "DATABASE_URL": url},
        check=True,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    head, _, payload = done.stdout.partition("@@RESULTS@@")
    if head.strip():
        print(head.rstrip(), flush=True)
    return json.loads(payload) if payload.strip() else {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink() -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    stats = Path(tempfile.mkdtemp()) / "sink.json"
    proc = subprocess.Popen(  # noqa: S603 - this script as the SMTP sink
        [sys.executable, str(Path(__file__).resolve()), "--sink", str(port), "--sink-file", str(stats)],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port, stats
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the SMTP sink did not start")


def stop_sink(proc: subprocess.Popen, stats: Path) -> dict:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    return json.loads(stats.read_text())


def campaign(db: str, url: str, sizes: list[int], *, profile: bool = False) -> list[dict]:
    print(f"[{db}] campaign: tagging {max(sizes):,} recipients, granting consent", flush=True)
    setup = child(url, "--campaign-setup", ",".join(str(n) for n in sizes))
    runs = []
    for size in sizes:
        proc, port, stats = start_sink()
        try:
            env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port), "KEHU_MAIL_RATE": "0"}
            print(
                f"[{db}] campaign to {size:,} recipients (sink on port {port}, KEHU_MAIL_RATE=0)", flush=True
            )
            extra = ["--profile"] if profile else []
            result = child(url, "--campaign-run", str(size), *extra, env=env)
        finally:
            sink = stop_sink(proc, stats)
        result["sink_received"] = sink["messages"]
        result["sink_bytes"] = sink["bytes"]
        result["setup"] = setup.get(str(size), {})
        print(
            f"  {size:,}: prepare {result['prepare_s']:.1f} s, send {result['send_s']:.1f} s, "
            f"queued {result['queued']:,}, sink received {sink['messages']:,}, "
            f"peak RSS {result['rss_peak_mb']:.0f} MB",
            flush=True,
        )
        runs.append(result)
    if runs:
        size = runs[-1]["sink_bytes"] // max(1, runs[-1]["sink_received"])
        runs[-1]["sink_ceiling"] = sink_ceiling(size)
        print(
            f"  the sink alone (smtplib, one connection, {size:,}-byte messages): "
            f"{runs[-1]['sink_ceiling']['per_s']:,.0f} messages/s",
            flush=True,
        )
    return runs


def sink_ceiling(size: int, count: int = 5000) -> dict:
    """How fast the sink takes ready-made messages of `size` bytes over one connection (the bound it puts on the
    campaign's send figure)."""
    import smtplib

    body = ("Subject: x\r\n\r\n" + "x" * 76 + "\r\n") * max(1, size // 78)
    proc, port, stats = start_sink()
    try:
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for _ in range(count):
                smtp.sendmail("bench@localhost", ["sink@localhost"], body)
        seconds = time.perf_counter() - started
    finally:
        stop_sink(proc, stats)
    return {
        "messages": count,
        "bytes": len(body),
        "seconds": round(seconds, 2),
        "per_s": round(count / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--recipients", type=int, default=100_000, help="the campaign's audience")
    parser.add_argument("--samples", type=int, default=10, help="timed counts per rule tree and user")
    parser.add_argument("--fresh", action="store_true", help="drop the bench database and generate again")
    parser.add_argument("--skip-generate", action="store_true", help="measure whatever the database holds")
    parser.add_argument("--only", choices=["segments", "campaign"], help="one half of the benchmark")
    parser.add_argument("--explain", action="store_true", help="print the query plan of each segment count")
    parser.add_argument("--profile", action="store_true", help="cProfile the campaign job (top 30 lines)")
    parser.add_argument("--sqlite-url", default=DATABASES["sqlite"])
    parser.add_argument("--postgres-url", default=DATABASES["postgres"])
    # Internal steps, one database per process.
    parser.add_argument("--fill", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--segments", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--campaign-setup", help=argparse.SUPPRESS)
    parser.add_argument("--campaign-run", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sink-file", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.sink:
        sink(args.sink, Path(args.sink_file))
        return
    if args.fill or args.segments or args.campaign_setup or args.campaign_run:
        base.setup_django()
        if args.fill:
            result = fill()
        elif args.segments:
            result = measure_segments(samples=args.samples, explain=args.explain)
        elif args.campaign_setup:
            result = campaign_setup([int(n) for n in args.campaign_setup.split(",")])
        else:
            result = campaign_run(args.campaign_run, profile=args.profile)
        print("@@RESULTS@@" + json.dumps(result, ensure_ascii=False, default=str))
        return

    RESULTS.mkdir(parents=True, exist_ok=True)
    DATABASES.update(sqlite=args.sqlite_url, postgres=args.postgres_url)
    base.DATABASES.update(DATABASES)  # bench/run.py's prepare() reads its own table
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    sizes = sorted({min(SMALL_AUDIENCE, args.recipients), args.recipients})
    all_results = {}
    for db in dbs:
        url = DATABASES[db]
        result = {"database": db, "date": time.strftime("%Y-%m-%d %H:%M")}
        if not args.skip_generate:
            started = time.perf_counter()
            base.prepare(db, customers=args.customers, fresh=args.fresh)
            result["prepare_s"] = round(time.perf_counter() - started, 1)
        if args.only != "campaign":
            print(f"[{db}] purchase statistics and standings", flush=True)
            result["fill"] = child(url, "--fill")
            print(f"[{db}] segment counts ({args.samples} samples each)", flush=True)
            extra = ["--samples", str(args.samples)] + (["--explain"] if args.explain else [])
            result["segments"] = child(url, "--segments", *extra)
        if args.only != "segments":
            result["campaign"] = campaign(db, url, sizes, profile=args.profile)
        all_results[db] = result
        (RESULTS / f"marketing-{db}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print_tables(all_results)


def print_tables(all_results: dict) -> None:
    for db, result in all_results.items():
        seg = result.get("segments")
        if seg:
            meta = seg["meta"]
            print(
                f"\n## {db}: segment counts, {meta['customers']:,} customers (rep {meta['rep']} sees "
                f"{meta['rep_visible']:,}); p50 / p95 ms over {meta['samples']} samples (CPU ms p50 of the process)\n"
            )
            print("| rule tree | via | admin p50 / p95 | admin count | rep p50 / p95 | rep count |")
            print("|---|---|---|---|---|---|")
            for row in seg["rows"]:
                cells = []
                for who in ("admin", "rep"):
                    f = row[who]
                    flag = " !" if f["p95"] > SEGMENT_TARGET_MS else ""
                    few = f" (n={f['samples']})" if f["samples"] < meta["samples"] else ""
                    cpu = f" (CPU {f['cpu_p50']:,.0f})" if "cpu_p50" in f else ""
                    cells += [f"{f['p50']:,.0f} / {f['p95']:,.0f}{flag}{few}{cpu}", f"{f['count']:,}"]
                print(f"| {row['label']} | {row['via']} | {' | '.join(cells)} |")
        for run in result.get("campaign", []):
            if run is result["campaign"][0]:
                print(f"\n## {db}: e-mail campaign into the SMTP sink (KEHU_MAIL_RATE=0)\n")
                print(
                    "| recipients | launch s | prepare s | send s | total s | queued | sink received "
                    "| msgs/s | queries/batch prepare, send | peak RSS MB (start, after prepare, after send) |"
                )
                print("|---|---|---|---|---|---|---|---|---|---|")
            total = run["prepare_s"] + run["send_s"]
            flag = " !" if total > CAMPAIGN_TARGET_S * run["audience"] / 100_000 else ""
            print(
                f"| {run['audience']:,} | {run['launch_s']:.2f} | {run['prepare_s']:.1f} ({run['prepare_cpu_s']:.1f}) "
                f"| {run['send_s']:.1f} ({run['send_cpu_s']:.1f}) "
                f"| {total:.1f}{flag} | {run['queued']:,} | {run['sink_received']:,} "
                f"| {run['queued'] / run['send_s'] if run['send_s'] else 0:,.0f} "
                f"| {run['queries_per_batch_prepare']:.1f}, {run['queries_per_batch_send']:.1f} "
                f"| {run['rss_start_mb']:.0f}, {run['rss_after_prepare_mb']:.0f}, {run['rss_peak_mb']:.0f} |"
            )
            if "anon_end_mb" in run:
                print(
                    f"|  | RssAnon MB (start, after prepare, end): {run['anon_start_mb']:.0f}, "
                    f"{run['anon_after_prepare_mb']:.0f}, {run['anon_end_mb']:.0f} |"
                )
            if "sink_ceiling" in run:
                c = run["sink_ceiling"]
                print(
                    f"\nthe sink alone: {c['per_s']:,} messages/s ({c['messages']:,} of {c['bytes']:,} bytes, smtplib)"
                )
    print(
        f"\n! = over the target ({SEGMENT_TARGET_MS:.0f} ms p95 per count; {CAMPAIGN_TARGET_S:.0f} s per 100,000)"
    )


# --- the SMTP sink ---------------------------------------------------------------------------------------------


def sink(port: int, stats: Path) -> None:
    """Accept every message, keep nothing but the count and the bytes."""
    import threading

    from aiosmtpd.controller import Controller

    counts = {"messages": 0, "bytes": 0, "recipients": 0}

    class Counter:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            counts["messages"] += 1
            counts["recipients"] += len(envelope.rcpt_tos)
            counts["bytes"] += len(envelope.content or b"")
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    controller.stop()
    stats.write_text(json.dumps(counts))


# --- inside Django --------------------------------------------------------------------------------------------


def users():
    from kehu.users.models import Membership, Role, User

    admin = (
        User.objects.filter(is_active=True, memberships__role=Role.SYSTEM_ADMIN).order_by("id").first()
        or User.objects.filter(is_superuser=True).order_by("id").first()
    )
    rep_id = (
        Membership.objects.filter(role=Role.SALES_REP, user__is_active=True).order_by("user_id")[0].user_id
    )
    return {"admin": admin, "rep": User.objects.get(pk=rep_id)}


class Writer:
    """Rows into a table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, table: str, columns: list[str]):
        from django.db import connection

        self.table, self.columns = table, columns
        self.postgres = connection.vendor == "postgresql"

    def write(self, rows: list[tuple]) -> None:
        from django.db import connection

        connection.ensure_connection()
        raw = connection.connection
        names = ", ".join(self.columns)
        if self.postgres:
            with raw.cursor() as cursor, cursor.copy(f"COPY {self.table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        cursor = raw.cursor()
        try:
            marks = ", ".join("?" * len(self.columns))
            cursor.executemany(f"INSERT INTO {self.table} ({names}) VALUES ({marks})", rows)
        finally:
            cursor.close()


def fill() -> dict:
    """Synthetic purchase statistics and standings for ~56% of the customers, when there are none: the rules over
    sales' and analytics' segment fields then select realistic shares (values drawn per customer, not computed
    from orders: the segment count only reads these tables)."""
    import datetime
    import random
    from decimal import Decimal

    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.analytics.models import CustomerClass, CustomerScore, Lifecycle, RfmClass, RfmGroup
    from kehu.customers.models import Customer
    from kehu.sales.models import BuyerStats

    out = {
        "buyer_stats": BuyerStats.objects.count(),
        "scores": CustomerScore.objects.count(),
        "filled": False,
    }
    if out["buyer_stats"] and out["scores"]:
        return out
    started = time.perf_counter()
    rng = random.Random(20261125)
    now = timezone.now().replace(microsecond=0)
    stats = Writer(
        BuyerStats._meta.db_table,
        [
            "customer_id",
            "order_count",
            "total_paid",
            "paid_orders",
            "refund_orders",
            "refunded_total",
            "first_purchase_at",
            "last_purchase_at",
        ],
    )
    scores = Writer(
        CustomerScore._meta.db_table,
        [
            "customer_id",
            "computed_at",
            "recency_days",
            "frequency",
            "monetary",
            "r",
            "f",
            "m",
            "rfm_class",
            "rfm_group",
            "abc",
            "lifecycle",
            "customer_class",
            "first_purchase_at",
        ],
    )
    classes, groups = RfmClass.values, RfmGroup.values
    lifecycles, kinds = Lifecycle.values, [c for c in CustomerClass.values if c != CustomerClass.POTENTIAL]
    ids = Customer.all_objects.order_by("pk").values_list("pk", flat=True)
    batch_s, batch_c, rows = [], [], 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        for pk in ids.iterator(chunk_size=20_000):
            if rng.random() >= 0.56:
                continue
            orders = max(1, int(rng.expovariate(1 / 3.0)) + 1)
            paid = Decimal(int(rng.lognormvariate(5.8, 1.1) * orders * 100)) / 100
            last = now - datetime.timedelta(days=rng.randint(0, 900), seconds=rng.randint(0, 86_399))
            first = last - datetime.timedelta(days=rng.randint(0, 700) if orders > 1 else 0)
            refunds = sum(rng.random() < 0.06 for _ in range(orders))
            batch_s.append((pk, orders, paid, orders, refunds, Decimal(0), first, last))
            r, f, m = rng.randint(1, 5), min(5, orders), rng.randint(1, 5)
            batch_c.append(
                (
                    pk,
                    now,
                    (now - last).days,
                    orders,
                    paid,
                    r,
                    f,
                    m,
                    rng.choice(classes),
                    rng.choice(groups),
                    rng.choice("AABBBCCCCC"),
                    rng.choice(lifecycles),
                    rng.choice(kinds),
                    first,
                )
            )
            if len(batch_s) >= 20_000:
                if not out["buyer_stats"]:
                    stats.write(batch_s)
                if not out["scores"]:
                    scores.write(batch_c)
                rows += len(batch_s)
                batch_s, batch_c = [], []
        if batch_s:
            if not out["buyer_stats"]:
                stats.write(batch_s)
            if not out["scores"]:
                scores.write(batch_c)
            rows += len(batch_s)
    with connection.cursor() as cursor:
        for model in (BuyerStats, CustomerScore):
            verb = "VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE"
            cursor.execute(f"{verb} {model._meta.db_table}")
    out.update(filled=True, rows=rows, seconds=round(time.perf_counter() - started, 1))
    print(f"  {rows:,} synthetic BuyerStats / CustomerScore rows in {out['seconds']} s", file=sys.stderr)
    return out


def timed(fn, *, samples: int) -> dict:
    started = time.perf_counter()
    value = fn()  # warm-up
    if (time.perf_counter() - started) * 1000 > 5 * SEGMENT_TARGET_MS:
        samples = 3
    times, cpu = [], []
    for _ in range(samples):
        started, cpu_started = time.perf_counter(), time.process_time()
        value = fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return {
        "cpu_p50": round(statistics.median(cpu), 1),  # this process: the SQL too on SQLite, not on PostgreSQL
        "p50": round(statistics.median(times), 1),
        "p95": round(base.percentile(times, 0.95), 1),
        "max": round(max(times), 1),
        "samples": samples,
        "count": value,
    }


def rule_trees(fields: dict) -> list[tuple[str, str, dict]]:
    """(name, label, rules) for the rule trees whose fields the catalogue has."""
    from kehu.core.models import Region
    from kehu.customers.models import Tag
    from kehu.demo import data

    zhejiang = Region.objects.filter(level=1, name__startswith="浙江").values_list("pk", flat=True).first()
    jiangsu = Region.objects.filter(level=1, name__startswith="江苏").values_list("pk", flat=True).first()
    names = [n for n in data.TAGS if Tag.objects.filter(name=n).exists()]
    tag = (
        Tag.objects.get(name=names[0]) if names else Tag.objects.exclude(name__startswith=TAG_PREFIX).first()
    )
    other = Tag.objects.get(name=names[1]) if len(names) > 1 else tag

    def cond(field, op, value=None):
        return {"field": field, "op": op} | ({} if value is None else {"value": value})

    trees = [
        (
            "level_province",
            "level in (A, B) and province = 浙江",
            {"match": "all", "rules": [cond("level", "in", ["a", "b"]), cond("province", "in", [zhejiang])]},
        ),
        (
            "tag",
            f"tags has any of “{tag.name}”",
            {"match": "all", "rules": [cond("tags", "has_any", [tag.pk])]},
        ),
        (
            "created_90",
            "created in the last 90 days",
            {"match": "all", "rules": [cond("created_at", "within_days", 90)]},
        ),
        (
            "paid_recent",
            "total paid > 1000 and last purchase in the last 180 days",
            {
                "match": "all",
                "rules": [cond("total_paid", "gt", 1000), cond("last_purchase_at", "within_days", 180)],
            },
        ),
        (
            "rfm",
            "RFM class important value or important to keep",
            {"match": "all", "rules": [cond("rfm_class", "in", ["important_value", "important_keep"])]},
        ),
        (
            "nested",
            "active and (key account or tag) and (浙江/江苏 or created in 365 days)",
            {
                "match": "all",
                "rules": [
                    cond("status", "in", ["active"]),
                    {
                        "match": "any",
                        "rules": [cond("level", "in", ["key"]), cond("tags", "has_any", [other.pk])],
                    },
                    {
                        "match": "any",
                        "rules": [
                            cond("province", "in", [zhejiang, jiangsu]),
                            cond("created_at", "within_days", 365),
                        ],
                    },
                ],
            },
        ),
        (
            "negated",
            "no tag “" + tag.name + "”, no follow-up in 30 days, not purchased in 365 days",
            {
                "match": "all",
                "rules": [
                    cond("tags", "has_none", [tag.pk]),
                    cond("last_followup_at", "not_within_days", 30),
                    cond("last_purchase_at", "not_within_days", 365),
                ],
            },
        ),
    ]

    def usable(node) -> bool:
        if "rules" in node:
            return all(usable(child) for child in node["rules"])
        field = fields.get(node["field"])
        return field is not None and node["op"] in field["ops"]

    return [tree for tree in trees if usable(tree[2])]


def measure_segments(*, samples: int, explain: bool) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from kehu.analytics.models import CustomerScore
    from kehu.customers import selectors as customer_selectors
    from kehu.customers.models import Customer
    from kehu.marketing import selectors
    from kehu.sales.models import BuyerStats
    from kehu.users.services import api_token_create

    settings.DEBUG = False
    people = users()
    api = Client(HTTP_HOST="127.0.0.1")
    headers = {}
    for who, user in people.items():
        _token, secret = api_token_create(actor=user, name="bench")
        headers[who] = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = api.get("/api/v1/segments/fields", **headers["admin"])
    assert response.status_code == 200, response.status_code
    fields = {f["key"]: f for f in response.json()}
    print(
        "  GET /api/v1/segments/fields: " + ", ".join(f"{k} ({f['type']})" for k, f in fields.items()),
        file=sys.stderr,
    )
    now = timezone.now()

    rows = []
    for name, label, rules in rule_trees(fields):
        for via in ("selectors.count", "POST /api/v1/segments/count"):
            row = {"name": name, "label": label, "via": via, "rules": rules}
            for who, user in people.items():
                if via == "selectors.count":

                    def fn(user=user, rules=rules):
                        return selectors.count(actor=user, rules=rules, now=now)
                else:

                    def fn(who=who, rules=rules):
                        response = api.post(
                            "/api/v1/segments/count",
                            data=json.dumps({"rules": rules}),
                            content_type="application/json",
                            **headers[who],
                        )
                        assert response.status_code == 200, (response.status_code, response.content[:300])
                        return response.json()["count"]

                with CaptureQueriesContext(connection) as queries:
                    fn()
                row[who] = timed(fn, samples=samples)
                row[who]["queries"] = len(queries.captured_queries)
                if explain and via == "selectors.count":
                    print(f"\n### {name} as {who}", flush=True)
                    for query in queries.captured_queries:
                        base.explain_query(connection, query["sql"])
            rows.append(row)
            print(
                f"  {label} via {via}: admin p95 {row['admin']['p95']:.1f} ms ({row['admin']['count']:,}), "
                f"rep p95 {row['rep']['p95']:.1f} ms ({row['rep']['count']:,})",
                file=sys.stderr,
                flush=True,
            )
    meta = {
        "database": connection.vendor,
        "customers": Customer.all_objects.count(),
        "buyer_stats": BuyerStats.objects.count(),
        "scores": CustomerScore.objects.count(),
        "rep": people["rep"].username,
        "rep_visible": customer_selectors.customer_scope(people["rep"]).count(),
        "samples": samples,
        "fields": sorted(fields),
    }
    return {"meta": meta, "rows": rows}


# --- the campaign ---------------------------------------------------------------------------------------------


def campaign_setup(sizes: list[int]) -> dict:
    """Tag `size` customers with an e-mail address (spread over the table) for each size, the smaller sets inside
    the larger; grant them e-mail consent; forget the messages of earlier bench campaigns (the frequency cap)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.customers.models import Customer, Tag
    from kehu.marketing.models import Channel, Consent, Message

    started = time.perf_counter()
    with transaction.atomic():
        gone = Message.objects.filter(campaign__name__startswith=CAMPAIGN_PREFIX)._raw_delete(
            connection.alias
        )
    through = Customer.tags.through
    largest = max(sizes)
    emailed = Customer.objects.exclude(email="").order_by("pk").values_list("pk", flat=True)
    total = emailed.count()
    if total < largest:
        raise SystemExit(f"only {total:,} customers have an e-mail address; ask for fewer --recipients")
    step = total / largest
    out = {}
    chosen: list[int] | None = None
    for size in sorted(sizes, reverse=True):
        tag, _created = Tag.objects.get_or_create(name=f"{TAG_PREFIX}{size}")
        have = through.objects.filter(tag=tag).count()
        if have != size:
            if chosen is None:
                wanted = {int(i * step) for i in range(largest)}
                chosen = [pk for n, pk in enumerate(emailed.iterator(chunk_size=20_000)) if n in wanted]
            members = chosen[:: max(1, largest // size)][:size]
            with transaction.atomic():
                through.objects.filter(tag=tag).delete()
                for i in range(0, len(members), 5000):
                    through.objects.bulk_create(
                        [through(customer_id=pk, tag_id=tag.pk) for pk in members[i : i + 5000]]
                    )
        ids = list(through.objects.filter(tag=tag).values_list("customer_id", flat=True))
        tagged = through.objects.filter(tag=tag).values("customer_id")
        have_consent = set(
            Consent.objects.filter(customer_id__in=tagged, channel=Channel.EMAIL).values_list(
                "customer_id", flat=True
            )
        )
        now = timezone.now()
        missing = [pk for pk in ids if pk not in have_consent]
        with transaction.atomic():
            for i in range(0, len(missing), 5000):
                Consent.objects.bulk_create(
                    [
                        Consent(
                            customer_id=pk,
                            channel=Channel.EMAIL,
                            status=Consent.Status.GRANTED,
                            source="bench/marketing.py",
                            at=now,
                        )
                        for pk in missing[i : i + 5000]
                    ]
                )
        out[str(size)] = {"tag": tag.name, "tagged": len(ids), "consents_added": len(missing)}
    with connection.cursor() as cursor:
        verb = "ANALYZE" if connection.vendor == "sqlite" else "VACUUM (ANALYZE)"
        for model in (through, Consent, Message):
            cursor.execute(f"{verb} {model._meta.db_table}")
    out["messages_deleted"] = gone
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def rss_mb() -> float:
    """Peak RSS of this process (on SQLite it includes the database pages: cache_size 64 MB, mmap 256 MB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def anon_mb() -> float:
    """The process's own memory now (RssAnon: heap, not mapped database pages)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return 0.0


def campaign_run(size: int, *, profile: bool) -> dict:
    """One campaign to the customers tagged for `size`, run the way the worker runs it, in this process."""
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from kehu.customers.models import Tag
    from kehu.marketing import campaigns, delivery, messaging, rules, services
    from kehu.marketing.models import CampaignRun, Channel, Message

    settings.DEBUG = False
    assert settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"), settings.EMAIL_BACKEND
    assert settings.KEHU["MAIL_RATE"] == 0, settings.KEHU["MAIL_RATE"]
    admin = users()["admin"]
    now = timezone.now()
    quiet = rules.in_quiet_hours(now)
    if quiet:  # the bench measures sending, not waiting for the morning
        settings.KEHU["QUIET_HOURS"] = "00:00-00:00"
    tag = Tag.objects.get(name=f"{TAG_PREFIX}{size}")
    stamp = time.strftime("%H%M%S")
    segment = services.segment_create(
        actor=admin,
        data={
            "name": f"{CAMPAIGN_PREFIX}{size} {stamp}",
            "rules": {"match": "all", "rules": [{"field": "tags", "op": "has_any", "value": [tag.pk]}]},
        },
    )
    template = messaging.template_create(
        actor=admin,
        data={
            "name": f"{CAMPAIGN_PREFIX}{stamp}",
            "channel": Channel.EMAIL,
            "subject_zh": "{{name}}，双十二会员专享礼遇",
            "body_zh": (
                "尊敬的{{name}}：\n\n感谢您一直以来的支持！您当前的会员等级是{{tier}}，积分{{points}}。"
                "您上次购买的是{{last_product}}，我们为您准备了新品推荐。\n\n"
                "查看活动：https://shop.example.com/sale/1212?from=mail\n\n"
                "门店地址与营业时间：https://shop.example.com/stores\n\n祝您生活愉快！"
            ),
        },
    )
    campaign = campaigns.campaign_create(
        actor=admin,
        data={
            "name": f"{CAMPAIGN_PREFIX}{size} {stamp}",
            "channel": Channel.EMAIL,
            "template": template.pk,
            "segments": [segment.pk],
            "schedule": "now",
        },
    )
    started = time.perf_counter()
    campaigns.campaign_launch(actor=admin, campaign=campaign, now=now)
    launch_s = time.perf_counter() - started
    run = CampaignRun.objects.get(campaign=campaign)

    queries = {"n": 0}

    def count_queries(execute, sql, params, many, context):
        queries["n"] += 1
        return execute(sql, params, many, context)

    phases = {}
    real_prepare, real_send = campaigns.run_prepare, delivery.send_pending

    def prepare(*a, **kw):
        q0, t0, c0 = queries["n"], time.perf_counter(), time.process_time()
        result = real_prepare(*a, **kw)
        phases.update(
            prepare_s=time.perf_counter() - t0,
            prepare_cpu_s=time.process_time() - c0,
            prepare_queries=queries["n"] - q0,
        )
        phases["rss_after_prepare_mb"] = rss_mb()
        phases["anon_after_prepare_mb"] = anon_mb()
        return result

    def send(*a, **kw):
        q0, t0, c0 = queries["n"], time.perf_counter(), time.process_time()
        result = real_send(*a, **kw)
        phases.update(
            send_s=time.perf_counter() - t0,
            send_cpu_s=time.process_time() - c0,
            send_queries=queries["n"] - q0,
            sent=result,
        )
        return result

    campaigns.run_prepare, delivery.send_pending = prepare, send
    rss_start, anon_start = rss_mb(), anon_mb()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    try:
        with connection.execute_wrapper(count_queries):
            outcome = campaigns.run_process(run_id=run.pk, now=now)
    finally:
        campaigns.run_prepare, delivery.send_pending = real_prepare, real_send
    total_s = time.perf_counter() - started
    if profiler:
        import io
        import pstats

        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
        print(text.getvalue())
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        print(text.getvalue())
    statuses = dict(
        Message.objects.filter(run=run).values_list("status").annotate(n=Count("id")).order_by("status")
    )
    batches = max(1, -(-size // delivery.BATCH))
    return {
        "audience": size,
        "outcome": outcome,
        "quiet_hours_lifted": quiet,
        "launch_s": round(launch_s, 2),
        "prepare_s": round(phases.get("prepare_s", 0), 2),
        "send_s": round(phases.get("send_s", 0), 2),
        "prepare_cpu_s": round(phases.get("prepare_cpu_s", 0), 2),
        "send_cpu_s": round(phases.get("send_cpu_s", 0), 2),
        "total_s": round(total_s, 2),
        "queued": sum(statuses.values()) - statuses.get(Message.Status.SUPPRESSED, 0),
        "sent": phases.get("sent", 0),
        "statuses": statuses,
        "prepare_queries": phases.get("prepare_queries", 0),
        "send_queries": phases.get("send_queries", 0),
        "queries_per_batch_prepare": phases.get("prepare_queries", 0) / batches,
        "queries_per_batch_send": phases.get("send_queries", 0) / batches,
        "batch": delivery.BATCH,
        "rss_start_mb": round(rss_start, 1),
        "rss_after_prepare_mb": round(phases.get("rss_after_prepare_mb", 0), 1),
        "rss_peak_mb": round(rss_mb(), 1),
        "anon_start_mb": round(anon_start, 1),
        "anon_after_prepare_mb": round(phases.get("anon_after_prepare_mb", 0), 1),
        "anon_end_mb": round(anon_mb(), 1),
    }


if __name__ == "__main__":
    main()
