"""Bulk demo data for benchmarks: N customers with ~1.5 contacts each, written without the ORM.

Every derived column is computed by the services' own `customer_derive` / `contact_derive`, so rows are
indistinguishable from rows created one by one (same collision keys, pinyin and search tokens). Names,
mobiles and e-mails are unique: company names and phone numbers come from a permutation of the row id
(so they never repeat within a run or across runs), and each is also checked against what the database
already holds. Rows go in with `executemany` in large transactions on SQLite (the FTS5 triggers index them)
and with `COPY` on PostgreSQL; ANALYZE runs at the end. No audit history is written: this is generated data.

Run with no other writers: on SQLite ids are taken from max(id) inside the write transaction.
"""

import random
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import gcd

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from kehu.core.models import Region
from kehu.core.search import pinyin_forms
from kehu.customers.models import Contact, Customer, Tag
from kehu.customers.services import contact_derive, customer_derive, tags_get_or_create
from kehu.demo import data
from kehu.users.models import Membership, OrgUnit, Role, User
from kehu.users.services import primary_unit_of

SEED = 2026
BATCH = 25_000
YEARS_BACK = 3
POOL_SHARE = 0.08
INDIVIDUAL_SHARE = 0.2
TAG_SHARE = 0.25

_GIVEN = "".join(dict.fromkeys(data.GIVEN_CHARS))
_SURNAMES, _SURNAME_WEIGHTS = zip(*data.SURNAMES, strict=True)
_SUFFIXES, _SUFFIX_WEIGHTS = zip(*data.COMPANY_SUFFIXES, strict=True)
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
        "name", "short_name", "phone", "phone2", "email", "mobile",
        "name_key", "phone_key", "email_key", "mobile_key", "pinyin", "pinyin_initials", "search_text",
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
    for code, name, parent in Region.objects.filter(level=Region.Level.DISTRICT).values_list("code", "name", "parent_id"):
        if len(code) == 6:
            districts.setdefault(parent, []).append((code, name))
    cities = []
    for city in Region.objects.filter(level=Region.Level.CITY).order_by("code"):
        name = provinces[city.parent_id] if city.name in {"市辖区", "县"} else city.name
        if city.name == "县" or not name.endswith("市") or not districts.get(city.code):
            continue
        cities.append(_City(name[:-1], city.parent_id, city.code, areas.get(city.code, ""), districts[city.code]))
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


def _defaults(model, supplied: list[str]) -> tuple[list[str], tuple]:
    """The model's other columns and the value each gets (its default, NULL or empty), prepared for the database."""
    columns, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in supplied:
            continue
        if f.has_default():
            value = f.get_db_prep_save(f.get_default(), connection)
        elif f.null:
            value = None
        else:
            value = ""
        columns.append(f.column)
        values.append(value)
    return columns, tuple(values)


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


