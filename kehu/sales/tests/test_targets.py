"""Quotas, the sales and cash forecasts and commission statements: hand-computed figures through the services,
the API and the pages, with permissions, the data scope and query budgets."""

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.activities.models import Notification
from kehu.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from kehu.sales.models import (
    CommissionRule,
    CommissionStatement,
    CommissionTier,
    Contract,
    ExchangeRate,
    Opportunity,
    PaymentInstalment,
    Quota,
    Receipt,
)
from kehu.sales.selectors import targets as selectors
from kehu.sales.services import targets as services
from tests.api_client import API, ApiClient
from tests.browser.conftest import browser_page  # noqa: F401 - the Playwright page fixture
from tests.browser.test_journeys import log_in

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2026, 3, 1)
APRIL = datetime.date(2026, 4, 1)
D = Decimal


# --- building blocks ----------------------------------------------------------------------------------------------


@pytest.fixture
def usd(db):
    """USD at 7.10 from 1 January 2026, 7.20 from 10 March 2026."""
    ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2026, 1, 1), rate=D("7.10"))
    ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2026, 3, 10), rate=D("7.20"))


@pytest.fixture
def make_contract(make_customer):
    counter = {"n": 0}

    def make(owner, *, currency="CNY", amount="300000", status="active", unit=None, customer=None):
        counter["n"] += 1
        customer = customer or make_customer(owner, name=f"合同客户{counter['n']:03d}有限公司")
        return Contract.objects.create(
            status=status,
            number=f"HT2026-{counter['n']:04d}",
            title="年度服务",
            owner=owner,
            org_unit=unit or customer.org_unit,
            customer=customer,
            amount=D(amount),
            currency=currency,
        )

    return make


def receipt(contract, on, amount, *, voided=False):
    return Receipt.objects.create(
        contract=contract,
        received_on=on,
        amount=D(amount),
        voided_at=timezone.now() if voided else None,
    )


def make_rule(*, marginal, tiers=((0, 3), (80, 5), (100, 8)), user=None, role="sales_rep", valid_from=None):
    rule = CommissionRule.objects.create(
        name="标准提成",
        name_en="Standard commission",
        user=user,
        role="" if user else role,
        valid_from=valid_from or datetime.date(2026, 1, 1),
        is_marginal=marginal,
    )
    for threshold, rate in tiers:
        CommissionTier.objects.create(rule=rule, from_attainment=D(threshold), rate=D(rate))
    return rule


def received_quota(user, amount, month=MARCH):
    return Quota.objects.create(
        user=user,
        org_unit=user.memberships.first().unit,
        starts_on=month,
        measure="received",
        amount=D(amount),
    )


# --- commission statements ----------------------------------------------------------------------------------------


@pytest.fixture
def march_receipts(org, make_contract):
    """rep_a receives 70,000 + 50,000 = 120,000 CNY in March; a voided 99,999, an April receipt and rep_a2's
    receipt do not count."""
    contract = make_contract(org.rep_a)
    receipts = [
        receipt(contract, datetime.date(2026, 3, 5), "70000"),
        receipt(contract, datetime.date(2026, 3, 20), "50000"),
    ]
    receipt(contract, datetime.date(2026, 3, 21), "99999", voided=True)
    receipt(contract, datetime.date(2026, 4, 1), "11111")
    receipt(make_contract(org.rep_a2), datetime.date(2026, 3, 6), "22222")
    return contract, receipts


def test_flat_commission_pays_the_whole_base_at_the_highest_tier_reached(org, march_receipts):
    """Quota 100,000, base 120,000 → attainment 120.00%; tiers 0%→3%, 80%→5%, 100%→8%: the highest tier reached
    is 100%→8%, so 120,000 × 8% = 9,600.00."""
    make_rule(marginal=False)
    received_quota(org.rep_a, "100000")
    statement = services.commission_statement_compute(actor=org.east_manager, user=org.rep_a, month=MARCH)
    assert (statement.base, statement.quota, statement.attainment) == (
        D("120000.00"),
        D("100000.00"),
        D("120.00"),
    )
    assert statement.commission == D("9600.00")
    assert statement.status == "draft" and statement.org_unit == org.team_a


def test_marginal_commission_pays_each_slice_at_its_tier(org, march_receipts):
    """Quota 100,000: the thresholds are 0, 80,000 and 100,000. Base 120,000 → 80,000 × 3% + 20,000 × 5% +
    20,000 × 8% = 2,400 + 1,000 + 1,600 = 5,000.00."""
    make_rule(marginal=True)
    received_quota(org.rep_a, "100000")
    statement = services.commission_statement_compute(actor=org.east_manager, user=org.rep_a, month=MARCH)
    assert statement.commission == D("5000.00")
    steps = selectors.commission_breakdown(
        base=statement.base, quota=statement.quota, tiers=list(statement.rule.tiers.all()), marginal=True
    ).slices
    assert [(s.amount, s.rate, s.commission) for s in steps] == [
        (D("80000.00"), D("3.00"), D("2400.00")),
        (D("20000.00"), D("5.00"), D("1000.00")),
        (D("20000.00"), D("8.00"), D("1600.00")),
    ]


