"""The running totals behind the board, the forecast and the cash forecast stay equal to a recount from the
records through every kind of write, and the readers built on them give the hand-computed figures."""

import datetime
from decimal import Decimal

import pytest

from kehu.customers.services import customer_delete, customer_restore
from kehu.sales.models import CashRollup, Contract, ExchangeRate, Opportunity, OpportunityRollup
from kehu.sales.rollups import rollups_drift, rollups_rebuild
from kehu.sales.selectors import opportunities as selectors
from kehu.sales.selectors import targets as target_selectors
from kehu.sales.services import opportunities as services
from kehu.sales.services import payments as payment_services
from kehu.users.services import user_deactivate

pytestmark = pytest.mark.django_db
D = Decimal
CLOSE = datetime.date(2026, 12, 15)


def deal(org, pipeline, customer, amount, *, currency="CNY", stage=None, owner=None, **extra):
    return services.opportunity_create(
        actor=owner or org.rep_a,
        data={
            "name": f"deal {amount}",
            "customer": customer,
            "amount": D(amount),
            "currency": currency,
            "expected_close_on": CLOSE,
            **extra,
        },
        pipeline=pipeline,
        stage=stage,
    )


def test_opportunity_totals_follow_every_kind_of_write(org, pipeline, make_customer):
    customer = make_customer(org.rep_a)
    other = make_customer(org.rep_a)
    first = deal(org, pipeline, customer, "100000")
    second = deal(org, pipeline, customer, "2500.50", currency="USD", forecast_category="commit")
    third = deal(org, pipeline, other, "999.99")
    assert rollups_drift() == {}

    first = services.opportunity_update(
        actor=org.rep_a,
        opportunity=first,
        data={"amount": D("120000"), "probability": 35},
        version=first.version,
    )
    services.opportunity_move(actor=org.rep_a, opportunity=second, stage=pipeline.won)
    services.opportunity_move(
        actor=org.rep_a, opportunity=third, stage=pipeline.lost, data={"lost_reason": "价格"}
    )
    services.opportunity_assign(actor=org.east_manager, opportunity=first, owner=org.rep_a2)
    assert rollups_drift() == {}

    services.opportunity_delete(actor=org.rep_a2, opportunity=first)
    customer_delete(actor=org.admin, customer=other)
    assert rollups_drift() == {}
    services.opportunity_restore(actor=org.admin, opportunity=Opportunity.all_objects.get(pk=first.pk))
    customer_restore(actor=org.admin, customer=other)
    user_deactivate(actor=org.admin, user=org.rep_a2, successor=org.rep_b)
    assert rollups_drift() == {}

    rows_before = set(OpportunityRollup.objects.values_list("key", "count", "amount_cents", "weighted_cents"))
    rollups_rebuild()
    rows_after = set(OpportunityRollup.objects.values_list("key", "count", "amount_cents", "weighted_cents"))
    assert {r for r in rows_before if r[1]} == rows_after


def test_the_board_reads_the_totals_and_agrees_with_adding_up_the_deals(org, pipeline, make_customer):
    """¥100,000 at 10% and $1,000 at 10% (7.10 at the end of December) in the first stage: ¥107,100 and
    weighted ¥10,710; the same figures when a search makes the board add the deals up itself."""
    ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2026, 1, 1), rate=D("7.10"))
    customer = make_customer(org.rep_a, name="汇总客户")
    deal(org, pipeline, customer, "100000")
    deal(org, pipeline, customer, "1000", currency="USD")
    from_totals = selectors.board(actor=org.rep_a, pipeline=pipeline, filters=selectors.OpportunityFilters())
    searched = selectors.board(
        actor=org.rep_a, pipeline=pipeline, filters=selectors.OpportunityFilters(q="deal")
    )
    for board in (from_totals, searched):
        column = board.columns[0]
        assert (column.count, column.amount, column.weighted) == (2, D("107100.00"), D("10710.00"))
    hidden = selectors.board(actor=org.rep_b, pipeline=pipeline, filters=selectors.OpportunityFilters())
    assert all(column.count == 0 for column in hidden.columns)
    mine = selectors.board(
        actor=org.east_manager,
        pipeline=pipeline,
        filters=selectors.OpportunityFilters(owner=str(org.rep_b.pk)),
    )
    assert mine.columns[0].count == 0


def test_cash_totals_follow_plans_receipts_voids_and_contract_changes(org, make_customer):
    customer = make_customer(org.rep_a)
    contract = Contract.objects.create(
        number="HT-R-1",
        title="回款",
        status=Contract.Status.ACTIVE,
        amount=D("100000.00"),
        customer=customer,
        owner=org.rep_a,
        org_unit=org.team_a,
    )
    payment_services.payment_plan_set(
        actor=org.rep_a,
        contract=contract,
        instalments=[
            {"due_on": datetime.date(2026, 1, 31), "amount": D("33333.33")},
            {"due_on": datetime.date(2026, 2, 28), "amount": D("33333.33")},
            {"due_on": datetime.date(2026, 3, 31), "amount": D("33333.34")},
        ],
    )
    assert rollups_drift() == {}
    receipt = payment_services.receipt_record(
        actor=org.rep_a, contract=contract, received_on=datetime.date(2026, 2, 3), amount=D("40000.01")
    )
    payment_services.receipt_record(
        actor=org.rep_a, contract=contract, received_on=datetime.date(2026, 2, 9), amount=D("0.99")
    )
    assert rollups_drift() == {}
    payment_services.receipt_void(actor=org.rep_a, receipt=receipt, reason="录错")
    assert rollups_drift() == {}

    forecast = target_selectors.cash_forecast(
        actor=org.rep_a,
        months=[datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)],
    )
    expected = [(m.month.month, m.expected, m.received) for m in forecast.months]
    # The 0.99 went to instalment 2 (the first was settled by the receipt voided since), received in February.
    assert expected == [(1, D("33333.33"), D("0")), (2, D("33332.34"), D("0.99")), (3, D("33333.34"), D("0"))]

    user_deactivate(actor=org.admin, user=org.rep_a, successor=org.rep_a2)
    contract.refresh_from_db()
    contract.status = Contract.Status.TERMINATED
    contract.save()
    assert rollups_drift() == {}
    assert not CashRollup.objects.filter(owner=org.rep_a, due_cents__gt=0).exists()
    assert (
        target_selectors.cash_forecast(actor=org.rep_a2, months=[datetime.date(2026, 1, 1)])
        .months[0]
        .expected
        == 0
    )
