"""Customer and contact reads: filters, scoping, search ranking, the org chart and small dashboards lists."""

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.customers.models import Customer, CustomField
from kehu.customers.selectors import (
    CustomerFilters,
    contact_get_for,
    contact_list,
    contact_tree,
    customer_export_rows,
    customer_list,
    customers_get_many_for,
    customers_to_follow_up,
    pool_recently_released,
    recently_viewed,
    search,
)
from kehu.customers.services import (
    contact_create,
    customer_create,
    customer_release,
    customer_update,
    recent_view_touch,
)


def names(page) -> set[str]:
    return {c.name for c in page.items}


def listed(actor, **params) -> set[str]:
    filters = CustomerFilters.from_params(QueryDict(mutable=True) | params)
    return names(customer_list(actor=actor, filters=filters, size=200))


@pytest.fixture
def east_book(org):
    CustomField.objects.create(
        entity="customer",
        key="grade",
        label_zh="等级",
        label_en="Grade",
        field_type="choice",
        choices=["A", "B"],
    )
    CustomField.objects.create(
        entity="customer", key="vip", label_zh="VIP", label_en="VIP", field_type="boolean"
    )
    CustomField.objects.create(
        entity="customer", key="staff", label_zh="人数", label_en="Staff", field_type="number"
    )
    customer_create(
        actor=org.rep_a,
        data={"name": "星辰科技", "status": "active", "level": "a"},
        tags=["重点"],
        custom={"grade": "A", "vip": True, "staff": 120},
    )
    customer_create(
        actor=org.rep_a,
        data={
            "name": "云海数据",
            "status": "potential",
            "kind": "individual",
            "next_followup_on": timezone.localdate() - timedelta(days=1),
        },
        custom={"grade": "B", "vip": False, "staff": 8},
    )
    customer_create(actor=org.rep_b, data={"name": "杭州茶业", "status": "active", "source": "website"})
    customer_create(actor=org.admin, data={"name": "公海客户"}, owner=None, org_unit=org.team_a)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"星辰科技", "云海数据", "杭州茶业", "公海客户"}),
        ({"owner": "none"}, {"公海客户"}),
        ({"status": "active"}, {"星辰科技", "杭州茶业"}),
        ({"level": "a"}, {"星辰科技"}),
        ({"kind": "individual"}, {"云海数据"}),
        ({"source": "website"}, {"杭州茶业"}),
        ({"tag": "重点"}, {"星辰科技"}),
        ({"followup_due": "1"}, {"云海数据"}),
        ({"custom.grade": "B"}, {"云海数据"}),
        ({"custom.vip": "1"}, {"星辰科技"}),
        ({"custom.staff": "120"}, {"星辰科技"}),
        ({"custom.unknown": "x"}, {"星辰科技", "云海数据", "杭州茶业", "公海客户"}),
        ({"q": "xc"}, {"星辰科技"}),
        ({"q": "星辰", "status": "potential"}, set()),
    ],
)
def test_the_customer_list_filters_what_the_manager_sees(org, east_book, params, expected):
    """Given customers of the East region, when the East manager filters the list, then exactly the matches
    show."""
    assert listed(org.east_manager, **params) == expected


def test_unit_filter_takes_the_whole_subtree(org, east_book):
    """Given customers in teams A and B, when filtering by the East region or by team B, then the subtree
    shows."""
    assert listed(org.admin, unit=str(org.east.pk)) == {"星辰科技", "云海数据", "杭州茶业", "公海客户"}
    assert listed(org.admin, unit=str(org.team_b.pk)) == {"杭州茶业"}
    assert listed(org.admin, unit="999999") == set()


def test_owner_me_shows_only_the_actors_own(org, east_book):
    """Given rep_a's and rep_b's customers, when rep_a filters owner=me or the manager filters by rep_b's id,
    then only those owners' customers show."""
    assert listed(org.rep_a, owner="me") == {"星辰科技", "云海数据"}
    assert listed(org.east_manager, owner=str(org.rep_b.pk)) == {"杭州茶业"}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"owner": "bob"}, "owner"), ({"unit": "east"}, "unit"), ({"custom.staff": "many"}, "custom.staff")],
)
def test_malformed_filters_are_refused_per_field(org, east_book, params, field):
    """Given a filter value of the wrong shape, when listing, then it is refused naming the field."""
    with pytest.raises(ValidationFailed) as caught:
        listed(org.east_manager, **params)
    assert field in caught.value.fields


def test_an_unknown_sort_is_refused(org):
    """Given an unknown sort name, when listing, then it is refused rather than silently ignored."""
    with pytest.raises(ValidationFailed):
        customer_list(actor=org.admin, sort="owner")


def test_the_list_costs_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    """Given thirty tagged customers, when the manager lists a page of them, then the queries do not grow per
    row."""
    for i in range(30):
        customer_create(actor=org.rep_a, data={"name": f"客户{i:02d}"}, tags=["重点", f"批次{i % 3}"])
    manager = type(org.east_manager).objects.get(pk=org.east_manager.pk)

    # 5 to work out the manager's scope (memberships + one subtree lookup per role group), 1 page, 1 tags.
    with django_assert_max_num_queries(7):
        page = customer_list(actor=manager, size=25)
        rows = [(c.owner.display_name, c.org_unit.name, [t.name for t in c.tags.all()]) for c in page.items]

    assert len(rows) == 25