def test_marginal_slices_are_rounded_each_to_the_cent(org, make_contract):
    """Quota 30,000, base 33,333.33: 24,000 × 3% = 720.00; 6,000 × 5% = 300.00; 3,333.33 × 8% = 266.6664 →
    266.67; total 1,286.67. Attainment 33,333.33 / 30,000 = 111.11111% → 111.11."""
    make_rule(marginal=True)
    received_quota(org.rep_a, "30000")
    receipt(make_contract(org.rep_a), datetime.date(2026, 3, 9), "33333.33")
    statement = services.commission_statement_compute(actor=org.east_manager, user=org.rep_a, month=MARCH)
    assert (statement.attainment, statement.commission) == (D("111.11"), D("1286.67"))


def test_below_the_first_tier_flat_pays_the_reached_tier_and_voided_receipts_do_not_count(
    org, march_receipts
):
    """Quota 200,000, base 120,000 (the voided 99,999 is not in it) → attainment 60.00% → tier 0%→3%:
    120,000 × 3% = 3,600.00. The lines list the two live receipts only, oldest first."""
    make_rule(marginal=False)
    received_quota(org.rep_a, "200000")
    contract, receipts = march_receipts
    statement = services.commission_statement_compute(actor=org.east_manager, user=org.rep_a, month=MARCH)
    assert (statement.attainment, statement.commission) == (D("60.00"), D("3600.00"))
    assert [line["receipt_id"] for line in statement.lines] == [r.pk for r in receipts]
    assert statement.lines[0] == {
        "receipt_id": receipts[0].pk,
        "contract_id": contract.pk,
        "contract_number": contract.number,
        "customer": contract.customer.name,
        "received_on": "2026-03-05",
        "amount": "70000.00",
        "currency": "CNY",
        "rate": "1",
        "amount_home": "70000.00",
    }


def test_a_usd_receipt_is_converted_at_its_date_and_no_quota_pays_the_lowest_tier(org, usd, make_contract):
    """USD 500 on 5 March at 7.10 = 3,550.00; USD 1,000 on 15 March at 7.20 = 7,200.00; base 10,750.00. No quota:
    attainment None; flat takes the tier from 0% (3%): 10,750 × 3% = 322.50; marginal takes the lowest tier's rate
    on the whole base: also 322.50 with these tiers; with tiers 10%→2%, 50%→4% marginal pays 10,750 × 2% = 215.00
    and flat (no tier from 0%) pays nothing."""
    contract = make_contract(org.rep_a, currency="USD", amount="20000")
    receipt(contract, datetime.date(2026, 3, 5), "500")
    receipt(contract, datetime.date(2026, 3, 15), "1000")
    rule = make_rule(marginal=False)
    statement = services.commission_statement_compute(actor=org.admin, user=org.rep_a, month=MARCH)
    assert [line["amount_home"] for line in statement.lines] == ["3550.00", "7200.00"]
    assert (statement.base, statement.quota, statement.attainment) == (D("10750.00"), None, None)
    assert statement.commission == D("322.50")

    rule.is_marginal = True
    rule.save()
    assert services.commission_statement_compute(
        actor=org.admin, user=org.rep_a, month=MARCH
    ).commission == D("322.50")
    rule.tiers.all().delete()
    CommissionTier.objects.create(rule=rule, from_attainment=D(10), rate=D(2))
    CommissionTier.objects.create(rule=rule, from_attainment=D(50), rate=D(4))
    assert services.commission_statement_compute(
        actor=org.admin, user=org.rep_a, month=MARCH
    ).commission == D("215.00")
    rule.is_marginal = False
    rule.save()
    assert services.commission_statement_compute(
        actor=org.admin, user=org.rep_a, month=MARCH
    ).commission == D("0.00")


def test_a_receipt_without_an_exchange_rate_is_refused_not_counted_as_zero(org, make_contract):
    receipt(make_contract(org.rep_a, currency="EUR"), datetime.date(2026, 3, 5), "500")
    make_rule(marginal=False)
    with pytest.raises(ValidationFailed) as refused:
        services.commission_statement_compute(actor=org.admin, user=org.rep_a, month=MARCH)
    assert "EUR 2026-03-05" in str(refused.value.message)
    assert not CommissionStatement.objects.exists()


def test_the_rule_for_a_rep_is_their_own_then_their_roles_newest_first(org):
    role_old = make_rule(marginal=False, valid_from=datetime.date(2025, 1, 1))
    role_new = make_rule(marginal=False, valid_from=datetime.date(2026, 2, 1))
    assert selectors.commission_rule_for(user=org.rep_a, month=MARCH) == role_new
    assert selectors.commission_rule_for(user=org.rep_a, month=datetime.date(2026, 1, 1)) == role_old
    own = make_rule(marginal=True, user=org.rep_a, valid_from=datetime.date(2026, 3, 1))
    own_expired = make_rule(marginal=True, user=org.rep_a2, valid_from=datetime.date(2025, 1, 1))
    own_expired.valid_until = datetime.date(2026, 2, 28)
    own_expired.save()
    assert selectors.commission_rule_for(user=org.rep_a, month=MARCH) == own
    assert selectors.commission_rule_for(user=org.rep_a2, month=MARCH) == role_new
    assert selectors.commission_rule_for(user=org.east_manager, month=MARCH) is None


