"""A rep never sees another team's customer by any path: pages, search, export, bulk actions and the API.

One table lists every endpoint that takes a record id or lists records. The hidden customer (and its contact,
timeline entry, attachment, task, opportunity, lead, quote, contract with its payment plan, receipt and invoice,
order, expense and rep_a's commission statement) belongs to rep_a in team A. rep_b (another team of the same region) and
rep_c (another region) try every path: paths with an id must answer 404, lists/search/exports must not mention
any of the hidden record's details, and bulk actions must leave it untouched. The owner (rep_a) is the control:
the same paths work for them, so the table exercises real routes.
"""

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from kehu.activities import services as activity_services
from kehu.analytics import reports, scores
from kehu.analytics.models import ChurnWarning
from kehu.customers import services as customer_services
from kehu.customers.models import Customer
from kehu.loyalty.services import points_adjust
from kehu.marketing import messaging
from kehu.marketing.automations import automation_create
from kehu.marketing.campaigns import campaign_create
from kehu.marketing.services import segment_create
from kehu.sales.models import Contract, Expense, Invoice, Lead, Opportunity, Order, Product, Quote, Receipt
from kehu.sales.services.expenses import expense_create
from kehu.sales.services.leads import lead_create
from kehu.sales.services.opportunities import opportunity_create
from kehu.sales.services.orders import order_create
from kehu.sales.services.payments import invoice_record, payment_plan_set, receipt_record
from kehu.sales.services.quotes import quote_create
from kehu.sales.services.targets import commission_statement_compute
from kehu.support.aftercare import compensation_add
from kehu.support.aftersale import after_sale_create
from kehu.support.models import AfterSale, Ticket
from kehu.support.services import ticket_create
from kehu.surveys import services as survey_services
from kehu.users.services import api_token_create

SECRET = {
    "name": "隐秘星河科技有限公司",
    "phone": "13912345678",
    "email": "hidden@xinghe.example",
    "contact": "钱秘密",
    "task": "秘密回访任务",
    "note": "秘密拜访纪要",
    "opportunity": "秘密商机项目",
    "lead": "秘密线索人",
    "lead_company": "隐秘线索公司",
    "quote": "秘密报价单",
    "contract": "秘密合同",
    "order": "秘密订单备注",
    "expense": "秘密招待费用",
    "ticket": "秘密投诉工单",
    "segment": "秘密客户分群",
    "template": "秘密邮件模板",
    "campaign": "秘密营销活动",
    "automation": "秘密生日关怀",
    "consent": "秘密同意来源",
    "survey": "秘密满意度问卷",
    "answer": "秘密的问卷回答",
    "points": "秘密积分调整",
}
MARKERS = [*SECRET.values(), "xinghe.example"]


