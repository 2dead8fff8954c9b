"""Sales expenses: logging, approval rules, totals per rep in the company currency, scope, the API, the pages
and the receipt download."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.activities.models import Notification
from kehu.core.exceptions import Conflict, NotFound, PermissionDenied, StaleEdit, ValidationFailed
from kehu.sales.models import ExchangeRate, Expense
from kehu.sales.selectors import expenses as selectors
from kehu.sales.services import expenses as services
from kehu.sales.services.opportunities import opportunity_create
from tests.api_client import ApiClient

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 10)
PDF = b"%PDF-1.4 receipt"


def receipt(name="fapiao.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def log(actor, amount="120.50", currency="CNY", **data):
    data = {
        "spent_on": DAY,
        "category": "meals",
        "amount": Decimal(amount),
        "currency": currency,
        "description": "客户午餐",
        **data,
    }
    return services.expense_create(actor=actor, data=data)


@pytest.fixture
def deal(org, pipeline, make_customer):
    customer = make_customer(org.rep_a, name="上海星河科技有限公司")
    return opportunity_create(
        actor=org.rep_a, data={"name": "星河年度采购", "customer": customer}, pipeline=pipeline
    )


# --- services -----------------------------------------------------------------------------------------------------


def test_a_rep_logs_an_expense_in_their_unit_with_the_deal_and_its_customer(org, deal):
    """Given a rep's deal, when the rep logs an expense on it with a receipt, then it is theirs, in their unit,
    waiting for a decision, linked to the deal and its customer, the amount to the cent."""
    expense = services.expense_create(
        actor=org.rep_a,
        data={
            "spent_on": DAY,
            "category": "travel",
            "amount": Decimal("880.005"),
            "currency": "CNY",
            "description": "高铁",
            "opportunity": deal,
        },
        receipt_file=receipt(),
    )
    assert (expense.owner, expense.org_unit, expense.status) == (org.rep_a, org.team_a, "submitted")
    assert (expense.opportunity, expense.customer) == (deal, deal.customer)
    assert expense.amount == Decimal("880.01")
    with expense.receipt.open("rb") as stored:
        assert stored.read() == PDF
    assert expense.history.count() == 1


def test_creating_checks_amount_links_receipt_and_role(org, deal, make_customer, settings):
    """Amounts must be above zero; the customer and the deal must be ones the rep sees; receipts have an
    allowed type and size; analysts log nothing."""
    other_customer = make_customer(org.rep_b, name="杭州某公司")
    for data, field in [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"customer": other_customer}, "customer"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            log(org.rep_a, **data)
        assert field in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        log(org.rep_b, opportunity=deal)
    assert "opportunity" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        log(org.rep_a, opportunity=deal, customer=make_customer(org.rep_a))
    assert "customer" in refused.value.fields

    with pytest.raises(ValidationFailed) as refused:
        services.expense_create(
            actor=org.rep_a,
            data={"spent_on": DAY, "category": "meals", "amount": Decimal(1), "description": "x"},
            receipt_file=receipt("run.exe"),
        )
    assert "receipt" in refused.value.fields
    settings.KEHU = {**settings.KEHU, "ATTACHMENT_MAX_BYTES": 10}
    with pytest.raises(ValidationFailed) as refused:
        services.expense_create(
            actor=org.rep_a,
            data={"spent_on": DAY, "category": "meals", "amount": Decimal(1), "description": "x"},
            receipt_file=receipt(),
        )
    assert "receipt" in refused.value.fields
    with pytest.raises(PermissionDenied):
        log(org.analyst)
    assert not Expense.objects.exists()


def test_only_the_owner_edits_and_only_while_submitted_with_a_version_check(org):
    expense = log(org.rep_a)
    with pytest.raises(PermissionDenied):
        services.expense_update(
            actor=org.east_manager, expense=expense, data={"amount": Decimal(1)}, version=1
        )
    updated = services.expense_update(
        actor=org.rep_a, expense=expense, data={"amount": Decimal("99")}, version=1
    )
    assert (updated.amount, updated.version) == (Decimal("99.00"), 2)
    with pytest.raises(StaleEdit):
        services.expense_update(actor=org.rep_a, expense=expense, data={"amount": Decimal("98")}, version=1)
    services.expense_approve(actor=org.east_manager, expense=expense)
    with pytest.raises(Conflict):
        services.expense_update(actor=org.rep_a, expense=expense, data={"amount": Decimal("5")}, version=3)


def test_who_may_approve_and_reject(org):
    """A rep cannot decide; a manager cannot decide on their own expense; a manager of another subtree is
    refused; the manager of the rep's region (and an admin) may; a rejection needs a comment; the owner is
    told of each decision."""
    expense = log(org.rep_a)
    with pytest.raises(PermissionDenied):
        services.expense_approve(actor=org.rep_a2, expense=expense)
    with pytest.raises(PermissionDenied):
        services.expense_approve(actor=org.rep_a, expense=expense)
    own = log(org.east_manager)
    with pytest.raises(PermissionDenied):
        services.expense_approve(actor=org.east_manager, expense=own)

    from kehu.users.models import Role
    from kehu.users.services import membership_set, user_create

    north_manager = user_create(username="north_manager", password="x" * 12)
    membership_set(actor=None, user=north_manager, unit=org.north, role=Role.MANAGER)
    with pytest.raises(PermissionDenied):
        services.expense_approve(actor=north_manager, expense=expense)

    with pytest.raises(ValidationFailed) as refused:
        services.expense_reject(actor=org.east_manager, expense=expense, comment="  ")
    assert "comment" in refused.value.fields

    rejected = services.expense_reject(actor=org.east_manager, expense=expense, comment="没有发票")
    assert (rejected.status, rejected.decided_by, rejected.decision_comment) == (
        "rejected",
        org.east_manager,
        "没有发票",
    )
    assert rejected.decided_at is not None
    with pytest.raises(Conflict):
        services.expense_approve(actor=org.east_manager, expense=expense)
    notice = Notification.objects.get(recipient=org.rep_a)
    assert (notice.kind, notice.params["comment"], notice.url) == (
        "expense_rejected",
        "没有发票",
        f"/expenses/{expense.pk}/",
    )

    approved = services.expense_approve(actor=org.admin, expense=own)
    assert approved.status == "approved"
    assert Notification.objects.get(recipient=org.east_manager).kind == "expense_approved"


def test_delete_and_restore(org):
    """The owner bins a submitted expense; once decided only a manager may; a manager restores it."""
    expense = log(org.rep_a)
    with pytest.raises(PermissionDenied):
        services.expense_delete(actor=org.rep_a2, expense=expense)
    services.expense_delete(actor=org.rep_a, expense=expense)
    assert not Expense.objects.filter(pk=expense.pk).exists()
    with pytest.raises(NotFound):
        selectors.expense_get_for(actor=org.rep_a, expense_id=expense.pk)
    services.expense_restore(actor=org.east_manager, expense=expense)
    assert Expense.objects.filter(pk=expense.pk).exists()

    services.expense_approve(actor=org.east_manager, expense=expense)
    with pytest.raises(PermissionDenied):
        services.expense_delete(actor=org.rep_a, expense=expense)
    services.expense_delete(actor=org.east_manager, expense=expense)
    assert Expense.all_objects.get(pk=expense.pk).deleted_by == org.east_manager


def test_totals_per_rep_convert_each_currency_into_the_company_currency(org):
    """Given rep_a's expenses in CNY and USD and rep_b's in CNY in March, and a USD rate of 7.2, when the
    manager reads the March totals, then each rep's total is in CNY; February's expense does not count."""
    ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2026, 1, 1), rate=Decimal("7.2"))
    log(org.rep_a, amount="100")
    log(org.rep_a, amount="10", currency="USD")
    log(org.rep_b, amount="50")
    log(org.rep_b, amount="999", spent_on=datetime.date(2026, 2, 27))
    log(org.rep_c, amount="77")  # North: the East manager does not see it

    totals = selectors.totals_per_rep(
        actor=org.east_manager, filters=selectors.ExpenseFilters.from_params({"month": "2026-03"})
    )
    assert [(r.owner, r.amount) for r in totals.reps] == [
        (org.rep_a, Decimal("172.00")),
        (org.rep_b, Decimal("50.00")),
    ]
    assert totals.reps[0].by_currency == {"CNY": Decimal("100.00"), "USD": Decimal("10.00")}
    assert totals.amount == Decimal("222.00") and totals.missing_rates == set()


def test_scope_hides_another_reps_expense(org):
    expense = log(org.rep_a)
    with pytest.raises(NotFound):
        selectors.expense_get_for(actor=org.rep_b, expense_id=expense.pk)
    page = selectors.expense_list(actor=org.rep_b, filters=selectors.ExpenseFilters())
    assert page.items == []
    assert selectors.expense_list(actor=org.east_manager, filters=selectors.ExpenseFilters()).items == [
        expense
    ]


def test_the_to_approve_view_lists_what_the_manager_may_decide(org):
    mine = log(org.east_manager)
    theirs = log(org.rep_b)
    decided = log(org.rep_a)
    services.expense_approve(actor=org.east_manager, expense=decided)
    filters = selectors.ExpenseFilters.from_params({"to_approve": "1"})
    assert selectors.expense_list(actor=org.east_manager, filters=filters).items == [theirs]
    assert selectors.to_approve_count(actor=org.east_manager) == 1
    assert selectors.to_approve_count(actor=org.rep_a) == 0
    assert mine.status == "submitted"


# --- API ----------------------------------------------------------------------------------------------------------


def test_api_create_read_patch_approve_and_delete(org, deal):
    rep = ApiClient(org.rep_a)
    created = rep.post(
        "/expenses",
        {
            "spent_on": "2026-03-10",
            "category": "meals",
            "amount": "268.00",
            "currency": "CNY",
            "description": "客户晚餐",
            "opportunity_id": deal.pk,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["customer"]["id"], body["owner"]["id"]) == (
        "submitted",
        deal.customer_id,
        org.rep_a.pk,
    )
    patched = rep.patch(f"/expenses/{body['id']}", {"amount": "300", "version": body["version"]})
    assert patched.status_code == 200 and patched.json()["amount"] == "300.00"
    assert rep.patch(f"/expenses/{body['id']}", {"amount": "1", "version": 1}).status_code == 409

    assert rep.post(f"/expenses/{body['id']}/approve").status_code == 403
    manager = ApiClient(org.east_manager)
    assert manager.post(f"/expenses/{body['id']}/reject", {"comment": ""}).status_code == 422
    approved = manager.post(f"/expenses/{body['id']}/approve", {"comment": "OK"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    listed = manager.get("/expenses", {"status": "approved"}).json()
    assert [e["id"] for e in listed["items"]] == [body["id"]]
    assert rep.delete(f"/expenses/{body['id']}").status_code == 403
    assert manager.delete(f"/expenses/{body['id']}").status_code == 204
    assert manager.get(f"/expenses/{body['id']}").status_code == 404


def test_api_validation_and_scope(org, deal):
    rep_b = ApiClient(org.rep_b)
    for body, field in [
        ({"spent_on": "2026-03-10", "category": "meals", "amount": "0", "description": "x"}, "amount"),
        ({"spent_on": "2026-03-10", "category": "nope", "amount": "1", "description": "x"}, "category"),
        ({"category": "meals", "amount": "1", "description": "x"}, "spent_on"),
        (
            {
                "spent_on": "2026-03-10",
                "category": "meals",
                "amount": "1",
                "description": "x",
                "opportunity_id": deal.pk,
            },
            "opportunity_id",
        ),
    ]:
        response = rep_b.post("/expenses", body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["fields"], response.json()

    hidden = log(org.rep_a)
    assert rep_b.get(f"/expenses/{hidden.pk}").status_code == 404
    assert rep_b.patch(f"/expenses/{hidden.pk}", {"amount": "1"}).status_code == 404
    assert rep_b.post(f"/expenses/{hidden.pk}/approve").status_code == 404
    assert rep_b.delete(f"/expenses/{hidden.pk}").status_code == 404
    assert rep_b.get("/expenses").json()["items"] == []


def test_api_list_query_budget(org, django_assert_max_num_queries):
    for _i in range(5):
        log(org.rep_a)
    client = ApiClient(org.east_manager)
    client.get("/expenses")  # the token's first use is recorded once
    with django_assert_max_num_queries(4):  # token, memberships, units, expenses
        response = client.get("/expenses")
    assert len(response.json()["items"]) == 5


# --- pages --------------------------------------------------------------------------------------------------------


def test_log_an_expense_from_the_deal_page_with_a_receipt(org, deal, login):
    client = login(org.rep_a)
    detail = client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert f"/expenses/new/?opportunity={deal.pk}" in detail

    form = client.get(f"/expenses/new/?opportunity={deal.pk}")
    assert form.status_code == 200 and deal.name in form.content.decode()
    response = client.post(
        f"/expenses/new/?opportunity={deal.pk}",
        {
            "spent_on": "2026-03-10",
            "category": "gifts",
            "amount": "520",
            "currency": "CNY",
            "description": "中秋礼盒",
            "receipt": receipt(),
        },
    )
    expense = Expense.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/expenses/{expense.pk}/"
    assert (expense.opportunity, expense.customer) == (deal, deal.customer)

    panel = client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert "中秋礼盒" in panel and 'data-testid="expense-pending"' in panel

    download = client.get(f"/expenses/{expense.pk}/receipt/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_a_bad_form_answers_422_with_the_field_error(org, login):
    client = login(org.rep_a)
    response = client.post(
        "/expenses/new/",
        {"spent_on": "2026-03-10", "category": "meals", "amount": "0", "currency": "CNY", "description": "x"},
    )
    assert response.status_code == 422
    assert 'data-field-error="amount"' in response.content.decode()
    assert not Expense.objects.exists()


def test_manager_approves_and_rejects_from_the_list(org, login):
    approve_me, reject_me = log(org.rep_a, description="出租车"), log(org.rep_b, description="样品快递")
    client = login(org.east_manager)
    page = client.get("/expenses/?to_approve=1").content.decode()
    assert "出租车" in page and "样品快递" in page and f"/expenses/{approve_me.pk}/approve/" in page

    assert client.post(f"/expenses/{approve_me.pk}/approve/").status_code == 302
    client.post(f"/expenses/{reject_me.pk}/reject/", {"comment": ""})
    reject_me.refresh_from_db()
    assert reject_me.status == "submitted"
    client.post(f"/expenses/{reject_me.pk}/reject/", {"comment": "非业务支出"})
    approve_me.refresh_from_db()
    reject_me.refresh_from_db()
    assert (approve_me.status, reject_me.status) == ("approved", "rejected")


def test_the_list_shows_totals_per_rep_and_filters(org, login):
    ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2026, 1, 1), rate=Decimal("7"))
    log(org.rep_a, amount="100")
    log(org.rep_a, amount="10", currency="USD", category="travel")
    client = login(org.east_manager)
    page = client.get("/expenses/?month=2026-03").content.decode()
    assert 'data-testid="rep-total"' in page and "170.00" in page
    travel = client.get("/expenses/?month=2026-03&category=travel").content.decode()
    assert "70.00" in travel and "170.00" not in travel


def test_the_list_costs_the_same_queries_for_2_and_8_expenses(org, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(org.east_manager)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/expenses/").status_code == 200
        return len(captured)

    log(org.rep_a)
    log(org.rep_b)
    few = queries()
    for owner in (org.rep_a, org.rep_a2, org.rep_b) * 2:
        log(owner)
    assert queries() == few


def test_another_rep_gets_404_on_the_detail_the_receipt_and_the_edit_page(org, login):
    expense = services.expense_create(
        actor=org.rep_a,
        data={"spent_on": DAY, "category": "meals", "amount": Decimal(1), "description": "秘密午餐"},
        receipt_file=receipt(),
    )
    client = login(org.rep_b)
    for url in (
        f"/expenses/{expense.pk}/",
        f"/expenses/{expense.pk}/receipt/",
        f"/expenses/{expense.pk}/edit/",
    ):
        assert client.get(url).status_code == 404, url
    assert "秘密午餐" not in client.get("/expenses/").content.decode()
    manager = login(org.east_manager)
    download = manager.get(f"/expenses/{expense.pk}/receipt/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_the_owner_edits_a_submitted_expense(org, login):
    expense = log(org.rep_a)
    client = login(org.rep_a)
    assert client.get(f"/expenses/{expense.pk}/edit/").status_code == 200
    response = client.post(
        f"/expenses/{expense.pk}/edit/",
        {
            "spent_on": "2026-03-11",
            "category": "meals",
            "amount": "60",
            "currency": "CNY",
            "description": "改过的",
            "version": expense.version,
        },
    )
    assert response.status_code == 302
    expense.refresh_from_db()
    assert (expense.amount, expense.description, expense.spent_on) == (
        Decimal("60.00"),
        "改过的",
        datetime.date(2026, 3, 11),
    )