def test_recomputing_gives_identical_figures_and_a_confirmed_statement_is_kept(org, march_receipts):
    """Computing twice gives the same statement (same row, figures and lines); once confirmed by the manager the
    statement is no longer recomputed, even when a new receipt arrives; the rep is told."""
    make_rule(marginal=True)
    received_quota(org.rep_a, "100000")
    first = services.commission_statement_compute(actor=org.east_manager, user=org.rep_a, month=MARCH)
    figures = (first.base, first.quota, first.attainment, first.commission, first.lines, first.rule_id)
    again = services.commission_statement_compute(actor=org.east_manager, user=org.rep_a, month=MARCH)
    again.refresh_from_db()
    assert again.pk == first.pk
    assert (
        again.base,
        again.quota,
        again.attainment,
        again.commission,
        again.lines,
        again.rule_id,
    ) == figures

    services.commission_statement_confirm(actor=org.east_manager, statement=again)
    receipt(march_receipts[0], datetime.date(2026, 3, 30), "1000")
    with pytest.raises(Conflict) as refused:
        services.commission_statement_compute(actor=org.east_manager, user=org.rep_a, month=MARCH)
    assert "已确认" in str(refused.value.message)  # "… is confirmed …"
    kept = CommissionStatement.objects.get(pk=first.pk)
    assert (kept.status, kept.base, kept.confirmed_by) == ("confirmed", D("120000.00"), org.east_manager)
    run = services.commission_statements_compute_month(actor=org.east_manager, month=MARCH)
    assert [s.pk for s in run.kept] == [first.pk] and CommissionStatement.objects.get(pk=first.pk).base == D(
        "120000.00"
    )
    assert Notification.objects.filter(recipient=org.rep_a, kind="commission_confirmed").exists()


def test_who_may_compute_and_confirm(org, march_receipts):
    """The rep's manager (or an admin) computes and confirms; a rep, a colleague, an analyst or another region's
    manager may not; nobody confirms their own statement; a confirmed statement is not confirmed twice."""
    make_rule(marginal=False)
    for actor in (org.rep_a, org.rep_b, org.analyst):
        with pytest.raises(PermissionDenied):
            services.commission_statement_compute(actor=actor, user=org.rep_a, month=MARCH)
    statement = services.commission_statement_compute(actor=org.east_manager, user=org.rep_a, month=MARCH)
    for actor in (org.rep_a, org.rep_a2, org.analyst):
        with pytest.raises(PermissionDenied):
            services.commission_statement_confirm(actor=actor, statement=statement)
    manager_own = services.commission_statement_compute(actor=org.admin, user=org.east_manager, month=MARCH)
    with pytest.raises(PermissionDenied):
        services.commission_statement_confirm(actor=org.east_manager, statement=manager_own)
    services.commission_statement_confirm(actor=org.admin, statement=statement)
    with pytest.raises(Conflict):
        services.commission_statement_confirm(actor=org.east_manager, statement=statement)


def test_computing_the_month_covers_the_managed_reps_with_receipts_or_a_quota(
    org, march_receipts, make_contract
):
    """rep_a (receipts) and rep_a2 (receipts) and rep_b (quota only) are East reps; rep_c (North) is not the East
    manager's."""
    make_rule(marginal=False)
    received_quota(org.rep_b, "50000")
    receipt(make_contract(org.rep_c), datetime.date(2026, 3, 6), "1000")
    run = services.commission_statements_compute_month(actor=org.east_manager, month=MARCH)
    assert sorted(s.user.username for s in run.computed) == ["rep_a", "rep_a2", "rep_b"]
    rep_b = next(s for s in run.computed if s.user == org.rep_b)
    assert (rep_b.base, rep_b.quota, rep_b.attainment, rep_b.commission) == (
        D("0"),
        D("50000.00"),
        D("0.00"),
        D("0"),
    )
    with pytest.raises(PermissionDenied):
        services.commission_statements_compute_month(actor=org.rep_a, month=MARCH)


# --- quotas -------------------------------------------------------------------------------------------------------


