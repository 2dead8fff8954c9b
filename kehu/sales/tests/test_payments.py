"""Payment plans, receipts and their allocation, invoices, the receivables reports, their scope, API and pages."""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.activities.models import TimelineEntry
from kehu.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from kehu.sales.models import Contract, ExchangeRate, Invoice, PaymentInstalment, Receipt, ReceiptAllocation
from kehu.sales.selectors import payments as selectors
from kehu.sales.services import payments as services
from tests.api_client import ApiClient

pytestmark = pytest.mark.django_db

D = Decimal
ON = datetime.date(2026, 3, 31)  # the day the reports are read in the tests with fixed dates


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@pytest.fixture
def make_contract(org, make_customer):
    counter = {"n": 0}

    def make(owner=None, *, amount="100000.00", currency="CNY", status="active", customer=None, unit=None):
        counter["n"] += 1
        owner = owner or org.rep_a
        return Contract.objects.create(
            number=f"HT-TEST-{counter['n']}",
            title=f"测试合同{counter['n']}",
            status=status,
            amount=D(amount),
            currency=currency,
            customer=customer or make_customer(owner, name=f"回款客户{counter['n']:03d}"),
            owner=owner,
            org_unit=unit or (org.team_b if owner == org.rep_b else org.team_a),
        )

    return make


def plan(actor, contract, *rows):
    return services.payment_plan_set(
        actor=actor,
        contract=contract,
        instalments=[{"due_on": day(due), "amount": D(amount), "note": ""} for due, amount in rows],
    )


def amounts(contract):
    return [
        (i.position, i.amount, i.received, i.is_settled)
        for i in PaymentInstalment.objects.filter(contract=contract).order_by("position")
    ]


def pay(actor, contract, amount, *, on="2026-01-15", allocations=None):
    return services.receipt_record(
        actor=actor,
        contract=contract,
        received_on=day(on),
        amount=D(amount),
        method="bank",
        allocations=allocations,
    )


# --- the plan -----------------------------------------------------------------------------------------------------


def test_split_puts_the_cent_remainder_on_the_last_instalment(org, make_contract):
    """Given a contract of 100,000.00, when it is split into 3 monthly instalments from 31 January, then the
    parts are 33,333.33 / 33,333.33 / 33,333.34 on 31 Jan, 28 Feb and 31 Mar, and they save as the plan."""
    contract = make_contract()
    parts = services.payment_plan_split(
        actor=org.rep_a, contract=contract, parts=3, first_due_on=day("2026-01-31"), every_months=1
    )
    assert [(p["due_on"], p["amount"]) for p in parts] == [
        (day("2026-01-31"), D("33333.33")),
        (day("2026-02-28"), D("33333.33")),
        (day("2026-03-31"), D("33333.34")),
    ]
    services.payment_plan_set(actor=org.rep_a, contract=contract, instalments=parts)
    assert sum(i.amount for i in contract.instalments.all()) == D("100000.00")


def test_a_plan_must_total_the_contract_amount(org, make_contract):
    contract = make_contract()
    with pytest.raises(ValidationFailed) as refused:
        plan(org.rep_a, contract, ("2026-01-31", "50000.00"), ("2026-02-28", "49999.99"))
    message = str(refused.value.message)
    assert "99,999.99" in message and "100,000.00" in message and "-0.01" in message
    assert not contract.instalments.exists()


def test_plan_positions_follow_due_dates_and_paid_instalments_keep_their_rows(org, make_contract):
    """Given a plan with money received on its first instalment, when the plan is replaced, then the paid row
    keeps its id and received amount, cannot go below it, and cannot be dropped."""
    contract = make_contract()
    plan(org.rep_a, contract, ("2026-03-31", "40000.00"), ("2026-01-31", "60000.00"))
    assert [(i.position, i.due_on) for i in contract.instalments.order_by("position")] == [
        (1, day("2026-01-31")),
        (2, day("2026-03-31")),
    ]
    first = contract.instalments.get(position=1)
    pay(org.rep_a, contract, "25000.00")

    with pytest.raises(ValidationFailed) as below:
        plan(org.rep_a, contract, ("2026-01-31", "20000.00"), ("2026-03-31", "80000.00"))
    assert "instalments.0.amount" in below.value.fields
    plan(
        org.rep_a,
        contract,
        ("2026-01-31", "25000.00"),
        ("2026-02-28", "35000.00"),
        ("2026-03-31", "40000.00"),
    )
    kept = PaymentInstalment.objects.get(pk=first.pk)
    assert (kept.position, kept.amount, kept.received, kept.is_settled) == (
        1,
        D("25000.00"),
        D("25000.00"),
        True,
    )
    assert contract.instalments.count() == 3