@pytest.fixture
def hidden(org, pipeline):
    customer = customer_services.customer_create(
        actor=org.rep_a, data={"name": SECRET["name"], "phone": SECRET["phone"], "email": SECRET["email"]}
    )
    other = customer_services.customer_create(actor=org.rep_a, data={"name": "另一家公司"})
    contact = customer_services.contact_create(
        actor=org.rep_a, customer=customer, data={"name": SECRET["contact"], "mobile": "13700001111"}
    )
    entry = activity_services.timeline_entry_create(
        actor=org.rep_a, customer=customer, data={"kind": "visit", "content": SECRET["note"]}
    )
    attachment = activity_services.attachment_add(
        actor=org.rep_a,
        entry=entry,
        upload=SimpleUploadedFile("plan.pdf", b"%PDF-1.4 secret", "application/pdf"),
    )
    task = activity_services.task_create(
        actor=org.rep_a,
        data={
            "title": SECRET["task"],
            "customer": customer,
            "due_at": timezone.now() + timezone.timedelta(days=1),
        },
    )
    opportunity = opportunity_create(
        actor=org.rep_a, data={"name": SECRET["opportunity"], "customer": customer}, pipeline=pipeline
    )
    lead = lead_create(
        actor=org.rep_a,
        data={"name": SECRET["lead"], "company": SECRET["lead_company"], "phone": "13655554444"},
    )
    product = Product.objects.create(sku="SECRET-1", name="秘密产品", list_price=Decimal("100"))
    quote = quote_create(actor=org.rep_a, opportunity=opportunity, data={"title": SECRET["quote"]})
    contract = Contract.objects.create(
        number="HT-SECRET-1",
        title=SECRET["contract"],
        status=Contract.Status.ACTIVE,
        amount=Decimal("1000"),
        customer=customer,
        owner=org.rep_a,
        org_unit=org.team_a,
    )
    today = timezone.localdate()
    (instalment,) = payment_plan_set(
        actor=org.rep_a, contract=contract, instalments=[{"due_on": today, "amount": Decimal("1000")}]
    )
    receipt = receipt_record(actor=org.rep_a, contract=contract, received_on=today, amount=Decimal("400"))
    invoice = invoice_record(
        actor=org.rep_a,
        contract=contract,
        number="SECRET0001",
        kind="special",
        amount=Decimal("400"),
        issued_on=today,
    )
    order = order_create(
        actor=org.rep_a,
        customer=customer,
        data={"notes": SECRET["order"]},
        lines=[{"product": product, "quantity": Decimal("1")}],
    )
    expense = expense_create(
        actor=org.rep_a,
        data={
            "customer": customer,
            "spent_on": today,
            "category": "meals",
            "amount": Decimal("88"),
            "description": SECRET["expense"],
        },
    )
    ticket = ticket_create(
        actor=org.rep_a,
        data={"subject": SECRET["ticket"], "customer": customer, "description": SECRET["note"]},
    )
    statement = commission_statement_compute(
        actor=org.east_manager, user=org.rep_a, month=today.replace(day=1)
    )
    warning = ChurnWarning.objects.create(
        customer=customer,
        raised_at=timezone.now(),
        reason=ChurnWarning.Reason.ONE_TIME,
        days_since=100,
        threshold_days=90,
        value_at_risk=Decimal("300"),
    )
    # A completed purchase of a product, so the report drill-downs (cohort, month, product, composition) find it.
    bought = Order.objects.create(
        number="SCOPE-PAID-1",
        customer=customer,
        owner=org.rep_a,
        org_unit=customer.org_unit,
        status=Order.Status.COMPLETED,
        ordered_at=timezone.now(),
        paid_at=timezone.now(),
        paid_amount=Decimal("300"),
    )
    bought.lines.create(
        product=product, title="x", quantity=1, unit_price=Decimal("300"), amount=Decimal("300")
    )
    after_sale = after_sale_create(
        actor=org.rep_a,
        ticket=ticket,
        data={"kind": "return", "reason": "quality", "note": SECRET["note"]},
        lines=[{"order_line": bought.lines.get().pk, "quantity": "1"}],
    )
    letter = compensation_add(
        actor=org.rep_a, ticket=ticket, data={"kind": "apology", "description": SECRET["note"], "cost": "5"}
    )
    segment = segment_create(
        actor=org.rep_a,
        data={
            "name": SECRET["segment"],
            "rules": {"match": "all", "rules": [{"field": "name", "op": "contains", "value": "隐秘"}]},
        },
    )
    template = messaging.template_create(
        actor=org.rep_a,
        data={
            "name": SECRET["template"],
            "channel": "email",
            "subject_zh": SECRET["template"],
            "body_zh": "x",
        },
    )
    campaign = campaign_create(
        actor=org.rep_a,
        data={"name": SECRET["campaign"], "channel": "email", "template": template, "segments": [segment]},
    )
    automation = automation_create(
        actor=org.rep_a,
        data={"name": SECRET["automation"], "trigger": "birthday", "channel": "email", "template": template},
    )
    messaging.consent_set(
        actor=org.rep_a, customer=customer, channel="email", granted=True, source=SECRET["consent"]
    )
    survey = survey_services.survey_create(
        actor=org.rep_a,
        data={"title": SECRET["survey"]},
        sections=[
            {"key": "s1", "title": "总体", "questions": [{"code": "Q1", "kind": "text", "text": "建议"}]}
        ],
    )
    survey = survey_services.survey_publish(actor=org.rep_a, survey=survey)
    invitation = survey_services.invitation_create(survey=survey, customer=customer, channel="sms")
    survey_services.response_submit(survey=survey, posted={"Q1": [SECRET["answer"]]}, invitation=invitation)
    points_adjust(actor=org.east_manager, customer=customer, points=50, reason=SECRET["points"])
    month = timezone.localdate().replace(day=1)
    scores.recompute()
    reports.rebuild()
    return {
        "month": month.isoformat(),
        "product": product.pk,
        "churn": warning.pk,
        "quote": quote.pk,
        "contract": contract.pk,
        "instalment": instalment.pk,
        "receipt": receipt.pk,
        "invoice": invoice.pk,
        "order": order.pk,
        "expense": expense.pk,
        "ticket": ticket.pk,
        "after_sale": after_sale.pk,
        "compensation": letter.pk,
        "statement": statement.pk,
        "lead": lead.pk,
        "customer": customer.pk,
        "other": other.pk,
        "opportunity": opportunity.pk,
        "pipeline": pipeline.pk,
        "stage": pipeline.won.pk,
        "contact": contact.pk,
        "entry": entry.pk,
        "attachment": attachment.pk,
        "task": task.pk,
        "segment": segment.pk,
        "template": template.pk,
        "campaign": campaign.pk,
        "automation": automation.pk,
        "survey": survey.pk,
    }