def test_quotas_are_set_by_managers_in_their_subtree_and_by_admins(org):
    """A manager sets a rep's and a team's quota (created, then changed, audited); a rep cannot; the East manager
    cannot in the North; nobody but an admin sets their own; the start must be a month's (quarter's) first day."""
    quota = services.quota_set(actor=org.east_manager, user=org.rep_a, starts_on=MARCH, amount="100000")
    assert (quota.org_unit, quota.period, quota.measure, quota.amount) == (
        org.team_a,
        "month",
        "won",
        D("100000"),
    )
    again = services.quota_set(actor=org.east_manager, user=org.rep_a, starts_on=MARCH, amount="120000.50")
    assert again.pk == quota.pk and again.amount == D("120000.50")
    assert [h.history_user for h in quota.history.all()] == [org.east_manager, org.east_manager]
    unit_quota = services.quota_set(
        actor=org.east_manager, org_unit=org.team_b, starts_on=MARCH, amount=300000
    )
    assert unit_quota.user is None and unit_quota.pk != quota.pk

    with pytest.raises(PermissionDenied):
        services.quota_set(actor=org.rep_a, user=org.rep_a2, starts_on=MARCH, amount=1)
    with pytest.raises(PermissionDenied):
        services.quota_set(actor=org.rep_a, user=org.rep_a, starts_on=MARCH, amount=1)
    with pytest.raises(PermissionDenied):
        services.quota_set(actor=org.east_manager, user=org.rep_c, starts_on=MARCH, amount=1)
    with pytest.raises(PermissionDenied):
        services.quota_set(actor=org.east_manager, user=org.east_manager, starts_on=MARCH, amount=1)
    with pytest.raises(PermissionDenied):
        services.quota_set(actor=org.analyst, user=org.rep_a, starts_on=MARCH, amount=1)
    assert (
        services.quota_set(actor=org.admin, user=org.rep_c, starts_on=MARCH, amount=1).org_unit == org.team_c
    )

    with pytest.raises(ValidationFailed) as bad:
        services.quota_set(actor=org.admin, user=org.rep_c, starts_on=datetime.date(2026, 3, 2), amount=1)
    assert "starts_on" in bad.value.fields
    with pytest.raises(ValidationFailed) as bad:
        services.quota_set(actor=org.admin, user=org.rep_c, period="quarter", starts_on=MARCH, amount=1)
    assert "starts_on" in bad.value.fields
    with pytest.raises(ValidationFailed) as bad:
        services.quota_set(actor=org.admin, user=org.rep_c, starts_on=MARCH, amount="-1")
    assert "amount" in bad.value.fields

    with pytest.raises(PermissionDenied):
        services.quota_delete(actor=org.rep_a, quota=quota)
    quota_id = quota.pk
    services.quota_delete(actor=org.east_manager, quota=quota)
    assert not Quota.objects.filter(pk=quota_id).exists()
    deleted = Quota.history.filter(id=quota_id).order_by("-history_id").first()
    assert (deleted.history_type, deleted.history_user) == ("-", org.east_manager)


# --- the sales forecast -------------------------------------------------------------------------------------------


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))


@pytest.fixture
def deals(org, pipeline, make_customer, usd):
    """March–April 2026. rep_a: won 100,000 CNY (10 Mar) and 10,000 USD (20 Mar); lost 50,000 (excluded);
    open commit 40,000 CNY at 80% (25 Mar), best case 5,000 USD at 50% (28 Mar), pipeline 20,000 CNY at 10%
    (15 Apr), omitted 999,000 CNY (15 Mar, excluded), commit 7,000 in May (outside). rep_b: won 30,000 CNY
    (2 Apr), open commit 10,000 CNY at 60% (30 Apr). Won quotas: rep_a March 200,000; rep_a2 March 100,000;
    rep_b April 50,000; team B April 80,000 (the unit's own)."""
    customers = {rep: make_customer(rep) for rep in (org.rep_a, org.rep_b)}

    def deal(
        owner,
        amount,
        *,
        status="open",
        currency="CNY",
        probability=0,
        category="pipeline",
        close=None,
        closed=None,
    ):
        stage = {"open": pipeline.qualify, "won": pipeline.won, "lost": pipeline.lost}[status]
        return Opportunity.objects.create(
            name=f"{owner.username} {amount}",
            customer=customers[owner],
            pipeline=pipeline,
            stage=stage,
            status=status,
            amount=D(amount),
            currency=currency,
            probability=probability,
            forecast_category=category,
            expected_close_on=close,
            closed_at=_at(closed) if closed else None,
            owner=owner,
            org_unit=customers[owner].org_unit,
            stage_entered_at=timezone.now(),
        )

    deal(org.rep_a, "100000", status="won", closed=datetime.date(2026, 3, 10), probability=100)
    deal(org.rep_a, "10000", status="won", currency="USD", closed=datetime.date(2026, 3, 20), probability=100)
    deal(org.rep_a, "50000", status="lost", closed=datetime.date(2026, 3, 12))
    deal(org.rep_a, "40000", probability=80, category="commit", close=datetime.date(2026, 3, 25))
    deal(
        org.rep_a,
        "5000",
        currency="USD",
        probability=50,
        category="best_case",
        close=datetime.date(2026, 3, 28),
    )
    deal(org.rep_a, "20000", probability=10, category="pipeline", close=datetime.date(2026, 4, 15))
    deal(org.rep_a, "999000", probability=90, category="omitted", close=datetime.date(2026, 3, 15))
    deal(org.rep_a, "7000", probability=90, category="commit", close=datetime.date(2026, 5, 1))
    deal(org.rep_b, "30000", status="won", closed=datetime.date(2026, 4, 2), probability=100)
    deal(org.rep_b, "10000", probability=60, category="commit", close=datetime.date(2026, 4, 30))
    for user, amount, month in (
        (org.rep_a, 200000, MARCH),
        (org.rep_a2, 100000, MARCH),
        (org.rep_b, 50000, APRIL),
    ):
        Quota.objects.create(
            user=user, org_unit=user.memberships.first().unit, starts_on=month, amount=D(amount)
        )
    Quota.objects.create(org_unit=org.team_b, starts_on=APRIL, amount=D(80000))


def _cells(result):
    return {
        (row.label, row.month.month): (
            row.figures.quota,
            row.figures.won,
            row.figures.commit,
            row.figures.best_case,
            row.figures.pipeline,
            row.figures.weighted,
            row.figures.attainment,
            row.figures.gap,
        )
        for row in result.rows
    }


