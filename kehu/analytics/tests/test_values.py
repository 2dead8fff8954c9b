"""Predicted values and churn warnings from real orders: what counts as a purchase, the minimum-data message,
per-shop and across-shop rows, the held-out check, and warnings raised once per lapse and settled by a purchase."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from kehu.analytics import values
from kehu.analytics.models import ChurnWarning, CustomerValue, ScoreSettings, ValueModel
from kehu.analytics.tests.history import NOW, Orders
from kehu.sales.models import Order, Shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(org):
    return [
        Shop.objects.create(platform=Shop.Platform.TAOBAO, name=name, org_unit=org.team_a)
        for name in ("甲店", "乙店")
    ]


@pytest.fixture
def orders(org):
    return Orders(org)


def lenient(**extra):
    ScoreSettings.objects.create(min_customers=1, min_repeaters=1, **extra)


def test_histories_count_purchase_days_net_of_refunds_per_shop_and_across(org, make_customer, orders, shops):
    a, b = shops
    wu = make_customer(org.rep_a, name="吴")
    orders.add(wu, 100, "100", shop=a)
    orders.add(wu, 100, "50", shop=a)  # the same day: one purchase of 150
    orders.add(wu, 40, "200", shop=a, refunded="80")  # 120 net
    orders.add(wu, 10, "70", shop=b)
    orders.add(wu, 5, "999", shop=b, status=Order.Status.CLOSED)  # not a purchase
    lenient()
    values.recompute(now=NOW)
    rows = {v.shop_id: v for v in CustomerValue.objects.filter(customer=wu)}
    assert set(rows) == {None, a.pk, b.pk}
    across, in_a, in_b = rows[None], rows[a.pk], rows[b.pk]
    assert (across.repeat_purchases, across.active_days, across.age_days) == (2, 90, 100)
    assert across.average_value == Decimal("95.00")  # (120 + 70) / 2 repeat purchases
    assert (in_a.repeat_purchases, in_a.active_days, in_a.age_days, in_a.average_value) == (
        1,
        60,
        100,
        Decimal("120.00"),
    )
    assert (in_b.repeat_purchases, in_b.age_days, in_b.average_value) == (0, 10, Decimal("0.00"))


def test_too_little_data_says_what_is_missing_and_predicts_nothing(org, make_customer, orders):
    for i in range(3):
        customer = make_customer(org.rep_a)
        orders.add(customer, 30 + i, "80")
        orders.add(customer, 3 + i, "80")
    values.recompute(now=NOW)
    model = ValueModel.objects.get(shop=None)
    assert model.status == ValueModel.Status.TOO_LITTLE
    assert (model.customers, model.repeaters, model.needs) == (3, 3, {"customers": 100, "repeaters": 20})
    with translation.override("en"):
        assert "at least 100 buyers of whom 20 bought again; there are 3 and 3" in model.explanation()
    assert model.bgnbd == {}
    assert CustomerValue.objects.count() == 3
    assert not CustomerValue.objects.exclude(clv_12=None).exists()


@pytest.fixture
def panel(org, make_customer, orders):
    """Sixty customers: regulars buying every 20 days until now, lapsed ones who stopped 200 days ago after
    buying every 20 days, and one-time buyers."""
    people = {"regular": [], "lapsed": [], "once": []}
    for i in range(20):
        regular = make_customer(org.rep_a, name=f"常客{i}")
        for k in range(10):
            orders.add(regular, 2 + i % 5 + 20 * k, "100")
        lapsed = make_customer(org.rep_a, name=f"流失{i}")
        for k in range(5):
            orders.add(lapsed, 200 + i % 5 + 20 * k, "100")
        once = make_customer(org.rep_a, name=f"一次{i}")
        orders.add(once, 10 + 15 * i, "60")
        people["regular"].append(regular)
        people["lapsed"].append(lapsed)
        people["once"].append(once)
    return people


def test_a_fitted_model_ranks_regulars_above_the_lapsed_and_checks_itself_on_held_out_days(panel):
    lenient(holdout_days=60)
    values.recompute(now=NOW)
    model = ValueModel.objects.get(shop=None)
    assert model.status == ValueModel.Status.FITTED, model.explanation()
    assert model.customers == 60 and model.repeaters == 40
    assert set(model.bgnbd) == {"r", "alpha", "a", "b"} and set(model.gamma_gamma) == {"p", "q", "gamma"}
    found = {v.customer_id: v for v in CustomerValue.objects.filter(shop=None)}
    regular = [found[c.pk] for c in panel["regular"]]
    lapsed = [found[c.pk] for c in panel["lapsed"]]
    assert min(v.p_alive for v in regular) > 0.8 > 0.2 > max(v.p_alive for v in lapsed)
    assert min(v.clv_12 for v in regular) > max(v.clv_12 for v in lapsed)
    for v in regular:
        assert v.purchases_3 < v.purchases_6 < v.purchases_12
        assert v.clv_3 < v.clv_6 < v.clv_12
    # The check: customers who had bought by the cut-off, grouped by their repeat purchases then; the regulars
    # bought three times in the 60 held-out days.
    holdout = model.holdout
    assert holdout["days"] == 60
    assert sum(row[1] for row in holdout["rows"]) == 60 - 4  # four one-time buyers came after the cut-off
    assert holdout["actual"] == 20 * 3 + 4 * 0


def test_churn_warnings_follow_each_customers_rhythm_once_per_lapse(org, make_customer, orders):
    lenient(churn_gap_factor=2, churn_one_time_days=90, churn_window_days=30)
    overdue = make_customer(org.rep_a, name="逾期")  # every 20 days, silent for 50 > 2 × 20
    for k in range(4):
        orders.add(overdue, 50 + 20 * k, "100")
    on_time = make_customer(org.rep_a, name="正常")  # every 20 days, silent for 30 ≤ 40
    for k in range(4):
        orders.add(on_time, 30 + 20 * k, "100")
    long_gone = make_customer(
        org.rep_a, name="早已流失"
    )  # past the line by more than the window: lost already
    for k in range(4):
        orders.add(long_gone, 120 + 20 * k, "100")
    once = make_customer(org.rep_a, name="一次")  # one-time buyer, 100 days
    orders.add(once, 100, "300")
    values.recompute(now=NOW)
    warnings = {w.customer_id: w for w in ChurnWarning.objects.all()}
    assert set(warnings) == {overdue.pk, once.pk}
    rhythm, one_time = warnings[overdue.pk], warnings[once.pk]
    assert (rhythm.reason, rhythm.usual_gap_days, rhythm.days_since, rhythm.threshold_days) == (
        "rhythm",
        20,
        50,
        40,
    )
    assert rhythm.value_at_risk == Decimal("400.00")  # 400 spent over 60 days: a year's value is all of it
    assert (one_time.reason, one_time.days_since, one_time.threshold_days) == ("one_time", 100, 90)
    assert one_time.value_at_risk == Decimal("300.00")
    # Recomputed the next day: no second warning for the same lapse.
    values.recompute(now=NOW + timedelta(days=1))
    assert ChurnWarning.objects.count() == 2
    # The overdue customer buys again: won back, and the history says when.
    orders.add(overdue, -1.5, "100")
    values.recompute(now=NOW + timedelta(days=2))
    rhythm.refresh_from_db()
    assert rhythm.status == ChurnWarning.Status.WON_BACK
    assert rhythm.won_back_at > rhythm.raised_at
    assert rhythm.history.count() == 2


def test_a_minimum_value_at_risk_keeps_small_customers_off_the_list(org, make_customer, orders):
    lenient(churn_min_value=500)
    once = make_customer(org.rep_a)
    orders.add(once, 100, "300")
    values.recompute(now=NOW)
    assert not ChurnWarning.objects.exists()
