"""Bulk demo data for benchmarks: N customers with ~1.5 contacts each, written without the ORM.

Every derived column is computed by the services' own `customer_derive` / `contact_derive`, so rows are
indistinguishable from rows created one by one (same collision keys, pinyin and search tokens). Names,
mobiles and e-mails are unique: company names and phone numbers come from a permutation of the row id
(so they never repeat within a run or across runs), and each is also checked against what the database
already holds. No audit history is written: this is generated data.

How it is fast (1M customers + 1.5M contacts in a few minutes on 2 cores):
- rows are generated in a forked process while this one writes (generation is pure Python, ~100 µs a row);
- SQLite takes `executemany` batches, PostgreSQL `COPY`;
- a large load (at least 20,000 rows and half the table) runs in ONE transaction with the secondary
  indexes dropped and rebuilt at the end (each in one sorted pass instead of millions of random inserts);
  a failure rolls back the data and the index changes together;
- on SQLite the full-text insert triggers are off while rows go in; each batch is indexed with one
  `INSERT INTO <table>_fts ... SELECT` (a trigger call per row is several times slower);
- ANALYZE (VACUUM ANALYZE on PostgreSQL outside a transaction) at the end.

Run with no other writers: on SQLite ids are taken from max(id).
"""

import multiprocessing
import os
import random
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import gcd
from queue import Empty

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from kehu.core.models import Region
from kehu.core.rawsql import column_defaults, fts_add
from kehu.core.search import pinyin_forms
from kehu.customers.models import Contact, Customer, Tag
from kehu.customers.services import contact_derive, customer_derive, tags_get_or_create
from kehu.demo import data
from kehu.users.models import Membership, Role, User
from kehu.users.services import primary_unit_of

SEED = 2026
CustomerTag = Customer.tags.through
BATCH = 25_000
YEARS_BACK = 3
POOL_SHARE = 0.08
INDIVIDUAL_SHARE = 0.2
TAG_SHARE = 0.25

_MOBILE_SPACE = len(data.MOBILE_PREFIXES) * 10**8
_LANDLINE_SPACE = 7 * 10**7  # 8-digit local numbers starting 2-8


@dataclass
class BulkResult:
    customers: int
    contacts: int
    seconds: float
    first_id: int
    last_id: int


class _Row:
    """Just the attributes `customer_derive` / `contact_derive` read and write, without model overhead."""

    __slots__ = (
        "email",
        "email_key",
        "mobile",
        "mobile_key",
        "name",
        "name_key",
        "phone",
        "phone2",
        "phone_key",
        "pinyin",
        "pinyin_initials",
        "search_text",
        "short_name",
    )  # fmt: skip


