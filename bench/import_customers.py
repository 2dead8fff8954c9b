"""Customer import throughput: rows per second and peak memory of `kehu import-customers`.

    .venv/bin/python bench/import_customers.py                    # SQLite, 20,000 rows
    .venv/bin/python bench/import_customers.py --db postgres --rows 50000

Writes a CSV of N realistic rows (company, mobile, e-mail, province/city, level, tags, contact; 2% with a bad
e-mail so the rejection path is exercised too), migrates a throwaway database (var/bench/import.sqlite3 or
kehu_import_bench on the local PostgreSQL), creates the demo staff (and one generated customer) and lifts the per-rep customer cap, then times the command twice: the first run
creates every customer, the second finds every row unchanged (the idempotent re-import). Prints rows/s and the
peak RSS of the command. Never part of the test suite.
"""

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
DATABASES = {
    "sqlite": f"sqlite:///{WORK / 'import.sqlite3'}",
    "postgres": "postgres://postgres@127.0.0.1:5432/kehu_import_bench",
}
PLACES = [
    ("浙江省", "杭州市"),
    ("江苏省", "苏州市"),
    ("广东省", "深圳市"),
    ("上海市", ""),
    ("四川省", "成都市"),
]
WORDS = ["蓝海", "长城", "华信", "东方", "金桥", "瑞丰", "恒通", "新程", "中联", "同创", "远景", "青松"]
TRADES = ["科技", "贸易", "电子", "机械", "食品", "物流", "软件", "建材"]


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["客户名称", "手机", "邮箱", "省份", "城市", "客户级别", "标签", "联系人", "职务"])
        for i in range(rows):
            name = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(TRADES)}有限公司{i:06d}"
            email = f"c{i}@example.com" if rng.random() > 0.02 else "not-an-email"
            province, city = rng.choice(PLACES)
            writer.writerow(
                [
                    name,
                    f"139{i:08d}",
                    email,
                    province,
                    city,
                    rng.choice("ABC"),
                    "展会",
                    f"联系人{i % 97}",
                    "经理",
                ]
            )


def run(url: str, *args: str) -> tuple[float, int, str]:
    env = {**os.environ, "DATABASE_URL": url, "LANGUAGE_CODE": "en"}  # the summary line is parsed below
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return elapsed, peak, result.stdout


def fresh_database(db: str, url: str) -> None:
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{WORK / 'import.sqlite3'}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS kehu_import_bench")
            conn.execute("CREATE DATABASE kehu_import_bench")
    env = {**os.environ, "DATABASE_URL": url}
    lift_caps = "from kehu.customers.models import PoolRule; PoolRule.objects.update(owner_cap=None)"
    setup = (
        ["migrate", "-v0"],
        ["load_regions"],
        ["seed_demo", "--bulk", "1", "--no-analyze", "-v0"],
        ["shell", "-c", lift_caps],
    )
    for command in setup:
        subprocess.run([sys.executable, str(ROOT / "manage.py"), *command], env=env, check=True, cwd=ROOT)  # noqa: S603


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=sorted(DATABASES), default="sqlite")
    parser.add_argument("--rows", type=int, default=20000)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    url = DATABASES[args.db]
    path = WORK / f"customers-{args.rows}.csv"
    write_csv(path, args.rows)
    fresh_database(args.db, url)
    for label in ("first import (creates)", "same file again (unchanged)"):
        elapsed, peak_kb, out = run(url, "import-customers", str(path), "--user", "admin")
        summary = next(line for line in out.splitlines() if line.startswith("import "))
        print(
            f"{args.db} {label}: {args.rows:,} rows in {elapsed:.1f} s = {args.rows / elapsed:,.0f} rows/s, "
            f"peak RSS {peak_kb / 1024:.0f} MB\n  {summary}"
        )


if __name__ == "__main__":
    main()