def test_a_paid_instalment_cannot_be_removed_from_the_plan(org, make_contract):
    contract = make_contract()
    plan(org.rep_a, contract, ("2026-01-31", "60000.00"), ("2026-03-31", "40000.00"))
    pay(org.rep_a, contract, "70000.00")  # pays the first and 10,000 of the second
    with pytest.raises(ValidationFailed) as refused:
        plan(org.rep_a, contract, ("2026-01-31", "100000.00"))
    assert "不能删除" in str(refused.value.message)  # "… cannot be removed."
    assert contract.instalments.count() == 2


def test_the_plan_changes_only_while_the_contract_is_open(org, make_contract):
    for status, allowed in [("draft", True), ("pending", True), ("active", True), ("completed", False)]:
        contract = make_contract(status=status)
        if allowed:
            plan(org.rep_a, contract, ("2026-01-31", "100000.00"))
        else:
            with pytest.raises(ValidationFailed):
                plan(org.rep_a, contract, ("2026-01-31", "100000.00"))


def test_only_editors_write_payments(org, make_contract):
    contract = make_contract()
    plan(org.rep_a, contract, ("2026-01-31", "100000.00"))
    for outsider in (org.rep_b, org.analyst, org.rep_a2):
        with pytest.raises(PermissionDenied):
            pay(outsider, contract, "10.00")
        with pytest.raises(PermissionDenied):
            plan(outsider, contract, ("2026-01-31", "100000.00"))
    pay(org.east_manager, contract, "10.00")  # the manager of the unit may
    assert contract.instalments.get().received == D("10.00")


# --- receipts -----------------------------------------------------------------------------------------------------


def test_partial_receipts_allocate_oldest_first_without_rounding_drift(org, make_contract):
    """Given 100,000.00 in 3 instalments, when several odd partial receipts come in, then each instalment
    fills in due order to the cent, and an instalment is settled exactly when it is fully paid."""
    contract = make_contract()
    parts = services.payment_plan_split(
        actor=org.rep_a, contract=contract, parts=3, first_due_on=day("2026-01-31"), every_months=1
    )
    services.payment_plan_set(actor=org.rep_a, contract=contract, instalments=parts)

    pay(org.rep_a, contract, "10000.01")
    pay(org.rep_a, contract, "23333.32")
    assert amounts(contract) == [
        (1, D("33333.33"), D("33333.33"), True),
        (2, D("33333.33"), D("0.00"), False),
        (3, D("33333.34"), D("0.00"), False),
    ]
    pay(org.rep_a, contract, "0.01")
    pay(org.rep_a, contract, "33333.33")
    pay(org.rep_a, contract, "33333.32")
    assert amounts(contract) == [
        (1, D("33333.33"), D("33333.33"), True),
        (2, D("33333.33"), D("33333.33"), True),
        (3, D("33333.34"), D("33333.33"), False),
    ]
    with pytest.raises(ValidationFailed) as over:
        pay(org.rep_a, contract, "0.02")
    assert "0.01" in over.value.fields["amount"]
    pay(org.rep_a, contract, "0.01")
    assert all(settled for *_rest, settled in amounts(contract))
    summary = selectors.contract_payment_summary(contract=contract, on=ON)
    assert (summary.planned, summary.received, summary.outstanding) == (D("100000.00"), D("100000.00"), 0)


def test_over_payment_is_refused_saying_the_outstanding_amount(org, make_contract):
    contract = make_contract(amount="5000.00")
    plan(org.rep_a, contract, ("2026-01-31", "5000.00"))
    pay(org.rep_a, contract, "1234.56")
    with pytest.raises(ValidationFailed) as refused:
        pay(org.rep_a, contract, "3765.45")
    assert "3,765.44" in refused.value.fields["amount"]
    assert Receipt.objects.filter(contract=contract).count() == 1


def test_explicit_allocations_must_sum_to_the_receipt_and_fit_each_instalment(org, make_contract):
    contract = make_contract()
    first, second = plan(org.rep_a, contract, ("2026-01-31", "30000.00"), ("2026-02-28", "70000.00"))
    with pytest.raises(ValidationFailed) as short:
        pay(org.rep_a, contract, "500.00", allocations={second.pk: D("400.00")})
    assert "allocations" in short.value.fields
    with pytest.raises(ValidationFailed) as too_much:
        pay(org.rep_a, contract, "30000.01", allocations={first.pk: D("30000.01")})
    assert f"allocations.{first.pk}" in too_much.value.fields
    with pytest.raises(ValidationFailed):
        pay(org.rep_a, contract, "1.00", allocations={999999: D("1.00")})

    receipt = pay(org.rep_a, contract, "1000.50", allocations={second.pk: D("1000.00"), first.pk: D("0.50")})
    assert sorted(receipt.allocations.values_list("instalment_id", "amount")) == sorted(
        [(first.pk, D("0.50")), (second.pk, D("1000.00"))]
    )
    assert amounts(contract) == [
        (1, D("30000.00"), D("0.50"), False),
        (2, D("70000.00"), D("1000.00"), False),
    ]


