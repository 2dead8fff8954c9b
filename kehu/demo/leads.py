"""Demo leads: territories and assignment rules for the regions, a web capture form, and ~200 leads at every
step of their life (new, worked, qualified, disqualified, converted, pooled), made through the lead services."""

import contextlib
import random
from datetime import datetime, timedelta

from kehu.core.exceptions import ApplicationError
from kehu.core.text import normalise_name, normalise_phone
from kehu.customers.models import PoolRule
from kehu.demo import data
from kehu.sales.models import Lead, LeadActivity, LeadAssignmentRule, LeadCaptureForm, Pipeline, Territory
from kehu.sales.services import leads as lead_services

LEADS = 200
LEAD_SOURCES = [
    ("website", 30),
    ("exhibition", 20),
    ("referral", 15),
    ("advertising", 15),
    ("cold_call", 10),
    ("partner", 10),
]
CAMPAIGNS = ["2026春季新品发布会", "工博会展位", "百度推广", "老客户转介绍计划", ""]
LEAD_NOTES = [
    "想了解产品报价和交付周期。",
    "在展会上留了名片，对方案感兴趣。",
    "官网留言，希望安排演示。",
    "客户介绍过来的，预算待确认。",
    "",
]
CALLS = [
    "电话沟通需求，约下周演示。",
    "发了产品资料，等待回复。",
    "对方负责人出差，改天再联系。",
    "确认了预算和决策人。",
]
DISQUALIFY_REASONS = ["没有预算", "联系不上", "需求不匹配", "同行咨询"]


def _territories(org) -> None:
    """East: Shanghai to the Shanghai team, Zhejiang to the Hangzhou team; rules: territory, then the pool.
    South: round-robin over the Guangzhou team. North: no rule (the creator keeps the lead)."""
    east, south = org.units["华东大区"], org.units["华南大区"]
    shanghai = Territory.objects.create(name="上海", org_unit=east, position=1)
    shanghai.provinces.add("310000")
    shanghai.reps.add(*[u for u in org.reps_by_region["华东大区"] if u.username.startswith("rep_sh")])
    zhejiang = Territory.objects.create(name="浙江", org_unit=east, position=2)
    zhejiang.provinces.add("330000")
    zhejiang.reps.add(*[u for u in org.reps_by_region["华东大区"] if u.username.startswith("rep_hz")])
    LeadAssignmentRule.objects.create(name="华东按区域分配", unit=east, method="territory", position=1)
    LeadAssignmentRule.objects.create(name="华东其余进线索池", unit=east, method="pool", position=2)
    LeadAssignmentRule.objects.create(
        name="华南轮询", unit=south, method="round_robin", team=org.units["广州一组"], position=1
    )
    PoolRule.objects.update_or_create(unit=org.company, defaults={"lead_recycle_after_days": 14})


def leads_for(rng: random.Random, *, org, uniques, now: datetime) -> None:
    _territories(org)
    LeadCaptureForm.objects.create(
        name="官网咨询表单",
        org_unit=org.units["华东大区"],
        title="联系我们 / Contact us",
        intro="留下联系方式，我们的销售顾问会在一个工作日内联系您。",
        campaign="官网",
        ask_consent=True,
        consent_text="我同意客户科技集团就本次咨询与我联系。",
        thank_you="谢谢！我们会尽快与您联系。",
    )
    from kehu.demo.seed import mobile, person_name, personal_email, weighted

    pipeline = Pipeline.objects.order_by("position", "id").first()
    manager = {region: org.manager_of_region[region] for region in data.REGION_CITIES}
    for index in range(LEADS):
        region = list(data.REGION_CITIES)[index % 3]
        city = rng.choice(data.REGION_CITIES[region])
        company, industry = _company(rng, uniques, city)
        name = person_name(rng)
        while True:
            phone = mobile(rng)
            if uniques.take(uniques.phones, normalise_phone(phone)):
                break
        fields = {
            "name": name,
            "company": company if rng.random() < 0.8 else "",
            "title": rng.choice(rng.choice(data.CONTACT_TITLES))[0] if rng.random() < 0.6 else "",
            "phone": phone,
            "email": personal_email(rng, name) if rng.random() < 0.5 else "",
            "source": weighted(rng, LEAD_SOURCES),
            "campaign": rng.choice(CAMPAIGNS),
            "province": city[1],
            "city": city[2],
            "industry": industry,
            "notes": rng.choice(LEAD_NOTES),
            "score": rng.choice([0, 20, 40, 60, 80]),
        }
        reps = org.reps_by_region[region]
        by_rules = region != "华北大区" and rng.random() < 0.7
        actor = manager[region] if by_rules else rng.choice(reps)
        try:
            lead = lead_services.lead_create(
                actor=actor,
                data=fields,
                route=lead_services.ROUTE_RULES if by_rules else lead_services.ROUTE_ME,
            )
        except lead_services.LeadCollision:
            continue
        _work(rng, lead, pipeline=pipeline, manager=manager[region], now=now)
        _backdate(rng, lead, now=now)


