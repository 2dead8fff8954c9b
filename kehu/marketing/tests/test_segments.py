"""Segments: the SQL a rule tree compiles to selects exactly what a plain Python reading of the same rules does,
on random customers and random rules (hypothesis); rules are checked with errors by path; members and counts
follow the data scope; snapshots freeze the members; edits keep the version check."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.core.exceptions import PermissionDenied, StaleEdit, ValidationFailed
from kehu.customers.models import Customer, Tag
from kehu.marketing import segments, selectors, services
from kehu.sales.models import BuyerStats

NOW = timezone.make_aware(datetime.datetime(2026, 11, 24, 12, 0))
WORDS = ["星辰", "科技", "alpha", "beta", "旭日", ""]
LEVELS = ["a", "b", "c", ""]
STATUSES = [v for v, _label in Customer.Status.choices]


@pytest.fixture
def people(org, make_customer):
    """36 customers of rep_a with every combination worth telling apart, some without purchase statistics."""
    tags = [Tag.objects.create(name=f"标签{n}") for n in range(3)]
    made = []
    for n in range(36):
        customer = make_customer(
            org.rep_a,
            name=f"{WORDS[n % 5]}客户{n}",
            industry=WORDS[(n * 7) % 6],
            level=LEVELS[n % 4],
            status=STATUSES[n % len(STATUSES)],
        )
        Customer.objects.filter(pk=customer.pk).update(created_at=NOW - datetime.timedelta(days=n * 11))
        customer.tags.set(tags[: n % 4])
        if n % 3:
            BuyerStats.objects.create(
                customer=customer,
                order_count=n % 7,
                total_paid=Decimal(n * 37) / 4,
                last_purchase_at=NOW - datetime.timedelta(days=(n * 13) % 400, hours=n),
            )
        made.append(customer)
    return tags


def value_of(customer: Customer, key: str):
    stats = BuyerStats.objects.filter(customer=customer).first()
    match key:
        case "name" | "industry" | "level" | "status":
            return getattr(customer, key)
        case "created_at":
            return customer.created_at
        case "tags":
            return set(customer.tags.values_list("pk", flat=True))
    return getattr(stats, key) if stats else None


def day(text: str) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(datetime.date.fromisoformat(text), datetime.time()))


def holds(customer: Customer, node: dict) -> bool:
    """The reference: the rules read plainly, one customer at a time."""
    if "rules" in node:
        results = [holds(customer, child) for child in node["rules"]]
        result = (any(results) if node["match"] == "any" else all(results)) if results else True
        return not result if node.get("negate") and results else result
    v, op, value = value_of(customer, node["field"]), node["op"], node.get("value")
    if op == "empty":
        return v is None or v == ""
    if op == "not_empty":
        return not (v is None or v == "")
    if op == "has_any":
        return bool(v & set(value))
    if op == "has_all":
        return set(value) <= v
    if op == "has_none":
        return not v & set(value)
    if op == "ne":
        return v is None or Decimal(v) != Decimal(value)
    if op == "not_in":
        return v not in value
    if op == "not_within_days":
        return v is None or v < NOW - datetime.timedelta(days=value)
    if v is None:
        return False
    return {
        "eq": lambda: Decimal(v) == Decimal(value) if isinstance(v, int | Decimal) else v == value,
        "gt": lambda: Decimal(v) > Decimal(value),
        "gte": lambda: Decimal(v) >= Decimal(value),
        "lt": lambda: Decimal(v) < Decimal(value),
        "lte": lambda: Decimal(v) <= Decimal(value),
        "between": lambda: Decimal(value[0]) <= Decimal(v) <= Decimal(value[1]),
        "contains": lambda: value.lower() in v.lower(),
        "in": lambda: v in value,
        "before": lambda: v < day(value),
        "after": lambda: v >= day(value) + datetime.timedelta(days=1),
        "within_days": lambda: v >= NOW - datetime.timedelta(days=value),
    }[op]()


dates = st.dates(min_value=datetime.date(2025, 6, 1), max_value=datetime.date(2026, 12, 1)).map(str)
numbers = st.integers(min_value=0, max_value=120).map(str)
conditions = st.one_of(
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(["name", "industry"]),
            "op": st.just("contains"),
            "value": st.sampled_from(WORDS[:5]),
        }
    ),
    st.fixed_dictionaries({"field": st.just("industry"), "op": st.sampled_from(["empty", "not_empty"])}),
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(["level", "status"]),
            "op": st.sampled_from(["in", "not_in"]),
            "value": st.lists(st.sampled_from(["a", "b", "c", *STATUSES]), min_size=1, max_size=3),
        }
    ),
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(["order_count", "total_paid"]),
            "op": st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
            "value": numbers,
        }
    ),
    st.fixed_dictionaries({"field": st.just("order_count"), "op": st.sampled_from(["empty", "not_empty"])}),
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(["last_purchase_at", "created_at"]),
            "op": st.sampled_from(["before", "after"]),
            "value": dates,
        }
    ),
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(["last_purchase_at", "created_at"]),
            "op": st.sampled_from(["within_days", "not_within_days"]),
            "value": st.integers(min_value=1, max_value=400),
        }
    ),
    st.fixed_dictionaries(
        {
            "field": st.just("tags"),
            "op": st.sampled_from(["has_any", "has_all", "has_none"]),
            "value": st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=3),
        }
    ),
)
trees = st.recursive(
    conditions,
    lambda children: st.fixed_dictionaries(
        {
            "match": st.sampled_from(["all", "any"]),
            "negate": st.booleans(),
            "rules": st.lists(children, max_size=3),
        }
    ),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees)
def test_the_sql_of_random_rules_selects_what_reading_them_plainly_does(org, people, tree):
    tag_ids = [t.pk for t in people]

    def real_tags(node):  # tag positions → the ids of this run's tags
        if "rules" in node:
            return {**node, "rules": [real_tags(child) for child in node["rules"]]}
        if node["field"] == "tags":
            return {**node, "value": sorted({tag_ids[i] for i in node["value"]})}
        return node

    rules = segments.rules_check(real_tags(tree if "rules" in tree else {"match": "all", "rules": [tree]}))
    everyone = list(Customer.objects.filter(owner=org.rep_a))
    expected = {c.pk for c in everyone if holds(c, rules)}
    found = set(selectors.members(actor=org.rep_a, rules=rules, now=NOW).values_list("pk", flat=True))
    assert found == expected


def test_wrong_rules_are_refused_with_the_place_of_each_mistake():
    with pytest.raises(ValidationFailed) as refused:
        segments.rules_check(
            {
                "match": "all",
                "rules": [
                    {"field": "nope", "op": "eq", "value": 1},
                    {"field": "level", "op": "gt", "value": "a"},
                    {"match": "any", "rules": [{"field": "order_count", "op": "gt", "value": "很多"}]},
                    {"field": "last_purchase_at", "op": "between", "value": ["2026-03-01", "2026-01-01"]},
                    {"field": "created_at", "op": "within_days", "value": 0},
                ],
            }
        )
    fields = refused.value.fields
    assert set(fields) == {
        "rules.0.field",
        "rules.1.op",
        "rules.2.rules.0.value",
        "rules.3.value",
        "rules.4.value",
    }
    deep = {"match": "all", "rules": [{"field": "name", "op": "empty"}]}
    for _ in range(4):
        deep = {"match": "all", "rules": [deep]}
    with pytest.raises(ValidationFailed):
        segments.rules_check(deep)
    assert segments.rules_check(None) == {"match": "all", "negate": False, "rules": []}


def test_members_and_counts_follow_the_data_scope(org, make_customer):
    for owner in (org.rep_a, org.rep_a, org.rep_b, org.rep_c):
        make_customer(owner, level="a")
    rules = {"match": "all", "rules": [{"field": "level", "op": "in", "value": ["a"]}]}
    assert selectors.count(actor=org.rep_a, rules=rules) == 2
    assert selectors.count(actor=org.rep_c, rules=rules) == 1
    assert selectors.count(actor=org.east_manager, rules=rules) == 3  # teams A and B
    assert selectors.count(actor=org.admin, rules=rules) == 4


def test_a_segment_is_saved_checked_edited_with_the_version_snapshotted_and_binned(org, make_customer):
    for n in range(3):
        make_customer(org.rep_a, level="a", name=f"甲{n}")
    make_customer(org.rep_b, level="a")
    segment = services.segment_create(
        actor=org.rep_a,
        data={
            "name": "A级客户",
            "rules": {"match": "all", "rules": [{"field": "level", "op": "in", "value": "a"}]},
        },
    )
    assert segment.rules["rules"][0]["value"] == ["a"] and segment.org_unit == org.team_a
    with pytest.raises(ValidationFailed):
        services.segment_create(actor=org.rep_a, data={"name": " ", "rules": None})
    with pytest.raises(PermissionDenied):
        services.segment_create(actor=org.analyst, data={"name": "x"})

    snapshot = services.segment_snapshot(actor=org.rep_a, segment=segment)
    assert snapshot.size == 3 and snapshot.members.count() == 3
    make_customer(org.rep_a, level="a")
    assert selectors.count(actor=org.rep_a, rules=segment.rules) == 4 and snapshot.members.count() == 3

    edited = services.segment_update(
        actor=org.rep_a, segment=segment, data={"name": "A级客户（华东）"}, version=segment.version
    )
    assert edited.rules == segment.rules  # an edit of the name keeps the rules
    with pytest.raises(StaleEdit):
        services.segment_update(
            actor=org.rep_a, segment=segment, data={"name": "旧"}, version=segment.version
        )
    with pytest.raises(PermissionDenied):
        services.segment_update(actor=org.rep_b, segment=edited, data={"name": "x"}, version=None)
    assert [s.name for s in selectors.segment_list(actor=org.east_manager)] == ["A级客户（华东）"]
    assert selectors.segment_list(actor=org.rep_b) == []
    services.segment_delete(actor=org.rep_a, segment=edited)
    assert selectors.segment_list(actor=org.rep_a) == []
    assert edited.history.count() == 3  # created, edited, binned


def test_consent_and_ticket_history_select_customers(org, make_customer):
    from kehu.marketing import messaging
    from kehu.marketing.selectors import count
    from kehu.support.models import TicketType
    from kehu.support.services import ticket_create

    agreed, withdrew, never = (make_customer(org.rep_a, name=n) for n in ("同意", "撤回", "未问"))
    messaging.consent_set(actor=org.rep_a, customer=agreed, channel="email", granted=True, source="门店")
    messaging.consent_set(actor=org.rep_a, customer=withdrew, channel="email", granted=False, source="电话")
    for subject, kind in (
        ("咨询", TicketType.CONSULTATION),
        ("投诉一", TicketType.COMPLAINT),
        ("投诉二", TicketType.COMPLAINT),
    ):
        ticket_create(actor=org.rep_a, data={"subject": subject, "customer": agreed, "ticket_type": kind})
    ticket_create(
        actor=org.rep_a, data={"subject": "咨询", "customer": never, "ticket_type": TicketType.CONSULTATION}
    )

    def names(*conditions):
        rules = {"match": "all", "rules": list(conditions)}
        from kehu.marketing.selectors import members

        return sorted(
            members(actor=org.rep_a, rules=segments.rules_check(rules)).values_list("name", flat=True)
        )

    assert names({"field": "consent_email", "op": "in", "value": ["granted"]}) == ["同意"]
    assert names({"field": "consent_email", "op": "in", "value": ["none"]}) == ["未问"]
    assert names({"field": "consent_email", "op": "not_in", "value": ["granted"]}) == ["撤回", "未问"]
    assert names({"field": "consent_sms", "op": "empty"}) == ["同意", "撤回", "未问"]
    assert names({"field": "tickets", "op": "gte", "value": "2"}) == ["同意"]
    assert names({"field": "tickets", "op": "eq", "value": "1"}) == ["未问"]
    assert names({"field": "tickets", "op": "lt", "value": "1"}) == ["撤回"]  # none counts as 0
    assert names({"field": "complaints", "op": "between", "value": ["0", "1"]}) == ["撤回", "未问"]
    assert names({"field": "complaints", "op": "not_empty"}) == ["同意"]
    assert names({"field": "tickets", "op": "ne", "value": "3"}) == ["撤回", "未问"]
    assert (
        count(
            actor=org.rep_b,
            rules={"match": "all", "rules": [{"field": "tickets", "op": "gte", "value": "1"}]},
        )
        == 0
    )