def test_receipts_need_an_active_or_completed_contract_and_a_positive_amount(org, make_contract):
    draft = make_contract(status="draft")
    plan(org.rep_a, draft, ("2026-01-31", "100000.00"))
    with pytest.raises(ValidationFailed):
        pay(org.rep_a, draft, "10.00")
    contract = make_contract()
    plan(org.rep_a, contract, ("2026-01-31", "100000.00"))
    for bad in ("0", "-5.00", "1.005"):
        with pytest.raises(ValidationFailed) as refused:
            pay(org.rep_a, contract, bad)
        assert "amount" in refused.value.fields
    completed = make_contract(status="completed")
    PaymentInstalment.objects.create(
        contract=completed, position=1, due_on=day("2026-01-31"), amount=D("100000")
    )
    pay(org.rep_a, completed, "10.00")


def test_voiding_a_receipt_keeps_it_and_recomputes_the_instalments(org, make_contract):
    """Given three receipts spread over two instalments, when the middle one is voided, then it stays listed
    with who, when and why, its allocations are gone, and the instalments add up the remaining receipts."""
    contract = make_contract()
    plan(org.rep_a, contract, ("2026-01-31", "30000.00"), ("2026-02-28", "70000.00"))
    pay(org.rep_a, contract, "20000.00")
    middle = pay(org.rep_a, contract, "15000.00")  # 10,000 to the first, 5,000 to the second
    pay(org.rep_a, contract, "1000.00")
    with pytest.raises(ValidationFailed):
        services.receipt_void(actor=org.rep_a, receipt=middle, reason="  ")
    services.receipt_void(actor=org.rep_a, receipt=middle, reason="录错金额")
    middle.refresh_from_db()
    assert (middle.voided_by, middle.void_reason) == (org.rep_a, "录错金额") and middle.voided_at
    assert not middle.allocations.exists()
    assert amounts(contract) == [
        (1, D("30000.00"), D("20000.00"), False),
        (2, D("70000.00"), D("1000.00"), False),  # the third receipt went to the second: it stays there
    ]
    with pytest.raises(ValidationFailed):
        services.receipt_void(actor=org.rep_a, receipt=middle, reason="again")
    assert TimelineEntry.objects.filter(customer=contract.customer, event="receipt_voided").count() == 1
    assert TimelineEntry.objects.filter(customer=contract.customer, event="receipt_recorded").count() == 3
    assert middle.history.filter(history_change_reason="voided").exists()


@st.composite
def plans_and_receipts(draw):
    cents = draw(st.lists(st.integers(min_value=1, max_value=5_000_000), min_size=1, max_size=5))
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["pay", "pay_to", "void"]),
                st.integers(min_value=1, max_value=6_000_000),
                st.integers(min_value=0, max_value=10),
            ),
            max_size=8,
        )
    )
    return cents, steps


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=plans_and_receipts())
def test_allocations_always_add_up(org, make_contract, case):
    """For any plan and any sequence of receipts (oldest-first or to one instalment, refused when too large)
    and voids: Σ allocations = Σ live receipts, 0 ≤ received ≤ amount, and settled ⇔ received = amount."""
    cents, steps = case
    total = sum(D(c) / 100 for c in cents)
    contract = make_contract(amount=str(total))
    instalments = services.payment_plan_set(
        actor=org.rep_a,
        contract=contract,
        instalments=[
            {"due_on": day("2026-01-01") + datetime.timedelta(days=7 * i), "amount": D(c) / 100}
            for i, c in enumerate(cents)
        ],
    )
    for action, amount_cents, pick in steps:
        amount = D(amount_cents) / 100
        live = list(Receipt.objects.filter(contract=contract, voided_at__isnull=True))
        try:
            if action == "void" and live:
                services.receipt_void(actor=org.rep_a, receipt=live[pick % len(live)], reason="test")
            elif action == "pay_to":
                target = instalments[pick % len(instalments)]
                pay(org.rep_a, contract, amount, allocations={target.pk: amount})
            else:
                pay(org.rep_a, contract, amount)
        except ValidationFailed:
            pass
    live_total = sum(
        (r.amount for r in Receipt.objects.filter(contract=contract, voided_at__isnull=True)), D(0)
    )
    allocated = sum((a.amount for a in ReceiptAllocation.objects.filter(receipt__contract=contract)), D(0))
    assert allocated == live_total
    assert not ReceiptAllocation.objects.filter(receipt__contract=contract, receipt__voided_at__isnull=False)
    for instalment in PaymentInstalment.objects.filter(contract=contract):
        assert D(0) <= instalment.received <= instalment.amount
        assert instalment.is_settled == (instalment.received == instalment.amount)
        assert instalment.received == sum((a.amount for a in instalment.allocations.all()), D(0))


# --- invoices -----------------------------------------------------------------------------------------------------


