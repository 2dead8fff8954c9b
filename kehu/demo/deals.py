"""Demo sales paperwork: quotes, contracts through the approval chain, payment plans with full and partial
receipts, invoices and orders for won deals; quotes and a pending contract on open ones; quotas, a commission
rule and expenses. Everything goes through the services, so history, timelines and notifications are real."""

import datetime
import random
from decimal import Decimal

from kehu.sales.models import (
    ApprovalStep,
    CommissionRule,
    CommissionTier,
    ContractApproval,
    Opportunity,
    Product,
    Quota,
)
from kehu.sales.services import contracts as contract_services
from kehu.sales.services import expenses as expense_services
from kehu.sales.services import orders as order_services
from kehu.sales.services import payments as payment_services
from kehu.sales.services import quotes as quote_services
from kehu.sales.services.payments import add_months
from kehu.sales.services.targets import quota_set
from kehu.users.models import Role, User

WON_WITH_CONTRACTS = 14
OPEN_WITH_QUOTES = 10
EXPENSES = 30
EXPENSE_TEXTS = [
    ("travel", "拜访客户差旅（高铁往返）", "980.00"),
    ("meals", "客户商务午餐", "436.50"),
    ("transport", "打车拜访客户", "86.00"),
    ("gifts", "节日礼品", "600.00"),
    ("samples", "演示样机运费", "150.00"),
    ("events", "行业展会展位分摊", "3200.00"),
]


def _approve_all(contract) -> None:
    """Each pending step is approved by its approver, in order, until the contract is active."""
    while True:
        pending = ContractApproval.objects.filter(
            contract=contract, status=ContractApproval.Status.PENDING
        ).first()
        if pending is None:
            return
        contract_services.contract_approve(actor=pending.approver, approval=pending, comment="同意。")


def _quote_for(rng: random.Random, opportunity: Opportunity, fallback: Product):
    owner = opportunity.owner
    quote = quote_services.quote_create(
        actor=owner, opportunity=opportunity, data={"terms": "付款方式：分三期银行转账。"}
    )
    if not quote.lines.exists():
        quantity = max(1, int(opportunity.amount / fallback.list_price)) if opportunity.amount else 1
        quote = quote_services.quote_lines_set(
            actor=owner,
            quote=quote,
            lines=[
                {
                    "product_id": fallback.pk,
                    "quantity": Decimal(quantity),
                    "unit_price": fallback.list_price,
                    "discount": Decimal(rng.choice([0, 5, 10])),
                }
            ],
            version=None,
        )
    return quote