def test_the_forecast_per_rep_in_the_company_currency(org, deals):
    """rep_a March: won 100,000 + 10,000 USD × 7.20 (31 March) = 172,000; commit 40,000; best case 40,000 +
    5,000 × 7.20 = 76,000; pipeline 76,000 (omitted excluded); weighted 40,000 × 80% + 36,000 × 50% = 32,000 +
    18,000 = 50,000; attainment 172,000 / 200,000 = 86.00%; gap 28,000. rep_a April: pipeline 20,000, weighted
    2,000. rep_a2 March: quota only. rep_b April: won 30,000 of 50,000 = 60.00%, commit 10,000, weighted 6,000."""
    result = selectors.forecast(actor=org.east_manager, months=[MARCH, APRIL])
    assert _cells(result) == {
        ("李销售", 3): (D(200000), D(172000), D(40000), D(76000), D(76000), D(50000), D("86.00"), D(28000)),
        ("李销售", 4): (None, 0, 0, 0, D(20000), D(2000), None, None),
        ("周销售", 3): (D(100000), 0, 0, 0, 0, 0, D("0.00"), D(100000)),
        ("陈销售", 4): (D(50000), D(30000), D(10000), D(10000), D(10000), D(6000), D("60.00"), D(20000)),
    }
    march, april = (figures for _month, figures in result.month_totals)
    assert (march.quota, march.won, march.weighted) == (D(300000), D(172000), D(50000))
    assert (april.quota, april.won, april.pipeline) == (D(50000), D(30000), D(30000))
    assert (result.total.quota, result.total.won, result.total.attainment) == (
        D(350000),
        D(202000),
        D("57.71"),
    )


def test_the_forecast_per_unit_uses_the_units_quota_else_its_reps(org, deals):
    """Team A March: no unit quota → rep_a 200,000 + rep_a2 100,000 = 300,000. Team B April: its own 80,000
    (not rep_b's 50,000) → attainment 30,000 / 80,000 = 37.50%."""
    result = selectors.forecast(actor=org.admin, months=[MARCH, APRIL], group="unit")
    cells = _cells(result)
    assert cells[("上海一组", 3)][:2] == (D(300000), D(172000))
    assert cells[("杭州一组", 4)][0:2] == (D(80000), D(30000)) and cells[("杭州一组", 4)][6] == D("37.50")
    only_b = selectors.forecast(actor=org.admin, months=[APRIL], group="unit", unit=org.team_b)
    assert [row.label for row in only_b.rows] == ["杭州一组"]


def test_the_forecast_is_scoped(org, deals):
    """rep_b sees only their own row; rep_c sees nothing of the East."""
    assert {label for label, _m in _cells(selectors.forecast(actor=org.rep_b, months=[MARCH, APRIL]))} == {
        "陈销售"
    }
    assert selectors.forecast(actor=org.rep_c, months=[MARCH, APRIL]).rows == []


# --- the cash forecast --------------------------------------------------------------------------------------------


@pytest.fixture
def plans(org, usd, make_contract):
    """rep_a CNY contract: #1 due 15 Feb 100,000 with 40,000 received (overdue 60,000); #2 due 20 Mar 100,000;
    #3 due 20 Apr settled. rep_a USD contract: due 31 Mar 10,000 with 2,500 received → 7,500 × 7.20 = 54,000;
    a receipt of USD 2,500 on 12 March → 2,500 × 7.20 = 18,000 received in March; a voided 5,000. A draft
    contract's instalment is not expected. rep_b: due 20 Mar 20,000. Received quotas March: rep_a 150,000,
    rep_b 20,000; team A's own 120,000."""
    cny, dollars = make_contract(org.rep_a), make_contract(org.rep_a, currency="USD", amount="10000")
    for position, due, amount, received, settled in (
        (1, datetime.date(2026, 2, 15), 100000, 40000, False),
        (2, datetime.date(2026, 3, 20), 100000, 0, False),
        (3, datetime.date(2026, 4, 20), 100000, 100000, True),
    ):
        PaymentInstalment.objects.create(
            contract=cny,
            position=position,
            due_on=due,
            amount=D(amount),
            received=D(received),
            is_settled=settled,
        )
    PaymentInstalment.objects.create(
        contract=dollars, due_on=datetime.date(2026, 3, 31), amount=D(10000), received=D(2500)
    )
    receipt(dollars, datetime.date(2026, 3, 12), "2500")
    receipt(cny, datetime.date(2026, 3, 13), "5000", voided=True)
    receipt(cny, datetime.date(2026, 2, 10), "40000")
    draft = make_contract(org.rep_a, status="draft")
    PaymentInstalment.objects.create(contract=draft, due_on=datetime.date(2026, 3, 5), amount=D(777))
    PaymentInstalment.objects.create(
        contract=make_contract(org.rep_b), due_on=datetime.date(2026, 3, 20), amount=D(20000)
    )
    received_quota(org.rep_a, "150000")
    received_quota(org.rep_b, "20000")
    Quota.objects.create(org_unit=org.team_a, starts_on=MARCH, measure="received", amount=D(120000))