def test_invoices_may_run_ahead_of_receipts_but_not_above_the_contract(org, make_contract):
    contract = make_contract()
    plan(org.rep_a, contract, ("2026-01-31", "100000.00"))
    pay(org.rep_a, contract, "30000.00")
    invoice = services.invoice_record(
        actor=org.rep_a,
        contract=contract,
        number="No.0001",
        kind="special",
        amount=D("50000.00"),
        issued_on=day("2026-01-20"),
        note="",
    )
    summary = selectors.contract_payment_summary(contract=contract, on=ON)
    assert (summary.invoiced, summary.balance, summary.balance_kind) == (
        D("50000.00"),
        D("20000.00"),
        "invoiced_not_received",
    )
    with pytest.raises(ValidationFailed) as duplicate:
        services.invoice_record(
            actor=org.rep_a,
            contract=contract,
            number="No.0001",
            kind="special",
            amount=D("1.00"),
            issued_on=day("2026-01-20"),
        )
    assert "已登记" in duplicate.value.fields["number"]  # "… already recorded."
    with pytest.raises(ValidationFailed) as above:
        services.invoice_record(
            actor=org.rep_a,
            contract=contract,
            number="No.0002",
            kind="normal",
            amount=D("50000.01"),
            issued_on=day("2026-01-21"),
        )
    assert "50,000.00" in above.value.fields["amount"]
    services.invoice_void(actor=org.rep_a, invoice=invoice, reason="开错抬头")
    summary = selectors.contract_payment_summary(contract=contract, on=ON)
    assert (summary.invoiced, summary.balance_kind) == (D("0.00"), "received_not_invoiced")
    assert Invoice.objects.get(pk=invoice.pk).void_reason == "开错抬头"


# --- reports ------------------------------------------------------------------------------------------------------


def test_aging_buckets_with_fixed_dates(org, make_contract):
    """Given open instalments due on dates around the day of reading, then each falls in its bucket (0–30 is
    1 to 30 days late, and so on), partly paid ones count what is still outstanding, and settled ones none."""
    contract = make_contract(amount="1111.10")
    plan(
        org.rep_a,
        contract,
        ("2026-03-31", "1.00"),  # due today: not yet due
        ("2026-03-30", "10.00"),  # 1 day
        ("2026-03-01", "100.00"),  # 30 days
        ("2026-02-28", "1000.00"),  # 31 days
        ("2025-12-31", "0.10"),  # 90 days
    )
    other = make_contract(amount="500.00", customer=contract.customer)
    plan(org.rep_a, other, ("2025-12-30", "200.00"), ("2025-11-01", "300.00"))  # 91 and 150 days
    pay(org.rep_a, other, "250.00", allocations={other.instalments.get(position=1).pk: D("250.00")})
    aging = selectors.receivables_aging(actor=org.rep_a, group="customer", on=ON)
    [row] = aging.rows
    assert (row.not_due, row.d0_30, row.d31_60, row.d61_90, row.d90_plus) == (
        D("1.00"),
        D("110.00"),
        D("1000.00"),
        D("0.10"),
        D("250.00"),
    )
    assert row.name == contract.customer.name and aging.totals.total == D("1361.10")


def test_aging_converts_each_currency_at_the_rate_of_the_day(org, make_contract):
    ExchangeRate.objects.create(currency="USD", valid_from=day("2026-01-01"), rate=D("7.00000000"))
    ExchangeRate.objects.create(currency="USD", valid_from=day("2026-04-01"), rate=D("8.00000000"))
    usd = make_contract(amount="1000.00", currency="USD")
    plan(org.rep_a, usd, ("2026-03-01", "1000.00"))
    cny = make_contract(amount="50.00")
    plan(org.rep_a, cny, ("2026-05-01", "50.00"))
    eur = make_contract(amount="10.00", currency="EUR")
    plan(org.rep_a, eur, ("2026-05-01", "10.00"))
    aging = selectors.receivables_aging(actor=org.rep_a, group="owner", on=ON)
    [row] = aging.rows
    assert (row.name, row.d0_30, row.not_due) == (str(org.rep_a), D("7000.00"), D("50.00"))
    assert aging.missing_rates == {"EUR"} and aging.currency == "CNY"
    later = selectors.receivables_aging(actor=org.rep_a, group="unit", on=day("2026-04-02"))
    assert later.rows[0].name == org.team_a.name and later.rows[0].d31_60 == D("8000.00")


def test_expected_cash_by_month(org, make_contract):
    contract = make_contract(amount="10000.00")
    plan(
        org.rep_a,
        contract,
        ("2026-02-15", "1000.00"),
        ("2026-03-31", "2000.00"),
        ("2026-04-10", "3000.00"),
        ("2026-04-20", "500.00"),
        ("2027-06-01", "3500.00"),  # beyond 12 months
    )
    pay(org.rep_a, contract, "400.00", on="2026-01-10")
    pay(org.rep_a, contract, "100.00", on="2026-03-02")
    voided = pay(org.rep_a, contract, "50.00", on="2026-03-03")
    services.receipt_void(actor=org.rep_a, receipt=voided, reason="重复录入")
    cash = selectors.expected_cash(actor=org.rep_a, months=12, on=ON)
    assert cash.overdue.amount == D("500.00")
    assert [(m.month, m.amount) for m in cash.months[:3]] == [
        (day("2026-03-01"), D("2000.00")),
        (day("2026-04-01"), D("3500.00")),
        (day("2026-05-01"), D("0.00")),
    ]
    assert len(cash.months) == 12 and cash.total == D("6000.00")
    assert [(m.month, m.amount) for m in cash.received] == [
        (day("2025-10-01"), 0),
        (day("2025-11-01"), 0),
        (day("2025-12-01"), 0),
        (day("2026-01-01"), D("400.00")),
        (day("2026-02-01"), 0),
        (day("2026-03-01"), D("100.00")),
    ]