def test_export_rows_are_scoped_and_filtered_like_the_list(org, east_book):
    """Given the East book, when rep_a exports active customers, then only rep_a's active customer comes
    out."""
    rows = list(customer_export_rows(actor=org.rep_a, filters=CustomerFilters(status="active")))

    assert [c.name for c in rows] == ["星辰科技"]


def test_fetching_many_by_id_drops_what_the_actor_may_not_see(org, east_book):
    """Given ids of rep_a's and rep_b's customers plus junk, when rep_a fetches them, then only rep_a's come
    back."""
    ids = [*Customer.objects.values_list("pk", flat=True), "x", "-1"]

    assert {c.name for c in customers_get_many_for(actor=org.rep_a, ids=ids)} == {
        "星辰科技",
        "云海数据",
        "公海客户",
    }


def test_search_ranks_the_exact_name_first(org):
    """Given 星辰科技集团, 星辰科技 and 上海星辰科技, when searching 星辰科技, then the exact name comes first
    and the name starting with the query next."""
    for name in ("上海星辰科技", "星辰科技集团", "星辰科技"):
        customer_create(actor=org.rep_a, data={"name": name})

    ranked = [c.name for c in search(actor=org.rep_a, q="星辰科技")["customers"]]

    assert ranked[:2] == ["星辰科技", "星辰科技集团"]
    assert set(ranked) == {"星辰科技", "星辰科技集团", "上海星辰科技"}


def test_contacts_are_listed_searched_and_fetched_within_scope(org):
    """Given contacts at rep_a's and rep_b's customers, when rep_a lists, searches and fetches, then only the
    contacts at rep_a's customer appear and rep_b's contact answers not found."""
    mine = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    theirs = customer_create(actor=org.rep_b, data={"name": "杭州茶业"})
    wang = contact_create(actor=org.rep_a, customer=mine, data={"name": "王小红", "mobile": "13700002222"})
    other = contact_create(actor=org.rep_b, customer=theirs, data={"name": "王大明"})

    assert names(contact_list(actor=org.rep_a)) == {"王小红"}
    assert names(contact_list(actor=org.rep_a, q="王")) == {"王小红"}
    assert names(contact_list(actor=org.east_manager, q="王")) == {"王小红", "王大明"}
    assert names(contact_list(actor=org.rep_a, q="！")) == set()
    assert contact_get_for(actor=org.rep_a, contact_id=wang.pk) == wang
    with pytest.raises(NotFound):
        contact_get_for(actor=org.rep_a, contact_id=other.pk)


def test_contact_tree_orders_the_org_chart(org):
    """Given a boss with two reports and a grand-report, when drawing the org chart, then each appears under
    their boss with the right depth."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    boss = contact_create(actor=org.rep_a, customer=customer, data={"name": "总经理"})
    sales = contact_create(actor=org.rep_a, customer=customer, data={"name": "销售总监", "reports_to": boss})
    contact_create(actor=org.rep_a, customer=customer, data={"name": "销售经理", "reports_to": sales})
    contact_create(actor=org.rep_a, customer=customer, data={"name": "采购总监", "reports_to": boss})

    tree = [(c.name, depth) for c, depth in contact_tree(customer=customer)]

    assert tree[0] == ("总经理", 0)
    assert ("销售经理", 2) in tree
    assert tree.index(("销售经理", 2)) == tree.index(("销售总监", 1)) + 1
    assert ("采购总监", 1) in tree


def test_dashboard_lists_follow_ups_recent_views_and_recent_releases(org):
    """Given a due follow-up, a customer viewed and one just released, when rep_a opens the dashboard, then
    each list holds what rep_a may see."""
    due = customer_create(
        actor=org.rep_a, data={"name": "星辰科技", "next_followup_on": timezone.localdate()}
    )
    later = customer_create(
        actor=org.rep_a,
        data={"name": "云海数据", "next_followup_on": timezone.localdate() + timedelta(days=3)},
    )
    released = customer_create(actor=org.rep_a2, data={"name": "北辰贸易"})
    customer_release(actor=org.rep_a2, customer=released, reason="不跟了")
    recent_view_touch(user=org.rep_a, customer=later)
    recent_view_touch(user=org.rep_a, customer=due)

    assert [c.name for c in customers_to_follow_up(actor=org.rep_a)] == ["星辰科技"]
    assert [c.name for c in recently_viewed(actor=org.rep_a)] == ["星辰科技", "云海数据"]
    assert [c.name for c in pool_recently_released(actor=org.rep_a)] == ["北辰贸易"]
    assert pool_recently_released(actor=org.rep_c) == []


def test_a_customer_renamed_is_found_by_its_new_name_only(org):
    """Given a customer renamed from 星辰科技 to 云海数据, when searching, then the search index follows the
    rename."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    customer_update(actor=org.rep_a, customer=customer, data={"name": "云海数据"}, version=customer.version)

    assert search(actor=org.rep_a, q="星辰")["customers"] == []
    assert [c.name for c in search(actor=org.rep_a, q="yunhai")["customers"]] == ["云海数据"]
