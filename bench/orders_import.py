"""Marketplace order import at scale: a Taobao export of N orders (GBK, 54 columns) plus its line items, imported
with `kehu import-orders` into SQLite and PostgreSQL; wall time, rows/s and peak RSS of each run, the re-import
of the same files, and PostgreSQL's `COPY` of the same order file into a bare staging table as the reference.

    .venv/bin/python bench/orders_import.py                         # both databases, 1,000,000 orders
    .venv/bin/python bench/orders_import.py --db sqlite --orders 100000

Files are generated once into var/bench/orders-<N>/ (`kehu/demo/marketplace_data.py`); each database is created
afresh (var/bench/orders.sqlite3, kehu_orders_bench on the local PostgreSQL), migrated, given the regions, the
demo staff and one Taobao shop. Never part of the test suite.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kehu.demo.marketplace_data import ORDER_HEADER, write_taobao

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
DATABASES = {
    "sqlite": f"sqlite:///{WORK / 'orders.sqlite3'}",
    "postgres": "postgres://postgres@127.0.0.1:5432/kehu_orders_bench",
}
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def kehu(url: str, *args: str) -> tuple[float, float, str]:
    """Run a kehu command; (seconds, peak RSS in MB of that process, stdout)."""
    env = {**os.environ, "DATABASE_URL": url, "LANGUAGE_CODE": "en", "DEBUG": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not at every start
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"kehu {' '.join(args)} failed:\n{out}")
    return elapsed, usage.ru_maxrss / 1024, out


def fresh_database(db: str, url: str) -> None:
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{WORK / 'orders.sqlite3'}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS kehu_orders_bench")
            conn.execute("CREATE DATABASE kehu_orders_bench")
    make_shop = (
        "from kehu.demo.seed import demo_org_create; demo_org_create(); "
        "from kehu.sales.models import Shop; from kehu.users.models import OrgUnit; "
        "Shop.objects.create(platform='taobao', name='bench', org_unit=OrgUnit.objects.order_by('pk').first())"
    )
    for command in (["migrate", "-v0"], ["load_regions"], ["shell", "-c", make_shop]):
        kehu(url, *command)


def copy_reference(order_file: Path) -> float:
    """PostgreSQL COPY of the order file into an unlogged staging table of text columns."""
    import psycopg

    columns = ", ".join(f"c{i} text" for i in range(len(ORDER_HEADER)))
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_order_staging")
        conn.execute(f"CREATE UNLOGGED TABLE bench_order_staging ({columns})")
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY bench_order_staging FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'GBK')"
            ) as copy,
            order_file.open("rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM bench_order_staging").fetchone()[0]
        conn.execute("DROP TABLE bench_order_staging")
    print(f"postgres COPY reference: {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s")
    return elapsed


def summary(out: str) -> str:
    return next(
        (line for line in reversed(out.splitlines()) if line.startswith(("all files", "import "))), ""
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=[*sorted(DATABASES), "both"], default="both")
    parser.add_argument("--orders", type=int, default=1_000_000)
    args = parser.parse_args()
    folder = WORK / f"orders-{args.orders}"
    order_file = folder / "ExportOrderList202611240930.csv"
    item_file = folder / "ExportOrderDetailList202611240930.csv"
    if not (order_file.exists() and item_file.exists()):
        started = time.perf_counter()
        write_taobao(folder, args.orders)
        print(f"generated {args.orders:,} orders in {time.perf_counter() - started:.0f} s")
    print(
        f"files: orders {order_file.stat().st_size / 2**20:.0f} MB, "
        f"line items {item_file.stat().st_size / 2**20:.0f} MB ({sum(1 for _ in item_file.open('rb')) - 1:,} rows)"
    )
    databases = sorted(DATABASES) if args.db == "both" else [args.db]
    reference = copy_reference(order_file) if "postgres" in databases else None
    for db in databases:
        url = DATABASES[db]
        fresh_database(db, url)
        runs = [
            ("orders", [order_file]),
            ("line items", [item_file]),
            ("both again (re-import)", [order_file, item_file]),
        ]
        for label, files in runs:
            elapsed, peak, out = kehu(
                url, "import-orders", "--shop", "bench", "--user", "admin", *map(str, files)
            )
            rows = args.orders if label == "orders" else None
            rate = f" = {rows / elapsed:,.0f} orders/s" if rows else ""
            ratio = (
                f", {elapsed / reference:.1f}x the COPY"
                if reference and label == "orders" and db == "postgres"
                else ""
            )
            print(f"{db} {label}: {elapsed:.1f} s{rate}{ratio}, peak RSS {peak:.0f} MB\n  {summary(out)}")


if __name__ == "__main__":
    main()