# (path kind, method, url, body); `{customer}` etc. are filled from the `hidden` fixture. Paths answer 404;
# a hidden id inside a request body answers 404 or 422 (an invalid reference), with nothing of the record shown.
BY_ID = [
    ("web", "get", "/customers/{customer}/", None),
    ("web", "get", "/customers/{customer}/?tab=contacts", None),
    ("web", "get", "/customers/{customer}/?tab=timeline", None),
    ("web", "get", "/customers/{customer}/?tab=tasks", None),
    ("web", "get", "/customers/{customer}/?tab=history", None),
    ("web", "get", "/customers/{customer}/edit/", None),
    (
        "web",
        "post",
        "/customers/{customer}/edit/",
        {"name": "改名", "kind": "company", "customer_type": "end_user", "status": "potential"},
    ),
    ("web", "post", "/customers/{customer}/delete/", {}),
    ("web", "post", "/customers/{customer}/claim/", {}),
    ("web", "get", "/customers/{customer}/release/", None),
    ("web", "post", "/customers/{customer}/release/", {"reason": "x"}),
    ("web", "get", "/customers/{customer}/assign/", None),
    ("web", "get", "/customers/{customer}/contacts/new/", None),
    ("web", "post", "/customers/{customer}/contacts/new/", {"name": "新人"}),
    ("web", "get", "/customers/contacts/{contact}/", None),
    ("web", "post", "/customers/contacts/{contact}/delete/", {}),
    (
        "web",
        "post",
        "/customers/{customer}/timeline/",
        {"kind": "call", "content": "x", "occurred_at": "2026-01-01T10:00"},
    ),
    ("web", "post", "/timeline/{entry}/delete/", {}),
    ("web", "get", "/attachments/{attachment}/", None),
    ("web", "post", "/tasks/{task}/complete/", {}),
    ("api", "get", "/api/v1/customers/{customer}", None),
    ("api", "patch", "/api/v1/customers/{customer}", {"version": 1, "name": "改名"}),
    ("api", "delete", "/api/v1/customers/{customer}", None),
    ("api", "post", "/api/v1/customers/{customer}/claim", {}),
    ("api", "post", "/api/v1/customers/{customer}/release", {"reason": "x"}),
    ("api", "post", "/api/v1/customers/{customer}/assign", {"owner_id": 1, "reason": "x"}),
    ("api", "post", "/api/v1/customers/{customer}/share", {"user_id": 1}),
    ("api", "get", "/api/v1/customers/{customer}/history", None),
    ("api", "get", "/api/v1/customers/{customer}/timeline", None),
    ("api", "post", "/api/v1/customers/{customer}/timeline", {"kind": "call", "content": "x"}),
    ("api", "patch", "/api/v1/timeline/{entry}", {"version": 1, "content": "x"}),
    ("api", "delete", "/api/v1/timeline/{entry}", None),
    ("api", "get", "/api/v1/contacts/{contact}", None),
    ("api", "patch", "/api/v1/contacts/{contact}", {"version": 1, "name": "x"}),
    ("api", "delete", "/api/v1/contacts/{contact}", None),
    ("api", "post", "/api/v1/contacts", {"customer_id": "{customer}", "name": "新人"}),
    ("api", "get", "/api/v1/tasks/{task}", None),
    ("api", "patch", "/api/v1/tasks/{task}", {"version": 1, "title": "x"}),
    ("api", "delete", "/api/v1/tasks/{task}", None),
    ("api", "post", "/api/v1/tasks/{task}/complete", {}),
    ("web", "get", "/analytics/churn/{churn}/", None),
    ("web", "post", "/analytics/churn/{churn}/", {"action": "lost", "lost_reason": "偷偷确认"}),
    (
        "web",
        "post",
        "/analytics/churn/{churn}/",
        {"action": "retain", "measure": "偷偷挽回", "due_at": "2030-01-01T10:00"},
    ),
    ("web", "get", "/opportunities/{opportunity}/", None),
    ("web", "get", "/opportunities/{opportunity}/?tab=stages", None),
    ("web", "get", "/opportunities/{opportunity}/?tab=history", None),
    ("web", "get", "/opportunities/{opportunity}/edit/", None),
    ("web", "post", "/opportunities/{opportunity}/edit/", {"name": "改名", "amount": "1", "currency": "CNY"}),
    ("web", "post", "/opportunities/{opportunity}/move/", {"stage": "{stage}"}),
    ("web", "post", "/opportunities/{opportunity}/assign/", {"owner": "{self}"}),
    ("web", "post", "/opportunities/{opportunity}/delete/", {}),
    ("web", "get", "/opportunities/{opportunity}/lines/", None),
    ("web", "post", "/opportunities/{opportunity}/lines/", {"product": "", "quantity": "1"}),
    ("web", "get", "/opportunities/new/?customer={customer}", None),
    ("api", "get", "/api/v1/opportunities/{opportunity}", None),
    ("api", "patch", "/api/v1/opportunities/{opportunity}", {"version": 1, "name": "改名"}),
    ("api", "post", "/api/v1/opportunities/{opportunity}/move", {"stage_id": "{stage}"}),
    ("api", "post", "/api/v1/opportunities/{opportunity}/assign", {"owner_id": 1}),
    ("api", "delete", "/api/v1/opportunities/{opportunity}", None),
    ("api", "get", "/api/v1/opportunities/{opportunity}/stage-history", None),
    ("api", "post", "/api/v1/opportunities", {"customer_id": "{customer}", "name": "偷开商机"}),
    ("web", "get", "/leads/{lead}/", None),
    ("web", "get", "/leads/{lead}/?tab=history", None),
    ("web", "get", "/leads/{lead}/edit/", None),
    ("web", "post", "/leads/{lead}/edit/", {"name": "改名", "score": 0}),
    ("web", "get", "/leads/{lead}/convert/", None),
    ("web", "post", "/leads/{lead}/convert/", {"customer_name": "偷转客户"}),
    ("web", "post", "/leads/{lead}/activity/", {"kind": "call", "content": "x"}),
    ("web", "post", "/leads/{lead}/status/", {"status": "disqualified", "reason": "x"}),
    ("web", "post", "/leads/{lead}/assign/", {"owner": "{self}"}),
    ("web", "post", "/leads/{lead}/claim/", {}),
    ("web", "post", "/leads/{lead}/release/", {"reason": "x"}),
    ("web", "post", "/leads/{lead}/delete/", {}),
    ("api", "get", "/api/v1/leads/{lead}", None),
    ("api", "patch", "/api/v1/leads/{lead}", {"version": 1, "name": "改名"}),
    ("api", "delete", "/api/v1/leads/{lead}", None),
    ("api", "post", "/api/v1/leads/{lead}/status", {"status": "disqualified", "reason": "x"}),
    ("api", "post", "/api/v1/leads/{lead}/assign", {"owner_id": 1}),
    ("api", "post", "/api/v1/leads/{lead}/claim", {}),
    ("api", "post", "/api/v1/leads/{lead}/release", {"reason": "x"}),
    ("api", "get", "/api/v1/leads/{lead}/activities", None),
    ("api", "post", "/api/v1/leads/{lead}/activities", {"kind": "call", "content": "x"}),
    ("api", "post", "/api/v1/leads/{lead}/convert", {}),
    ("web", "get", "/quotes/{quote}/", None),
    ("web", "get", "/quotes/{quote}/pdf/", None),
    ("web", "get", "/quotes/{quote}/edit/", None),
    ("web", "get", "/quotes/{quote}/lines/", None),
    ("web", "post", "/quotes/{quote}/send/", {}),
    ("web", "post", "/quotes/{quote}/delete/", {}),
    ("api", "get", "/api/v1/quotes/{quote}", None),
    ("api", "get", "/api/v1/quotes/{quote}/pdf", None),
    ("api", "patch", "/api/v1/quotes/{quote}", {"version": 1, "title": "改"}),
    ("api", "post", "/api/v1/quotes/{quote}/send", {}),
    ("api", "delete", "/api/v1/quotes/{quote}", None),
    ("api", "post", "/api/v1/quotes", {"opportunity_id": "{opportunity}"}),
    ("web", "get", "/contracts/{contract}/", None),
    ("web", "get", "/contracts/{contract}/edit/", None),
    ("web", "post", "/contracts/{contract}/terminate/", {"reason": "x"}),
    ("web", "get", "/receivables/contracts/{contract}/", None),
    (
        "web",
        "post",
        "/receivables/contracts/{contract}/receipts/",
        {"received_on": "2026-01-01", "amount": "1"},
    ),
    ("api", "get", "/api/v1/contracts/{contract}", None),
    ("api", "get", "/api/v1/contracts/{contract}/approvals", None),
    ("api", "get", "/api/v1/contracts/{contract}/plan", None),
    ("api", "get", "/api/v1/contracts/{contract}/receipts", None),
    ("api", "get", "/api/v1/contracts/{contract}/invoices", None),
    ("api", "post", "/api/v1/contracts/{contract}/terminate", {"reason": "x"}),
    ("api", "post", "/api/v1/receipts/{receipt}/void", {"reason": "x"}),
    ("api", "post", "/api/v1/invoices/{invoice}/void", {"reason": "x"}),
    ("api", "post", "/api/v1/orders", {"contract_id": "{contract}"}),
    ("web", "get", "/orders/{order}/", None),
    ("web", "get", "/buyers/{customer}/", None),
    ("web", "get", "/orders/{order}/lines/", None),
    ("web", "post", "/orders/{order}/status/", {"status": "confirmed"}),
    ("api", "get", "/api/v1/orders/{order}", None),
    ("api", "post", "/api/v1/orders/{order}/status", {"status": "confirmed"}),
    ("api", "delete", "/api/v1/orders/{order}", None),
    ("web", "get", "/expenses/{expense}/", None),
    ("web", "get", "/expenses/{expense}/edit/", None),
    ("web", "post", "/expenses/{expense}/approve/", {}),
    ("api", "get", "/api/v1/expenses/{expense}", None),
    ("api", "delete", "/api/v1/expenses/{expense}", None),
    ("web", "get", "/tickets/{ticket}/", None),
    ("web", "get", "/tickets/{ticket}/clocks/", None),
    ("web", "get", "/tickets/new/?customer={customer}", None),
    ("web", "post", "/tickets/{ticket}/note/", {"body": "偷看"}),
    ("web", "post", "/tickets/{ticket}/status/", {"status": "closed", "resolution": "x"}),
    ("web", "post", "/tickets/{ticket}/assign/", {"take": "1"}),
    ("api", "get", "/api/v1/tickets/{ticket}", None),
    ("api", "get", "/api/v1/tickets/{ticket}/events", None),
    ("api", "get", "/api/v1/tickets/{ticket}/after-sales", None),
    ("api", "get", "/api/v1/tickets/{ticket}/compensations", None),
    ("api", "get", "/api/v1/tickets/{ticket}/follow-ups", None),
    ("api", "get", "/api/v1/tickets/{ticket}/articles", None),
    ("api", "get", "/api/v1/segments/{segment}", None),
    ("api", "get", "/api/v1/segments/{segment}/snapshots", None),
    ("api", "patch", "/api/v1/segments/{segment}", {"name": "偷改"}),
    ("api", "post", "/api/v1/segments/{segment}/snapshots", None),
    ("api", "delete", "/api/v1/segments/{segment}", None),
    ("web", "get", "/marketing/campaigns/{campaign}/", None),
    ("web", "get", "/marketing/campaigns/{campaign}/edit/", None),
    ("web", "post", "/marketing/campaigns/{campaign}/launch/", {}),
    ("web", "get", "/marketing/templates/{template}/", None),
    ("web", "get", "/marketing/templates/{template}/edit/", None),
    ("web", "post", "/marketing/consents/{customer}/", {"channel": "email", "granted": "0", "source": "x"}),
    ("web", "get", "/marketing/automations/{automation}/edit/", None),
    ("web", "get", "/marketing/automations/{automation}/log/", None),
    ("api", "get", "/api/v1/campaigns/{campaign}", None),
    ("api", "patch", "/api/v1/campaigns/{campaign}", {"name": "偷改"}),
    ("api", "post", "/api/v1/campaigns/{campaign}/launch", None),
    ("api", "get", "/api/v1/message-templates/{template}", None),
    ("api", "get", "/api/v1/customers/{customer}/consents", None),
    (
        "api",
        "put",
        "/api/v1/customers/{customer}/consents",
        {"channel": "email", "granted": False, "source": "x"},
    ),
    ("api", "get", "/api/v1/automations/{automation}", None),
    ("api", "get", "/api/v1/automations/{automation}/log", None),
    ("web", "get", "/loyalty/members/{customer}/", None),
    ("web", "post", "/loyalty/members/{customer}/adjust/", {"points": "10", "reason": "偷加"}),
    ("api", "get", "/api/v1/loyalty/members/{customer}", None),
    ("api", "get", "/api/v1/loyalty/members/{customer}/ledger", None),
    ("api", "post", "/api/v1/loyalty/members/{customer}/adjust", {"points": 10, "reason": "偷加"}),
    ("web", "get", "/surveys/{survey}/results/", None),
    ("web", "get", "/surveys/{survey}/results/?export=csv", None),
    ("web", "get", "/surveys/{survey}/index/", None),
    ("api", "get", "/api/v1/surveys/{survey}", None),
    ("api", "get", "/api/v1/surveys/{survey}/responses", None),
    ("api", "get", "/api/v1/surveys/{survey}/results", None),
    ("api", "post", "/api/v1/tickets/{ticket}/articles", {"article_id": 1}),
    ("web", "get", "/tickets/kb/suggest/?ticket={ticket}&q=fapiao", None),
    ("web", "post", "/tickets/{ticket}/kb/link/", {"article": "1"}),
    ("api", "get", "/api/v1/after-sales/{after_sale}", None),
    ("api", "post", "/api/v1/after-sales/{after_sale}/status", {"status": "cancelled", "decision_note": "x"}),
    (
        "web",
        "post",
        "/tickets/after-sales/{after_sale}/status/",
        {"status": "cancelled", "decision_note": "x"},
    ),
    ("web", "post", "/tickets/{ticket}/after-sales/", {"kind": "refund", "reason": "quality"}),
    ("web", "post", "/tickets/{ticket}/compensations/", {"kind": "coupon", "cost": "1"}),
    ("web", "get", "/tickets/compensations/{compensation}/letter.pdf", None),
    ("api", "post", "/api/v1/tickets/{ticket}/notes", {"body": "偷看"}),
    ("api", "post", "/api/v1/tickets/{ticket}/status", {"status": "closed", "resolution": "x"}),
    ("api", "post", "/api/v1/tickets", {"subject": "x", "customer_id": "{customer}"}),
    ("web", "get", "/commissions/{statement}/", None),
    ("web", "get", "/commissions/{statement}/export.csv", None),
    ("api", "get", "/api/v1/commissions/{statement}", None),
]

