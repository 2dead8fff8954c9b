"""Kanban board, forecast and receivables latency at 200k opportunities and 2M payment instalments.

    .venv/bin/python bench/sales.py                                   # both databases, full scale, 30 samples
    .venv/bin/python bench/sales.py --db sqlite --opportunities 5000 --instalments 50000
    .venv/bin/python bench/sales.py --fresh                           # drop the bench databases and start over
    .venv/bin/python bench/sales.py --explain                         # also print the slowest request's plans

Target (product requirement): board and forecast answer in ≤ 100 ms p95 on SQLite and PostgreSQL.

For each database it migrates a throwaway database (var/bench/kehu_sales_bench.sqlite3, and kehu_sales_bench on
the local PostgreSQL server), loads the regions and generates the demo org with ~20k customers through
bench/run.py's `prepare()` (`kehu seed_demo --bulk`), then adds opportunities on the default pipeline, active
contracts with 10 payment instalments each, a receipt per instalment that has received money and monthly USD
exchange rates — set-based (PostgreSQL COPY / SQLite executemany) in one transaction with the secondary
indexes dropped and rebuilt, then ANALYZE. Generation is skipped when the database already holds enough rows.
Each request is timed in-process with django.test.Client as the system admin, a regional manager and a sales
rep (pages with a session, the API with a token). A URL that answers 404 (not written yet) is reported as
"missing". Prints a table and writes bench/results/sales-<database>.json. Never part of the test suite.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as base  # bench/run.py: prepare(), timed(), explain_query(), setup_django()

ROOT = base.ROOT
RESULTS = base.RESULTS
DATABASES = {
    "sqlite": f"sqlite:///{ROOT / 'var' / 'bench' / 'kehu_sales_bench.sqlite3'}",
    "postgres": "postgres://postgres@127.0.0.1:5432/kehu_sales_bench",
}
TARGET_MS = 100.0
CUSTOMERS = 20_000
PER_CONTRACT = 10
USERS = {"admin": "admin", "manager": "manager_east", "rep": "rep_sh1"}  # demo org usernames
SEED = 2026


# --- orchestration (no Django in this process) ----------------------------------------------------------------


def run_child(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(  # noqa: S603 - this script, run again for one database
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    return done.stdout


def payload(out: str) -> dict:
    head, _, data = out.partition("@@RESULTS@@")
    if head.strip():
        print(head.rstrip(), flush=True)
    return json.loads(data)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--opportunities", type=int, default=200_000)
    parser.add_argument("--instalments", type=int, default=2_000_000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--fresh", action="store_true", help="drop the bench database and generate again")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the query plans of the slowest request (and of the queries over 5 ms of every request over target)",
    )
    parser.add_argument("--only", default="", help="comma-separated measurement names to run")
    parser.add_argument(
        "--sqlite-url", default=DATABASES["sqlite"], help="DATABASE_URL of the SQLite bench db"
    )
    parser.add_argument(
        "--postgres-url", default=DATABASES["postgres"], help="DATABASE_URL of the PostgreSQL one"
    )
    # Internal: the steps that run inside Django, one database per process.
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.generate or args.measure:
        base.setup_django()
        if args.generate:
            result = generate(opportunities=args.opportunities, instalments=args.instalments)
        else:
            only = {n for n in args.only.split(",") if n}
            result = measure(samples=args.samples, explain=args.explain, only=only)
        print("@@RESULTS@@" + json.dumps(result, ensure_ascii=False))
        return

    RESULTS.mkdir(parents=True, exist_ok=True)
    DATABASES.update(sqlite=args.sqlite_url, postgres=args.postgres_url)
    base.DATABASES.update(DATABASES)  # prepare() creates, migrates and seeds the database named there
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    all_results = {}
    for db in dbs:
        url = DATABASES[db]
        started = time.perf_counter()
        base.prepare(db, customers=CUSTOMERS, fresh=args.fresh)
        prepared = time.perf_counter() - started
        print(
            f"[{db}] sales data: {args.opportunities:,} opportunities, {args.instalments:,} instalments",
            flush=True,
        )
        generated = payload(
            run_child(
                url,
                "--generate",
                "--opportunities",
                str(args.opportunities),
                "--instalments",
                str(args.instalments),
            )
        )
        print(f"[{db}] measuring ({args.samples} samples per figure)", flush=True)
        extra = ["--samples", str(args.samples)] + (["--explain"] if args.explain else [])
        extra += ["--only", args.only] if args.only else []
        results = payload(run_child(url, "--measure", *extra))
        results["meta"]["generation"] = {"prepare_seconds": round(prepared, 1), **generated}
        all_results[db] = results
        (RESULTS / f"sales-{db}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print_table(all_results)


def print_table(all_results: dict) -> None:
    for db, results in all_results.items():
        meta = results["meta"]
        print()
        print(
            f"## {db}: {meta['opportunities']:,} opportunities, {meta['contracts']:,} contracts, "
            f"{meta['instalments']:,} instalments, {meta['customers']:,} customers; "
            f"p50 / p95 ms over {meta['samples']} requests"
        )
        print()
        print(
            f"| {'what':<58} | {'user':<8} | {'p50':>7} | {'p95':>7} | {'target':>6} | {'':<7} | {'cpu p95':>7} "
            f"| {'queries':>7} | {'SQL ms':>7} |"
        )
        print(
            f"|{'-' * 60}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 8}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|"
        )
        for row in results["rows"]:
            for who in USERS:
                figure = row.get(who)
                if figure is None:
                    continue
                if "status" in figure:
                    cells = ["—", "—", figure["status"], "—", "—", "—"]
                else:
                    few = f" (n={figure['samples']})" if figure["samples"] < meta["samples"] else ""
                    verdict = "ok" if figure["p95"] <= TARGET_MS else "OVER"
                    cells = [
                        f"{figure['p50']:.1f}",
                        f"{figure['p95']:.1f}",
                        verdict + few,
                        f"{figure['cpu_p95']:.1f}",
                        str(figure["queries"]),
                        f"{figure['sql_ms']:.1f}",
                    ]
                print(
                    f"| {row['label']:<58} | {who:<8} | {cells[0]:>7} | {cells[1]:>7} | {TARGET_MS:>6.0f} "
                    f"| {cells[2]:<7} | {cells[3]:>7} | {cells[4]:>7} | {cells[5]:>7} |"
                )
    print(
        f"\nOVER = wall-clock p95 above the {TARGET_MS:.0f} ms target; cpu p95 = CPU time of the benchmark process "
        "(all the work on SQLite; without the server's on PostgreSQL); SQL ms = time in queries of one request; missing = the URL answers 404 (not there yet)"
    )


# --- inside Django: generation --------------------------------------------------------------------------------

OPPORTUNITY_COLUMNS = [
    "id", "created_at", "updated_at", "name", "customer_id", "pipeline_id", "stage_id", "status", "amount",
    "currency", "probability", "expected_close_on", "forecast_category", "source", "owner_id", "org_unit_id",
    "stage_entered_at", "closed_at", "created_by_id",
]  # fmt: skip
CONTRACT_COLUMNS = [
    "id", "created_at", "updated_at", "number", "title", "status", "customer_id", "amount", "currency",
    "signed_on", "start_on", "end_on", "owner_id", "org_unit_id", "activated_at", "created_by_id",
]  # fmt: skip
INSTALMENT_COLUMNS = [
    "id", "created_at", "updated_at", "contract_id", "position", "due_on", "amount", "received", "is_settled",
]  # fmt: skip
RECEIPT_COLUMNS = [
    "id", "created_at", "updated_at", "contract_id", "received_on", "amount", "method", "recorded_by_id",
]  # fmt: skip
PRODUCTS = [
    "ERP 实施",
    "CRM 订阅",
    "数据中台",
    "安防系统",
    "云服务器",
    "工业传感器",
    "培训服务",
    "运维外包",
    "智能仓储",
]
KINDS = ["采购项目", "升级项目", "续约", "二期", "框架协议"]
SOURCES = ["existing", "referral", "website", "exhibition", "campaign", "cold_call", "partner", ""]
OPEN_STAGE_WEIGHTS = [35, 25, 22, 18]  # qualification … negotiation
CATEGORY_WEIGHTS = [("pipeline", 50), ("best_case", 25), ("commit", 20), ("omitted", 5)]
CONTRACT_STATUS_WEIGHTS = [("active", 80), ("completed", 10), ("draft", 4), ("pending", 3), ("terminated", 3)]
USD_SHARE = 0.1
USD_RATE = 7.1
BATCH = 20_000  # contracts (or opportunities) per batch


def _expand(pairs) -> list:
    return [value for value, weight in pairs for _ in range(weight)]


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def rebuild_rollups(*, force: bool) -> float:
    """The running totals the board and the forecast read (`kehu.sales.rollups`): the rows above went in
    without the ORM, so they are recounted once from the records."""
    from django.db import connection

    from kehu.sales.models import CashRollup, OpportunityRollup
    from kehu.sales.rollups import rollups_rebuild

    if not force and OpportunityRollup.objects.exists():
        return 0.0
    started = time.perf_counter()
    counts = rollups_rebuild()
    with connection.cursor() as cursor:
        for model in (OpportunityRollup, CashRollup):
            table = model._meta.db_table
            cursor.execute(
                f"VACUUM (ANALYZE) {table}" if connection.vendor == "postgresql" else f"ANALYZE {table}"
            )
    seconds = time.perf_counter() - started
    print(f"  rollups rebuilt ({counts}) in {seconds:.1f} s", flush=True)
    return round(seconds, 1)


def generate(*, opportunities: int, instalments: int) -> dict:
    """Add what is missing to reach the wanted counts; return the counts added and the seconds taken."""
    from django.db import connection, transaction

    from kehu.core.rawsql import column_defaults
    from kehu.demo.bulk import _Writer
    from kehu.sales.models import Contract, ExchangeRate, Opportunity, PaymentInstalment, Receipt

    have_opps = Opportunity.all_objects.count()
    have_instalments = PaymentInstalment.objects.count()
    add_opps = max(0, opportunities - have_opps)
    add_contracts = math.ceil(max(0, instalments - have_instalments) / PER_CONTRACT)
    if not add_opps and not add_contracts:
        rebuild_rollups(force=False)
        print(
            f"  {have_opps:,} opportunities and {have_instalments:,} instalments already there; not generating "
            "(use --fresh to start over)",
            flush=True,
        )
        return {"added_opportunities": 0, "added_contracts": 0, "sales_seconds": 0.0}
    started = time.perf_counter()
    gen = _SalesGenerator()
    _exchange_rates(ExchangeRate, gen.today)
    writer = _Writer()
    models = [Opportunity, Contract, PaymentInstalment, Receipt]
    defaults = {
        Opportunity: column_defaults(Opportunity, OPPORTUNITY_COLUMNS),
        Contract: column_defaults(Contract, CONTRACT_COLUMNS),
        PaymentInstalment: column_defaults(PaymentInstalment, INSTALMENT_COLUMNS),
        Receipt: column_defaults(Receipt, RECEIPT_COLUMNS),
    }

    def write(model, columns, rows):
        extra, values = defaults[model]
        writer.write(model._meta.db_table, columns + extra, rows, values)

    def next_id(model) -> int:
        return (model._base_manager.order_by("-id").values_list("id", flat=True).first() or 0) + 1

    counts = {"opportunities": 0, "contracts": 0, "instalments": 0, "receipts": 0}
    with transaction.atomic():
        writer.tune_transaction()
        with writer.indexes_suspended(models):
            opp_id = next_id(Opportunity)
            for start in range(0, add_opps, BATCH):
                n = min(BATCH, add_opps - start)
                write(Opportunity, OPPORTUNITY_COLUMNS, gen.opportunities(opp_id, n))
                opp_id += n
                counts["opportunities"] += n
                say(started, counts)
            contract_id, instalment_id, receipt_id = (
                next_id(Contract),
                next_id(PaymentInstalment),
                next_id(Receipt),
            )
            for start in range(0, add_contracts, BATCH):
                n = min(BATCH, add_contracts - start)
                contracts, plan, receipts = gen.contracts(contract_id, instalment_id, receipt_id, n)
                write(Contract, CONTRACT_COLUMNS, contracts)
                write(PaymentInstalment, INSTALMENT_COLUMNS, plan)
                write(Receipt, RECEIPT_COLUMNS, receipts)
                contract_id += n
                instalment_id += len(plan)
                receipt_id += len(receipts)
                counts["contracts"] += n
                counts["instalments"] += len(plan)
                counts["receipts"] += len(receipts)
                say(started, counts)
            rows_in = time.perf_counter() - started
            print(f"  rows in at {rows_in:.1f}s; rebuilding indexes", flush=True)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in models:
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # our table names
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
    indexed = time.perf_counter() - started
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                f"VACUUM (ANALYZE) {table}" if connection.vendor == "postgresql" else f"ANALYZE {table}"
            )
    total = time.perf_counter() - started
    rolled = rebuild_rollups(force=True)
    print(
        f"  generated {counts['opportunities']:,} opportunities, {counts['contracts']:,} contracts, "
        f"{counts['instalments']:,} instalments, {counts['receipts']:,} receipts: rows {rows_in:.0f} s, "
        f"indexes {indexed - rows_in:.0f} s, analyze {total - indexed:.0f} s, total {total:.0f} s",
        flush=True,
    )
    return {
        "added_opportunities": counts["opportunities"],
        "added_contracts": counts["contracts"],
        "added_instalments": counts["instalments"],
        "added_receipts": counts["receipts"],
        "rows_seconds": round(rows_in, 1),
        "index_seconds": round(indexed - rows_in, 1),
        "analyze_seconds": round(total - indexed, 1),
        "sales_seconds": round(total, 1),
        "rollup_seconds": rolled,
    }


def say(started: float, counts: dict) -> None:
    print(
        f"  {counts['opportunities']:>8,} opportunities {counts['contracts']:>8,} contracts "
        f"{counts['instalments']:>9,} instalments  {time.perf_counter() - started:6.1f}s",
        flush=True,
    )


def _exchange_rates(ExchangeRate, today) -> None:  # noqa: N803 - the model class
    """A USD rate valid from the first of each month over the past 3 years (the newest one covers the future)."""
    import datetime
    from decimal import Decimal

    if ExchangeRate.objects.filter(currency="USD").exists():
        return
    rows = []
    for back in range(36, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        day = datetime.date(index // 12, index % 12 + 1, 1)
        rows.append(
            ExchangeRate(
                currency="USD", valid_from=day, rate=Decimal(f"{USD_RATE + (back % 7 - 3) / 100:.4f}")
            )
        )
    ExchangeRate.objects.bulk_create(rows)


class _SalesGenerator:
    def __init__(self):
        import datetime
        import random

        from django.db import connection
        from django.utils import timezone

        from kehu.customers.models import Customer
        from kehu.sales.models import Pipeline, Stage
        from kehu.users.models import Membership, Role, User
        from kehu.users.services import primary_unit_of

        self.rng = random.Random(SEED)
        self.sqlite = connection.vendor == "sqlite"
        self.now = timezone.now().astimezone(datetime.UTC).replace(microsecond=0)
        self.today = timezone.localdate()
        self.date = datetime.date
        self.delta = datetime.timedelta
        reps = list(
            User.objects.filter(is_active=True, memberships__role=Role.SALES_REP).distinct().order_by("id")
        )
        self.owners = [(rep.pk, primary_unit_of(rep).pk) for rep in reps]
        self.creator = (
            Membership.objects.filter(role=Role.SYSTEM_ADMIN).values_list("user_id", flat=True).first()
        )
        by_owner: dict[int, list[int]] = {}
        for cid, owner in Customer.objects.filter(owner__isnull=False).values_list("id", "owner_id"):
            by_owner.setdefault(owner, []).append(cid)
        every = list(Customer.objects.values_list("id", flat=True))
        self.customers = {owner: by_owner.get(owner) or every for owner, _unit in self.owners}
        pipeline = Pipeline.objects.filter(is_active=True).order_by("position", "id").first()
        self.pipeline = pipeline.pk
        stages = list(pipeline.stages.order_by("position", "id"))
        self.open_stages = _expand(
            zip([s for s in stages if s.outcome == Stage.Outcome.OPEN], OPEN_STAGE_WEIGHTS, strict=False)
        )
        self.won = next(s for s in stages if s.outcome == Stage.Outcome.WON)
        self.lost = next(s for s in stages if s.outcome == Stage.Outcome.LOST)
        self.categories = _expand(CATEGORY_WEIGHTS)
        self.contract_statuses = _expand(CONTRACT_STATUS_WEIGHTS)

    def ts(self, value):
        # Django keeps SQLite datetimes as naive UTC text; PostgreSQL takes the aware value.
        return str(value.replace(tzinfo=None)) if self.sqlite else value

    def midnight(self, day):
        return self.now.replace(year=day.year, month=day.month, day=day.day, hour=0, minute=0, second=0)

    def day(self, value):
        return str(value) if self.sqlite else value

    def amount(self) -> int:
        """Cents, log-uniform between 5,000 and 2,000,000, rounded to the hundred."""
        return round(math.exp(self.rng.uniform(math.log(5_000), math.log(2_000_000))) / 100) * 10_000

    def opportunities(self, first_id: int, count: int) -> list[tuple]:
        r, pick = self.rng.random, self.rng.choice
        rows = []
        for oid in range(first_id, first_id + count):
            owner, unit = pick(self.owners)
            x = r()
            status = "open" if x < 0.6 else "won" if x < 0.8 else "lost"
            closed_at = None
            if status == "open":
                stage = pick(self.open_stages)
                close = self.today + self.delta(days=int(r() * 456) - 90)  # 3 months late … 12 months ahead
                category = pick(self.categories)
                created = self.now - self.delta(days=r() * 400)
                entered = created + (self.now - created) * r()
            else:
                stage = self.won if status == "won" else self.lost
                close = self.today - self.delta(days=int(r() * 366))  # closed within the past 12 months
                category = "commit" if status == "won" else "omitted"
                closed_at = min(self.now, self.midnight(close) + self.delta(hours=1 + r() * 10))
                created = closed_at - self.delta(days=10 + r() * 300)
                entered = closed_at
            updated = entered + (self.now - entered) * r() * 0.5
            rows.append(
                (
                    oid, self.ts(created), self.ts(updated), f"{pick(PRODUCTS)}{pick(KINDS)} {oid}",
                    pick(self.customers[owner]), self.pipeline, stage.pk, status, _cents(self.amount()),
                    "USD" if r() < USD_SHARE else "CNY", stage.probability, self.day(close), category,
                    pick(SOURCES), owner, unit, self.ts(entered), self.ts(closed_at) if closed_at else None,
                    self.creator,
                )
            )  # fmt: skip
        return rows

    def contracts(self, first_id: int, instalment_id: int, receipt_id: int, count: int):
        """Contracts with 10 monthly instalments each (due dates spread over ±18 months around today) and a
        receipt for each instalment that has received money (no allocation rows: the reports do not read them)."""
        r, pick = self.rng.random, self.rng.choice
        contracts, plan, receipts = [], [], []
        for cid in range(first_id, first_id + count):
            owner, unit = pick(self.owners)
            status = pick(self.contract_statuses)
            start = self.today + self.delta(days=int(r() * 810) - 540)  # first due 18 months ago … 9 ahead
            each = self.amount() // PER_CONTRACT
            signed = start - self.delta(days=int(r() * 30) + 1)
            created = min(self.now, self.now.replace(year=signed.year, month=signed.month, day=signed.day))
            updated = created + (self.now - created) * r()
            contracts.append(
                (
                    cid, self.ts(created), self.ts(updated), f"HT-B{cid:08d}", f"{pick(PRODUCTS)}合同 {cid}",
                    status, pick(self.customers[owner]), _cents(each * PER_CONTRACT),
                    "USD" if r() < USD_SHARE else "CNY", self.day(signed), self.day(start),
                    self.day(start + self.delta(days=31 * PER_CONTRACT)), owner, unit,
                    self.ts(created) if status in ("active", "completed", "terminated") else None, self.creator,
                )
            )  # fmt: skip
            for position in range(1, PER_CONTRACT + 1):
                index = start.year * 12 + start.month - 1 + position - 1
                due = self.date(index // 12, index % 12 + 1, min(start.day, 28))
                late = (self.today - due).days
                x = r()
                if status == "completed":
                    paid = each
                elif status in ("draft", "pending"):
                    paid = 0
                elif late > 30:
                    paid = each if x < 0.85 else each * int(r() * 9 + 1) // 10 if x < 0.92 else 0
                elif late >= 0:
                    paid = each if x < 0.4 else each // 2 if x < 0.55 else 0
                else:
                    paid = each if x < 0.05 else each * 3 // 10 if x < 0.1 else 0
                plan.append(
                    (
                        instalment_id, self.ts(created), self.ts(updated), cid, position, self.day(due),
                        _cents(each), _cents(paid), paid >= each,
                    )
                )  # fmt: skip
                instalment_id += 1
                if paid:  # one receipt per instalment paid, a few days either side of the due date
                    on = min(self.today, due + self.delta(days=int(r() * 20) - 10))
                    stamp = self.ts(self.midnight(on) + self.delta(hours=9))
                    receipts.append(
                        (receipt_id, stamp, stamp, cid, self.day(on), _cents(paid), "bank", owner)
                    )
                    receipt_id += 1
        return contracts, plan, receipts


# --- inside Django: measurement -------------------------------------------------------------------------------


def timed(fn, *, samples: int, warmup: int = 3) -> dict:
    """bench/run.py's timed() (a request slower than 1 s is sampled 3 times only), plus the CPU time of this
    process per request: on SQLite that is nearly all of the work, and unlike wall time it hardly moves when
    other jobs share the cores (on PostgreSQL the server's own time is not in it)."""
    started = time.perf_counter()
    fn()
    if (time.perf_counter() - started) * 1000 > base.SLOW_MS:
        samples, warmup = 3, 0
    for _ in range(warmup - 1):
        fn()
    wall, cpu = [], []
    for _ in range(samples):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {
        "p50": round(statistics.median(wall), 2),
        "p95": round(base.percentile(wall, 0.95), 2),
        "max": round(max(wall), 2),
        "cpu_p50": round(statistics.median(cpu), 2),
        "cpu_p95": round(base.percentile(cpu, 0.95), 2),
        "samples": samples,
    }


def measure(*, samples: int, explain: bool, only: set[str]) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from kehu.customers.models import Customer
    from kehu.sales.models import Contract, Opportunity, PaymentInstalment, Pipeline, Receipt
    from kehu.sales.selectors.opportunities import opportunity_scope
    from kehu.sales.selectors.payments import instalment_scope
    from kehu.users.models import User
    from kehu.users.services import api_token_create

    settings.DEBUG = False  # no query log: measure what production runs
    users = {who: User.objects.get(username=username) for who, username in USERS.items()}
    clients, headers = {}, {}
    for who, user in users.items():
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        clients[who] = client
        _token, secret = api_token_create(actor=user, name="bench-sales")
        headers[who] = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    api = Client(HTTP_HOST="127.0.0.1")
    pipeline = Pipeline.objects.filter(is_active=True).order_by("position", "id").first()

    plan = [
        ("board_page", f"board page: GET /opportunities/board/?pipeline={pipeline.pk}", "/opportunities/board/",
         {"pipeline": pipeline.pk}, False),
        ("board_api", f"board API: GET /api/v1/pipelines/{pipeline.pk}/board", f"/api/v1/pipelines/{pipeline.pk}/board",
         {}, True),
        ("list_page", "opportunity list: GET /opportunities/", "/opportunities/", {}, False),
        ("forecast_page", "forecast page: GET /forecast/", "/forecast/", {}, False),
        ("forecast_api", "forecast API: GET /api/v1/forecast", "/api/v1/forecast", {}, True),
        ("forecast_api_12", "forecast API, 12 months: GET /api/v1/forecast?months=12", "/api/v1/forecast",
         {"months": 12}, True),
        ("cash_api", "cash forecast API: GET /api/v1/forecast/cash", "/api/v1/forecast/cash", {}, True),
        ("receivables_page", "receivables page: GET /receivables/", "/receivables/", {}, False),
        ("aging_api", "aging API: GET /api/v1/receivables/aging", "/api/v1/receivables/aging", {}, True),
        ("expected_cash_api", "expected cash API: GET /api/v1/receivables/expected-cash",
         "/api/v1/receivables/expected-cash", {}, True),
    ]  # fmt: skip

    def request(who, path, params, auth):
        client = api if auth else clients[who]
        return client.get(path, params, **(headers[who] if auth else {}))

    rows, captured = [], {}
    for name, label, path, params, auth in plan:
        if only and name not in only:
            continue
        row = {"name": name, "label": label, "path": path, "params": params}
        for who in users:
            try:
                status = request(who, path, params, auth).status_code
            except Exception as exc:  # a page being written may still fail: report it, go on
                row[who] = {"status": f"error: {type(exc).__name__}"}
                print(f"  {name} as {who}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                continue
            if status != 200:
                row[who] = {"status": "missing" if status == 404 else f"HTTP {status}"}
                continue

            def fn(who=who, path=path, params=params, auth=auth):
                response = request(who, path, params, auth)
                assert response.status_code == 200, (path, response.status_code)

            queries = []
            with connection.execute_wrapper(_recorder(queries)):
                fn()
            row[who] = timed(fn, samples=samples)
            row[who]["queries"] = len(queries)
            row[who]["sql_ms"] = round(sum(q[2] for q in queries), 1)  # of one request, outside the samples
            captured[(name, who)] = queries
        rows.append(row)
        figures = ", ".join(
            f"{who} {row[who]['p95']:.1f}" if "p95" in row[who] else f"{who} {row[who]['status']}"
            for who in users
        )
        print(f"  {label}: p95 ms {figures}", file=sys.stderr, flush=True)

    if explain and captured:
        timed_ = [(row[who]["p95"], row["name"], who) for row in rows for who in users if "p95" in row[who]]
        slowest = max(timed_)
        chosen = sorted({slowest} | {t for t in timed_ if t[0] > TARGET_MS}, reverse=True)
        for p95, name, who in chosen:
            sqls = captured[(name, who)]  # (sql, params) of one request
            total = sum(q[2] for q in sqls)
            print(
                f"\n### {name} as {who}: p95 {p95:.1f} ms, {len(sqls)} queries, {total:.1f} ms SQL",
                flush=True,
            )
            for sql, params, _ms in sqls:
                explain_query(connection, sql, params, min_ms=0 if (p95, name, who) == slowest else 5)

    meta = {
        "database": connection.vendor,
        "customers": Customer.all_objects.count(),
        "opportunities": Opportunity.all_objects.count(),
        "contracts": Contract.all_objects.count(),
        "instalments": PaymentInstalment.objects.count(),
        "receipts": Receipt.objects.count(),
        "pipeline": pipeline.pk,
        "users": {who: user.username for who, user in users.items()},
        "visible_opportunities": {who: opportunity_scope(user).count() for who, user in users.items()},
        "visible_open_instalments": {
            who: instalment_scope(user).filter(is_settled=False).count() for who, user in users.items()
        },
        "samples": samples,
        "target_ms": TARGET_MS,
    }
    return {"meta": meta, "rows": rows}


def _recorder(queries: list):
    """An execute wrapper noting each query's SQL and parameters. (CaptureQueriesContext sees nothing of a
    test-client request: the request_started signal resets the query log it reads.)"""

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((sql, params, (time.perf_counter() - started) * 1000))

    return record


def explain_query(connection, sql: str, params, *, min_ms: float = 0) -> None:
    """bench/run.py's explain_query(), with the query's parameters; times the query on its own first and
    leaves out the plan of one faster than `min_ms`."""
    if not sql.lstrip().upper().startswith("SELECT"):
        return
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql, params)
        found = len(cursor.fetchall())
        took = (time.perf_counter() - started) * 1000
        if took < min_ms:
            return
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        cursor.execute(prefix + sql, params)
        plan = cursor.fetchall()
    print(f"\n-- {took:.1f} ms, {found} rows: {sql[:1500]}")
    if params:
        print(f"-- params: {list(params)[:40]}")
    for line in plan:
        print("    ", " | ".join(str(part) for part in line))


if __name__ == "__main__":
    main()
