"""RFM and ABC on small hand-computed datasets: exact 1-5 scores, the eight classes, the named groups and the ABC
classes, with ties, one-order customers, zero spend, thresholds instead of quintiles, and customers in the
recycle bin left out; and from real orders, refunds netted out."""

import re
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from kehu.analytics.models import CustomerScore, ScoreMonth, ScoreSettings
from kehu.analytics.scores import recompute
from kehu.sales.models import BuyerStats

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)


def buyer(make_customer, org, name: str, *, days: int, orders: int, spent: str):
    customer = make_customer(org.rep_a, name=name)
    BuyerStats.objects.create(
        customer=customer,
        order_count=orders,
        paid_orders=orders,
        total_paid=Decimal(spent),
        first_purchase_at=NOW - timedelta(days=days + 30),
        last_purchase_at=NOW - timedelta(days=days, hours=1),
    )
    return customer


@pytest.fixture
def five(org, make_customer):
    """A..E as worked out by hand in the module's comments below."""
    return {
        "A": buyer(make_customer, org, "甲", days=5, orders=10, spent="5000"),
        "B": buyer(make_customer, org, "乙", days=20, orders=5, spent="1000"),
        "C": buyer(make_customer, org, "丙", days=100, orders=1, spent="50"),
        "D": buyer(make_customer, org, "丁", days=300, orders=2, spent="800"),
        "E": buyer(make_customer, org, "戊", days=30, orders=1, spent="0"),
    }


def scores(customers: dict) -> dict:
    found = {s.customer_id: s for s in CustomerScore.objects.all()}
    return {key: found.get(c.pk) for key, c in customers.items()}


def test_quintile_scores_classes_groups_and_abc_by_hand(five):
    # Recency ranked longest absence first: D 300 (0), C 100 (.25), E 30 (.5), B 20 (.75), A 5 (1) → 1 2 3 4 5.
    # Frequency: C and E tie at 1 (both 0), D 2 (.5), B 5 (.75), A 10 (1) → 1 1 3 4 5.
    # Money: E 0, C 50 (.25), D 800 (.5), B 1000 (.75), A 5000 (1) → 1 2 3 4 5.
    # Averages: 91 days, 3.8 orders, 1,370 CNY. Sales 6,850: A starts at 0 % and B at 73 % (A), D at 88 % (B),
    # C at 99 % (C); E spent nothing (C).
    assert recompute(now=NOW) == 5
    got = scores(five)
    assert {k: (s.recency_days, s.frequency, s.monetary) for k, s in got.items()} == {
        "A": (5, 10, Decimal("5000.00")),
        "B": (20, 5, Decimal("1000.00")),
        "C": (100, 1, Decimal("50.00")),
        "D": (300, 2, Decimal("800.00")),
        "E": (30, 1, Decimal("0.00")),
    }
    assert {k: (s.r, s.f, s.m) for k, s in got.items()} == {
        "A": (5, 5, 5),
        "B": (4, 4, 4),
        "C": (2, 1, 2),
        "D": (1, 3, 3),
        "E": (3, 1, 1),
    }
    assert {k: s.rfm_class for k, s in got.items()} == {
        "A": "important_value",
        "B": "general_value",
        "C": "general_win_back",
        "D": "general_win_back",
        "E": "general_develop",
    }
    assert {k: s.rfm_group for k, s in got.items()} == {
        "A": "champions",
        "B": "champions",
        "C": "about_to_sleep",
        "D": "at_risk",
        "E": "need_attention",
    }
    assert {k: s.abc for k, s in got.items()} == {"A": "A", "B": "A", "C": "C", "D": "B", "E": "C"}
    # Lifecycle with the defaults (decline after 180 days, stable from 5 purchases): D has been away 300 days.
    assert {k: s.lifecycle for k, s in got.items()} == {
        "A": "stable",
        "B": "stable",
        "C": "exploration",
        "D": "decline",
        "E": "exploration",
    }
    month = timezone.localtime(NOW).date().replace(day=1)
    assert ScoreMonth.objects.filter(month=month).count() == 5
    assert ScoreMonth.objects.get(customer=five["D"]).rfm_group == "at_risk"