class _Permutation:
    """i ↦ (a·i + b) mod n: a bijection on [0, n) that scatters consecutive ids, so unique ids give unique values."""

    def __init__(self, n: int, rng: random.Random):
        self.n = n
        a = rng.randrange(n // 3, n - 1) | 1
        while gcd(a, n) != 1:
            a += 2
        self.a, self.b = a, rng.randrange(n)

    def __call__(self, i: int) -> int:
        return (self.a * i + self.b) % self.n


class _Seen:
    """Collision keys already used (hashed to keep a few million of them small)."""

    def __init__(self):
        self.hashes: set[int] = set()

    def add(self, value: str) -> bool:
        h = hash(value)
        if h in self.hashes:
            return False
        self.hashes.add(h)
        return True


@dataclass
class _City:
    short: str
    province: str
    code: str
    area: str
    districts: list[tuple[str, str]]  # (code, name)


def _cities() -> list[_City]:
    """Every prefecture-level 市 with districts (municipalities under their own name), from the loaded regions."""
    areas = {c[2]: c[3] for cities in data.REGION_CITIES.values() for c in cities}
    provinces = {r.code: r.name for r in Region.objects.filter(level=Region.Level.PROVINCE)}
    districts: dict[str, list[tuple[str, str]]] = {}
    for code, name, parent in Region.objects.filter(level=Region.Level.DISTRICT).values_list(
        "code", "name", "parent_id"
    ):
        if len(code) == 6:
            districts.setdefault(parent, []).append((code, name))
    cities = []
    for city in Region.objects.filter(level=Region.Level.CITY).order_by("code"):
        name = provinces[city.parent_id] if city.name in {"市辖区", "县"} else city.name
        if city.name == "县" or not name.endswith("市") or not districts.get(city.code):
            continue
        cities.append(
            _City(name[:-1], city.parent_id, city.code, areas.get(city.code, ""), districts[city.code])
        )
    if not cities:
        raise RuntimeError("no regions loaded; run `kehu load_regions` first")
    return cities


def _staff() -> tuple[list[tuple[int, int]], list[int], int | None]:
    """(rep id, rep's unit id) for every active sales rep, the team units, and a system admin as creator."""
    reps = list(
        User.objects.filter(is_active=True, memberships__role=Role.SALES_REP).distinct().order_by("id")
    )
    if not reps:
        from kehu.demo.seed import demo_org_create

        demo_org_create()
        return _staff()
    owners = [(rep.pk, primary_unit_of(rep).pk) for rep in reps]
    teams = sorted({unit for _rep, unit in owners})
    admin = Membership.objects.filter(role=Role.SYSTEM_ADMIN).values_list("user_id", flat=True).first()
    return owners, teams, admin


CUSTOMER_COLUMNS = [
    "id", "created_at", "updated_at", "kind", "name", "short_name", "customer_type", "source", "industry", "level",
    "status", "province_id", "city_id", "district_id", "address", "phone", "phone2", "email", "wechat", "website",
    "owner_id", "org_unit_id", "last_followup_at", "next_followup_on", "pooled_at", "pool_reason", "claimed_at",
    "created_by_id", "name_key", "phone_key", "email_key", "pinyin", "pinyin_initials", "search_text",
]  # fmt: skip
CONTACT_COLUMNS = [
    "id", "created_at", "updated_at", "customer_id", "name", "title", "department", "reports_to_id", "mobile",
    "phone", "email", "wechat", "is_primary", "mobile_key", "email_key", "search_text",
]  # fmt: skip


def _pick(random_, seq):
    return seq[int(random_() * len(seq))]


def _expand(pairs) -> list:
    """A weighted choice as a plain list (each value repeated by its weight): one random() per pick."""
    return [value for value, weight in pairs for _ in range(weight)]


_GIVEN = "".join(dict.fromkeys(data.GIVEN_CHARS))
_SURNAMES = _expand(data.SURNAMES)
_SUFFIXES = _expand(data.COMPANY_SUFFIXES)
_TYPES = _expand(data.TYPE_WEIGHTS)
_SOURCES = _expand(data.SOURCE_WEIGHTS)
_LEVELS = _expand(data.LEVEL_WEIGHTS)
_STATUSES = _expand(data.STATUS_WEIGHTS)
_BRANDS = data.BRAND_WORDS
_MOBILE_PREFIXES = data.MOBILE_PREFIXES
_MAILBOXES = ("info", "sales", "service", "contact")
_REASONS = data.POOL_REASONS
_COMPANY, _INDIVIDUAL, _END_USER = "company", "individual", "end_user"


class _Generator:
    def __init__(self, *, seed: int, now: datetime, vendor: str):
        self.rng = random.Random(seed)
        self.now = now
        self.sqlite = vendor == "sqlite"
        self.cities = _cities()
        self.owners, self.teams, self.creator = _staff()
        self.tag_ids = [t.pk for t in tags_get_or_create(names=data.TAGS)] or list(
            Tag.objects.values_list("pk", flat=True)
        )
        self.names, self.phones, self.emails = _Seen(), _Seen(), _Seen()
        keys = Customer.all_objects.values_list("name_key", "phone_key", "email_key")
        for name_key, phone_key, email_key in keys.iterator(chunk_size=20_000):
            self.names.add(name_key)
            self.phones.add(phone_key)
            self.emails.add(email_key)
        self.company_space = len(self.cities) * len(data.BRAND_WORDS) * len(data.INDUSTRIES)
        self.company_perm = _Permutation(self.company_space, self.rng)
        self.mobile_perm = _Permutation(_MOBILE_SPACE, self.rng)
        self.landline_perm = _Permutation(_LANDLINE_SPACE, self.rng)
        self.pinyin: dict[str, str] = {}
        self.span = YEARS_BACK * 365 * 86400
        today = timezone.localdate(now)
        self.days = [today + timedelta(days=d) for d in range(-20, 31)]
        if self.sqlite:
            self.days = [str(d) for d in self.days]

    # -- values ------------------------------------------------------------------------------------------------

    def ts(self, value: datetime):
        # Django keeps SQLite datetimes as naive UTC text; PostgreSQL takes the aware value.
        return str(value.replace(tzinfo=None)) if self.sqlite else value

    def slug(self, han: str) -> str:
        found = self.pinyin.get(han)
        if found is None:
            forms = pinyin_forms(han)
            found = self.pinyin[han] = forms[0][0].replace("ü", "v") if forms else "user"
        return found

    def mobile(self, seq: int) -> str:
        n = self.mobile_perm(seq % _MOBILE_SPACE)
        return _MOBILE_PREFIXES[n // 10**8] + f"{n % 10**8:08d}"

    def person(self) -> str:
        r = self.rng.random
        name = _pick(r, _SURNAMES) + _pick(r, _GIVEN)
        return name if r() < 0.3 else name + _pick(r, _GIVEN)

    def unique_person(self) -> str:
        for attempt in range(12):
            name = self.person()
            if attempt >= 6:
                name += _pick(self.rng.random, _GIVEN)
            if self.names.add(name):
                return name
        base, n = self.person(), 2
        while not self.names.add(f"{base}{n}"):
            n += 1
        return f"{base}{n}"

    # -- rows --------------------------------------------------------------------------------------------------

    def batch(self, ids) -> tuple[list[tuple], list[tuple[int, list[tuple]]], list[tuple[int, int]]]:
        """Customer rows, (customer id, contact rows without id and reports-to) and (customer id, tag id)."""
        customers, contacts, tags = [], [], []
        r = self.rng.random
        for cid in ids:
            row, company, created, updated, domain = self.customer(cid)
            customers.append(row)
            found = self.contacts(
                cid, company_name=row[4], company=company, created=created, updated=updated, domain=domain
            )
            if found:
                contacts.append((cid, found))
            if r() < TAG_SHARE:
                tags.append((cid, _pick(r, self.tag_ids)))
        return customers, contacts, tags

    def customer(self, cid: int):
        r = self.rng.random
        company = r() >= INDIVIDUAL_SHARE
        row = _Row()
        row.phone2 = ""
        email = wechat = website = industry = domain = ""
        if company:
            k, branch = self.company_perm(cid % self.company_space), cid // self.company_space
            city = self.cities[k % len(self.cities)]
            k //= len(self.cities)
            brand = _BRANDS[k % len(_BRANDS)]
            word, industry, short = data.INDUSTRIES[k // len(_BRANDS)]
            name = f"{city.short}{brand}{word}{_pick(r, _SUFFIXES)}"
            if branch:
                name += (
                    f"{city.districts[branch - 1][1]}分公司"
                    if branch <= len(city.districts)
                    else f"第{branch}分公司"
                )
            while not self.names.add(name):  # only when a hand-made customer already has this name
                name += "分部"
            row.name, row.short_name = name, f"{brand}{short}"
            if city.area:
                n = self.landline_perm(cid % _LANDLINE_SPACE)
                phone = f"{city.area}-{2 + n % 7}{n // 7:07d}"
            else:
                phone = self.mobile(2 * cid)
            domain = f"{self.slug(brand)}{self.slug(short)}.com"
            if r() < 0.5:
                email = f"{_pick(r, _MAILBOXES)}{cid}@{domain}"
            if r() < 0.4:
                website = f"https://www.{self.slug(brand)}{self.slug(short)}{cid}.com"
            kind, ctype = _COMPANY, _pick(r, _TYPES)
        else:
            city = _pick(r, self.cities)
            name = self.unique_person()
            row.name, row.short_name = name, ""
            phone = self.mobile(2 * cid)
            if r() < 0.6:
                email = f"{self.slug(name)}{cid}@{_pick(r, data.PERSONAL_MAIL_DOMAINS)}"
            if r() < 0.5:
                wechat = f"wx_{self.slug(name)}{cid % 100000}"
            kind, ctype = _INDIVIDUAL, _END_USER
        attempt = 0
        while not self.phones.add(phone.replace("-", "")):  # taken by a hand-made customer: draw another
            attempt += 1
            phone = self.mobile(2 * (cid + attempt * 10**9))
        if email and not self.emails.add(email):
            email = ""
        row.phone, row.email = phone, email
        customer_derive(row)
        district_code, district_name = _pick(r, city.districts)
        created = self.now - timedelta(seconds=self.span * r() ** 1.3)
        updated = created + (self.now - created) * r()
        if r() < POOL_SHARE:
            owner, unit, pooled_at, reason, claimed = (
                None,
                _pick(r, self.teams),
                updated,
                _pick(r, _REASONS),
                None,
            )
        else:
            (owner, unit), pooled_at, reason, claimed = _pick(r, self.owners), None, "", created
        last_followup = created + (updated - created) * r() if r() < 0.7 else None
        next_followup = self.days[int(r() * len(self.days))] if r() < 0.3 else None
        ts = self.ts
        customer = (
            cid, ts(created), ts(updated), kind, row.name, row.short_name, ctype, _pick(r, _SOURCES), industry,
            _pick(r, _LEVELS), _pick(r, _STATUSES), city.province, city.code, district_code,
            f"{district_name}{_pick(r, data.ROADS)}{int(r() * 998) + 1}号", phone, "", email, wechat, website,
            owner, unit, ts(last_followup) if last_followup else None, next_followup,
            ts(pooled_at) if pooled_at else None, reason, ts(claimed) if claimed else None,
            self.creator, row.name_key, row.phone_key, row.email_key, row.pinyin, row.pinyin_initials, row.search_text,
        )  # fmt: skip
        return customer, company, created, updated, domain

    def contacts(
        self, cid: int, *, company_name: str, company: bool, created, updated, domain: str
    ) -> list[tuple]:
        r = self.rng.random
        if company:
            x = r()
            count = 1 if x < 0.4 else 2 if x < 0.8 else 3
        elif r() < 0.3:
            count = 1
        else:
            return []
        found = []
        for level in range(count):
            title, department = _pick(r, data.CONTACT_TITLES[level]) if company else ("家属", "")
            row = _Row()
            row.name = self.person()
            row.phone = ""
            # Contacts take the odd slots of the mobile permutation, customers the even ones.
            row.mobile = self.mobile(2 * (4 * cid + level) + 1)
            row.email = f"{self.slug(row.name)}.{cid}{level}@{domain}" if domain and r() < 0.5 else ""
            contact_derive(row, company=company_name)
            stamp = self.ts(created + (updated - created) * r() * 0.2)
            found.append(
                (
                    stamp,
                    stamp,
                    cid,
                    row.name,
                    title,
                    department,
                    row.mobile,
                    "",
                    row.email,
                    "",
                    level == 0,
                    row.mobile_key,
                    row.email_key,
                    row.search_text,
                )
            )
        return found


def _contact_rows(pending: list[tuple[int, list[tuple]]], ids: list[int]) -> list[tuple]:
    """Give the batch's contacts their ids; each reports to the contact above it."""
    rows, it = [], iter(ids)
    for _cid, contacts in pending:
        boss = None
        for c in contacts:
            pk = next(it)
            rows.append((pk, c[0], c[1], c[2], c[3], c[4], c[5], boss, *c[6:]))
            boss = pk
    return rows


class _Writer:
    def __init__(self):
        self.vendor = connection.vendor
        self.customer_extra, self.customer_defaults = column_defaults(Customer, CUSTOMER_COLUMNS)
        self.contact_extra, self.contact_defaults = column_defaults(Contact, CONTACT_COLUMNS)
        self.fts_triggers_off_for: set[str] = set()

    def tune_transaction(self) -> None:
        if self.vendor == "postgresql":
            # Check foreign keys row by row as COPY goes, rather than queueing millions of deferred checks
            # (Django's are DEFERRABLE INITIALLY DEFERRED), which also lets CREATE INDEX run in this transaction.
            self._execute(["SET LOCAL synchronous_commit = off", "SET CONSTRAINTS ALL IMMEDIATE"])

    def reserve(self, model, count: int):
        """Ids for `count` new rows: from the sequence on PostgreSQL, after max(id) on SQLite."""
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [model._meta.db_table, count],
                )
                return [r[0] for r in cursor.fetchall()]
        start = (model._base_manager.aggregate(m=Max("id"))["m"] or 0) + 1
        return range(start, start + count)

    def write(self, table: str, columns: list[str], rows: list[tuple], defaults: tuple = ()) -> None:
        if not rows:
            return
        raw = connection.connection
        names = ", ".join(columns)
        if self.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + defaults)
        else:
            marks = ", ".join("?" * len(columns))
            cursor = raw.cursor()
            try:
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",
                    (row + defaults for row in rows) if defaults else rows,
                )
            finally:
                cursor.close()

    @contextmanager
    def fts_triggers_off(self, models):
        """SQLite: drop the full-text insert triggers while rows go in; `fts_index()` indexes each batch in one
        INSERT ... SELECT instead (one trigger call per row is several times slower). The triggers come back
        from their stored definitions inside the same transaction, so a failure rolls both back."""
        if self.vendor != "sqlite":
            yield
            return
        assert connection.in_atomic_block, "fts_triggers_off needs the load's transaction"
        saved = []
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                    [f"{model._meta.db_table}_fts_ai"],
                )
                saved.extend(cursor.fetchall())
        self.fts_triggers_off_for = {f"{m._meta.db_table}_fts_ai" for m in models} & {
            name for name, _sql in saved
        }
        self._execute([f"DROP TRIGGER {name}" for name, _sql in saved])
        yield
        self._execute([sql for _name, sql in saved])
        self.fts_triggers_off_for = set()

    def fts_index(self, model, first_id: int, last_id: int) -> None:
        """Add rows first_id..last_id to the model's full-text table (while its insert trigger is off)."""
        table = model._meta.db_table
        if f"{table}_fts_ai" not in self.fts_triggers_off_for:
            return
        fts_add(table, first_id, last_id)

    @contextmanager
    def indexes_suspended(self, models):
        """Drop the tables' secondary indexes, load, then build each again in one pass: far faster than
        millions of random index inserts. Runs inside the load's single transaction, so a failure brings
        the indexes back with everything else. Indexes behind constraints (primary keys, unique) stay."""
        assert connection.in_atomic_block, "indexes_suspended needs the load's transaction"
        saved = []
        with connection.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                if self.vendor == "postgresql":
                    cursor.execute(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                        "AND tablename = %s AND indexname NOT IN "
                        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                        [table, table],
                    )
                else:
                    cursor.execute(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                        "AND sql IS NOT NULL",
                        [table],
                    )
                saved.extend(cursor.fetchall())
        quote = connection.ops.quote_name
        self._execute([f"DROP INDEX {quote(name)}" for name, _sql in saved])
        yield
        if self.vendor == "postgresql":
            self._execute(["SET LOCAL maintenance_work_mem = '1GB'"])
        self._execute([sql for _name, sql in saved])

    def _execute(self, statements: list[str]) -> None:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def customers(self, rows):
        self.write(
            Customer._meta.db_table, CUSTOMER_COLUMNS + self.customer_extra, rows, self.customer_defaults
        )

    def contacts(self, rows):
        self.write(Contact._meta.db_table, CONTACT_COLUMNS + self.contact_extra, rows, self.contact_defaults)

    def tags(self, rows):
        self.write(Customer.tags.through._meta.db_table, ["customer_id", "tag_id"], rows)


