"""Leads through the services: capture and collisions, assignment rules and territories, working a lead,
the lead pool, conversion, handover and the conversion report."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.activities.models import Notification, TimelineEntry
from kehu.core.exceptions import PermissionDenied, Throttled, ValidationFailed
from kehu.customers.exceptions import CustomerCollision
from kehu.customers.models import Contact, Customer, PoolRule
from kehu.sales.models import Lead, LeadActivity, LeadAssignmentRule, LeadCaptureForm, Opportunity, Territory
from kehu.sales.selectors import leads as selectors
from kehu.sales.services import leads as services
from kehu.sales.services.leads import LeadCollision
from kehu.users.services import user_deactivate

pytestmark = pytest.mark.django_db


def events(lead) -> list[str]:
    return list(lead.activities.order_by("occurred_at", "id").values_list("event", flat=True))


def test_a_rep_records_a_lead_that_is_theirs_and_searchable(org):
    """Given a rep, when they record a lead, then it is theirs, new, in their team, on its own timeline, and
    found by pinyin initials and by the tail of the mobile number."""
    lead = services.lead_create(
        actor=org.rep_a, data={"name": "张伟", "company": "宁波海曙贸易有限公司", "phone": "138 0013 8000"}
    )
    assert (lead.owner, lead.org_unit, lead.status) == (org.rep_a, org.team_a, "new")
    assert events(lead) == ["created"]
    for query in ("zw", "8000", "海曙"):
        found = selectors.lead_list(actor=org.rep_a, filters=selectors.LeadFilters(q=query)).items
        assert [x.pk for x in found] == [lead.pk], query


def test_a_lead_needs_a_name_or_a_company(org):
    with pytest.raises(ValidationFailed) as refused:
        services.lead_create(actor=org.rep_a, data={"phone": "13800138000"})
    assert "name" in refused.value.fields


def test_a_lead_matching_a_customer_or_another_lead_is_refused_naming_it(org, make_customer):
    """Given a customer with a mobile number and a lead at a company, when someone records a lead with the same
    mobile, or the same company written with other spaces and width, then it is refused naming the existing
    record and its owner (撞单)."""
    customer = make_customer(org.rep_b, name="杭州云栖科技", phone="13900000001")
    first = services.lead_create(actor=org.rep_a, data={"name": "王芳", "company": "苏州 青禾电子"})

    with pytest.raises(LeadCollision) as same_customer:
        services.lead_create(actor=org.rep_c, data={"name": "赵六", "phone": "139-0000-0001"})
    assert same_customer.value.extra["existing_kind"] == "customer"
    assert same_customer.value.extra["existing_id"] == customer.pk
    assert str(org.rep_b) in str(same_customer.value.message)

    with pytest.raises(LeadCollision) as same_lead:
        services.lead_create(actor=org.rep_c, data={"name": "孙七", "company": "苏州青禾电子"})
    assert (same_lead.value.extra["existing_kind"], same_lead.value.extra["existing_id"]) == (
        "lead",
        first.pk,
    )
    assert same_lead.value.extra["matched_on"] == ["name"]


def test_round_robin_gives_team_reps_their_turn_and_tells_them(org):
    """Given a round-robin rule of the East region over team A, when three leads arrive from a web form of the
    East region, then team A's two reps get them in turn (a, a2, a), each assignment on the lead's timeline and
    notified to the rep."""
    LeadAssignmentRule.objects.create(name="华东轮询", unit=org.east, method="round_robin", team=org.team_a)
    form = LeadCaptureForm.objects.create(name="官网", org_unit=org.east)
    owners = []
    for n in range(3):
        lead = services.lead_create(
            actor=None, data={"name": f"访客{n}", "phone": f"1370000000{n}"}, capture_form=form
        )
        owners.append(lead.owner)
        assert events(lead) == ["created", "assigned"]
        assert lead.activities.get(event="assigned").event_data["rule"] == "华东轮询"
    assert owners == [org.rep_a, org.rep_a2, org.rep_a]
    assert Notification.objects.filter(recipient=org.rep_a, kind="lead_assigned").count() == 2
    assert Notification.objects.filter(recipient=org.rep_a2, kind="lead_assigned").count() == 1


def test_territory_rules_match_city_before_province_and_check_the_industry(org, regions):
    """Given territories "Hangzhou" (city 330100, rep_b) and "Zhejiang manufacturing" (province 330000, industry 制造,
    rep_a) under a territory rule, then a Hangzhou lead goes to rep_b, a Ningbo manufacturing lead to rep_a, and
    a Ningbo retail lead matches no territory and falls to the next rule, the pool."""
    hangzhou = Territory.objects.create(name="杭州", org_unit=org.east)
    hangzhou.cities.add("330100")
    hangzhou.reps.add(org.rep_b)
    zhejiang = Territory.objects.create(name="浙江制造", org_unit=org.east, industries=["制造"])
    zhejiang.provinces.add("330000")
    zhejiang.reps.add(org.rep_a)
    LeadAssignmentRule.objects.create(name="按区域", unit=org.east, method="territory", position=1)
    LeadAssignmentRule.objects.create(name="其余进线索池", unit=org.east, method="pool", position=2)

    def arrive(name, **place):
        return services.lead_create(
            actor=org.east_manager, data={"company": name, **place}, route=services.ROUTE_RULES
        )

    in_hangzhou = arrive("西湖电子", province="330000", city="330100", industry="零售")
    ningbo_factory = arrive("宁波模具厂", province="330000", city="330200", industry="制造")
    ningbo_shop = arrive("宁波小店", city="330200", industry="零售")

    assert in_hangzhou.owner == org.rep_b
    assert ningbo_factory.owner == org.rep_a
    assert ningbo_shop.owner is None and ningbo_shop.province_id == "330000"
    assert ningbo_shop.org_unit == org.east
    assert ningbo_shop.activities.get(event="pooled").event_data["rule"] == "其余进线索池"


def test_without_a_matching_rule_the_creator_keeps_the_lead(org):
    LeadAssignmentRule.objects.create(name="展会", unit=org.company, method="pool", sources=["exhibition"])
    lead = services.lead_create(
        actor=org.rep_a, data={"company": "星河", "source": "website"}, route=services.ROUTE_RULES
    )
    assert lead.owner == org.rep_a


def test_a_rep_cannot_give_a_lead_to_a_colleague_but_a_manager_can(org):
    with pytest.raises(PermissionDenied):
        services.lead_create(actor=org.rep_a, data={"company": "星河"}, owner=org.rep_a2)
    lead = services.lead_create(actor=org.east_manager, data={"company": "星河"}, owner=org.rep_b)
    assert (lead.owner, lead.org_unit) == (org.rep_b, org.team_b)


def test_logging_a_call_touches_the_lead_and_makes_a_new_lead_contacted(org):
    lead = services.lead_create(actor=org.rep_a, data={"name": "张伟"})
    services.lead_activity_log(actor=org.rep_a, lead=lead, kind="call", content="约了下周演示")
    lead.refresh_from_db()
    assert lead.status == "contacted"
    assert lead.last_touched_at is not None
    with pytest.raises(ValidationFailed):
        services.lead_activity_log(actor=org.rep_a, lead=lead, kind="call", content="  ")
    with pytest.raises(PermissionDenied):
        services.lead_activity_log(actor=org.rep_b, lead=lead, kind="note", content="x")


def test_disqualifying_needs_a_reason_and_is_on_the_timeline(org):
    lead = services.lead_create(actor=org.rep_a, data={"name": "张伟"})
    with pytest.raises(ValidationFailed) as refused:
        services.lead_set_status(actor=org.rep_a, lead=lead, status="disqualified")
    assert "reason" in refused.value.fields
    lead = services.lead_set_status(actor=org.rep_a, lead=lead, status="disqualified", reason="没有预算")
    assert (lead.status, lead.disqualified_reason) == ("disqualified", "没有预算")
    assert lead.activities.get(event="status").event_data["reason"] == "没有预算"
    with pytest.raises(ValidationFailed):
        services.lead_set_status(actor=org.rep_a, lead=lead, status="converted")


def test_untouched_leads_are_recycled_to_their_units_pool_and_can_be_claimed(org):
    """Given team A's rule "leads untouched for 7 days go to the pool", a lead touched 8 days ago, one never
    touched since assigned 10 days ago, one touched yesterday and a disqualified old one, when the job runs, then
    the two stale open leads go to the pool (their owner told); a rep of team A then claims one, and a rep of the
    North region can neither see nor claim the other."""
    PoolRule.objects.create(unit=org.team_a, lead_recycle_after_days=7)
    now = timezone.now()
    stale = services.lead_create(actor=org.rep_a, data={"name": "甲"})
    never = services.lead_create(actor=org.rep_a2, data={"name": "乙"})
    fresh = services.lead_create(actor=org.rep_a, data={"name": "丙"})
    dropped = services.lead_create(actor=org.rep_a, data={"name": "丁"})
    services.lead_set_status(actor=org.rep_a, lead=dropped, status="disqualified", reason="无效")
    Lead.objects.filter(pk=stale.pk).update(last_touched_at=now - datetime.timedelta(days=8))
    Lead.objects.filter(pk=never.pk).update(assigned_at=now - datetime.timedelta(days=10))
    Lead.objects.filter(pk=fresh.pk).update(last_touched_at=now - datetime.timedelta(days=1))
    Lead.objects.filter(pk=dropped.pk).update(last_touched_at=now - datetime.timedelta(days=30))

    assert services.leads_recycle_due() == 2

    stale.refresh_from_db()
    assert (stale.owner, stale.org_unit) == (None, org.team_a)
    assert "7" in stale.pool_reason
    assert Notification.objects.filter(recipient=org.rep_a2, kind="lead_recycled").exists()
    assert Lead.objects.get(pk=fresh.pk).owner == org.rep_a
    assert Lead.objects.get(pk=dropped.pk).owner == org.rep_a

    pool = selectors.lead_pool_list(actor=org.rep_a).items
    assert {x.pk for x in pool} == {stale.pk, never.pk}
    assert selectors.lead_pool_list(actor=org.rep_c).items == []
    with pytest.raises(PermissionDenied):
        services.lead_claim(actor=org.rep_c, lead=never)
    claimed = services.lead_claim(actor=org.rep_a, lead=stale)
    assert claimed.owner == org.rep_a
    assert events(claimed)[-1] == "claimed"


def test_converting_makes_customer_contact_and_opportunity_and_keeps_the_links(org, pipeline, regions):
    """Given rep_a's lead at a company with a person, mobile and city, when it is converted with an opportunity,
    then a company customer owned by rep_a, a primary contact with the mobile, and an opportunity with the
    contact exist; the lead is converted and links to all three; the customer's timeline says where it came
    from."""
    lead = services.lead_create(
        actor=org.rep_a,
        data={
            "name": "陈总",
            "title": "总经理",
            "company": "苏州青禾电子有限公司",
            "phone": "13812345678",
            "province": "320000",
            "city": "320500",
            "industry": "制造",
            "source": "exhibition",
        },
    )
    converted = services.lead_convert(
        actor=org.rep_a,
        lead=lead,
        opportunity={"pipeline": pipeline, "amount": Decimal("80000"), "name": "青禾产线升级"},
    )

    customer, contact, deal = converted.customer, converted.contact, converted.opportunity
    assert converted.status == "converted" and converted.converted_by == org.rep_a
    assert (customer.name, customer.kind, customer.owner, customer.city_id) == (
        "苏州青禾电子有限公司",
        "company",
        org.rep_a,
        "320500",
    )
    assert (contact.customer, contact.name, contact.mobile, contact.is_primary) == (
        customer,
        "陈总",
        "13812345678",
        True,
    )
    assert (deal.customer, deal.amount, deal.source, deal.owner) == (
        customer,
        Decimal("80000"),
        "exhibition",
        org.rep_a,
    )
    assert list(deal.contacts.all()) == [contact]
    assert TimelineEntry.objects.filter(customer=customer, event="lead_converted").exists()
    assert events(converted)[-1] == "converted"
    with pytest.raises(ValidationFailed):
        services.lead_convert(actor=org.rep_a, lead=converted)


def test_conversion_stops_at_a_customer_collision_and_can_join_the_existing_customer(org, make_customer):
    """Given rep_a's customer "星河科技" and a lead of rep_a naming that company (recorded before the customer
    existed), when converting, then creating a second customer is refused (撞单, nothing changes); converting
    onto the existing customer adds the person as a contact there."""
    lead = services.lead_create(actor=org.rep_a, data={"name": "李雷", "company": "星河科技"})
    existing = make_customer(org.rep_a, name="星河科技")

    with pytest.raises(CustomerCollision):
        services.lead_convert(actor=org.rep_a, lead=lead)
    lead.refresh_from_db()
    assert lead.status == "new" and Customer.objects.filter(name="星河科技").count() == 1

    converted = services.lead_convert(actor=org.rep_a, lead=lead, customer=existing)
    assert converted.customer == existing
    assert Contact.objects.filter(customer=existing, name="李雷").count() == 1
    assert converted.opportunity is None


def test_a_pool_lead_must_be_claimed_before_conversion(org):
    lead = services.lead_create(actor=org.rep_a, data={"name": "甲"}, route=services.ROUTE_POOL)
    with pytest.raises(ValidationFailed):
        services.lead_convert(actor=org.east_manager, lead=lead)


def test_a_departing_reps_leads_go_to_the_successor(org):
    lead = services.lead_create(actor=org.rep_a, data={"name": "甲"})
    user_deactivate(actor=org.admin, user=org.rep_a, successor=org.rep_a2)
    lead.refresh_from_db()
    assert (lead.owner, events(lead)[-1]) == (org.rep_a2, "assigned")


def test_the_capture_form_traps_bots_limits_each_address_and_asks_for_consent(org):
    """Given a form asking for consent with 2 submissions per hour, then a filled bot trap makes no lead, a
    missing consent is refused, a good submission makes a lead with the consent recorded, and the next one from
    the same address within the hour is throttled while another address still gets through."""
    form = LeadCaptureForm.objects.create(
        name="官网", org_unit=org.team_a, ask_consent=True, consent_text="同意联系", submissions_per_hour=2
    )
    person = {"name": "访客", "phone": "13700000009"}

    assert services.lead_capture(form=form, data=person, ip="10.0.0.1", trap="http://spam") is None
    assert not Lead.objects.exists()
    with pytest.raises(ValidationFailed) as refused:
        services.lead_capture(form=form, data=person, ip="10.0.0.2")
    assert "consent" in refused.value.fields
    lead = services.lead_capture(form=form, data=person, ip="10.0.0.2", consent=True)
    assert (lead.consent_text, lead.capture_form, lead.source) == ("同意联系", form, "website")
    assert lead.owner is None and lead.org_unit == org.team_a  # no rule: the unit's pool
    with pytest.raises(Throttled):
        services.lead_capture(
            form=form, data={"name": "又来", "phone": "13700000010"}, ip="10.0.0.2", consent=True
        )
    assert services.lead_capture(
        form=form, data={"name": "别人", "phone": "13700000011"}, ip="10.0.0.3", consent=True
    )


def test_a_known_visitor_filling_the_form_again_is_noted_on_the_existing_lead(org):
    form = LeadCaptureForm.objects.create(name="官网", org_unit=org.team_a)
    first = services.lead_create(actor=org.rep_a, data={"name": "访客", "phone": "13700000009"})
    again = services.lead_capture(
        form=form, data={"name": "访客", "phone": "13700000009", "notes": "想要报价"}, ip="1"
    )
    assert again is None
    assert Lead.objects.count() == 1
    note = LeadActivity.objects.get(lead=first, event="captured_again")
    assert note.event_data["notes"] == "想要报价"
    assert Notification.objects.filter(recipient=org.rep_a, kind="lead_captured_again").exists()


def test_the_conversion_report_counts_by_source_and_by_rep_within_the_scope(org, make_customer):
    """Given rep_a's 3 exhibition leads (2 converted) and 1 website lead, and rep_c's converted lead in the
    North, then rep_a's manager sees exhibition 3 / 2 / 66.7% and website 1 / 0 / 0% and nothing of the North;
    by rep the manager sees rep_a 4 leads, 2 converted."""
    made = [
        services.lead_create(actor=org.rep_a, data={"company": f"展会客户{n}", "source": "exhibition"})
        for n in range(3)
    ]
    services.lead_create(actor=org.rep_a, data={"company": "官网客户", "source": "website"})
    for lead in made[:2]:
        services.lead_convert(actor=org.rep_a, lead=lead)
    north = services.lead_create(actor=org.rep_c, data={"company": "北方客户", "source": "exhibition"})
    services.lead_convert(actor=org.rep_c, lead=north)

    by_source = selectors.lead_conversion_report(actor=org.east_manager, by="source")
    rows = {r["key"]: (r["total"], r["converted"], r["rate"]) for r in by_source["rows"]}
    assert rows == {"exhibition": (3, 2, 66.7), "website": (1, 0, 0.0)}
    assert (by_source["total"], by_source["converted"], by_source["rate"]) == (4, 2, 50.0)

    by_rep = selectors.lead_conversion_report(actor=org.east_manager, by="owner")
    assert [(r["label"], r["total"], r["converted"]) for r in by_rep["rows"]] == [(str(org.rep_a), 4, 2)]


def test_deleted_leads_go_to_the_recycle_bin_and_come_back(org):
    lead = services.lead_create(actor=org.rep_a, data={"name": "甲", "phone": "13700000001"})
    services.lead_delete(actor=org.rep_a, lead=lead)
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert [x.pk for x in selectors.deleted_leads(actor=org.rep_a)] == [lead.pk]
    services.lead_restore(actor=org.rep_a, lead=lead)
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_a_converted_lead_cannot_be_edited(org):
    lead = services.lead_create(actor=org.rep_a, data={"company": "星河"})
    services.lead_convert(actor=org.rep_a, lead=lead)
    with pytest.raises(ValidationFailed):
        services.lead_update(actor=org.rep_a, lead=lead, data={"company": "新名"}, version=None)
    assert Opportunity.objects.count() == 0


def test_a_rep_cannot_put_a_lead_into_another_regions_pool_or_rules(org):
    with pytest.raises(PermissionDenied):
        services.lead_create(actor=org.rep_a, data={"name": "甲"}, route=services.ROUTE_POOL, unit=org.team_c)
    with pytest.raises(PermissionDenied):
        services.lead_create(actor=org.rep_a, data={"name": "甲"}, route=services.ROUTE_RULES, unit=org.north)
    lead = services.lead_create(
        actor=org.rep_a, data={"name": "甲"}, route=services.ROUTE_POOL, unit=org.east
    )
    assert (lead.owner, lead.org_unit) == (None, org.east)
    assert not Lead.objects.filter(org_unit__in=[org.team_c, org.north]).exists()


def test_the_lead_timeline_reads_in_the_readers_language(org):
    """Events keep codes, so a status change made in Chinese reads in English for an English reader."""
    from django.utils import translation

    from kehu.sales.notifications import lead_event_text

    lead = services.lead_create(actor=org.rep_a, data={"name": "张伟", "source": "exhibition"})
    services.lead_set_status(actor=org.rep_a, lead=lead, status="qualified")
    created, changed = lead.activities.order_by("id")
    with translation.override("en"):
        assert lead_event_text(created.event, created.event_data) == "Lead created (source: Exhibition)"
        assert (
            lead_event_text(changed.event, changed.event_data) == "Status changed from “New” to “Qualified”"
        )
    with translation.override("zh-hans"):
        assert lead_event_text(changed.event, changed.event_data) == "状态由“新线索”改为“已确认”"


def test_closed_leads_keep_their_owner_and_odd_input_is_refused_cleanly(org):
    """A converted lead cannot be released, claimed or reassigned; an unknown city, an over-long reason and text
    that grows when normalised answer with field errors, never a crash."""
    lead = services.lead_create(actor=org.rep_a, data={"company": "星河"})
    services.lead_convert(actor=org.rep_a, lead=lead)
    for attempt in (
        lambda: services.lead_release(actor=org.rep_a, lead=lead, reason="x"),
        lambda: services.lead_assign(actor=org.east_manager, lead=lead, owner=org.rep_b),
    ):
        with pytest.raises(ValidationFailed):
            attempt()
    assert Lead.objects.get(pk=lead.pk).owner == org.rep_a
    dropped = services.lead_create(actor=org.rep_a, data={"name": "丙"}, route=services.ROUTE_POOL)
    services.lead_set_status(actor=org.east_manager, lead=dropped, status="disqualified", reason="无效")
    with pytest.raises(ValidationFailed):
        services.lead_claim(actor=org.rep_a2, lead=dropped)
    assert Lead.objects.get(pk=dropped.pk).owner is None

    with pytest.raises(ValidationFailed) as unknown:
        services.lead_create(actor=org.rep_a, data={"name": "甲", "city": "999999"})
    assert "city" in unknown.value.fields
    other = services.lead_create(
        actor=org.rep_a, data={"name": "乙", "company": "㍿" * 200, "phone": "⑳" * 32}
    )
    assert len(other.company_key) <= 200 and len(other.phone_key) <= 32
    with pytest.raises(ValidationFailed) as long_reason:
        services.lead_release(actor=org.rep_a, lead=other, reason="长" * 300)
    assert "reason" in long_reason.value.fields
    before = other.activities.count()
    services.lead_set_status(actor=org.rep_a, lead=other, status="new", reason="无变化")
    assert other.activities.count() == before