def test_the_cash_forecast(org, plans):
    """rep_a March: expected 100,000 + 54,000 = 154,000; received 18,000 of a 150,000 quota (12.00%); April:
    nothing; overdue 60,000. The East manager adds rep_b's 20,000 and quota; team A alone uses its own quota."""
    mine = selectors.cash_forecast(actor=org.rep_a, months=[MARCH, APRIL])
    assert [(m.expected, m.received, m.quota, m.attainment) for m in mine.months] == [
        (D(154000), D(18000), D(150000), D("12.00")),
        (0, 0, None, None),
    ]
    assert mine.overdue == D(60000)
    managed = selectors.cash_forecast(actor=org.east_manager, months=[MARCH, APRIL])
    assert (managed.months[0].expected, managed.months[0].quota) == (D(174000), D(170000))
    team = selectors.cash_forecast(actor=org.east_manager, months=[MARCH], unit=org.team_a)
    assert (team.months[0].expected, team.months[0].quota) == (D(154000), D(120000))
    assert selectors.cash_forecast(actor=org.rep_b, months=[MARCH]).months[0].expected == D(20000)


# --- the API ------------------------------------------------------------------------------------------------------


def _put(client: ApiClient, path: str, body: dict):
    return client.client.put(
        API + path, json.dumps(body), content_type="application/json", headers=client.headers
    )


def test_quota_api_upserts_lists_and_deletes_within_the_managers_units(org):
    manager, rep = ApiClient(org.east_manager), ApiClient(org.rep_a)
    created = _put(
        manager, "/quotas", {"user_id": org.rep_a.pk, "starts_on": "2026-03-01", "amount": "100000"}
    )
    assert created.status_code == 200, created.content
    body = created.json()
    assert (body["user"]["id"], body["unit"]["id"], body["amount"], body["measure"]) == (
        org.rep_a.pk,
        org.team_a.pk,
        "100000.00",
        "won",
    )
    changed = _put(
        manager, "/quotas", {"user_id": org.rep_a.pk, "starts_on": "2026-03-01", "amount": "90000"}
    )
    assert changed.json()["id"] == body["id"] and changed.json()["amount"] == "90000.00"
    unit = _put(manager, "/quotas", {"unit_id": org.team_b.pk, "starts_on": "2026-04-01", "amount": "1"})
    assert unit.status_code == 200 and unit.json()["user"] is None

    assert (
        _put(rep, "/quotas", {"user_id": org.rep_a2.pk, "starts_on": "2026-03-01", "amount": "1"}).status_code
        == 403
    )
    outside = _put(manager, "/quotas", {"user_id": org.rep_c.pk, "starts_on": "2026-03-01", "amount": "1"})
    assert outside.status_code == 422 and "user_id" in outside.json()["fields"]  # not a colleague they see
    bad = _put(manager, "/quotas", {"user_id": org.rep_a.pk, "starts_on": "2026-03-02", "amount": "1"})
    assert bad.status_code == 422 and "starts_on" in bad.json()["fields"]

    listed = manager.get("/quotas", {"year": 2026, "measure": "won"}).json()["items"]
    assert [q["id"] for q in listed] == [body["id"], unit.json()["id"]]
    assert [q["id"] for q in rep.get("/quotas").json()["items"]] == [body["id"]]
    assert ApiClient(org.rep_b).get("/quotas").json()["items"] == []
    assert ApiClient(org.rep_b).delete(f"/quotas/{body['id']}").status_code == 404
    assert rep.delete(f"/quotas/{body['id']}").status_code == 403
    assert manager.delete(f"/quotas/{body['id']}").status_code == 204
    assert not Quota.objects.filter(pk=body["id"]).exists()