LISTS = [
    ("web", "get", "/", None),
    ("api", "get", "/api/v1/segments", None),
    ("api", "get", "/api/v1/customers?segment=rfm_class:important_value", None),
    ("web", "get", "/loyalty/", None),
    ("api", "get", "/api/v1/loyalty/members", None),
    ("web", "get", "/surveys/", None),
    ("api", "get", "/api/v1/surveys", None),
    ("web", "get", "/marketing/campaigns/", None),
    ("web", "get", "/marketing/templates/", None),
    ("web", "get", "/marketing/automations/", None),
    ("api", "get", "/api/v1/campaigns", None),
    ("api", "get", "/api/v1/message-templates", None),
    ("api", "get", "/api/v1/automations", None),
    ("web", "get", "/customers/", None),
    ("web", "get", "/customers/?q=" + SECRET["name"][:4], None),
    ("web", "get", "/customers/?q=5678", None),
    ("web", "get", "/customers/?owner={owner}", None),
    ("web", "get", "/customers/search/?q=" + SECRET["name"][:2], None),
    ("web", "get", "/customers/search/?q=ymxh", None),
    ("web", "get", "/customers/search/?q=5678", None),
    ("web", "get", "/customers/contacts/", None),
    ("web", "get", "/customers/contacts/?q=qmm", None),
    ("web", "get", "/customers/pool/", None),
    ("web", "get", "/tasks/?assignee={owner}&status=all", None),
    ("web", "post", "/customers/bulk/", {"action": "export_csv"}),
    ("web", "post", "/customers/bulk/", {"action": "export_xlsx", "ids": "{customer}"}),
    ("web", "post", "/customers/bulk/", {"action": "export_csv", "ids": "{customer}"}),
    ("api", "get", "/api/v1/customers", None),
    ("api", "get", "/api/v1/customers?q=5678", None),
    ("api", "get", "/api/v1/customers?owner={owner}", None),
    ("api", "get", "/api/v1/search?q=" + SECRET["name"][:2], None),
    ("api", "get", "/api/v1/search?q=ymxh", None),
    ("api", "get", "/api/v1/contacts?q=qmm", None),
    ("api", "get", "/api/v1/pool", None),
    ("api", "get", "/api/v1/tasks?assignee={owner}", None),
    ("web", "get", "/opportunities/", None),
    ("web", "get", "/opportunities/?q=" + SECRET["opportunity"][:2], None),
    ("web", "get", "/opportunities/board/?pipeline={pipeline}", None),
    ("api", "get", "/api/v1/opportunities", None),
    ("api", "get", "/api/v1/opportunities?owner={owner}", None),
    ("api", "get", "/api/v1/pipelines/{pipeline}/board", None),
    ("web", "get", "/leads/", None),
    ("web", "get", "/leads/?q=" + SECRET["lead"][:2], None),
    ("web", "get", "/leads/?q=4444", None),
    ("web", "get", "/leads/pool/", None),
    ("web", "get", "/leads/report/?by=owner", None),
    ("api", "get", "/api/v1/leads", None),
    ("api", "get", "/api/v1/leads?q=4444", None),
    ("api", "get", "/api/v1/leads/pool", None),
    ("web", "get", "/quotes/", None),
    ("api", "get", "/api/v1/quotes", None),
    ("web", "get", "/contracts/", None),
    ("web", "get", "/contracts/approvals/?status=all", None),
    ("api", "get", "/api/v1/contracts", None),
    ("web", "get", "/orders/", None),
    ("web", "get", "/orders/export/", None),
    ("web", "get", "/orders/export/?what=lines", None),
    ("web", "get", "/customers/contacts/export.vcf", None),
    ("api", "get", "/api/v1/orders", None),
    ("web", "get", "/receivables/", None),
    ("web", "get", "/receivables/overdue/", None),
    ("api", "get", "/api/v1/receivables/aging", None),
    ("api", "get", "/api/v1/receivables/overdue", None),
    ("web", "get", "/expenses/", None),
    ("api", "get", "/api/v1/expenses", None),
    ("web", "get", "/tickets/?status=any", None),
    ("web", "get", "/tickets/lookup/?q=" + SECRET["name"][:4], None),
    ("api", "get", "/api/v1/tickets?status=any", None),
    ("web", "get", "/tickets/returns/?by=buyer&days=30", None),
    ("api", "get", "/api/v1/after-sales/rates?by=buyer", None),
    ("web", "get", "/analytics/service/?by=team&days=7", None),
    ("web", "get", "/commissions/", None),
    ("api", "get", "/api/v1/commissions", None),
    ("web", "get", "/forecast/", None),
    ("web", "get", "/review/", None),
    ("web", "get", "/reports/funnel/", None),
    ("web", "get", "/analytics/churn/?status=all", None),
    ("web", "get", "/analytics/churn/?owner={owner}", None),
    ("web", "get", "/customers/?segment=churn:warned", None),
    ("web", "get", "/analytics/rfm/", None),
    ("web", "get", "/analytics/value/", None),
    ("web", "get", "/analytics/composition/?by=source", None),
    ("web", "get", "/analytics/products/?period=all", None),
    ("web", "get", "/analytics/seasonal/", None),
    ("web", "get", "/analytics/cohorts/", None),
    ("web", "get", "/analytics/cohorts/?download=cohorts&format=csv", None),
    ("web", "get", "/customers/?segment=cohort:{month}:0", None),
    ("web", "get", "/customers/?segment=month:{month}", None),
    ("web", "get", "/customers/?segment=bought:{product}:all", None),
    ("web", "get", "/customers/?segment=comp:source:", None),
]