def test_overdue_list_with_days_overdue_and_filters(org, make_contract):
    mine = make_contract()
    plan(org.rep_a, mine, ("2026-03-01", "40000.00"), ("2026-05-01", "60000.00"))
    theirs = make_contract(org.rep_b)
    plan(org.rep_b, theirs, ("2026-02-01", "100000.00"))
    page = selectors.overdue_instalments(actor=org.east_manager, on=ON)
    assert [(i.contract_id, i.days_overdue) for i in page.items] == [(theirs.pk, 58), (mine.pk, 30)]
    filtered = selectors.overdue_instalments(
        actor=org.east_manager, on=ON, filters=selectors.ReceivablesFilters(owner=org.rep_a.pk)
    )
    assert [i.contract_id for i in filtered.items] == [mine.pk]
    by_unit = selectors.overdue_instalments(
        actor=org.east_manager, on=ON, filters=selectors.ReceivablesFilters(unit=org.team_b.pk)
    )
    assert [i.contract_id for i in by_unit.items] == [theirs.pk]


def test_overdue_notification_on_the_day_after_the_due_date(org, make_contract):
    from kehu.activities.models import Notification

    contract = make_contract()
    plan(org.rep_a, contract, ("2026-03-30", "40000.00"), ("2026-04-30", "60000.00"))
    assert services.instalments_notify_overdue(on=ON) == 1
    assert services.instalments_notify_overdue(on=day("2026-04-01")) == 0
    note = Notification.objects.get(recipient=org.rep_a, kind="instalment_overdue")
    assert note.url == f"/contracts/{contract.pk}/" and note.params["contract"] == contract.number


# --- scope --------------------------------------------------------------------------------------------------------


@pytest.fixture
def two_reps(org, make_contract):
    """rep_a's contract with an overdue instalment, a receipt and an invoice; and rep_b's own contract."""
    a = make_contract(org.rep_a, amount="80000.00")
    today = timezone.localdate()
    overdue, later = (
        (today - datetime.timedelta(days=60)).isoformat(),
        (today + datetime.timedelta(90)).isoformat(),
    )
    plan(org.rep_a, a, (overdue, "30000.00"), (later, "50000.00"))
    receipt = pay(org.rep_a, a, "1000.00")
    invoice = services.invoice_record(
        actor=org.rep_a, contract=a, number="A-SECRET-1", kind="normal", amount=D("5000"), issued_on=ON
    )
    b = make_contract(org.rep_b, amount="20000.00")
    plan(org.rep_b, b, ("2026-01-15", "20000.00"))
    return {"a": a, "b": b, "receipt": receipt, "invoice": invoice}


def test_reps_see_only_their_own_receivables(org, two_reps):
    a, b = two_reps["a"], two_reps["b"]
    aging = selectors.receivables_aging(actor=org.rep_b, group="customer", on=ON)
    assert [row.key for row in aging.rows] == [b.customer_id] and aging.totals.total == D("20000.00")
    assert [i.contract_id for i in selectors.overdue_instalments(actor=org.rep_b, on=ON).items] == [b.pk]
    assert selectors.expected_cash(actor=org.rep_b, on=ON).total == D("20000.00")
    assert selectors.expected_cash(actor=org.rep_b, on=ON).received[-3].amount == 0  # January: rep_a's only
    manager = selectors.receivables_aging(actor=org.east_manager, group="owner", on=ON)
    assert {row.key for row in manager.rows} == {org.rep_a.pk, org.rep_b.pk}
    assert selectors.receivables_aging(actor=org.rep_c, on=ON).rows == []
    for hidden in (
        lambda: selectors.contract_get_for(actor=org.rep_b, contract_id=a.pk),
        lambda: selectors.receipt_get_for(actor=org.rep_b, receipt_id=two_reps["receipt"].pk),
        lambda: selectors.invoice_get_for(actor=org.rep_b, invoice_id=two_reps["invoice"].pk),
    ):
        with pytest.raises(NotFound):
            hidden()


# --- API ----------------------------------------------------------------------------------------------------------