def test_forecast_api(org, deals, plans):
    client = ApiClient(org.east_manager)
    answer = client.get("/forecast", {"from": "2026-03", "months": 2, "group": "owner"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    first = next(r for r in body["rows"] if r["id"] == org.rep_a.pk and r["month"] == "2026-03-01")
    assert first["figures"] == {
        "quota": "200000.00",
        "won": "172000.00",
        "commit": "40000.00",
        "best_case": "76000.00",
        "pipeline": "76000.00",
        "weighted": "50000.00",
        "attainment": "86.00",
        "gap": "28000.00",
    }
    assert body["total"]["won"] == "202000.00" and body["currency"] == "CNY"
    by_unit = client.get(
        "/forecast", {"from": "2026-04", "months": 1, "group": "unit", "unit_id": org.team_b.pk}
    )
    assert [(r["label"], r["figures"]["quota"]) for r in by_unit.json()["rows"]] == [("杭州一组", "80000.00")]
    cash = client.get("/forecast/cash", {"from": "2026-03", "months": 2}).json()
    assert [(m["expected"], m["received"], m["quota"]) for m in cash["months"]] == [
        ("174000.00", "18000.00", "170000.00"),
        ("0.00", "0.00", None),
    ]
    assert cash["overdue"] == "60000.00"
    assert client.get("/forecast", {"from": "2026-13"}).status_code == 422
    assert client.get("/forecast", {"group": "team"}).status_code == 422
    assert ApiClient(org.rep_c).get("/forecast", {"unit_id": org.team_a.pk}).status_code == 422
    mine = ApiClient(org.rep_b).get("/forecast", {"from": "2026-03", "months": 2}).json()
    assert {r["id"] for r in mine["rows"]} == {org.rep_b.pk}


def test_commission_api_compute_read_confirm_and_export(org, march_receipts):
    make_rule(marginal=True)
    received_quota(org.rep_a, "100000")
    manager = ApiClient(org.east_manager)
    computed = manager.post("/commissions/compute", {"month": "2026-03", "user_id": org.rep_a.pk})
    assert computed.status_code == 200, computed.content
    statement = computed.json()["computed"][0]
    assert (statement["base"], statement["commission"], statement["status"]) == (
        "120000.00",
        "5000.00",
        "draft",
    )

    detail = ApiClient(org.rep_a).get(f"/commissions/{statement['id']}")
    assert detail.status_code == 200
    body = detail.json()
    assert [line["amount_home"] for line in body["lines"]] == ["70000.00", "50000.00"]
    assert body["rule"]["is_marginal"] is True and [t["rate"] for t in body["rule"]["tiers"]] == [
        "3.00",
        "5.00",
        "8.00",
    ]
    assert any("2,400.00" in sentence for sentence in body["explanation"])
    assert [s["id"] for s in manager.get("/commissions", {"month": "2026-03"}).json()["items"]] == [
        statement["id"]
    ]

    rep_b = ApiClient(org.rep_b)
    for path in (f"/commissions/{statement['id']}", f"/commissions/{statement['id']}/export"):
        assert rep_b.get(path).status_code == 404
    assert rep_b.post(f"/commissions/{statement['id']}/confirm").status_code == 404
    assert rep_b.get("/commissions", {"month": "2026-03"}).json()["items"] == []
    assert ApiClient(org.rep_a).post(f"/commissions/{statement['id']}/confirm").status_code == 403

    confirmed = manager.post(f"/commissions/{statement['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    again = manager.post("/commissions/compute", {"month": "2026-03", "user_id": org.rep_a.pk})
    assert again.status_code == 409
    month = manager.post("/commissions/compute", {"month": "2026-03"}).json()
    assert [s["id"] for s in month["kept"]] == [statement["id"]]
    assert sorted(s["user"]["id"] for s in month["computed"]) == [org.rep_a2.pk]

    export = ApiClient(org.rep_a).get(f"/commissions/{statement['id']}/export")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert export.content.startswith(b"\xef\xbb\xbf")


# --- the pages ----------------------------------------------------------------------------------------------------


def test_the_csv_export_has_a_header_one_row_per_receipt_and_the_total(org, march_receipts, login):
    make_rule(marginal=False)
    received_quota(org.rep_a, "100000")
    statement = services.commission_statement_compute(actor=org.east_manager, user=org.rep_a, month=MARCH)
    response = login(org.rep_a).get(f"/commissions/{statement.pk}/export.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="commission-rep_a-2026-03.csv"'
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    contract, receipts = march_receipts
    customer = contract.customer.name
    assert len(rows[0]) == 8 and rows[0][-1].endswith("CNY）")
    assert rows[1:] == [
        [str(receipts[0].pk), "2026-03-05", contract.number, customer, "70000.00", "CNY", "1", "70000.00"],
        [str(receipts[1].pk), "2026-03-20", contract.number, customer, "50000.00", "CNY", "1", "50000.00"],
        [rows[3][0], "", "", "", "", "", "", "120000.00"],
        [rows[4][0], "", "", "", "", "", "", "9600.00"],
    ]
    assert customer in raw.decode("utf-8-sig")  # Chinese survives the round trip


def test_commission_pages_scope_compute_and_confirm(
    org, march_receipts, make_contract, login, django_assert_max_num_queries
):
    """The manager computes the month from the list page, sees every East statement (query budget flat), opens
    one, reads how it was reached and confirms it. rep_b sees neither rep_a's row nor its pages (404)."""
    make_rule(marginal=True)
    received_quota(org.rep_a, "100000")
    receipt(make_contract(org.rep_b), datetime.date(2026, 3, 3), "1000")
    client = login(org.east_manager)
    computed = client.post("/commissions/compute/", {"month": "2026-03"})
    assert computed.status_code == 302 and computed["Location"] == "/commissions/?month=2026-03"
    statement = CommissionStatement.objects.get(user=org.rep_a, month=MARCH)
    with django_assert_max_num_queries(10):
        page = client.get("/commissions/?month=2026-03")
    html = page.content.decode()
    assert page.status_code == 200 and html.count('data-testid="statement-row"') == 3
    assert "¥5,000.00" in html and f"/commissions/{statement.pk}/confirm/" in html

    detail = client.get(f"/commissions/{statement.pk}/").content.decode()
    assert (
        "¥80,000.00 × 3%" in detail.replace("CNY 80,000.00", "¥80,000.00")
        or "CNY 80,000.00 × 3% = CNY 2,400.00" in detail
    )
    assert "≥ 80.00%" in detail and "HT2026-0001" in detail
    assert client.post(f"/commissions/{statement.pk}/confirm/").status_code == 302
    statement.refresh_from_db()
    assert (statement.status, statement.confirmed_by) == ("confirmed", org.east_manager)

    other = login(org.rep_b)
    listing = other.get("/commissions/?month=2026-03").content.decode()
    assert listing.count('data-testid="statement-row"') == 1 and "李销售" not in listing
    assert "Compute the month" not in listing and 'data-testid="compute"' not in listing
    for path in (f"/commissions/{statement.pk}/", f"/commissions/{statement.pk}/export.csv"):
        assert other.get(path).status_code == 404
    assert other.post(f"/commissions/{statement.pk}/confirm/").status_code == 404


def test_the_forecast_page_with_totals_and_cash_within_a_query_budget(
    org, deals, plans, login, django_assert_max_num_queries
):
    client = login(org.east_manager)
    client.get("/forecast/")  # warm the session
    with django_assert_max_num_queries(20):
        page = client.get("/forecast/?from=2026-03&months=2&group=owner")
    html = page.content.decode()
    assert page.status_code == 200
    assert (
        html.count('data-testid="forecast-row"') == 4
        and html.count('data-testid="forecast-month-total"') == 2
    )
    assert "¥172,000.00" in html and "86.00%" in html and "¥202,000.00" in html
    assert 'data-testid="cash-overdue">¥60,000.00' in html and "¥174,000.00" in html
    assert "2026 Q1" in html

    by_unit = client.get(f"/forecast/?from=2026-04&months=1&group=unit&unit={org.team_b.pk}").content.decode()
    assert "<td>杭州一组</td>" in by_unit and "¥80,000.00" in by_unit and "<td>上海一组</td>" not in by_unit
    mine = login(org.rep_b).get("/forecast/?from=2026-03&months=2").content.decode()
    assert "陈销售" in mine and "李销售" not in mine and "¥172,000.00" not in mine
    assert login(org.rep_b).get("/forecast/?from=junk").status_code == 200  # a bad month falls back


def test_the_quota_grid_edits_cells_for_managers_and_is_read_only_for_reps(org, login):
    """The manager saves a cell with htmx and several with the form; a rep sees their own row read-only and
    cannot post a cell."""
    client = login(org.east_manager)
    page = client.get("/quotas/?year=2026&measure=won").content.decode()
    assert f'name="c-u{org.rep_a.pk}-2026-03"' in page and f'name="c-n{org.team_a.pk}-2026-03"' in page
    assert f'name="c-u{org.rep_c.pk}-2026-03"' not in page

    cell = client.post(
        "/quotas/cell/",
        {f"c-u{org.rep_a.pk}-2026-03": "100,000", "measure": "won"},
        headers={"HX-Request": "true"},
    )
    assert (
        cell.status_code == 200
        and "is-valid" in cell.content.decode()
        and "<nav" not in cell.content.decode()
    )
    assert Quota.objects.get(user=org.rep_a, starts_on=MARCH, measure="won").amount == D(100000)
    bad = client.post(
        "/quotas/cell/",
        {f"c-u{org.rep_a.pk}-2026-04": "abc", "measure": "won"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 200 and "is-invalid" in bad.content.decode()  # htmx swaps only 2xx answers

    saved = client.post(
        "/quotas/",
        {
            "year": "2026",
            "measure": "received",
            f"c-u{org.rep_b.pk}-2026-05": "5000",
            f"c-n{org.team_b.pk}-2026-05": "9000",
            f"c-u{org.rep_a.pk}-2026-05": "",
        },
    )
    assert saved.status_code == 302
    assert sorted(Quota.objects.filter(measure="received").values_list("amount", flat=True)) == [
        D(5000),
        D(9000),
    ]
    client.post(
        "/quotas/cell/", {f"c-u{org.rep_a.pk}-2026-03": "", "measure": "won"}, headers={"HX-Request": "true"}
    )
    assert not Quota.objects.filter(user=org.rep_a, measure="won").exists()

    Quota.objects.create(user=org.rep_a, org_unit=org.team_a, starts_on=APRIL, amount=D(70000))
    rep_page = login(org.rep_a).get("/quotas/?year=2026").content.decode()
    assert rep_page.count('data-testid="quota-row"') == 1 and "¥70,000.00" in rep_page
    assert 'name="c-' not in rep_page
    refused = login(org.rep_a).post(
        "/quotas/cell/",
        {f"c-u{org.rep_a2.pk}-2026-03": "1", "measure": "won"},
        headers={"HX-Request": "true"},
    )
    assert "is-invalid" in refused.content.decode() and not Quota.objects.filter(user=org.rep_a2).exists()


# --- in a browser -------------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_types_quotas_into_the_grid_and_the_forecast_measures_against_them(
    browser_page,  # noqa: F811 - the imported fixture
    live_server,
    org,
):
    """Each cell is saved when the manager leaves it (htmx), marked as saved; the forecast shows the quota."""
    from playwright.sync_api import expect

    page, base = browser_page, live_server.url
    log_in(page, base, org.east_manager, org.password)
    page.goto(f"{base}/quotas/?year=2026&measure=won")
    cell = page.locator(f"input[name=c-u{org.rep_a.pk}-2026-03]")
    cell.fill("120000")
    cell.press("Tab")
    expect(page.locator(f"input[name=c-u{org.rep_a.pk}-2026-03].is-valid")).to_be_visible()
    wrong = page.locator(f"input[name=c-u{org.rep_b.pk}-2026-03]")
    wrong.fill("abc")
    wrong.press("Tab")
    expect(page.locator(f"input[name=c-u{org.rep_b.pk}-2026-03].is-invalid")).to_be_visible()
    assert Quota.objects.get(user=org.rep_a, starts_on=MARCH).amount == D(120000)
    assert not Quota.objects.filter(user=org.rep_b).exists()
    page.screenshot(path="test-artifacts/quotas-zh.png", full_page=True)

    page.goto(f"{base}/forecast/?from=2026-03&months=1")
    expect(page.locator("[data-testid=forecast-row]")).to_contain_text("¥120,000.00")
    page.screenshot(path="test-artifacts/forecast-zh.png", full_page=True)