def test_each_month_keeps_its_last_standing(five):
    recompute(now=NOW - timedelta(days=40))  # last month (or the one before): A is then 45 days away
    recompute(now=NOW)
    recompute(now=NOW)  # again this month: replaces, never doubles
    months = sorted(ScoreMonth.objects.values_list("month", flat=True).distinct())
    assert len(months) == 2 and ScoreMonth.objects.count() == 10


def test_the_sellers_thresholds_instead_of_quintiles(five):
    ScoreSettings.objects.create(
        method=ScoreSettings.Method.THRESHOLDS,
        recency_days=[7, 30, 90, 180],
        frequency_bounds=[2, 3, 5, 8],
        monetary_bounds=[100, 500, 1000, 3000],
        classes_by_thresholds=True,
        recent_days=60,
        frequent_orders=5,
        big_spend=Decimal("500"),
        lapse_days=90,
        stable_orders=10,
    )
    recompute(now=NOW)
    got = scores(five)
    assert {k: s.lifecycle for k, s in got.items()} == {
        "A": "stable",  # 10 purchases
        "B": "formation",  # 5 < 10
        "C": "decline",  # 100 days > 90
        "D": "decline",
        "E": "exploration",
    }
    assert {k: (s.r, s.f, s.m) for k, s in got.items()} == {
        "A": (5, 5, 5),  # 5 days ≤ 7; 10 ≥ 8; 5000 ≥ 3000
        "B": (4, 4, 4),  # 20 ≤ 30; 5 ≥ 5; 1000 ≥ 1000
        "C": (2, 1, 1),  # 100 ≤ 180; 1 < 2; 50 < 100
        "D": (1, 2, 3),  # 300 > 180; 2 ≥ 2; 800 ≥ 500
        "E": (4, 1, 1),  # 30 ≤ 30
    }
    assert {k: s.rfm_class for k, s in got.items()} == {
        "A": "important_value",
        "B": "important_value",  # 5 orders is "frequent", 1000 is "big" by the thresholds
        "C": "general_win_back",
        "D": "important_win_back",
        "E": "general_develop",
    }


def test_ties_score_alike_and_deleted_or_never_buying_customers_are_left_out(org, make_customer):
    twins = [buyer(make_customer, org, f"同{i}", days=10, orders=1, spent="99") for i in range(3)]
    binned = buyer(make_customer, org, "已删", days=1, orders=9, spent="9999")
    binned.deleted_at = NOW
    binned.save(update_fields=["deleted_at"])
    BuyerStats.objects.create(customer=make_customer(org.rep_a, name="未成交"), order_count=0, paid_orders=1)
    assert recompute(now=NOW) == 3
    got = list(CustomerScore.objects.filter(customer__in=twins))
    assert {(s.r, s.f, s.m, s.rfm_class, s.rfm_group, s.abc) for s in got} == {
        (1, 1, 1, "important_value", "lost", "A")  # all equal: at the average, first in rank
    }


def test_from_orders_refunds_are_netted_and_the_command_recomputes(org, tmp_path):
    from kehu.integrations.tests.exports import order, orders_file, run
    from kehu.sales.models import BuyerIdentity, Shop

    shop = Shop.objects.create(platform=Shop.Platform.TAOBAO, name="店", org_unit=org.team_a)
    run(org.east_manager, shop, orders_file(tmp_path, "ExportOrderList202606020900.csv", [
        order("351531314732935600", "tb一", 买家实际支付金额="300.00", 退款金额="100.00"),
        order("351531314732935601", "tb二", 买家实际支付金额="50.00", 收货人姓名="李四", 联系手机="'13600001111"),
    ]))  # fmt: skip
    out = StringIO()
    call_command("recompute-scores", stdout=out)
    assert "2 " in out.getvalue()  # customers scored
    one = CustomerScore.objects.get(customer=BuyerIdentity.objects.get(nick="tb一").customer)
    assert (one.frequency, one.monetary, one.abc) == (1, Decimal("200.00"), "A")