def test_plan_receipts_and_invoices_through_the_api(org, make_contract):
    contract = make_contract(amount="100000.00")
    client = ApiClient(org.rep_a)
    refused = client.client.put(
        f"/api/v1/contracts/{contract.pk}/plan",
        '{"instalments": [{"due_on": "2026-01-31", "amount": "99999.99"}]}',
        content_type="application/json",
        headers=client.headers,
    )
    assert refused.status_code == 422 and "99,999.99" in refused.json()["detail"]
    body = {
        "instalments": [
            {"due_on": "2026-01-31", "amount": "33333.33"},
            {"due_on": "2026-02-28", "amount": "33333.33", "note": "验收"},
            {"due_on": "2026-03-31", "amount": "33333.34"},
        ]
    }
    saved = client.client.put(
        f"/api/v1/contracts/{contract.pk}/plan",
        json.dumps(body),
        content_type="application/json",
        headers=client.headers,
    )
    assert saved.status_code == 200, saved.content
    plan_body = saved.json()
    assert [i["amount"] for i in plan_body["instalments"]] == ["33333.33", "33333.33", "33333.34"]
    assert plan_body["summary"]["planned"] == "100000.00"

    paid = client.post(
        f"/contracts/{contract.pk}/receipts",
        {"received_on": "2026-01-20", "amount": "10000.01", "method": "bank", "reference": "BK-1"},
    )
    assert paid.status_code == 201, paid.content
    assert paid.json()["allocations"] == [
        {"instalment_id": plan_body["instalments"][0]["id"], "position": 1, "amount": "10000.01"}
    ]
    second_id = plan_body["instalments"][1]["id"]
    targeted = client.post(
        f"/contracts/{contract.pk}/receipts",
        {
            "received_on": "2026-01-21",
            "amount": "5.00",
            "method": "cash",
            "allocations": [{"instalment_id": second_id, "amount": "5.00"}],
        },
    )
    assert targeted.status_code == 201 and targeted.json()["allocations"][0]["instalment_id"] == second_id
    too_much = client.post(
        f"/contracts/{contract.pk}/receipts",
        {"received_on": "2026-01-22", "amount": "99999.99", "method": "bank"},
    )
    assert too_much.status_code == 422 and "89,994.99" in too_much.json()["fields"]["amount"]

    voided = client.post(f"/receipts/{targeted.json()['id']}/void", {"reason": "重复"})
    assert voided.status_code == 200 and voided.json()["void_reason"] == "重复"
    assert client.post(f"/receipts/{paid.json()['id']}/void", {"reason": ""}).status_code == 422

    listed = client.get(f"/contracts/{contract.pk}/receipts").json()
    assert [r["amount"] for r in listed["items"]] == ["5.00", "10000.01"] and listed["next_cursor"] is None

    invoice = client.post(
        f"/contracts/{contract.pk}/invoices",
        {"number": "INV-1", "kind": "electronic", "amount": "20000.00", "issued_on": "2026-01-25"},
    )
    assert invoice.status_code == 201, invoice.content
    again = client.post(
        f"/contracts/{contract.pk}/invoices",
        {"number": "INV-1", "kind": "electronic", "amount": "1.00", "issued_on": "2026-01-25"},
    )
    assert again.status_code == 422 and "number" in again.json()["fields"]
    assert client.post(f"/invoices/{invoice.json()['id']}/void", {"reason": "作废"}).status_code == 200
    assert client.get(f"/contracts/{contract.pk}/invoices").json()["items"][0]["voided_at"]

    read = client.get(f"/contracts/{contract.pk}/plan").json()
    assert read["summary"]["received"] == "10000.01" and read["summary"]["invoiced"] == "0.00"
    assert read["instalments"][0]["outstanding"] == "23333.32"


def test_the_api_hides_other_reps_contracts(org, two_reps):
    a, receipt, invoice = two_reps["a"], two_reps["receipt"], two_reps["invoice"]
    client = ApiClient(org.rep_b)
    for path in (f"/contracts/{a.pk}/plan", f"/contracts/{a.pk}/receipts", f"/contracts/{a.pk}/invoices"):
        response = client.get(path)
        assert response.status_code == 404, path
    assert client.post(f"/receipts/{receipt.pk}/void", {"reason": "x"}).status_code == 404
    assert client.post(f"/invoices/{invoice.pk}/void", {"reason": "x"}).status_code == 404
    assert (
        client.post(
            f"/contracts/{a.pk}/receipts", {"received_on": "2026-01-01", "amount": "1.00", "method": "bank"}
        ).status_code
        == 404
    )
    for path in ("/receivables/aging?group=customer", "/receivables/overdue", "/receivables/expected-cash"):
        text = client.get(path).content.decode()
        assert a.customer.name not in text and a.number not in text and "A-SECRET-1" not in text, path
    overdue = client.get("/receivables/overdue").json()
    assert [i["contract"]["id"] for i in overdue["items"]] == [two_reps["b"].pk]
    analyst = ApiClient(org.analyst)
    assert analyst.get(f"/contracts/{a.pk}/receipts").status_code == 200
    assert (
        analyst.post(
            f"/contracts/{a.pk}/receipts", {"received_on": "2026-01-01", "amount": "1.00", "method": "bank"}
        ).status_code
        == 403
    )