def deals_for(rng: random.Random, *, org, today: datetime.date) -> None:
    admin = org.users["admin"]
    ApprovalStep.objects.create(
        name="部门经理审批", name_en="Manager approval", min_amount=Decimal(0), approver="manager", position=1
    )
    ApprovalStep.objects.create(
        name="总经理审批",
        name_en="General manager approval",
        min_amount=Decimal(200000),
        approver="user",
        approver_user=admin,
        position=2,
    )
    fallback = Product.objects.get(sku="SV-IMPL")
    won = list(
        Opportunity.objects.filter(status=Opportunity.Status.WON, amount__gt=0, currency="CNY")
        .select_related("owner", "customer")
        .order_by("id")[:WON_WITH_CONTRACTS]
    )
    for index, deal in enumerate(won):
        owner = deal.owner
        quote = _quote_for(rng, deal, fallback)
        quote = quote_services.quote_send(actor=owner, quote=quote)
        quote = quote_services.quote_accept(actor=owner, quote=quote, win_opportunity=False).quote
        signed = today - datetime.timedelta(days=rng.randint(20, 150))
        contract = contract_services.contract_create(
            actor=owner,
            data={"signed_on": signed, "start_on": signed, "end_on": signed + datetime.timedelta(days=365)},
            quote=quote,
        )
        parts = rng.choice([1, 2, 3, 3, 4])
        plan = payment_services.payment_plan_split(
            actor=owner, contract=contract, parts=parts, first_due_on=signed + datetime.timedelta(days=30)
        )
        payment_services.payment_plan_set(actor=owner, contract=contract, instalments=plan)
        if index == 0:  # one waits for its approvers
            contract_services.contract_submit(actor=owner, contract=contract)
            continue
        contract_services.contract_submit(actor=owner, contract=contract)
        _approve_all(contract)
        contract.refresh_from_db()
        due = [row for row in plan if row["due_on"] <= today]
        paid = sum((row["amount"] for row in due[:-1]), Decimal(0))
        if due and index % 3 != 2:
            paid += (due[-1]["amount"] / 2).quantize(Decimal("0.01")) if index % 2 else due[-1]["amount"]
        if paid > 0:
            payment_services.receipt_record(
                actor=owner,
                contract=contract,
                received_on=min(today, due[-1]["due_on"] + datetime.timedelta(days=3)),
                amount=paid,
                reference=f"BANK{contract.pk:06d}",
            )
            payment_services.invoice_record(
                actor=owner,
                contract=contract,
                number=f"2611{contract.pk:08d}",
                kind="special",
                amount=paid,
                issued_on=min(today, due[-1]["due_on"]),
            )
        order = order_services.order_create_from_contract(actor=owner, contract=contract)
        if order.lines.exists():
            order_services.order_set_status(actor=owner, order=order, status="confirmed")
    open_deals = list(
        Opportunity.objects.filter(status=Opportunity.Status.OPEN, amount__gt=0, currency="CNY")
        .select_related("owner")
        .order_by("-amount", "id")[:OPEN_WITH_QUOTES]
    )
    for index, deal in enumerate(open_deals):
        quote = _quote_for(rng, deal, fallback)
        if index % 2 == 0:
            quote_services.quote_send(actor=deal.owner, quote=quote)
    _targets(rng, org=org, today=today)
    _expenses(rng, org=org, deals=open_deals + won, today=today)


def _targets(rng: random.Random, *, org, today) -> None:
    month = today.replace(day=1)
    for region, reps in org.reps_by_region.items():
        manager = org.manager_of_region[region]
        for rep in reps:
            for shift in range(-2, 3):
                starts = add_months(month, shift)
                target = Decimal(rng.choice([150000, 200000, 300000]))
                quota_set(actor=manager, user=rep, starts_on=starts, measure=Quota.Measure.WON, amount=target)
                quota_set(
                    actor=manager,
                    user=rep,
                    starts_on=starts,
                    measure=Quota.Measure.RECEIVED,
                    amount=target * Decimal("0.6"),
                )
    rule = CommissionRule.objects.create(
        name="销售提成（阶梯）",
        name_en="Sales commission (tiered)",
        role=Role.SALES_REP,
        valid_from=add_months(month, -12),
    )
    for threshold, rate in ((0, 3), (80, 5), (100, 8)):
        CommissionTier.objects.create(rule=rule, from_attainment=Decimal(threshold), rate=Decimal(rate))


def _expenses(rng: random.Random, *, org, deals, today) -> None:
    reps = {rep.pk: rep for reps in org.reps_by_region.values() for rep in reps}
    managers = {
        rep.pk: org.manager_of_region[region] for region, rs in org.reps_by_region.items() for rep in rs
    }
    for index in range(EXPENSES):
        deal = deals[index % len(deals)]
        owner: User = reps.get(deal.owner_id) or deal.owner
        category, text, amount = EXPENSE_TEXTS[index % len(EXPENSE_TEXTS)]
        expense = expense_services.expense_create(
            actor=owner,
            data={
                "opportunity": deal,
                "customer": deal.customer,
                "spent_on": today - datetime.timedelta(days=rng.randint(0, 40)),
                "category": category,
                "amount": Decimal(amount),
                "currency": "CNY",
                "description": text,
            },
        )
        manager = managers.get(owner.pk)
        if manager is not None and index % 3 == 0:
            expense_services.expense_approve(actor=manager, expense=expense, comment="")
        elif manager is not None and index % 7 == 1:
            expense_services.expense_reject(actor=manager, expense=expense, comment="请补充发票。")