BULK_CHANGES = [
    {"action": "tag", "ids": "{customer}", "tags": "偷看"},
    {"action": "release", "ids": "{customer}", "reason": "偷偷释放"},
    {"action": "assign", "ids": "{customer}", "owner": "{self}", "reason": "x"},
]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.fixture
def call():
    """call(user, kind, method, url, body) with one logged-in client and one API token per user."""
    web, api = {}, {}

    def do(user, kind, method, url, body):
        if kind == "web":
            if user.pk not in web:
                web[user.pk] = Client()
                web[user.pk].force_login(user)
            client = web[user.pk]
            if method == "post":
                return client.post(url, body or {})
            return client.generic(method.upper(), url)
        if user.pk not in api:
            _token, secret = api_token_create(actor=user, name="scope test")
            api[user.pk] = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        client, headers = Client(), api[user.pk]
        if method in {"get", "delete"}:
            return getattr(client, method)(url, **headers)
        return getattr(client, method)(url, data=body or {}, content_type="application/json", **headers)

    return do


def _body_text(response) -> str:
    """The body as a person would read it: JSON un-escaped (so "\\u9690" is searched as 隐), streams drained."""
    if getattr(response, "streaming", False):
        # Draining the stream closes the response (and any file) as a WSGI server would.
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json") and response.content:
        return json.dumps(response.json(), ensure_ascii=False)
    return response.content.decode("utf-8", "replace")