def _produce(gen: _Generator, ids, batch: int, queue) -> None:
    """The generator side of the pipeline (a forked process): batches of rows onto the queue, then None."""
    try:
        for i in range(0, len(ids), batch):
            chunk = ids[i : i + batch]
            queue.put((chunk, *gen.batch(chunk)))
        queue.put(None)
    except BaseException:
        queue.put(("error", traceback.format_exc()))
        raise


def _pipeline(gen: _Generator, ids, batch: int):
    """Batches generated in a forked process, so generation (Python) and writing (database) overlap on two
    cores. The order and content are exactly what the same generator yields in-process. The process starts
    now, before any transaction is opened: the database connection is closed first so the child shares no
    open handle."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=2)
    connection.close()
    process = context.Process(target=_produce, args=(gen, ids, batch, queue), daemon=True)
    process.start()
    return _drain(queue, process)


def _drain(queue, process):
    try:
        while True:
            try:
                item = queue.get(timeout=5)
            except Empty:
                if not process.is_alive():
                    raise RuntimeError("the bulk generator process died") from None
                continue
            if item is None:
                break
            if item[0] == "error":
                raise RuntimeError(f"the bulk generator failed:\n{item[1]}")
            yield item
    finally:
        if process.is_alive():
            process.terminate()
        process.join()


def _inline(gen: _Generator, ids, batch: int):
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        yield (chunk, *gen.batch(chunk))


def bulk_generate(
    *,
    count: int,
    seed: int = SEED,
    batch: int = BATCH,
    analyze: bool = True,
    parallel: bool | None = None,
    rebuild_indexes: bool | None = None,
    progress=None,
) -> BulkResult:
    """Add `count` customers (and their contacts) to whatever the database holds. Deterministic for a given
    seed and starting id; dates are relative to now.

    `parallel` (default: from 20,000 rows, outside a transaction) generates rows in a forked process while
    this one writes. `rebuild_indexes` (default: when adding at least 20,000 rows and at least half of
    what the table holds) loads everything in one transaction with the secondary indexes dropped and
    rebuilt at the end; otherwise each batch commits on its own with the indexes kept up to date."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    connection.ensure_connection()
    writer = _Writer()
    gen = _Generator(seed=seed, now=timezone.now().astimezone(UTC), vendor=writer.vendor)
    existing = Customer.all_objects.count()
    if rebuild_indexes is None:
        rebuild_indexes = count >= max(20_000, existing // 2)
    if parallel is None:
        parallel = count >= 20_000 and hasattr(os, "fork")
    parallel = parallel and not connection.in_atomic_block
    ids = writer.reserve(Customer, count)
    say(
        f"prepared in {time.perf_counter() - started:.1f}s: {len(gen.cities)} cities, {len(gen.owners)} reps, "
        f"{existing:,} customers already, new ids {ids[0]}..{ids[-1]}"
        f"{'; generating in a second process' if parallel else ''}"
        f"{'; indexes rebuilt at the end' if rebuild_indexes else ''}"
    )
    batches = _pipeline(gen, ids, batch) if parallel else _inline(gen, ids, batch)
    progress_state = {"customers": 0, "contacts": 0}

    def write(chunk, customers, pending, tags) -> None:
        writer.customers(customers)
        writer.fts_index(Customer, chunk[0], chunk[-1])
        contact_ids = writer.reserve(Contact, sum(len(c) for _cid, c in pending))
        contact_rows = _contact_rows(pending, contact_ids)
        writer.contacts(contact_rows)
        if contact_ids:
            writer.fts_index(Contact, contact_ids[0], contact_ids[-1])
        writer.tags(tags)
        progress_state["customers"] += len(chunk)
        progress_state["contacts"] += len(contact_rows)
        elapsed = time.perf_counter() - started
        done = progress_state["customers"]
        say(
            f"{done:>9,} customers, {progress_state['contacts']:>9,} contacts  {elapsed:6.1f}s  "
            f"({done / elapsed:,.0f}/s)"
        )

    tables = [Customer, Contact, CustomerTag]
    if rebuild_indexes:
        with transaction.atomic(), writer.fts_triggers_off(tables):
            writer.tune_transaction()
            with writer.indexes_suspended(tables):
                for item in batches:
                    write(*item)
                say(f"rebuilding indexes at {time.perf_counter() - started:.1f}s")
    else:
        for item in batches:
            with transaction.atomic(), writer.fts_triggers_off(tables):
                writer.tune_transaction()
                write(*item)
    if analyze:
        analyze_tables()
        say(f"analyzed at {time.perf_counter() - started:.1f}s")
    return BulkResult(
        customers=progress_state["customers"],
        contacts=progress_state["contacts"],
        seconds=time.perf_counter() - started,
        first_id=ids[0],
        last_id=ids[-1],
    )


def analyze_tables() -> None:
    """Fresh planner statistics after a bulk load (VACUUM too on PostgreSQL, outside a transaction)."""
    tables = [Customer._meta.db_table, Contact._meta.db_table, Customer.tags.through._meta.db_table]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            for table in tables:
                cursor.execute(f"{verb} {table}")
        else:
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