class _Generator:
    def __init__(self, *, seed: int, now: datetime, vendor: str):
        self.rng = random.Random(seed)
        self.now = now
        self.sqlite = vendor == "sqlite"
        self.cities = _cities()
        self.owners, self.teams, self.creator = _staff()
        self.tag_ids = [t.pk for t in tags_get_or_create(names=data.TAGS)] or list(Tag.objects.values_list("pk", flat=True))
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
        return data.MOBILE_PREFIXES[n // 10**8] + f"{n % 10**8:08d}"

    def person(self) -> str:
        rng = self.rng
        surname = rng.choices(_SURNAMES, _SURNAME_WEIGHTS)[0]
        if rng.random() < 0.3:
            return surname + rng.choice(_GIVEN)
        return surname + rng.choice(_GIVEN) + rng.choice(_GIVEN)

    def unique_person(self) -> str:
        for attempt in range(12):
            name = self.person()
            if attempt >= 6:
                name += self.rng.choice(_GIVEN)
            if self.names.add(name):
                return name
        base = self.person()
        n = 2
        while not self.names.add(f"{base}{n}"):
            n += 1
        return f"{base}{n}"

    # -- rows --------------------------------------------------------------------------------------------------

    def customer(self, cid: int) -> tuple[tuple, list[tuple], int | None]:
        rng = self.rng
        company = rng.random() >= INDIVIDUAL_SHARE
        row = _Row()
        row.phone2 = ""
        email = wechat = website = industry = ""
        if company:
            k, branch = self.company_perm(cid % self.company_space), cid // self.company_space
            city = self.cities[k % len(self.cities)]
            k //= len(self.cities)
            brand = data.BRAND_WORDS[k % len(data.BRAND_WORDS)]
            word, industry, short = data.INDUSTRIES[k // len(data.BRAND_WORDS)]
            name = f"{city.short}{brand}{word}{rng.choices(_SUFFIXES, _SUFFIX_WEIGHTS)[0]}"
            if branch:
                name += f"{city.districts[branch - 1][1]}分公司" if branch <= len(city.districts) else f"第{branch}分公司"
            while not self.names.add(name):  # only when a hand-made customer already has this name
                name += "分部"
            row.name, row.short_name = name, f"{brand}{short}"
            if city.area:
                n = self.landline_perm(cid % _LANDLINE_SPACE)
                phone = f"{city.area}-{2 + n % 7}{n // 7:07d}"
            else:
                phone = self.mobile(2 * cid)
            if rng.random() < 0.5:
                domain = f"{self.slug(brand)}{self.slug(short)}.com"
                email = f"{rng.choice(('info', 'sales', 'service', 'contact'))}{cid}@{domain}"
            if rng.random() < 0.4:
                website = f"https://www.{self.slug(brand)}{self.slug(short)}{cid}.com"
            kind, ctype = Customer.Kind.COMPANY.value, rng.choices(*zip(*data.TYPE_WEIGHTS, strict=True))[0]
        else:
            city = self.cities[int(rng.random() * len(self.cities))]
            name = self.unique_person()
            row.name, row.short_name = name, ""
            phone = self.mobile(2 * cid)
            if rng.random() < 0.6:
                email = f"{self.slug(name)}{cid}@{rng.choice(data.PERSONAL_MAIL_DOMAINS)}"
            if rng.random() < 0.5:
                wechat = f"wx_{self.slug(name)}{cid % 100000}"
            kind, ctype = Customer.Kind.INDIVIDUAL.value, Customer.Type.END_USER.value
        attempt = 0
        while not self.phones.add(phone.replace("-", "")):  # taken by a hand-made customer: draw another
            attempt += 1
            phone = self.mobile(2 * cid + attempt * 2 * 10**9 + 1)
        if email and not self.emails.add(email):
            email = ""
        row.phone, row.email = phone, email
        customer_derive(row)
        district_code, district_name = city.districts[int(rng.random() * len(city.districts))]
        created = self.now - timedelta(seconds=self.span * rng.random() ** 1.3)
        updated = created + (self.now - created) * rng.random()
        pooled = rng.random() < POOL_SHARE
        if pooled:
            owner = None
            unit = self.teams[int(rng.random() * len(self.teams))]
        else:
            owner, unit = self.owners[int(rng.random() * len(self.owners))]
        last_followup = created + (updated - created) * rng.random() if rng.random() < 0.7 else None
        next_followup = (self.now + timedelta(days=rng.randint(-20, 30))).date() if rng.random() < 0.3 else None
        customer = (
            cid, self.ts(created), self.ts(updated), kind, row.name, row.short_name, ctype,
            rng.choices(*zip(*data.SOURCE_WEIGHTS, strict=True))[0], industry,
            rng.choices(*zip(*data.LEVEL_WEIGHTS, strict=True))[0],
            rng.choices(*zip(*data.STATUS_WEIGHTS, strict=True))[0],
            city.province, city.code, district_code,
            f"{district_name}{rng.choice(data.ROADS)}{rng.randrange(1, 999)}号",
            phone, "", email, wechat, website, owner, unit,
            self.ts(last_followup) if last_followup else None,
            str(next_followup) if (next_followup and self.sqlite) else next_followup,
            self.ts(updated) if pooled else None,
            rng.choice(data.POOL_REASONS) if pooled else "",
            None if pooled else self.ts(created),
            self.creator, row.name_key, row.phone_key, row.email_key, row.pinyin, row.pinyin_initials, row.search_text,
        )  # fmt: skip
        tag = self.tag_ids[int(rng.random() * len(self.tag_ids))] if rng.random() < TAG_SHARE else None
        contacts = self.contacts(cid, company=company, created=created, updated=updated, domain=email.partition("@")[2])
        return customer, contacts, tag

    def contacts(self, cid, *, company: bool, created, updated, domain: str) -> list[dict]:
        rng = self.rng
        if company:
            r = rng.random()
            count = 1 if r < 0.4 else 2 if r < 0.8 else 3
        else:
            count = 1 if rng.random() < 0.3 else 0
        found = []
        for level in range(count):
            title, department = rng.choice(data.CONTACT_TITLES[level]) if company else ("家属", "")
            row = _Row()
            row.name = self.person()
            row.mobile, row.phone = "", ""
            row.email = f"{self.slug(row.name)}.{cid}{level}@{domain}" if domain and rng.random() < 0.5 else ""
            found.append(
                {
                    "row": row, "title": title, "department": department, "primary": level == 0,
                    "created": created + (updated - created) * rng.random() * 0.2,
                }
            )  # fmt: skip
        return found


def _finish_contacts(gen: _Generator, pending: list[tuple[int, list[dict]]], ids: list[int]) -> list[tuple]:
    """Give the batch's contacts their ids (reports-to points at the contact above) and derive them."""
    rows, it = [], iter(ids)
    for cid, contacts in pending:
        boss = None
        for contact in contacts:
            pk = next(it)
            row = contact["row"]
            row.mobile = gen.mobile(2 * pk + 1)
            contact_derive(row)
            created = gen.ts(contact["created"])
            rows.append(
                (
                    pk, created, created, cid, row.name, contact["title"], contact["department"], boss, row.mobile,
                    "", row.email, "", contact["primary"], row.mobile_key, row.email_key, row.search_text,
                )
            )
            boss = pk
    return rows


class _Writer:
    def __init__(self):
        self.vendor = connection.vendor
        self.customer_extra, self.customer_defaults = _defaults(Customer, CUSTOMER_COLUMNS)
        self.contact_extra, self.contact_defaults = _defaults(Contact, CONTACT_COLUMNS)

    def reserve(self, model, count: int) -> list[int]:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
                )
                return [r[0] for r in cursor.fetchall()]
        start = (model._base_manager.aggregate(m=Max("id"))["m"] or 0) + 1
        return list(range(start, start + count))

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
    def fts_deferred(self, model, first_id: int):
        """SQLite: index the batch's rows in one INSERT ... SELECT instead of one trigger call per row.

        The insert trigger is dropped and re-created (from its stored definition) inside the batch's own
        transaction, so a failure rolls both back and the full-text index never misses a row."""
        if self.vendor != "sqlite":
            yield
            return
        table = model._meta.db_table
        trigger = f"{table}_fts_ai"
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [trigger])
            found = cursor.fetchone()
            if found is None:  # no full-text table on this database: nothing to keep in step
                yield
                return
            cursor.execute(f"DROP TRIGGER {trigger}")
            yield
            cursor.execute(
                f"INSERT INTO {table}_fts(rowid, search_text) SELECT id, search_text FROM {table} WHERE id >= %s",
                [first_id],
            )
            cursor.execute(found[0])

    def customers(self, rows):
        self.write(
            Customer._meta.db_table, CUSTOMER_COLUMNS + self.customer_extra, rows, self.customer_defaults
        )

    def contacts(self, rows):
        self.write(Contact._meta.db_table, CONTACT_COLUMNS + self.contact_extra, rows, self.contact_defaults)

    def tags(self, rows):
        self.write(Customer.tags.through._meta.db_table, ["customer_id", "tag_id"], rows)