@pytest.mark.parametrize("outsider", ["rep_b", "rep_c"])
def test_paths_with_an_id_answer_404_to_outsiders(org, hidden, call, outsider):
    """Given rep_a's customer, when another team's rep uses any path naming one of its records, then 404."""
    user = getattr(org, outsider)
    ids = {**hidden, "owner": org.rep_a.pk, "self": user.pk}
    failures = []
    for kind, method, url, body in BY_ID:
        response = call(user, kind, method, _fill(url, ids), _fill(body, ids))
        # A hidden record named in a request *body* is an invalid reference (422 on that field), never a 403.
        allowed = {404, 422} if "{" in str(body) else {404}
        if response.status_code not in allowed:
            failures.append(f"{method.upper()} {url} → {response.status_code}")
        leaked = [m for m in MARKERS if m in _body_text(response)]
        if leaked:
            failures.append(f"{method.upper()} {url} leaked {leaked}")
    assert failures == []
    customer = Customer.objects.get(pk=hidden["customer"])
    assert (
        customer.name == SECRET["name"] and customer.owner_id == org.rep_a.pk and customer.deleted_at is None
    )
    opportunity = Opportunity.all_objects.get(pk=hidden["opportunity"])
    assert (opportunity.name, opportunity.owner_id, opportunity.status, opportunity.deleted_at) == (
        SECRET["opportunity"],
        org.rep_a.pk,
        "open",
        None,
    )
    lead = Lead.all_objects.get(pk=hidden["lead"])
    assert (lead.name, lead.owner_id, lead.status, lead.deleted_at, lead.version) == (
        SECRET["lead"],
        org.rep_a.pk,
        "new",
        None,
        1,
    )
    assert list(lead.activities.values_list("event", flat=True)) == ["created"]
    quote = Quote.all_objects.get(pk=hidden["quote"])
    assert (quote.status, quote.title, quote.deleted_at) == ("draft", SECRET["quote"], None)
    assert Contract.all_objects.get(pk=hidden["contract"]).status == "active"
    assert Receipt.objects.get(pk=hidden["receipt"]).voided_at is None
    assert Invoice.objects.get(pk=hidden["invoice"]).voided_at is None
    assert Receipt.objects.filter(contract_id=hidden["contract"]).count() == 1
    order = Order.all_objects.get(pk=hidden["order"])
    assert (order.status, order.deleted_at) == ("draft", None)
    assert Order.all_objects.filter(contract_id=hidden["contract"]).count() == 0
    expense = Expense.all_objects.get(pk=hidden["expense"])
    assert (expense.status, expense.deleted_at) == ("submitted", None)
    ticket = Ticket.objects.get(pk=hidden["ticket"])
    assert (ticket.status, ticket.assignee_id, ticket.events.count()) == (
        "new",
        None,
        3,
    )  # opened, after-sale, apology
    assert AfterSale.objects.get(pk=hidden["after_sale"]).status == "requested"
    assert (AfterSale.objects.count(), ticket.compensations.count()) == (1, 1)
    warning = ChurnWarning.objects.get(pk=hidden["churn"])
    assert (warning.status, warning.task_id, warning.lost_reason) == ("open", None, "")


