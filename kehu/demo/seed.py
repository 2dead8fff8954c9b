"""The demo company: a deterministic, realistic small sales organisation built through the real services.

`demo_seed()` creates the org tree, staff, ~360 customers with contacts, a follow-up history over the past
90 days, open tasks and a public pool, exactly as users would through the services (so every rule applies).
Dates are relative to now, so "due today" and "overdue" stay true whenever it runs; everything else comes
from one fixed random seed.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from pypinyin import lazy_pinyin

from kehu.activities.models import TimelineEntry
from kehu.activities.services import task_complete, task_create, timeline_entry_create
from kehu.analytics.services import scores_recompute
from kehu.core.models import Region
from kehu.core.text import normalise_email, normalise_name, normalise_phone
from kehu.customers.models import Contact, Customer, PoolRule
from kehu.customers.services import contact_create, customer_create, customer_release, customer_share
from kehu.demo import data
from kehu.demo.deals import deals_for
from kehu.demo.leads import leads_for
from kehu.demo.marketing import marketing_for
from kehu.demo.products import products_for
from kehu.demo.service import service_desk_for
from kehu.demo.shop import shop_for
from kehu.loyalty.demo import loyalty_seed_demo
from kehu.sales.models import (
    BuyerIdentity,
    Contract,
    ExchangeRate,
    Lead,
    Opportunity,
    OpportunityContact,
    Order,
    Pipeline,
    Stage,
    StageChange,
)
from kehu.sales.rollups import rollups_rebuild
from kehu.sales.services.opportunities import opportunity_create, opportunity_move, pipeline_create
from kehu.surveys.demo import surveys_seed_demo
from kehu.users.models import Membership, OrgUnit, Role, User
from kehu.users.services import membership_set, org_unit_create, user_create

DEMO_PASSWORD = "kehu-demo-2026"  # noqa: S105 - documented demo login, printed by the command
DEMO_URL = "http://127.0.0.1:8000/"
SEED = 2026
ADMIN_USERNAME = "admin"

COMPANIES = 300
INDIVIDUALS = 60
POOLED = 30

# (username, display name, unit name, role); unit names refer to data.ORG.
STAFF = [
    ("admin", "系统管理员", "客户科技集团", Role.SYSTEM_ADMIN),
    ("analyst", "孙晓雯", "客户科技集团", Role.ANALYST),
    ("manager_east", "王建国", "华东大区", Role.MANAGER),
    ("manager_north", "李志强", "华北大区", Role.MANAGER),
    ("manager_south", "陈美玲", "华南大区", Role.MANAGER),
    ("rep_sh1", "张伟", "上海一组", Role.SALES_REP),
    ("rep_sh2", "刘洋", "上海一组", Role.SALES_REP),
    ("rep_sh3", "曾晓峰", "上海一组", Role.SALES_REP),
    ("rep_hz1", "周婷", "杭州一组", Role.SALES_REP),
    ("rep_hz2", "吴俊杰", "杭州一组", Role.SALES_REP),
    ("rep_bj1", "赵磊", "北京一组", Role.SALES_REP),
    ("rep_bj2", "孙丽", "北京一组", Role.SALES_REP),
    ("rep_bj3", "单宇航", "北京一组", Role.SALES_REP),
    ("rep_tj1", "马超", "天津一组", Role.SALES_REP),
    ("rep_tj2", "胡静", "天津一组", Role.SALES_REP),
    ("rep_gz1", "黄嘉欣", "广州一组", Role.SALES_REP),
    ("rep_gz2", "林志明", "广州一组", Role.SALES_REP),
    ("rep_gz3", "区家豪", "广州一组", Role.SALES_REP),
    ("rep_sz1", "郑晓东", "深圳一组", Role.SALES_REP),
    ("rep_sz2", "谢雨晴", "深圳一组", Role.SALES_REP),
    ("agent", "何小燕", "上海一组", Role.SERVICE_AGENT),
]
# The logins printed at the end: one of each kind a tester needs.
SHOWN_LOGINS = ["admin", "manager_east", "rep_sh1", "rep_sh2", "agent", "analyst"]


@dataclass
class DemoOrg:
    company: OrgUnit
    units: dict[str, OrgUnit]
    users: dict[str, User]
    reps_by_region: dict[str, list[User]] = field(default_factory=dict)
    manager_of_region: dict[str, User] = field(default_factory=dict)


def weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


class Uniques:
    """Collision keys already taken (the services refuse a second customer with the same name/phone/e-mail)."""

    def __init__(self):
        self.names: set[str] = set()
        self.phones: set[str] = set()
        self.emails: set[str] = set()

    def take(self, bucket: set, key: str) -> bool:
        if not key or key in bucket:
            return False
        bucket.add(key)
        return True


# --- people ---------------------------------------------------------------------------------------------------------

_GIVEN = "".join(dict.fromkeys(data.GIVEN_CHARS))


def person_name(rng: random.Random) -> str:
    surname = weighted(rng, data.SURNAMES)
    given = rng.choice(_GIVEN) if rng.random() < 0.35 else rng.choice(_GIVEN) + rng.choice(_GIVEN)
    return surname + given


def mobile(rng: random.Random) -> str:
    return rng.choice(data.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def pinyin_slug(text: str) -> str:
    return "".join(lazy_pinyin(text)).replace("ü", "v")


def personal_email(rng: random.Random, name: str) -> str:
    local = pinyin_slug(name)
    style = rng.random()
    if style < 0.4:
        local = f"{local}{rng.randrange(1970, 2006)}"
    elif style < 0.7:
        local = f"{local}{rng.randrange(10, 999)}"
    elif style < 0.85:
        return f"{rng.randrange(10**7, 10**10)}@qq.com"  # a QQ number
    return f"{local}@{rng.choice(data.PERSONAL_MAIL_DOMAINS)}"


# --- org -----------------------------------------------------------------------------------------------------------


@transaction.atomic
def demo_org_create() -> DemoOrg:
    """The company → 3 regions → 6 teams tree and its staff (all with the demo password)."""
    company = org_unit_create(name=data.ORG["company"], kind=OrgUnit.Kind.COMPANY)
    units = {company.name: company}
    for region_name, teams in data.ORG["regions"].items():
        region = org_unit_create(name=region_name, kind=OrgUnit.Kind.REGION, parent=company)
        units[region_name] = region
        for team_name in teams:
            units[team_name] = org_unit_create(name=team_name, kind=OrgUnit.Kind.TEAM, parent=region)
    users = {}
    for username, display_name, unit_name, role in STAFF:
        user = user_create(
            username=username,
            password=DEMO_PASSWORD if not users else None,
            display_name=display_name,
            email=f"{username}@kehu-demo.example.com",
            is_superuser=role == Role.SYSTEM_ADMIN,
        )
        membership_set(actor=None, user=user, unit=units[unit_name], role=role)
        users[username] = user
    # Argon2 takes ~0.2 s per hash by design; everyone shares one password, so they share one salted hash.
    shared_hash = users[STAFF[0][0]].password
    User.objects.filter(pk__in=[u.pk for u in users.values()]).update(password=shared_hash)
    for user in users.values():
        user.password = shared_hash
    PoolRule.objects.create(unit=company, owner_cap=200, recycle_after_days=30)
    return _org_view(company, units, users)


def _org_view(company: OrgUnit, units: dict[str, OrgUnit], users: dict[str, User]) -> DemoOrg:
    org = DemoOrg(company=company, units=units, users=users)
    for username, _display, unit_name, role in STAFF:
        region = next((r for r, teams in data.ORG["regions"].items() if unit_name in teams), unit_name)
        if role == Role.SALES_REP:
            org.reps_by_region.setdefault(region, []).append(users[username])
        elif role == Role.MANAGER:
            org.manager_of_region[region] = users[username]
    return org


def demo_logins() -> list[dict]:
    """What the command prints: who to log in as, with role and unit, read from the database."""
    memberships = {
        m.user.username: m
        for m in Membership.objects.filter(user__username__in=SHOWN_LOGINS).select_related("user", "unit")
    }
    rows = []
    for username in SHOWN_LOGINS:
        membership = memberships.get(username)
        if membership is None:
            continue
        rows.append(
            {
                "username": username,
                "password": DEMO_PASSWORD,
                "name": str(membership.user),
                "role": membership.get_role_display(),
                "unit": membership.unit.name,
            }
        )
    return rows


# --- customers -----------------------------------------------------------------------------------------------------


class RegionIndex:
    """The districts of each demo city, read once from the loaded regions."""

    def __init__(self):
        cities = [c[2] for cities in data.REGION_CITIES.values() for c in cities]
        self.districts: dict[str, list[Region]] = {}
        for district in Region.objects.filter(parent_id__in=cities, level=Region.Level.DISTRICT).order_by(
            "code"
        ):
            self.districts.setdefault(district.parent_id, []).append(district)
        missing = [c for c in cities if not self.districts.get(c)]
        if missing:
            raise RuntimeError(f"regions not loaded for cities {missing}; run `kehu load_regions` first")


def _address(rng: random.Random, district: Region) -> str:
    road = rng.choice(data.ROADS)
    if rng.random() < 0.6:
        building = f"{rng.choice(data.BRAND_WORDS)}{rng.choice(data.BUILDING_WORDS)}{rng.randrange(2, 30)}楼"
    else:
        building = f"{rng.randrange(1, 12)}幢{rng.randrange(101, 2501)}室"
    return f"{district.name}{road}{rng.randrange(1, 999)}号{building}"


def company_fields(rng: random.Random, uniques: Uniques, city: tuple, districts: list[Region]) -> dict:
    short_city, province, city_code, area = city
    while True:
        brand = rng.choice(data.BRAND_WORDS)
        word, industry, short = rng.choice(data.INDUSTRIES)
        name = f"{short_city}{brand}{word}{weighted(rng, data.COMPANY_SUFFIXES)}"
        if uniques.take(uniques.names, normalise_name(name)):
            break
    while True:
        phone = f"{area}-{rng.randrange(2, 9)}{rng.randrange(10**6, 10**7):07d}"
        if uniques.take(uniques.phones, normalise_phone(phone)):
            break
    domain = f"{pinyin_slug(brand)}{pinyin_slug(short)}.com"
    email = ""
    for local in ("info", "sales", "service", "contact", f"{pinyin_slug(short_city)}.office"):
        if uniques.take(uniques.emails, normalise_email(f"{local}@{domain}")):
            email = f"{local}@{domain}"
            break
    district = rng.choice(districts)
    return {
        "kind": Customer.Kind.COMPANY,
        "name": name,
        "short_name": f"{brand}{short}",
        "customer_type": weighted(rng, data.TYPE_WEIGHTS),
        "source": weighted(rng, data.SOURCE_WEIGHTS),
        "industry": industry,
        "level": weighted(rng, data.LEVEL_WEIGHTS),
        "status": weighted(rng, data.STATUS_WEIGHTS),
        "province": province,
        "city": city_code,
        "district": district.code,
        "address": _address(rng, district),
        "phone": phone,
        "email": email,
        "website": f"https://www.{domain}" if rng.random() < 0.6 else "",
    }


def individual_fields(rng: random.Random, uniques: Uniques, city: tuple, districts: list[Region]) -> dict:
    _short_city, province, city_code, _area = city
    while True:
        name = person_name(rng)
        if uniques.take(uniques.names, normalise_name(name)):
            break
    while True:
        phone = mobile(rng)
        if uniques.take(uniques.phones, normalise_phone(phone)):
            break
    email = ""
    if rng.random() < 0.7:
        for _attempt in range(5):
            candidate = personal_email(rng, name)
            if uniques.take(uniques.emails, normalise_email(candidate)):
                email = candidate
                break
    district = rng.choice(districts)
    return {
        "kind": Customer.Kind.INDIVIDUAL,
        "name": name,
        "customer_type": Customer.Type.END_USER,
        "source": rng.choice(["marketplace", "website", "referral", "advertising"]),
        "level": weighted(rng, data.LEVEL_WEIGHTS),
        "status": weighted(rng, data.STATUS_WEIGHTS[:3]),
        "province": province,
        "city": city_code,
        "district": district.code,
        "address": _address(rng, district),
        "phone": phone,
        "email": email,
        "wechat": rng.choice(data.WECHAT_PREFIXES) + pinyin_slug(name) + str(rng.randrange(10, 9999)),
    }


def contacts_for(rng: random.Random, *, actor: User, customer: Customer) -> list[Contact]:
    """1-3 contacts from the top down, each reporting to the one above."""
    contacts: list[Contact] = []
    for level in range(rng.choice([1, 1, 2, 2, 3])):
        title, department = rng.choice(data.CONTACT_TITLES[level])
        name = person_name(rng)
        contact = contact_create(
            actor=actor,
            customer=customer,
            data={
                "name": name,
                "title": title,
                "department": department,
                "mobile": mobile(rng),
                "phone": customer.phone if level == 0 and rng.random() < 0.5 else "",
                "email": f"{pinyin_slug(name)}@{customer.email.partition('@')[2]}" if customer.email else "",
                "wechat": pinyin_slug(name) + str(rng.randrange(100, 999)) if rng.random() < 0.5 else "",
                "is_primary": level == 0,
                "reports_to": contacts[-1] if contacts else None,
            },
        )
        contacts.append(contact)
    return contacts


def followups(
    rng: random.Random,
    *,
    actor: User,
    customer: Customer,
    contacts: list[Contact],
    now: datetime,
    recent: bool,
) -> datetime | None:
    """1-4 follow-ups over the past 90 days in time order; owned customers get a recent one (so the
    30-day recycle rule does not sweep the demo on its first run). Returns the first follow-up time."""
    count = rng.choice([1, 2, 2, 3, 3, 4])
    offsets = sorted((rng.uniform(0.1, 88) for _ in range(count)), reverse=True)
    if recent:
        offsets[-1] = min(offsets[-1], rng.uniform(0.05, 20))
    else:
        offsets = [max(o, 32) for o in offsets]
    first = None
    for index, days_ago in enumerate(offsets):
        kind = rng.choices(["call", "visit", "note", "meeting", "email"], weights=[40, 20, 20, 10, 10])[0]
        occurred = _working_hours(now - timedelta(days=days_ago), rng, now)
        first = first or occurred
        last = index == len(offsets) - 1
        next_on = None
        if last and recent and rng.random() < 0.6:
            next_on = timezone.localdate(now) + timedelta(days=rng.randint(-5, 14))
        timeline_entry_create(
            actor=actor,
            customer=customer,
            data={
                "kind": kind,
                "occurred_at": occurred,
                "content": rng.choice(data.FOLLOWUPS[kind]),
                "outcome": rng.choice(data.OUTCOMES) if kind in {"call", "visit", "meeting"} else "",
                "contact": rng.choice(contacts) if contacts and rng.random() < 0.7 else None,
                "next_followup_on": next_on,
            },
        )
    return first


def _working_hours(moment: datetime, rng: random.Random, now: datetime) -> datetime:
    local = timezone.localtime(moment)
    hour = rng.randint(9, 17)
    shifted = local.replace(hour=hour, minute=rng.randrange(60), second=0, microsecond=0)
    return shifted if shifted <= now else now - timedelta(minutes=rng.randint(5, 120))


def tasks_for(rng: random.Random, *, org: DemoOrg, owned: list[Customer], now: datetime) -> None:
    """Open tasks: some due today, some overdue, some later, some with reminders; a few done."""
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    picks = rng.sample(owned, min(len(owned), 70))
    for index, customer in enumerate(picks):
        owner = customer.owner
        if index % 7 == 0:
            due_day, hour = today, 18  # due today
        elif index % 7 in (1, 2):
            due_day, hour = today - timedelta(days=rng.randint(1, 10)), rng.randint(9, 17)  # overdue
        else:
            due_day, hour = today + timedelta(days=rng.randint(1, 21)), rng.randint(9, 17)
        due_at = datetime.combine(due_day, time(hour, rng.choice([0, 30])), tzinfo=tz)
        remind_at = None
        if index % 3 == 0:
            remind_at = due_at - timedelta(hours=rng.choice([1, 2, 24]))
        region = next(r for r, reps in org.reps_by_region.items() if owner in reps)
        actor = org.manager_of_region[region] if index % 5 == 0 else owner
        contact = customer.contacts.order_by("id").first()
        task = task_create(
            actor=actor,
            data={
                "title": rng.choice(data.TASKS),
                "description": f"{customer.name}：{rng.choice(data.FOLLOWUPS['note'])}",
                "customer": customer,
                "contact": contact,
                "assignee": owner,
                "due_at": due_at,
                "remind_at": remind_at,
                "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
            },
        )
        if index % 11 == 10:
            task_complete(actor=owner, task=task)


@dataclass
class SeedResult:
    created: bool
    counts: dict[str, int]


def demo_seed(*, progress=None) -> SeedResult:
    """Fill the demo company. Does nothing when the demo admin already exists (idempotent)."""
    if User.objects.filter(username=ADMIN_USERNAME).exists():
        return SeedResult(created=False, counts=demo_counts())
    say = progress or (lambda message: None)
    rng = random.Random(SEED)
    regions = RegionIndex()
    now = timezone.now()
    with transaction.atomic():
        org = demo_org_create()
        say("org")
        uniques = Uniques()
        plan = _plan_customers(rng, org)
        pool_picks = set(rng.sample(range(len(plan)), POOLED))
        created: list[tuple[Customer, datetime | None, User]] = []
        tags_pool = data.TAGS
        for index, (region, kind, city) in enumerate(plan):
            owner = rng.choice(org.reps_by_region[region])
            districts = regions.districts[city[2]]
            fields = (
                company_fields(rng, uniques, city, districts)
                if kind == Customer.Kind.COMPANY
                else individual_fields(rng, uniques, city, districts)
            )
            tags = rng.sample(tags_pool, rng.choice([0, 0, 1, 1, 2]))
            customer = customer_create(actor=owner, data=fields, tags=tags)
            contacts = (
                contacts_for(rng, actor=owner, customer=customer) if kind == Customer.Kind.COMPANY else []
            )
            first = followups(
                rng,
                actor=owner,
                customer=customer,
                contacts=contacts,
                now=now,
                recent=index not in pool_picks,
            )
            created.append((customer, first, owner))
            if index % 60 == 59:
                say(f"customers {index + 1}/{len(plan)}")
        agent = org.users["agent"]
        for customer, _first, owner in created[:12]:
            customer_share(actor=owner, customer=customer, user=agent, can_edit=False)
        pooled = []
        for index in sorted(pool_picks):
            customer, _first, owner = created[index]
            region = next(r for r, reps in org.reps_by_region.items() if owner in reps)
            actor = org.manager_of_region[region] if index % 3 == 0 else owner
            pooled.append(
                customer_release(actor=actor, customer=customer, reason=rng.choice(data.POOL_REASONS))
            )
        say("pool")
        owned = [c for i, (c, _f, _o) in enumerate(created) if i not in pool_picks]
        tasks_for(rng, org=org, owned=owned, now=now)
        say("tasks")
        opportunities_for(rng, owned=owned, now=now)
        say("opportunities")
        products_for(rng, now=now)
        say("products")
        leads_for(rng, org=org, uniques=uniques, now=now)
        say("leads")
        deals_for(rng, org=org, today=timezone.localdate(now))
        say("quotes, contracts, payments")
        service_desk_for(rng, org=org, customers=owned, now=now)
        say("service desk")
        _backdate(rng, created=created, pooled_ids={c.pk for c in pooled}, now=now)
        rollups_rebuild()  # the backdating above wrote closing dates with .update()
    # Import jobs commit batch by batch, so the shop is filled after the rest is in place.
    shop_for(manager=org.manager_of_region["华东大区"], unit=org.units["上海一组"], now=now)
    say("shop")
    loyalty_seed_demo()
    say("loyalty")
    marketing_for(rng, org=org, now=now)
    say("marketing")
    scores_recompute(now=now)
    surveys_seed_demo(now=now)
    say("surveys")
    return SeedResult(created=True, counts=demo_counts())


OPPORTUNITIES = 150


def _renewal_pipeline() -> Pipeline:
    return pipeline_create(
        name="续约",
        name_en="Renewal",
        position=1,
        followup_days=45,
        stages=[
            {"name": "到期提醒", "name_en": "Renewal due", "probability": 40},
            {"name": "续约洽谈", "name_en": "Negotiating", "probability": 70},
            {"name": "已续约", "name_en": "Renewed", "probability": 100, "outcome": "won"},
            {"name": "未续约", "name_en": "Not renewed", "probability": 0, "outcome": "lost"},
        ],
    )


def opportunities_for(rng: random.Random, *, owned: list[Customer], now: datetime) -> None:
    """Opportunities on owned customers, spread over the stages of the default pipeline and a renewal one,
    each walked stage by stage through the services; then their dates are spread over the past months."""
    today = now.date()
    for currency, rate in [("USD", "7.10"), ("EUR", "7.70"), ("HKD", "0.91")]:
        ExchangeRate.objects.create(currency=currency, valid_from=today - timedelta(days=365), rate=rate)
    pipelines = [Pipeline.objects.order_by("position", "id").first(), _renewal_pipeline()]
    for index, customer in enumerate(rng.sample(owned, min(OPPORTUNITIES, len(owned)))):
        owner = customer.owner
        pipeline = pipelines[1] if index % 5 == 0 else pipelines[0]
        stages = list(pipeline.stages.order_by("position"))
        open_stages = [s for s in stages if not s.is_closed]
        target = weighted(rng, [(s, 3 if not s.is_closed else 2) for s in stages])
        contacts = list(customer.contacts.all()[:2])
        data_ = {
            "name": f"{customer.short_name or customer.name[:6]}{rng.choice(data.DEAL_TOPICS)}",
            "customer": customer,
            "amount": rng.choice(data.DEAL_AMOUNTS),
            "currency": "USD" if index % 17 == 0 else "CNY",
            "expected_close_on": today + timedelta(days=rng.randint(-30, 150)),
            "source": rng.choice([s for s in Opportunity.Source.values if s]),
            "next_step": rng.choice(data.NEXT_STEPS),
            "competitors": rng.choice(data.COMPETITORS),
        }
        roles = [OpportunityContact.Role.DECISION_MAKER, OpportunityContact.Role.INFLUENCER]
        opportunity = opportunity_create(
            actor=owner,
            data=data_,
            pipeline=pipeline,
            contacts=list(zip(contacts, roles, strict=False)),
        )
        path = open_stages[1 : open_stages.index(target) + 1] if not target.is_closed else open_stages[1:]
        for stage in [*path, target] if target.is_closed else path:
            lost = (
                {"lost_reason": rng.choice(data.LOST_REASONS)} if stage.outcome == Stage.Outcome.LOST else {}
            )
            opportunity = opportunity_move(actor=owner, opportunity=opportunity, stage=stage, data=lost)
        _backdate_opportunity(rng, opportunity, now=now)


def _backdate_opportunity(rng: random.Random, opportunity: Opportunity, *, now: datetime) -> None:
    """Spread an opportunity's life over the past 5-150 days: opened, then each stage change in turn."""
    start = now - timedelta(days=rng.randint(5, 150), hours=rng.randint(0, 8))
    changes = list(StageChange.objects.filter(opportunity=opportunity).order_by("id"))
    span = (now - timedelta(days=rng.randint(0, 4)) - start) / max(len(changes), 1)
    previous = None
    for position, change in enumerate(changes):
        change.changed_at = start + span * position
        change.seconds_in_from = int((change.changed_at - previous).total_seconds()) if previous else None
        previous = change.changed_at
    StageChange.objects.bulk_update(changes, ["changed_at", "seconds_in_from"])
    Opportunity.objects.filter(pk=opportunity.pk).update(
        created_at=start,
        stage_entered_at=previous,
        closed_at=previous if opportunity.closed_at else None,
    )


