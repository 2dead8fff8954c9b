"""Customer list and search latency at 1M customers, on SQLite and PostgreSQL.

    .venv/bin/python bench/run.py                      # both databases, 1,000,000 customers, 50 samples
    .venv/bin/python bench/run.py --db sqlite --customers 200000 --samples 30
    .venv/bin/python bench/run.py --fresh              # drop the bench databases and generate again
    .venv/bin/python bench/run.py --explain            # also print the query plans of the timed selectors

For each database it migrates a throwaway database (var/bench/kehu_bench.sqlite3, and kehu_bench on the local
PostgreSQL server), loads the regions, generates the customers with `kehu seed_demo --bulk` (skipped when the
database already holds enough of them), then times each request in-process with django.test.Client, as a
system admin and as a sales rep: server time only (URL resolving, middleware, view, queries, rendering), no
network. Prints p50/p95 in milliseconds and writes bench/results/<database>.json. Never part of the test suite.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATABASES = {
    "sqlite": f"sqlite:///{ROOT / 'var' / 'bench' / 'kehu_bench.sqlite3'}",
    "postgres": "postgres://postgres@127.0.0.1:5432/kehu_bench",
}
TARGET_MS = 50.0
PAGE_FILTER = {"status": "active", "sort": "name"}  # page 50 of this filter and sort


# --- orchestration (no Django in this process) ----------------------------------------------------------------


def manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)  # noqa: S603 - our own manage.py


def prepare(db: str, *, customers: int, fresh: bool) -> None:
    url = DATABASES[db]
    if db == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg
        from psycopg import sql

        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        server = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
        with psycopg.connect(server, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists and fresh:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                exists = None
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"[{db}] migrate, regions", flush=True)
    manage(url, "migrate", "--no-input", "-v0")
    run_child(url, "--load-regions")
    have = int(run_child(url, "--count").strip() or 0)
    if have >= customers:
        print(
            f"[{db}] {have:,} customers already there; not generating (use --fresh to start over)", flush=True
        )
        return
    print(f"[{db}] generating {customers - have:,} customers", flush=True)
    started = time.perf_counter()
    manage(url, "seed_demo", "--bulk", str(customers - have))
    print(f"[{db}] generated in {time.perf_counter() - started:.0f} s", flush=True)


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--fresh", action="store_true", help="drop the bench database and generate again")
    parser.add_argument("--skip-generate", action="store_true", help="measure whatever the database holds")
    parser.add_argument("--explain", action="store_true", help="print the query plans of the timed selectors")
    parser.add_argument("--only", default="", help="comma-separated measurement names to run")
    parser.add_argument(
        "--sqlite-url", default=DATABASES["sqlite"], help="DATABASE_URL of the SQLite bench db"
    )
    parser.add_argument(
        "--postgres-url", default=DATABASES["postgres"], help="DATABASE_URL of the PostgreSQL one"
    )
    # Internal: the steps that run inside Django, one database per process.
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load-regions", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.count or args.load_regions or args.measure:
        setup_django()
        if args.count:
            from kehu.customers.models import Customer

            print(Customer.all_objects.count())
        elif args.load_regions:
            load_regions()
        else:
            only = {n for n in args.only.split(",") if n}
            results = measure(samples=args.samples, explain=args.explain, only=only)
            print("@@RESULTS@@" + json.dumps(results, ensure_ascii=False))
        return

    RESULTS.mkdir(parents=True, exist_ok=True)
    DATABASES.update(sqlite=args.sqlite_url, postgres=args.postgres_url)
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    all_results = {}
    for db in dbs:
        if not args.skip_generate:
            prepare(db, customers=args.customers, fresh=args.fresh)
        print(f"[{db}] measuring ({args.samples} samples per figure)", flush=True)
        extra = ["--samples", str(args.samples)] + (["--explain"] if args.explain else [])
        extra += ["--only", args.only] if args.only else []
        out = run_child(DATABASES[db], "--measure", *extra)
        head, _, payload = out.partition("@@RESULTS@@")
        if head.strip():
            print(head.rstrip())
        all_results[db] = json.loads(payload)
        (RESULTS / f"{db}.json").write_text(json.dumps(all_results[db], ensure_ascii=False, indent=2))
    print_table(all_results)


def print_table(all_results: dict) -> None:
    for db, results in all_results.items():
        meta = results["meta"]
        print()
        print(
            f"## {db}: {meta['customers']:,} customers, {meta['contacts']:,} contacts "
            f"(rep sees {meta['rep_visible']:,}); p50 / p95 ms over {meta['samples']} requests"
        )
        print()
        print(f"| {'what':<58} | {'admin p50':>9} | {'admin p95':>9} | {'rep p50':>8} | {'rep p95':>8} |")
        print(f"|{'-' * 60}|{'-' * 11}|{'-' * 11}|{'-' * 10}|{'-' * 10}|")
        for row in results["rows"]:
            cells = []
            for who in ("admin", "rep"):
                figure = row.get(who)
                if figure is None:
                    cells += ["—", "—"]
                    continue
                flag = " !" if figure["p95"] > TARGET_MS else ""
                few = f" (n={figure['samples']})" if figure["samples"] < meta["samples"] else ""
                cells += [f"{figure['p50']:.1f}", f"{figure['p95']:.1f}{flag}{few}"]
            print(f"| {row['label']:<58} | {cells[0]:>9} | {cells[1]:>9} | {cells[2]:>8} | {cells[3]:>8} |")
    print(
        f"\n! = p95 above the {TARGET_MS:.0f} ms target; (n=3): over {SLOW_MS:.0f} ms, sampled 3 times only"
    )


# --- inside Django --------------------------------------------------------------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def load_regions() -> None:
    """`kehu load_regions`; if the database refuses the data file (town codes longer than the 6-character
    region code, e.g. under 东莞), load it without those towns so the benchmark can still run."""
    import json as json_module
    import tempfile
    from io import StringIO

    from django.conf import settings
    from django.core.management import call_command
    from django.db import DataError

    from kehu.core.models import Region
    from kehu.core.services import regions_load

    if Region.objects.exists():
        return
    try:
        call_command("load_regions", stdout=StringIO())
        return
    except DataError as exc:
        print(f"load_regions failed ({exc}); loading without level-3 codes longer than 6", file=sys.stderr)
    source = Path(settings.BASE_DIR) / "var" / "assets" / "data" / "china-division" / "pca-code.json"

    def prune(nodes, level):
        return [
            {**node, "children": prune(node.get("children", []), level + 1)}
            for node in nodes
            if not (level == 3 and len(node["code"]) > 6)
        ]

    pruned = Path(tempfile.mkdtemp()) / "pca-code.json"
    tree = json_module.loads(source.read_text(encoding="utf-8"))
    pruned.write_text(json_module.dumps(prune(tree, 1), ensure_ascii=False), encoding="utf-8")
    regions_load(path=pruned)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


SLOW_MS = (
    1000.0  # a request slower than this is sampled 3 times only, so a pathological plan cannot stall the run
)


def timed(fn, *, samples: int, warmup: int = 3) -> dict:
    started = time.perf_counter()
    fn()
    if (time.perf_counter() - started) * 1000 > SLOW_MS:
        samples, warmup = 3, 0
    for _ in range(warmup - 1):
        fn()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "p50": round(statistics.median(times), 2),
        "p95": round(percentile(times, 0.95), 2),
        "max": round(max(times), 2),
        "samples": samples,
    }


def measure(*, samples: int, explain: bool, only: set[str]) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kehu.customers import selectors
    from kehu.customers.models import Contact, Customer
    from kehu.users.models import Membership, Role, User
    from kehu.users.services import api_token_create

    settings.DEBUG = False  # no query log: measure what production runs
    admin = (
        User.objects.filter(is_active=True, memberships__role=Role.SYSTEM_ADMIN).order_by("id").first()
        or User.objects.filter(is_superuser=True).order_by("id").first()
    )
    rep_id = (
        Membership.objects.filter(role=Role.SALES_REP, user__is_active=True).order_by("user_id")[0].user_id
    )
    rep = User.objects.get(pk=rep_id)
    users = {"admin": admin, "rep": rep}

    clients, headers = {}, {}
    for who, user in users.items():
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        clients[who] = client
        _token, secret = api_token_create(actor=user, name="bench")
        headers[who] = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    api = Client(HTTP_HOST="127.0.0.1")
    page_exists = clients["admin"].get("/customers/").status_code == 200
    api_exists = api.get("/api/v1/customers", **headers["admin"]).status_code == 200
    search_api_exists = api.get("/api/v1/search", {"q": "张"}, **headers["admin"]).status_code == 200

    # Search terms drawn from the data: a full company name, a 2-character brand word, a person's initials
    # and the last four digits of a phone number.
    company = Customer.objects.filter(kind="company").order_by("id")[1000]
    person = Customer.objects.filter(kind="individual").order_by("id")[500]
    brand = company.short_name[:2]
    terms = {
        "name": company.name,
        "two": brand,
        "two_common": "科技",  # in ~16% of the generated company names
        "initials": person.pinyin_initials,
        "initials_short": person.pinyin_initials[:2],
        "last4": person.phone_key[-4:],
    }

    def cursor_for_page(user, page: int) -> str:
        filters = selectors.CustomerFilters(status=PAGE_FILTER["status"])
        cursor = None
        for _ in range(page - 1):
            cursor = selectors.customer_list(
                actor=user, filters=filters, sort=PAGE_FILTER["sort"], cursor=cursor
            ).next_cursor
        return cursor

    cursors = {who: cursor_for_page(user, 50) for who, user in users.items()}

    def get(path, params=None, auth=False):
        def run(who):
            client = api if auth else clients[who]
            response = client.get(path, params or {}, **(headers[who] if auth else {}))
            assert response.status_code == 200, (path, response.status_code)

        return run

    plan = []
    list_path = "/customers/" if page_exists else "/api/v1/customers"
    list_auth = not page_exists
    plan.append(("list_p1", f"list page 1: GET {list_path}", get(list_path, auth=list_auth)))
    plan.append(
        (
            "list_p50",
            f"list page 50, status=active sort=name: GET {list_path}?cursor=",
            lambda who: get(list_path, {**PAGE_FILTER, "cursor": cursors[who]}, auth=list_auth)(who),
        )
    )
    if api_exists:
        plan.append(("api_p1", "API list page 1: GET /api/v1/customers", get("/api/v1/customers", auth=True)))
        plan.append(
            (
                "api_p50",
                "API list page 50, status=active sort=name",
                lambda who: get("/api/v1/customers", {**PAGE_FILTER, "cursor": cursors[who]}, auth=True)(who),
            )
        )
    plan.append(
        ("sel_p1", "selector customer_list page 1", lambda who: selectors.customer_list(actor=users[who]))
    )
    labels = {
        "name": f"company name “{terms['name']}”",
        "two": f"2 characters “{terms['two']}”",
        "two_common": f"2 common characters “{terms['two_common']}”",
        "initials": f"pinyin initials “{terms['initials']}”",
        "initials_short": f"2 pinyin initials “{terms['initials_short']}”",
        "last4": f"last 4 phone digits “{terms['last4']}”",
    }
    for key, term in terms.items():
        plan.append(
            (
                f"search_{key}",
                f"selectors.search: {labels[key]}",
                lambda who, term=term: selectors.search(actor=users[who], q=term),
            )
        )
        if search_api_exists:
            plan.append(
                (
                    f"api_search_{key}",
                    f"GET /api/v1/search: {labels[key]}",
                    lambda who, term=term: get("/api/v1/search", {"q": term}, auth=True)(who),
                )
            )

    rows = []
    for name, label, fn in plan:
        if only and name not in only:
            continue
        row = {"name": name, "label": label}
        for who in users:
            with CaptureQueriesContext(connection) as queries:
                fn(who)
            row[who] = timed(lambda who=who, fn=fn: fn(who), samples=samples)
            row[who]["queries"] = len(queries.captured_queries)
            if explain:
                print(f"\n### {name} as {who}: {len(queries.captured_queries)} queries", flush=True)
                for query in queries.captured_queries:
                    explain_query(connection, query["sql"])
        rows.append(row)
        print(
            f"  {label}: admin p95 {row['admin']['p95']:.1f} ms, rep p95 {row['rep']['p95']:.1f} ms",
            file=sys.stderr,
            flush=True,
        )

    meta = {
        "database": connection.vendor,
        "customers": Customer.all_objects.count(),
        "contacts": Contact.all_objects.count(),
        "rep": rep.username,
        "rep_visible": selectors.customer_scope(rep).count(),
        "samples": samples,
        "page": list_path,
        "api": api_exists,
        "search_api": search_api_exists,
        "terms": terms,
    }
    return {"meta": meta, "rows": rows}


def explain_query(connection, sql: str) -> None:
    if not sql.lstrip().upper().startswith("SELECT"):
        return
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        plan = cursor.fetchall()
    print(sql[:600])
    for line in plan:
        print("    ", " | ".join(str(part) for part in line))


if __name__ == "__main__":
    main()