def test_api_reports_and_list_query_budgets(org, two_reps, make_contract, django_assert_max_num_queries):
    for _n in range(5):
        contract = make_contract(org.rep_a, amount="10.00")
        plan(org.rep_a, contract, ("2026-01-31", "10.00"))
        pay(org.rep_a, contract, "4.00")
    client = ApiClient(org.rep_a)
    a = two_reps["a"]
    for path, budget in (
        ("/receivables/aging?group=customer", 8),
        ("/receivables/aging?group=owner", 9),
        ("/receivables/expected-cash", 9),
        ("/receivables/overdue", 8),
        (f"/contracts/{a.pk}/receipts", 9),
        (f"/contracts/{a.pk}/invoices", 8),
        (f"/contracts/{a.pk}/plan", 10),
    ):
        with django_assert_max_num_queries(budget):
            response = client.get(path)
        assert response.status_code == 200, (path, response.content)
    aging = client.get("/receivables/aging", {"group": "customer"}).json()
    assert aging["currency"] == "CNY" and len(aging["rows"]) == 6
    assert client.get("/receivables/aging", {"group": "planet"}).status_code == 422
    assert len(client.get("/receivables/overdue").json()["items"]) == 6
    cash = client.get("/receivables/expected-cash", {"months": 3}).json()
    assert len(cash["months"]) == 3 and len(cash["received"]) == 6


# --- pages --------------------------------------------------------------------------------------------------------


def test_receivables_page_shows_aging_and_expected_cash_within_budget(
    org, two_reps, login, django_assert_max_num_queries
):
    client = login(org.east_manager)
    with django_assert_max_num_queries(16):
        page = client.get("/receivables/?group=owner")
    html = page.content.decode()
    assert page.status_code == 200
    assert str(org.rep_a) in html and str(org.rep_b) in html
    assert f"/receivables/overdue/?owner={org.rep_a.pk}" in html
    assert 'data-testid="expected-cash"' in html
    overdue = client.get(f"/receivables/overdue/?owner={org.rep_b.pk}").content.decode()
    assert f"/contracts/{two_reps['b'].pk}/" in overdue and f"/contracts/{two_reps['a'].pk}/" not in overdue


def test_a_rep_sees_no_other_reps_receivables_on_the_pages(org, two_reps, login):
    client = login(org.rep_b)
    a = two_reps["a"]
    for path in ("/receivables/", "/receivables/?group=unit", "/receivables/overdue/"):
        html = client.get(path).content.decode()
        assert a.customer.name not in html and a.number not in html, path
    assert client.get(f"/receivables/contracts/{a.pk}/").status_code == 404
    response = client.post(
        f"/receivables/contracts/{a.pk}/receipts/",
        {"received_on": "2026-01-02", "amount": "1.00", "method": "bank"},
    )
    assert response.status_code == 404
    assert Receipt.objects.filter(contract=a).count() == 1


def test_recording_a_receipt_and_an_invoice_through_the_card(org, make_contract, login):
    contract = make_contract(amount="3000.00")
    plan(org.rep_a, contract, ("2026-01-31", "1000.00"), ("2026-02-28", "2000.00"))
    client = login(org.rep_a)
    card = client.get(f"/receivables/contracts/{contract.pk}/").content.decode()
    assert 'data-testid="payment-plan"' in card and 'data-testid="receipt-form"' in card
    today = timezone.localdate().isoformat()
    done = client.post(
        f"/receivables/contracts/{contract.pk}/receipts/",
        {"received_on": today, "amount": "1500.00", "method": "bank", "next": "card"},
    )
    assert done.status_code == 302 and done.url == f"/receivables/contracts/{contract.pk}/"
    assert amounts(contract)[1][2] == D("500.00")
    back = client.post(
        f"/receivables/contracts/{contract.pk}/invoices/",
        {"number": "FP-001", "kind": "special", "amount": "3000.00", "issued_on": today},
    )
    assert back.status_code == 302 and back.url == f"/contracts/{contract.pk}/"
    refused = client.post(
        f"/receivables/contracts/{contract.pk}/receipts/",
        {"received_on": today, "amount": "9999.00", "method": "bank"},
        follow=False,
    )
    assert refused.status_code == 302 and Receipt.objects.filter(contract=contract).count() == 1
    page = client.get(f"/receivables/contracts/{contract.pk}/").content.decode()
    assert "1,500.00" in page and "FP-001" in page and "1,500.00" in page