def _company(rng: random.Random, uniques, city: tuple) -> tuple[str, str]:
    """A company name not used by any customer or earlier lead, and its industry."""
    from kehu.demo.seed import weighted

    while True:
        word, industry, _short = rng.choice(data.INDUSTRIES)
        name = f"{city[0]}{rng.choice(data.BRAND_WORDS)}{word}{weighted(rng, data.COMPANY_SUFFIXES)}"
        if uniques.take(uniques.names, normalise_name(name)):
            return name, industry


def _work(rng: random.Random, lead: Lead, *, pipeline: Pipeline, manager, now: datetime) -> None:
    step = rng.random()
    owner = lead.owner
    if owner is None:
        if step < 0.3:
            lead = lead_services.lead_claim(actor=rng.choice(_pool_claimers(lead)), lead=lead)
            owner = lead.owner
        else:
            return
    if step < 0.25:
        return  # still new
    lead_services.lead_activity_log(
        actor=owner,
        lead=lead,
        kind=rng.choice(["call", "call", "message", "visit"]),
        content=rng.choice(CALLS),
    )
    if step < 0.55:
        return  # contacted
    if step < 0.68:
        lead_services.lead_set_status(
            actor=owner, lead=lead, status="disqualified", reason=rng.choice(DISQUALIFY_REASONS)
        )
        return
    lead_services.lead_set_status(actor=owner, lead=lead, status="qualified")
    if step < 0.8:
        return
    opportunity = None
    if rng.random() < 0.6 and pipeline is not None:
        opportunity = {
            "pipeline": pipeline,
            "amount": rng.choice(data.DEAL_AMOUNTS),
            "expected_close_on": now.date() + timedelta(days=rng.randint(20, 120)),
        }
    with contextlib.suppress(ApplicationError):  # a company that became a customer: the lead stays qualified
        lead_services.lead_convert(actor=owner, lead=lead, opportunity=opportunity)


def _pool_claimers(lead: Lead):
    from kehu.users.models import Role, User

    return list(User.objects.filter(memberships__unit=lead.org_unit, memberships__role=Role.SALES_REP)) or [
        lead.created_by
    ]


def _backdate(rng: random.Random, lead: Lead, *, now: datetime) -> None:
    """Spread the lead's life over the past 1-60 days (creation first, then its activities in order)."""
    start = now - timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 9))
    Lead.all_objects.filter(pk=lead.pk).update(created_at=start)
    activities = list(LeadActivity.objects.filter(lead=lead).order_by("occurred_at", "id"))
    moment = start
    for activity in activities:
        activity.occurred_at = moment
        moment = min(now, moment + timedelta(days=rng.randint(0, 6), hours=rng.randint(1, 5)))
    LeadActivity.objects.bulk_update(activities, ["occurred_at"])
    touched = [a.occurred_at for a in activities if a.kind != LeadActivity.Kind.SYSTEM or a.event == "status"]
    Lead.all_objects.filter(pk=lead.pk).update(
        last_touched_at=max(touched) if touched else None,
        assigned_at=start if lead.owner_id else None,
    )