def _plan_customers(rng: random.Random, org: DemoOrg) -> list[tuple[str, str, tuple]]:
    """(sales region, kind, city) for every customer, spread evenly over the regions and shuffled."""
    regions = list(data.REGION_CITIES)
    plan = []
    for index in range(COMPANIES + INDIVIDUALS):
        region = regions[index % len(regions)]
        kind = Customer.Kind.COMPANY if index < COMPANIES else Customer.Kind.INDIVIDUAL
        plan.append((region, kind, rng.choice(data.REGION_CITIES[region])))
    rng.shuffle(plan)
    return plan


def _backdate(rng: random.Random, *, created, pooled_ids: set[int], now: datetime) -> None:
    """The services stamp everything "now"; a demo reads better when accounts were opened months ago.
    Moves creation (and the matching system events) before each customer's first follow-up."""
    fresh = Customer.objects.in_bulk([c.pk for c, _f, _o in created])
    system = {
        (e.customer_id, e.event): e
        for e in TimelineEntry.objects.filter(
            kind=TimelineEntry.Kind.SYSTEM, event__in=["created", "released"], customer_id__in=list(fresh)
        )
    }
    customers, contacts, events = [], [], []
    for original, first, _owner in created:
        customer = fresh[original.pk]
        opened = (first or now) - timedelta(days=rng.uniform(1, 400), minutes=rng.randrange(600))
        customer.created_at = opened
        if customer.owner_id:
            customer.claimed_at = opened
        latest = customer.last_followup_at or opened
        if customer.pk in pooled_ids:
            customer.pooled_at = max(latest, now - timedelta(days=rng.uniform(1, 25)))
            latest = customer.pooled_at
            if (customer.pk, "released") in system:
                system[customer.pk, "released"].occurred_at = customer.pooled_at
                events.append(system[customer.pk, "released"])
        customer.updated_at = latest
        customers.append(customer)
        if (customer.pk, "created") in system:
            system[customer.pk, "created"].occurred_at = opened
            events.append(system[customer.pk, "created"])
    for contact in Contact.objects.filter(customer_id__in=list(fresh)):
        contact.created_at = contact.updated_at = fresh[contact.customer_id].created_at
        contacts.append(contact)
    # bulk_update writes the attribute values as they are (no auto_now), so updated_at keeps the backdated value.
    Customer.objects.bulk_update(
        customers, ["created_at", "claimed_at", "pooled_at", "updated_at"], batch_size=500
    )
    Contact.objects.bulk_update(contacts, ["created_at", "updated_at"], batch_size=500)
    TimelineEntry.objects.bulk_update(events, ["occurred_at"], batch_size=500)


def demo_counts() -> dict[str, int]:
    from kehu.activities.models import Task

    return {
        "users": User.objects.count(),
        "units": OrgUnit.objects.count(),
        "customers": Customer.objects.count(),
        "pool": Customer.objects.filter(owner__isnull=True).count(),
        "contacts": Contact.objects.count(),
        "timeline": TimelineEntry.objects.count(),
        "open_tasks": Task.objects.filter(status="open").count(),
        "opportunities": Opportunity.objects.count(),
        "leads": Lead.objects.count(),
        "contracts": Contract.objects.count(),
        "orders": Order.objects.count(),
        "buyers": BuyerIdentity.objects.count(),
    }