def test_the_page_counts_open_exactly_those_customers_and_each_user_sees_their_own(five, org, login):
    other = five["A"]
    other.owner = org.rep_c
    other.org_unit = org.north
    other.save(update_fields=["owner", "org_unit"])
    recompute(now=NOW)  # the page's figures are stored per owner and unit with the scores
    client = login(org.rep_a)
    page = client.get("/analytics/rfm/").content.decode()
    groups = page.split('data-testid="rfm-groups"')[1].split("</table>")[0]
    link = groups.split('href="')[1].split('"')[0]  # champions: B only, A belongs to another region now
    assert link == "/customers/?segment=rfm_group%3Achampions"
    assert groups.split('data-testid="segment-count">')[1].startswith("1<")
    listed = client.get(link).content.decode()
    assert (
        listed.count('data-testid="customer-row"') == 1
        and "乙" in listed
        and 'data-testid="segment-filter"' in listed
    )
    assert "甲" not in listed
    everything = login(org.admin).get("/analytics/rfm/").content.decode()
    champions = everything.split('data-testid="rfm-groups"')[1].split('data-testid="segment-count">')[1]
    assert champions.startswith("2<")
    assert login(org.admin).get("/customers/?segment=rfm_group:nonsense").status_code == 302


@pytest.mark.django_db(transaction=True)  # the real worker runs the recompute the save queues
def test_a_system_admin_sets_thresholds_and_a_bad_line_is_explained(five, org, login, database_worker):
    assert login(org.east_manager).get("/analytics/settings/").status_code == 403
    client = login(org.admin)
    form = {
        "method": "thresholds",
        "recency_days": "7, 30，90, 180",
        "frequency_bounds": "2,3,5,8",
        "monetary_bounds": "3000, 1000, 500, 100",  # not ascending
        "recent_days": "60",
        "frequent_orders": "5",
        "big_spend": "500",
        "lapse_days": "180",
        "stable_orders": "5",
        "abc_a": "80",
        "abc_b": "15",
        "new_days": "90",
        "loyal_days": "365",
        "holdout_days": "60",
        "yearly_discount": "8",
        "min_customers": "50",
        "min_repeaters": "10",
        "churn_gap_factor": "2.5",
        "churn_one_time_days": "120",
        "churn_window_days": "30",
        "churn_min_value": "100",
    }
    refused = client.post("/analytics/settings/", form)
    assert refused.status_code == 422 and not ScoreSettings.objects.exists()
    assert 'data-field-error="monetary_bounds"' in refused.content.decode()
    form["monetary_bounds"] = "100, 500, 1000, 3000"
    assert client.post("/analytics/settings/", form).status_code == 302
    saved = ScoreSettings.objects.get()
    assert (saved.recency_days, saved.monetary_bounds, saved.abc_a) == (
        [7, 30, 90, 180],
        [100, 500, 1000, 3000],
        80,
    )
    assert (saved.holdout_days, saved.churn_gap_factor, saved.churn_one_time_days) == (
        60,
        Decimal("2.5"),
        120,
    )
    database_worker()  # the recompute the save queued
    assert {s.customer_id: (s.r, s.f, s.m) for s in CustomerScore.objects.all()}[five["E"].pk] == (4, 1, 1)
    explained = client.get("/analytics/rfm/").content.decode()
    assert "80%" in explained and "15%" in explained  # the page explains the shares in force


def test_the_customer_overview_shows_the_scores(five, org, login):
    recompute(now=NOW)
    page = login(org.rep_a).get(f"/customers/{five['A'].pk}/").content.decode()
    panel = page.split('data-testid="customer-score"')[1].split("</div>\n</div>")[0]
    assert "R5 F5 M5" in panel and "segment=rfm_group:champions" in panel and "ABC A" in panel
    assert "segment=lifecycle:stable" in panel
    listed = login(org.rep_a).get("/customers/?segment=lifecycle:stable").content.decode()
    assert listed.count('data-testid="customer-row"') == 2  # A and B