@pytest.mark.parametrize("outsider", ["rep_b", "rep_c"])
def test_lists_searches_and_exports_never_mention_the_record(org, hidden, call, outsider):
    """Given rep_a's customer, when another team's rep lists, searches or exports, then nothing of it appears."""
    user = getattr(org, outsider)
    ids = {**hidden, "owner": org.rep_a.pk, "self": user.pk}
    failures = []
    for kind, method, url, body in LISTS:
        response = call(user, kind, method, _fill(url, ids), _fill(body, ids))
        if response.status_code != 200:
            failures.append(f"{method.upper()} {url} → {response.status_code}")
            continue
        leaked = [m for m in MARKERS if m in _body_text(response)]
        if leaked:
            failures.append(f"{method.upper()} {url} leaked {leaked}")
    assert failures == []


@pytest.mark.parametrize("outsider", ["rep_b", "rep_c"])
def test_bulk_actions_leave_the_record_untouched(org, hidden, call, outsider):
    """Given rep_a's customer, when another team's rep posts bulk actions naming it, then it does not change."""
    user = getattr(org, outsider)
    ids = {**hidden, "owner": org.rep_a.pk, "self": user.pk}
    before = Customer.objects.get(pk=hidden["customer"])
    for body in BULK_CHANGES:
        response = call(user, "web", "post", "/customers/bulk/", _fill(body, ids))
        assert response.status_code == 302
    after = Customer.objects.get(pk=hidden["customer"])
    assert (after.owner_id, after.version, list(after.tags.all())) == (before.owner_id, before.version, [])


def test_the_owner_reaches_every_path(org, hidden, call):
    """Control: the same table works for the owner, so the paths above are real routes."""
    ids = {**hidden, "owner": org.rep_a.pk, "self": org.rep_a.pk}
    reads = [row for row in BY_ID if row[1] == "get"]
    for kind, method, url, body in reads:
        response = call(org.rep_a, kind, method, _fill(url, ids), _fill(body, ids))
        assert response.status_code == 200, url
        _body_text(response)  # drains and closes file downloads
    found = _body_text(call(org.rep_a, "api", "get", "/api/v1/search?q=ymxh", None))
    assert SECRET["name"] in found
    exported = _body_text(call(org.rep_a, "web", "post", "/customers/bulk/", {"action": "export_csv"}))
    assert SECRET["name"] in exported and SECRET["phone"] in exported
    assert SECRET["name"] in _body_text(call(org.rep_a, "web", "get", "/orders/export/", None))
    assert SECRET["contact"] in _body_text(
        call(org.rep_a, "web", "get", "/customers/contacts/export.vcf", None)
    )