def bulk_generate(*, count: int, seed: int = SEED, batch: int = BATCH, analyze: bool = True, progress=None) -> BulkResult:
    """Add `count` customers (and their contacts) to whatever the database holds. Deterministic for a given
    seed and starting id; dates are relative to now."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    connection.ensure_connection()
    writer = _Writer()
    gen = _Generator(seed=seed, now=timezone.now().astimezone(UTC), vendor=writer.vendor)
    say(f"prepared in {time.perf_counter() - started:.1f}s ({len(gen.cities)} cities, {len(gen.owners)} reps)")
    done = contacts_done = 0
    first_id = last_id = 0
    while done < count:
        size = min(batch, count - done)
        with transaction.atomic():
            if writer.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            ids = writer.reserve(Customer, size)
            first_id = first_id or ids[0]
            last_id = ids[-1]
            customers, pending, tags = [], [], []
            for cid in ids:
                row, contacts, tag = gen.customer(cid)
                customers.append(row)
                if contacts:
                    pending.append((cid, contacts))
                if tag:
                    tags.append((cid, tag))
            with writer.fts_deferred(Customer, ids[0]):
                writer.customers(customers)
            contact_ids = writer.reserve(Contact, sum(len(c) for _cid, c in pending))
            contact_rows = _finish_contacts(gen, pending, contact_ids)
            if contact_ids:
                with writer.fts_deferred(Contact, contact_ids[0]):
                    writer.contacts(contact_rows)
            writer.tags(tags)
        done += size
        contacts_done += len(contact_rows)
        elapsed = time.perf_counter() - started
        say(f"{done:>9,} customers, {contacts_done:>9,} contacts  {elapsed:6.1f}s  ({done / elapsed:,.0f}/s)")
    if analyze:
        analyze_tables()
        say(f"analyzed at {time.perf_counter() - started:.1f}s")
    return BulkResult(
        customers=done,
        contacts=contacts_done,
        seconds=time.perf_counter() - started,
        first_id=first_id,
        last_id=last_id,
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