def test_segment_migration_between_two_months_opens_exactly_the_movers(five, org, login):
    earlier = NOW - timedelta(days=40)
    recompute(
        now=earlier
    )  # A, 5 days before NOW, had not bought yet: its recency is negative, still "recent"
    BuyerStats.objects.filter(customer=five["B"]).update(last_purchase_at=NOW - timedelta(days=200))
    recompute(now=NOW)  # B has not bought for 200 days now: general value → general to keep
    start = timezone.localtime(earlier).date().replace(day=1)
    end = timezone.localtime(NOW).date().replace(day=1)
    client = login(org.rep_a)
    page = client.get("/analytics/migration/").content.decode()
    matrix = page.split('data-testid="migration"')[1].split("</table>")[0]
    link = f"segment=moved:{start.isoformat()}:general_value:{end.isoformat()}:general_keep"
    assert link in matrix
    counts = re.findall(r'data-testid="moved-count">(\d+)<', matrix)
    assert sum(map(int, counts)) == 5  # every customer scored in both months, once
    listed = client.get(f"/customers/?{link}").content.decode()
    assert listed.count('data-testid="customer-row"') == 1 and "乙" in listed
    # The Sankey chart carries the same flow, opening the same customers.
    sankey = page.split('id="migration-option"')[1].split("</script>")[0]
    assert link.replace(":", "%3A") in sankey and '"value": 1' in sankey


@pytest.mark.django_db(transaction=True)  # the real worker runs the recompute the import queues
def test_an_order_import_queues_a_recompute_so_new_buyers_are_scored(org, regions, tmp_path, database_worker):
    from kehu.integrations.tests.exports import order, orders_file, run
    from kehu.sales.models import BuyerIdentity, Shop

    shop = Shop.objects.create(platform=Shop.Platform.TAOBAO, name="店", org_unit=org.team_a)
    path = orders_file(tmp_path, "ExportOrderList202606020900.csv", [order("351531314732935650", "tb新客")])
    run(org.east_manager, shop, path, dry_run=True)
    database_worker()
    assert not CustomerScore.objects.exists()  # a test run writes nothing and scores nothing
    run(org.east_manager, shop, path)
    assert not CustomerScore.objects.exists()
    database_worker()
    score = CustomerScore.objects.get()
    assert score.customer == BuyerIdentity.objects.get(nick="tb新客").customer and score.frequency == 1


def test_marketing_segments_select_customers_by_their_standings(org, five):
    """Given the five scored by hand, when a segment asks for a class, an ABC class or both in any order, then
    exactly those customers match (the fields come from analytics through the `segment.fields` hook)."""
    from kehu.marketing import selectors as segment_selectors

    recompute(now=NOW)
    by_class = {"match": "all", "rules": [{"field": "rfm_class", "op": "in", "value": ["general_win_back"]}]}
    found = segment_selectors.members(actor=org.rep_a, rules=by_class)
    assert set(found.values_list("name", flat=True)) == {"丙", "丁"}
    either = {
        "match": "any",
        "rules": [
            {"field": "abc", "op": "in", "value": ["A"]},
            {"field": "rfm_class", "op": "in", "value": ["general_develop"]},
        ],
    }
    assert segment_selectors.count(actor=org.rep_a, rules=either) == 3  # 甲 and 乙 (ABC class A), and 戊
    unscored = make_customer_without_score(org)
    never = {"match": "all", "rules": [{"field": "rfm_class", "op": "not_in", "value": ["important_value"]}]}
    assert unscored.pk in set(
        segment_selectors.members(actor=org.rep_a, rules=never).values_list("pk", flat=True)
    )


def make_customer_without_score(org):
    from kehu.customers.services import customer_create

    return customer_create(actor=org.rep_a, data={"name": "新客"})