def test_editing_the_plan_through_the_card(org, make_contract, login):
    contract = make_contract(amount="100000.00")
    client = login(org.rep_a)
    proposal = client.get(
        f"/receivables/contracts/{contract.pk}/plan/",
        {"parts": 3, "first_due_on": "2026-01-31", "every_months": 1},
    ).content.decode()
    assert "33333.34" in proposal
    form = {
        "form-TOTAL_FORMS": "3",
        "form-INITIAL_FORMS": "0",
        "form-0-due_on": "2026-01-31",
        "form-0-amount": "33333.33",
        "form-1-due_on": "2026-02-28",
        "form-1-amount": "33333.33",
        "form-2-due_on": "2026-03-31",
        "form-2-amount": "33333.34",
    }
    saved = client.post(f"/receivables/contracts/{contract.pk}/plan/", form)
    assert saved.status_code == 302 and saved.url == f"/contracts/{contract.pk}/"
    assert [i.amount for i in contract.instalments.order_by("position")] == [
        D("33333.33"),
        D("33333.33"),
        D("33333.34"),
    ]
    wrong = client.post(f"/receivables/contracts/{contract.pk}/plan/", {**form, "form-2-amount": "1.00"})
    assert wrong.status_code == 422 and "相差" in wrong.content.decode()  # "a difference of …"


def test_the_contract_panel_offers_the_card(org, make_contract, rf):
    from kehu.sales.views.payments import contract_panel

    contract = make_contract()
    plan(org.rep_a, contract, ("2026-01-31", "100000.00"))
    request = rf.get(f"/contracts/{contract.pk}/")
    request.user = org.rep_a
    panel = contract_panel(request, contract)
    assert panel["template"] == "sales/payments/_panel_contract.html"
    assert panel["data"]["summary"].planned == D("100000.00") and panel["data"]["can_edit"]
    request.user = org.analyst
    assert not contract_panel(request, contract)["data"]["can_edit"]


def test_voiding_a_receipt_and_an_invoice_on_the_card(org, make_contract, login):
    """The card's void buttons keep the records, marked void with the reason; a reason is required; another
    team's rep gets 404."""
    contract = make_contract(amount="1000.00")
    plan(org.rep_a, contract, ("2026-01-31", "1000.00"))
    receipt = pay(org.rep_a, contract, "400.00")
    invoice = services.invoice_record(
        actor=org.rep_a,
        contract=contract,
        number="INV-CARD-1",
        kind="special",
        amount=D("400"),
        issued_on=day("2026-01-20"),
    )
    client = login(org.rep_a)
    base = f"/receivables/contracts/{contract.pk}"
    refused = client.post(f"{base}/receipts/{receipt.pk}/void/", {"reason": ""})
    assert refused.status_code == 302 and Receipt.objects.get(pk=receipt.pk).voided_at is None
    assert login(org.rep_b).post(f"{base}/receipts/{receipt.pk}/void/", {"reason": "x"}).status_code == 404
    client = login(org.rep_a)
    assert client.post(f"{base}/receipts/{receipt.pk}/void/", {"reason": "重复登记"}).status_code == 302
    assert client.post(f"{base}/invoices/{invoice.pk}/void/", {"reason": "开错抬头"}).status_code == 302
    receipt.refresh_from_db()
    invoice.refresh_from_db()
    assert (receipt.void_reason, invoice.void_reason) == ("重复登记", "开错抬头")
    assert amounts(contract) == [(1, D("1000.00"), D("0.00"), False)]


def test_a_binned_customer_hides_its_contracts_payments_everywhere(org, make_contract, login):
    """The customer goes to the recycle bin: its contract's payment card, plan and receipts answer 404 on the
    pages and the API, no receipt can be recorded, and the aging leaves the money out."""
    from kehu.customers.services import customer_delete

    contract = make_contract(amount="1000.00")
    plan(org.rep_a, contract, ("2026-01-31", "1000.00"))
    receipt = pay(org.rep_a, contract, "100.00")
    customer_delete(actor=org.rep_a, customer=contract.customer)
    client = login(org.rep_a)
    assert client.get(f"/receivables/contracts/{contract.pk}/").status_code == 404
    posted = client.post(
        f"/receivables/contracts/{contract.pk}/receipts/",
        {"received_on": "2026-01-20", "amount": "5.00", "method": "bank"},
    )
    assert posted.status_code == 404 and Receipt.objects.filter(contract=contract).count() == 1
    api = ApiClient(org.rep_a)
    for path in (f"/contracts/{contract.pk}/plan", f"/contracts/{contract.pk}/receipts"):
        assert api.get(path).status_code == 404
    assert api.post(f"/receipts/{receipt.pk}/void", {"reason": "x"}).status_code == 404
    assert selectors.receivables_aging(actor=org.rep_a, group="customer", on=ON).rows == []


def test_a_receipt_is_voided_only_under_its_own_contract(org, make_contract, login):
    mine = make_contract(owner=org.rep_b, amount="1000.00")
    theirs = make_contract(amount="1000.00")
    plan(org.rep_a, theirs, ("2026-01-31", "1000.00"))
    receipt = pay(org.rep_a, theirs, "100.00")
    response = login(org.rep_b).post(
        f"/receivables/contracts/{mine.pk}/receipts/{receipt.pk}/void/", {"reason": "x"}
    )
    assert response.status_code == 404
    assert Receipt.objects.get(pk=receipt.pk).voided_at is None
