"""Contracts and their approval chain: drafting from a won deal, an accepted quote or a customer; the chain
chosen by amount (company currency) with approvers found through the unit tree; the only road to "active";
scope on pages, downloads and the API; and query budgets."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from kehu.activities.models import Notification, Task, TimelineEntry
from kehu.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from kehu.sales.models import (
    ApprovalStep,
    Contract,
    ContractApproval,
    ContractAttachment,
    ExchangeRate,
    Quote,
)
from kehu.sales.selectors import contracts as selectors
from kehu.sales.services import contracts as services
from kehu.sales.services.opportunities import opportunity_create, opportunity_move
from kehu.users.models import Role
from kehu.users.services import membership_set, user_create
from tests.api_client import ApiClient

pytestmark = pytest.mark.django_db

Status = Contract.Status
A = ContractApproval.Status


# --- fixtures -----------------------------------------------------------------------------------------------------


@pytest.fixture
def director(org):
    """The company's manager (the director above the East region's manager)."""
    user = user_create(username="ceo", password=org.password, display_name="钱总", email="ceo@kehu.test")
    membership_set(actor=None, user=user, unit=org.company, role=Role.MANAGER)
    return user


@pytest.fixture
def steps(db):
    """Manager from 0, director from 1,000,000 (company currency)."""
    return (
        ApprovalStep.objects.create(
            name="经理审批", name_en="Manager approval", min_amount=Decimal(0), approver="manager", position=1
        ),
        ApprovalStep.objects.create(
            name="总监审批",
            name_en="Director approval",
            min_amount=Decimal("1000000"),
            approver="director",
            position=2,
        ),
    )


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org.rep_a, name="上海星河科技有限公司")


@pytest.fixture
def won(org, pipeline, customer):
    """A won opportunity of rep_a's (120,000 CNY)."""
    deal = opportunity_create(
        actor=org.rep_a,
        data={"name": "星河年度采购", "customer": customer, "amount": Decimal("120000")},
        pipeline=pipeline,
    )
    return opportunity_move(actor=org.rep_a, opportunity=deal, stage=pipeline.won)


def draft(org, customer, amount="50000", currency="CNY", actor=None, **data):
    return services.contract_create(
        actor=actor or org.rep_a,
        data={
            "title": "年度服务合同",
            "customer": customer,
            "amount": Decimal(amount),
            "currency": currency,
            **data,
        },
    )


def accepted_quote(deal, *, status=Quote.Status.ACCEPTED, total="98000.00", currency="CNY"):
    # Quotes are written by their own service elsewhere; here only the fields a contract reads matter.
    return Quote.objects.create(
        number="QT202611-0001",
        opportunity=deal,
        customer=deal.customer,
        title="星河报价",
        status=status,
        currency=currency,
        issued_on=datetime.date(2026, 11, 1),
        valid_until=datetime.date(2026, 12, 1),
        total=Decimal(total),
    )


def rep_a2_sees_nothing(org, contract) -> bool:
    return ApiClient(org.rep_a2).post(f"/contracts/{contract.pk}/withdraw").status_code == 404


def fetched(response) -> tuple[int, bytes]:
    """(status, body) of a response that may stream a file. Reading it to the end closes it (the test client
    does, keeping the database connection); closing it again would close the connection on PostgreSQL."""
    if response.streaming:
        return response.status_code, b"".join(response.streaming_content)
    return response.status_code, response.content


def pending_of(contract):
    return ContractApproval.objects.get(contract=contract, status=A.PENDING)


# --- drafting -----------------------------------------------------------------------------------------------------


def test_a_contract_from_a_won_opportunity_takes_its_amount_title_owner_and_unit(org, won):
    """Given a won opportunity of rep_a's, when a manager drafts a contract from it, then the contract copies its
    customer, amount, currency and name, belongs to rep_a (the opportunity's owner) in team A, is a numbered
    draft, is on the customer's timeline and rep_a is told."""
    contract = services.contract_create(actor=org.east_manager, data={}, opportunity=won)
    assert (contract.status, contract.customer, contract.amount, contract.currency, contract.title) == (
        Status.DRAFT,
        won.customer,
        Decimal("120000.00"),
        "CNY",
        "星河年度采购",
    )
    assert (contract.owner, contract.org_unit, contract.created_by) == (
        org.rep_a,
        org.team_a,
        org.east_manager,
    )
    assert contract.number.startswith("HT") and contract.number.endswith("-0001")
    assert TimelineEntry.objects.filter(customer=won.customer, event="contract_created").exists()
    assert Notification.objects.filter(recipient=org.rep_a, kind="contract_assigned").exists()


def test_only_a_won_opportunity_or_an_accepted_quote_becomes_a_contract(org, pipeline, won, customer):
    """Given an open opportunity and a quote that was only sent, when a contract is drafted from either, then
    it is refused saying why; an accepted quote's total and currency become the contract's amount."""
    still_open = opportunity_create(
        actor=org.rep_a, data={"name": "二期", "customer": customer}, pipeline=pipeline
    )
    with pytest.raises(ValidationFailed) as refused:
        services.contract_create(actor=org.rep_a, data={}, opportunity=still_open)
    assert "opportunity" in refused.value.fields

    sent = accepted_quote(won, status=Quote.Status.SENT)
    with pytest.raises(ValidationFailed) as refused:
        services.contract_create(actor=org.rep_a, data={}, quote=sent)
    assert "quote" in refused.value.fields

    Quote.objects.filter(pk=sent.pk).update(status=Quote.Status.ACCEPTED, currency="USD")
    sent.refresh_from_db()
    contract = services.contract_create(actor=org.rep_a, data={}, quote=sent)
    assert (contract.quote, contract.opportunity, contract.amount, contract.currency, contract.title) == (
        sent,
        won,
        Decimal("98000.00"),
        "USD",
        "星河报价",
    )
    assert Contract.objects.count() == 1


def test_a_direct_contract_needs_a_customer_the_actor_works_on(org, customer, make_customer):
    """Given rep_b's own customer and rep_a's, when rep_b drafts a contract for rep_a's customer, then it is
    refused on the customer field; for the own customer it is drafted with rep_b as owner in team B."""
    with pytest.raises(ValidationFailed) as refused:
        draft(org, customer, actor=org.rep_b)
    assert "customer" in refused.value.fields
    own = make_customer(org.rep_b, name="杭州云杉")
    contract = draft(org, own, actor=org.rep_b)
    assert (contract.owner, contract.org_unit, contract.opportunity) == (org.rep_b, org.team_b, None)


def test_edit_is_for_drafts_with_a_current_version_and_never_sets_the_status(org, customer, steps):
    """Given a draft, when it is edited with an old version, then the edit is refused as stale; a status in the
    data is refused; and once submitted it cannot be edited at all."""
    contract = draft(org, customer)
    services.contract_update(actor=org.rep_a, contract=contract, data={"title": "改名"}, version=1)
    from kehu.core.exceptions import StaleEdit

    with pytest.raises(StaleEdit):
        services.contract_update(actor=org.rep_a, contract=contract, data={"title": "又改"}, version=1)
    with pytest.raises(ValidationFailed) as refused:
        services.contract_update(actor=org.rep_a, contract=contract, data={"status": "active"}, version=None)
    assert "status" in refused.value.fields
    services.contract_submit(actor=org.rep_a, contract=contract)
    with pytest.raises(ValidationFailed):
        services.contract_update(actor=org.rep_a, contract=contract, data={"title": "审批中改"}, version=None)
    contract.refresh_from_db()
    assert (contract.title, contract.status) == ("改名", Status.PENDING)


def test_attachments_follow_the_activity_limits_and_freeze_while_pending(org, customer, steps, settings):
    """Given the attachment limits of the timeline, when a forbidden type or an oversized file is attached, then
    it is refused; a PDF is kept; while the contract awaits approval files can be neither added nor removed."""
    settings.KEHU = {**settings.KEHU, "ATTACHMENT_MAX_BYTES": 1024}
    contract = draft(org, customer)
    with pytest.raises(ValidationFailed):
        services.contract_attachment_add(
            actor=org.rep_a, contract=contract, upload=SimpleUploadedFile("x.exe", b"MZ")
        )
    with pytest.raises(ValidationFailed):
        services.contract_attachment_add(
            actor=org.rep_a, contract=contract, upload=SimpleUploadedFile("big.pdf", b"%" * 2048)
        )
    kept = services.contract_attachment_add(
        actor=org.rep_a,
        contract=contract,
        upload=SimpleUploadedFile("合同.pdf", b"%PDF-1.4", "application/pdf"),
    )
    assert (kept.name, kept.size, kept.uploaded_by) == ("合同.pdf", 8, org.rep_a)
    services.contract_submit(actor=org.rep_a, contract=contract)
    with pytest.raises(ValidationFailed):
        services.contract_attachment_add(
            actor=org.rep_a, contract=contract, upload=SimpleUploadedFile("b.pdf", b"%PDF")
        )
    with pytest.raises(ValidationFailed):
        services.contract_attachment_remove(actor=org.rep_a, attachment=kept)
    assert ContractAttachment.objects.filter(contract=contract).count() == 1


def test_only_a_draft_goes_to_the_recycle_bin_and_an_admin_restores_it(org, customer, steps):
    contract = draft(org, customer)
    services.contract_delete(actor=org.rep_a, contract=contract)
    assert not Contract.objects.filter(pk=contract.pk).exists()
    with pytest.raises(PermissionDenied):
        services.contract_restore(actor=org.rep_a, contract=contract)
    restored = services.contract_restore(actor=org.admin, contract=contract)
    assert restored.deleted_at is None
    services.contract_submit(actor=org.rep_a, contract=restored)
    with pytest.raises(ValidationFailed):
        services.contract_delete(actor=org.rep_a, contract=restored)


# --- the chain ----------------------------------------------------------------------------------------------------


def test_the_chain_is_chosen_by_amount_thresholds_in_position_order(org, customer, steps, director):
    """Given a manager step from 0 and a director step from 1,000,000, when a 50k and a 2M contract are
    submitted, then the 50k one needs the East manager only and the 2M one the manager, then the director."""
    small = draft(org, customer, "50000")
    big = draft(org, customer, "2000000")
    assert [(p.name, p.approver) for p in services.approval_chain(contract=small, submitter=org.rep_a)] == [
        ("经理审批", org.east_manager)
    ]
    assert [(p.name, p.approver) for p in services.approval_chain(contract=big, submitter=org.rep_a)] == [
        ("经理审批", org.east_manager),
        ("总监审批", director),
    ]
    ApprovalStep.objects.filter(pk=steps[1].pk).update(is_active=False)
    assert len(services.approval_chain(contract=big, submitter=org.rep_a)) == 1


def test_a_foreign_amount_is_converted_with_the_rate_valid_on_the_signing_date(
    org, customer, steps, director
):
    """Given USD at 6.5 from 2026-01-01 and 7.5 from 2026-07-01, when a 150,000 USD contract signed in March is
    placed (975,000 CNY) it needs the manager only; signed in August (1,125,000 CNY) it needs the director too.
    A currency without any rate is refused rather than taken as zero."""
    ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2026, 1, 1), rate=Decimal("6.5"))
    ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2026, 7, 1), rate=Decimal("7.5"))
    march = draft(org, customer, "150000", "USD", signed_on=datetime.date(2026, 3, 1))
    august = draft(org, customer, "150000", "USD", signed_on=datetime.date(2026, 8, 1))
    assert services.amount_in_company_currency(march)[0] == Decimal("975000.00")
    assert len(services.approval_chain(contract=march, submitter=org.rep_a)) == 1
    assert len(services.approval_chain(contract=august, submitter=org.rep_a)) == 2
    euros = draft(org, customer, "10", "EUR")
    with pytest.raises(ValidationFailed) as refused:
        services.contract_submit(actor=org.rep_a, contract=euros)
    assert "currency" in refused.value.fields
    assert Contract.objects.get(pk=euros.pk).status == Status.DRAFT


def test_approvers_are_found_up_the_unit_tree_skipping_the_submitter_and_the_owner(
    org, customer, steps, director, make_customer
):
    """Given team A has no manager, East has one and the company has the director: a team-A contract goes to
    the East manager then the director. A contract owned by the East manager skips him: the company manager
    approves the manager step, and the director step, one level above the company, has nobody (refused,
    naming the step). Without a company manager, a 2M team-A contract's director step is refused the same way."""
    big = draft(org, customer, "2000000")
    assert [p.approver for p in services.approval_chain(contract=big, submitter=org.rep_a)] == [
        org.east_manager,
        director,
    ]
    own = make_customer(org.east_manager, name="王经理的客户")
    managers_own = draft(org, own, "50000", actor=org.east_manager)
    assert [
        p.approver for p in services.approval_chain(contract=managers_own, submitter=org.east_manager)
    ] == [director]
    managers_big = draft(org, own, "2000000", actor=org.east_manager)
    with pytest.raises(ValidationFailed) as refused:
        services.contract_submit(actor=org.east_manager, contract=managers_big)
    assert "总监审批" in str(refused.value.message)

    director.memberships.all().delete()
    with pytest.raises(ValidationFailed) as refused:
        services.contract_submit(actor=org.rep_a, contract=big)
    assert "总监审批" in str(refused.value.message)
    assert not ContractApproval.objects.filter(contract=big).exists()


def test_the_same_person_on_two_consecutive_steps_decides_once_for_both(org, customer, steps, director):
    """Given a named-user step for the East manager right after the manager step, when a 50k contract is
    submitted, then one approval row covers both steps (its name says so) and one decision activates it."""
    ApprovalStep.objects.create(
        name="法务审批", min_amount=0, approver="user", approver_user=org.east_manager, position=1
    )
    contract = draft(org, customer, "50000")
    services.contract_submit(actor=org.rep_a, contract=contract)
    rows = list(ContractApproval.objects.filter(contract=contract))
    assert [(r.step_name, r.approver, r.status) for r in rows] == [
        ("经理审批 + 法务审批", org.east_manager, A.PENDING)
    ]
    services.contract_approve(actor=org.east_manager, approval=rows[0])
    assert Contract.objects.get(pk=contract.pk).status == Status.ACTIVE


def test_no_step_applies_then_the_contract_is_active_at_once(org, customer):
    """Given no approval step at all, when a draft is submitted, then it is active at once, with no approval
    rows, and the timeline says no approval was needed."""
    contract = draft(org, customer)
    services.contract_submit(actor=org.rep_a, contract=contract)
    contract.refresh_from_db()
    assert contract.status == Status.ACTIVE and contract.activated_at is not None
    assert not ContractApproval.objects.filter(contract=contract).exists()
    assert TimelineEntry.objects.filter(customer=customer, event="contract_no_approval_needed").exists()


# --- deciding -----------------------------------------------------------------------------------------------------


def test_the_happy_path_to_active_with_tasks_and_notifications(org, customer, steps, director):
    """Given a 2M draft, when rep_a submits it, then the East manager's step is pending with a task due in two
    days and a notification while the director's waits with neither; when the manager approves, his task is
    done and the director gets the task and notification; when the director approves, the contract is active
    and rep_a is told. Every step is on the customer's timeline and in the contract's history."""
    contract = draft(org, customer, "2000000")
    services.contract_submit(actor=org.rep_a, contract=contract)
    contract.refresh_from_db()
    assert contract.status == Status.PENDING
    first, second = ContractApproval.objects.filter(contract=contract).order_by("position")
    assert (first.round, first.approver, first.status, second.approver, second.status) == (
        1,
        org.east_manager,
        A.PENDING,
        director,
        A.WAITING,
    )
    assert first.task.assignee == org.east_manager and first.task.status == Task.Status.OPEN
    assert abs(first.task.due_at - (timezone.now() + datetime.timedelta(days=2))) < datetime.timedelta(
        minutes=1
    )
    assert second.task is None
    assert (
        Notification.objects.filter(recipient=org.east_manager, kind="contract_approval_requested").count()
        == 1
    )
    assert not Notification.objects.filter(recipient=director).exists()

    services.contract_approve(actor=org.east_manager, approval=first, comment="价格合理")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.comment, first.task.status) == (A.APPROVED, "价格合理", Task.Status.DONE)
    assert second.status == A.PENDING and second.task.assignee == director
    assert Notification.objects.filter(recipient=director, kind="contract_approval_requested").exists()
    assert Contract.objects.get(pk=contract.pk).status == Status.PENDING

    services.contract_approve(actor=director, approval=second)
    contract.refresh_from_db()
    assert contract.status == Status.ACTIVE and contract.activated_at is not None
    assert Notification.objects.filter(recipient=org.rep_a, kind="contract_approved").exists()
    events = list(
        TimelineEntry.objects.filter(customer=customer).order_by("id").values_list("event", flat=True)
    )
    assert events[-4:] == [
        "contract_submitted",
        "contract_step_approved",
        "contract_step_approved",
        "contract_approved",
    ]
    with translation.override("en"):
        reasons = [str(row["reason"]) for row in selectors.contract_history(contract=contract)]
    assert reasons[:3] == ["approved", "an approval step was approved", "submitted for approval"]


def test_a_rejection_returns_the_draft_and_a_resubmission_opens_round_two(org, customer, steps, director):
    """Given a 2M contract pending with the East manager, when he rejects without a reason, then it is refused;
    with a reason the contract is a draft again carrying the reason, the director's step is cancelled, the task
    closed and rep_a told. Edited and submitted again, it opens round 2 with fresh rows."""
    contract = draft(org, customer, "2000000")
    services.contract_submit(actor=org.rep_a, contract=contract)
    first = pending_of(contract)
    with pytest.raises(ValidationFailed) as refused:
        services.contract_reject(actor=org.east_manager, approval=first, comment="  ")
    assert "comment" in refused.value.fields
    services.contract_reject(actor=org.east_manager, approval=first, comment="付款条件太宽松")
    contract.refresh_from_db()
    assert (contract.status, contract.status_reason) == (Status.DRAFT, "付款条件太宽松")
    assert list(ContractApproval.objects.filter(contract=contract).values_list("status", flat=True)) == [
        A.REJECTED,
        A.CANCELLED,
    ]
    assert Task.objects.get(pk=first.task_id).status == Task.Status.DONE
    assert Notification.objects.filter(recipient=org.rep_a, kind="contract_rejected").exists()

    services.contract_update(actor=org.rep_a, contract=contract, data={"terms": "预付30%"}, version=None)
    services.contract_submit(actor=org.rep_a, contract=contract)
    rows = list(ContractApproval.objects.filter(contract=contract, round=2).order_by("position"))
    assert [(r.approver, r.status) for r in rows] == [(org.east_manager, A.PENDING), (director, A.WAITING)]
    assert [(n, len(r)) for n, r in selectors.approval_rounds(contract=contract)] == [(2, 2), (1, 2)]


def test_every_way_around_the_approval_is_refused(org, customer, steps, director):
    """Given a 2M contract pending with the East manager: the owner, a colleague, the director (whose step is
    still waiting) and a system admin may not decide his step; he may not decide it twice; after a withdrawal
    nobody may decide it; and an edit cannot set the status. The contract never became active."""
    contract = draft(org, customer, "2000000")
    services.contract_submit(actor=org.rep_a, contract=contract)
    first = pending_of(contract)
    second = ContractApproval.objects.get(contract=contract, status=A.WAITING)
    for outsider in (org.rep_a, org.rep_a2, org.admin, director):
        with pytest.raises(PermissionDenied):
            services.contract_approve(actor=outsider, approval=first)
        with pytest.raises(PermissionDenied):
            services.contract_reject(actor=outsider, approval=first, comment="no")
    with pytest.raises(Conflict):
        services.contract_approve(actor=director, approval=second)  # not yet his turn
    with pytest.raises(ValidationFailed):
        services.contract_update(actor=org.admin, contract=contract, data={"status": "active"}, version=None)

    services.contract_approve(actor=org.east_manager, approval=first)
    with pytest.raises(Conflict):
        services.contract_approve(actor=org.east_manager, approval=first)  # twice

    with pytest.raises(PermissionDenied):
        services.contract_withdraw(actor=org.east_manager, contract=contract)  # the owner withdraws
    services.contract_withdraw(actor=org.rep_a, contract=contract)
    second.refresh_from_db()
    assert second.status == A.CANCELLED and second.task.status == Task.Status.CANCELLED
    with pytest.raises(Conflict):
        services.contract_approve(actor=director, approval=second)
    contract.refresh_from_db()
    assert contract.status == Status.DRAFT and contract.activated_at is None


def test_complete_and_terminate_only_from_active(org, customer):
    contract = draft(org, customer)
    with pytest.raises(ValidationFailed):
        services.contract_complete(actor=org.rep_a, contract=contract)
    with pytest.raises(ValidationFailed):
        services.contract_terminate(actor=org.rep_a, contract=contract, reason="客户违约")
    services.contract_submit(actor=org.rep_a, contract=contract)  # no steps: active at once
    with pytest.raises(ValidationFailed) as refused:
        services.contract_terminate(actor=org.rep_a, contract=contract, reason=" ")
    assert "reason" in refused.value.fields
    services.contract_terminate(actor=org.rep_a, contract=contract, reason="客户违约")
    contract.refresh_from_db()
    assert (contract.status, contract.status_reason) == (Status.TERMINATED, "客户违约")
    other = draft(org, customer)
    services.contract_submit(actor=org.rep_a, contract=other)
    assert services.contract_complete(actor=org.rep_a, contract=other).status == Status.COMPLETED


# --- hooks --------------------------------------------------------------------------------------------------------


def test_a_departing_owners_contracts_and_open_approvals_go_to_the_successor(org, customer, steps, director):
    """Given rep_a's pending contract, when rep_a leaves with rep_a2 as successor, then the contract is rep_a2's;
    when the East manager leaves with unit_admin as successor, his pending decision is unit_admin's."""
    contract = draft(org, customer, "50000")
    services.contract_submit(actor=org.rep_a, contract=contract)
    # `user.handover` calls this (registered in the sales app's ready()).
    moved = services.contracts_hand_over(actor=org.admin, user=org.rep_a, successor=org.rep_a2)
    contract.refresh_from_db()
    assert contract.owner == org.rep_a2 and contract.org_unit == org.team_a
    assert moved == {"contracts": 1, "contract_approvals": 0}
    services.contracts_hand_over(actor=org.admin, user=org.east_manager, successor=org.unit_admin)
    assert pending_of(contract).approver == org.unit_admin


def test_purge_deletes_contracts_binned_before_the_cutoff(org, customer):
    old, recent = draft(org, customer), draft(org, customer)
    services.contract_delete(actor=org.rep_a, contract=old)
    services.contract_delete(actor=org.rep_a, contract=recent)
    Contract.all_objects.filter(pk=old.pk).update(deleted_at=timezone.now() - datetime.timedelta(days=40))
    assert services.contracts_purge_expired(cutoff=timezone.now() - datetime.timedelta(days=30)) >= 1
    assert list(Contract.all_objects.values_list("pk", flat=True)) == [recent.pk]


# --- API ----------------------------------------------------------------------------------------------------------


def test_the_api_drafts_submits_and_approves_through_the_chain(org, won, steps, director):
    """Given rep_a's won opportunity, when rep_a drafts a 2M contract from it and submits it through the API,
    then each approver finds it in GET /approvals and approves it there, and the contract ends active."""
    rep = ApiClient(org.rep_a)
    created = rep.post("/contracts", {"opportunity_id": won.pk, "amount": "2000000.00"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["amount"], body["title"], body["owner"]["id"]) == (
        "draft",
        "2000000.00",
        "星河年度采购",
        org.rep_a.pk,
    )
    submitted = rep.post(f"/contracts/{body['id']}/submit")
    assert submitted.json()["status"] == "pending"

    for approver in (org.east_manager, director):
        client = ApiClient(approver)
        inbox = client.get("/approvals").json()["items"]
        assert [(i["contract"]["number"], i["status"]) for i in inbox] == [(body["number"], "pending")]
        decided = client.post(f"/approvals/{inbox[0]['id']}/approve", {"comment": "同意"})
        assert decided.status_code == 200, decided.content
        assert decided.json()["status"] == "approved"
    assert rep.get(f"/contracts/{body['id']}").json()["status"] == "active"
    rounds = rep.get(f"/contracts/{body['id']}/approvals").json()
    assert [(r["approver"]["id"], r["status"], r["comment"]) for r in rounds] == [
        (org.east_manager.pk, "approved", "同意"),
        (director.pk, "approved", "同意"),
    ]


def test_the_api_refuses_every_bypass(org, customer, steps, director):
    """Given a pending contract: PATCH with a status is refused (422) and so is a PATCH of a pending contract;
    the owner and a system admin cannot approve the manager's step (403); approving twice answers 409; a
    rejection needs a comment; after a withdrawal the step cannot be approved (409). It never became active."""
    contract = draft(org, customer, "2000000")
    rep, admin, manager = ApiClient(org.rep_a), ApiClient(org.admin), ApiClient(org.east_manager)
    patched = rep.patch(f"/contracts/{contract.pk}", {"status": "active", "version": 1})
    assert patched.status_code == 422 and "status" in patched.json()["fields"]
    assert rep.post(f"/contracts/{contract.pk}/submit").status_code == 200
    assert rep.patch(f"/contracts/{contract.pk}", {"title": "x", "version": 1}).status_code == 422
    first = pending_of(contract)
    assert rep.post(f"/approvals/{first.pk}/approve", {}).status_code == 403
    assert admin.post(f"/approvals/{first.pk}/approve", {}).status_code == 403
    assert manager.post(f"/approvals/{first.pk}/reject", {"comment": ""}).status_code == 422
    assert manager.post(f"/approvals/{first.pk}/approve", {}).status_code == 200
    assert manager.post(f"/approvals/{first.pk}/approve", {}).status_code == 409
    second = pending_of(contract)
    assert rep_a2_sees_nothing(org, contract)
    assert manager.post(f"/contracts/{contract.pk}/withdraw").status_code == 403  # only the owner withdraws
    assert rep.post(f"/contracts/{contract.pk}/withdraw").json()["status"] == "draft"
    assert ApiClient(director).post(f"/approvals/{second.pk}/approve", {}).status_code == 409
    contract.refresh_from_db()
    assert contract.status == Status.DRAFT and contract.activated_at is None


def test_the_api_hides_another_reps_contract(org, customer, steps):
    """Given rep_a's contract with a file, when rep_b asks for it, its approvals, its file or tries to act on
    it, then every answer is 404, and rep_b's list does not include it."""
    contract = draft(org, customer)
    attachment = services.contract_attachment_add(
        actor=org.rep_a, contract=contract, upload=SimpleUploadedFile("a.pdf", b"%PDF")
    )
    other = ApiClient(org.rep_b)
    for path in (
        f"/contracts/{contract.pk}",
        f"/contracts/{contract.pk}/approvals",
        f"/contract-attachments/{attachment.pk}",
    ):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/contracts/{contract.pk}/submit").status_code == 404
    assert other.patch(f"/contracts/{contract.pk}", {"title": "x", "version": 1}).status_code == 404
    assert other.delete(f"/contracts/{contract.pk}").status_code == 404
    assert other.get("/contracts").json()["items"] == []
    assert [i["id"] for i in ApiClient(org.east_manager).get("/contracts").json()["items"]] == [contract.pk]
    assert fetched(ApiClient(org.rep_a).get(f"/contract-attachments/{attachment.pk}")) == (200, b"%PDF")


def test_a_named_approver_outside_the_scope_sees_enough_to_decide(org, customer, steps):
    """Given a legal step for rep_c (North, outside rep_a's data), when rep_a submits a contract with a file,
    then rep_c cannot open the contract itself but finds it in GET /approvals with its terms, can download its
    file and decides it once the manager has approved."""
    ApprovalStep.objects.create(
        name="法务审批", min_amount=0, approver="user", approver_user=org.rep_c, position=5
    )
    contract = draft(org, customer, terms="预付30%")
    attachment = services.contract_attachment_add(
        actor=org.rep_a, contract=contract, upload=SimpleUploadedFile("a.pdf", b"%PDF")
    )
    services.contract_submit(actor=org.rep_a, contract=contract)
    services.contract_approve(actor=org.east_manager, approval=pending_of(contract))
    legal = ApiClient(org.rep_c)
    assert legal.get(f"/contracts/{contract.pk}").status_code == 404
    inbox = legal.get("/approvals").json()["items"]
    assert [(i["contract"]["terms"], i["step_name"]) for i in inbox] == [("预付30%", "法务审批")]
    assert fetched(legal.get(f"/contract-attachments/{attachment.pk}")) == (200, b"%PDF")
    assert legal.post(f"/approvals/{inbox[0]['id']}/approve", {}).status_code == 200
    assert Contract.objects.get(pk=contract.pk).status == Status.ACTIVE


def test_the_api_list_query_budget(org, customer, steps, make_customer, django_assert_max_num_queries):
    for n in range(8):
        draft(org, make_customer(org.rep_a, name=f"客户{n}"), title=f"合同{n}")
    client = ApiClient(org.rep_a)
    with django_assert_max_num_queries(6):
        page = client.get("/contracts", {"q": "合同", "status": "draft"})
    assert len(page.json()["items"]) == 8
    for contract in Contract.objects.all():
        services.contract_submit(actor=org.rep_a, contract=contract)
    manager = ApiClient(org.east_manager)
    with django_assert_max_num_queries(6):
        inbox = manager.get("/approvals", {"status": "all"})
    assert len(inbox.json()["items"]) == 8


# --- pages --------------------------------------------------------------------------------------------------------


def test_from_the_won_opportunity_page_to_an_active_contract(org, won, steps, login, client):
    """Given rep_a's won opportunity, when rep_a follows "New contract" from its page, saves the prefilled form,
    uploads a file and submits, then the East manager approves it on his approvals page and the contract
    page shows it active with the decision and the comment."""
    page = login(org.rep_a).get(f"/opportunities/{won.pk}/")
    assert f"/contracts/new/?opportunity={won.pk}" in page.content.decode()
    form = client.get(f"/contracts/new/?opportunity={won.pk}")
    assert form.status_code == 200 and 'value="星河年度采购"' in form.content.decode()
    saved = client.post(
        "/contracts/new/",
        {
            "opportunity": won.pk,
            "title": "星河年度采购",
            "amount": "120000",
            "currency": "CNY",
            "terms": "预付30%",
        },
    )
    contract = Contract.objects.get()
    assert saved.status_code == 302 and saved.url == f"/contracts/{contract.pk}/"
    assert (contract.opportunity, contract.owner) == (won, org.rep_a)
    client.post(
        f"/contracts/{contract.pk}/attachments/", {"file": SimpleUploadedFile("合同.pdf", b"%PDF-1.4")}
    )
    client.post(f"/contracts/{contract.pk}/submit/")
    assert Contract.objects.get(pk=contract.pk).status == Status.PENDING
    assert f"/contracts/new/?opportunity={won.pk}" in client.get(f"/opportunities/{won.pk}/").content.decode()

    manager = login(org.east_manager)
    inbox = manager.get("/contracts/approvals/").content.decode()
    assert contract.number in inbox and "预付30%" in inbox and "合同.pdf" in inbox
    approval = pending_of(contract)
    manager.post(f"/contracts/approvals/{approval.pk}/approve/", {"comment": "同意签约"})
    detail = manager.get(f"/contracts/{contract.pk}/").content.decode()
    assert Contract.objects.get(pk=contract.pk).status == Status.ACTIVE
    assert "同意签约" in detail and "合同.pdf" in detail
    assert "没有待您审批的事项。" in manager.get("/contracts/approvals/").content.decode()


def test_the_approvals_page_query_budget(
    org, customer, steps, make_customer, login, django_assert_max_num_queries
):
    """Given eight contracts with files waiting for the East manager, his approvals page costs the same few
    queries as one would."""
    for n in range(8):
        contract = draft(org, make_customer(org.rep_a, name=f"客户{n}"), title=f"合同{n}")
        services.contract_attachment_add(
            actor=org.rep_a, contract=contract, upload=SimpleUploadedFile(f"{n}.pdf", b"%PDF")
        )
        services.contract_submit(actor=org.rep_a, contract=contract)
    client = login(org.east_manager)
    with django_assert_max_num_queries(10):
        page = client.get("/contracts/approvals/")
    assert page.content.decode().count('data-testid="approval-card"') == 8


def test_a_rejection_on_the_page_needs_a_reason_and_shows_it_to_the_owner(org, customer, steps, login):
    contract = draft(org, customer)
    services.contract_submit(actor=org.rep_a, contract=contract)
    approval = pending_of(contract)
    manager = login(org.east_manager)
    manager.post(f"/contracts/approvals/{approval.pk}/reject/", {"comment": ""})
    assert Contract.objects.get(pk=contract.pk).status == Status.PENDING
    manager.post(f"/contracts/approvals/{approval.pk}/reject/", {"comment": "金额有误"})
    assert Contract.objects.get(pk=contract.pk).status == Status.DRAFT
    page = login(org.rep_a).get(f"/contracts/{contract.pk}/").content.decode()
    assert "金额有误" in page and 'data-testid="submit-contract"' in page


def test_pages_refuse_bypasses(org, customer, steps, login):
    """Given a pending contract, when a system admin posts an approval of the manager's step, or the owner
    posts one, then the contract stays pending."""
    contract = draft(org, customer)
    services.contract_submit(actor=org.rep_a, contract=contract)
    approval = pending_of(contract)
    login(org.admin).post(f"/contracts/approvals/{approval.pk}/approve/", {})
    login(org.rep_a).post(f"/contracts/approvals/{approval.pk}/approve/", {})
    assert Contract.objects.get(pk=contract.pk).status == Status.PENDING
    assert pending_of(contract).pk == approval.pk


def test_another_rep_gets_404_for_the_contract_its_file_and_never_sees_it_listed(org, customer, login):
    """Given rep_a's contract with a file, when rep_b opens the page, the edit page, the file or acts on it, then
    each answer is 404 and rep_b's list does not show it; the East manager's list does, and rep_a downloads it."""
    contract = draft(org, customer)
    attachment = services.contract_attachment_add(
        actor=org.rep_a, contract=contract, upload=SimpleUploadedFile("a.pdf", b"%PDF")
    )
    other = login(org.rep_b)
    for path in (
        f"/contracts/{contract.pk}/",
        f"/contracts/{contract.pk}/edit/",
        f"/contracts/attachments/{attachment.pk}/",
    ):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/contracts/{contract.pk}/submit/").status_code == 404
    assert other.post(f"/contracts/attachments/{attachment.pk}/delete/").status_code == 404
    assert contract.number not in other.get("/contracts/").content.decode()
    assert 'data-testid="contract-row"' not in other.get(f"/contracts/?q={contract.number}").content.decode()
    assert contract.number in login(org.east_manager).get("/contracts/").content.decode()
    assert fetched(login(org.rep_a).get(f"/contracts/attachments/{attachment.pk}/")) == (200, b"%PDF")


def test_the_list_filters_and_its_query_budget(
    org, customer, make_customer, login, django_assert_max_num_queries
):
    for n in range(6):
        draft(org, make_customer(org.rep_a, name=f"客户{n}"), title=f"合同{n}")
    active = draft(org, customer, title="已生效合同")
    services.contract_submit(actor=org.rep_a, contract=active)  # no steps: active
    client = login(org.rep_a)
    with django_assert_max_num_queries(8):
        page = client.get("/contracts/")
    assert page.content.decode().count('data-testid="contract-row"') == 7
    assert client.get("/contracts/?status=active").content.decode().count('data-testid="contract-row"') == 1
    assert "已生效合同" in client.get("/contracts/?q=已生效").content.decode()
    assert "已生效合同" in client.get(f"/contracts/?q={active.number}").content.decode()
    assert client.get("/contracts/?owner=me").content.decode().count('data-testid="contract-row"') == 7
    assert (
        client.get(f"/contracts/?owner={org.rep_b.pk}").content.decode().count('data-testid="contract-row"')
        == 0
    )


def test_a_direct_contract_picks_a_visible_customer_and_edits_with_the_version(org, customer, login):
    client = login(org.rep_a)
    picked = client.get("/contracts/new/?q=星河").content.decode()
    assert f"?customer={customer.pk}" in picked
    assert login(org.rep_b).get(f"/contracts/new/?customer={customer.pk}").status_code == 404
    client = login(org.rep_a)
    client.post(
        "/contracts/new/", {"customer": customer.pk, "title": "直签合同", "amount": "3000", "currency": "CNY"}
    )
    contract = Contract.objects.get(title="直签合同")
    stale = client.post(
        f"/contracts/{contract.pk}/edit/", {"version": 0, "title": "改", "amount": "3000", "currency": "CNY"}
    )
    assert stale.status_code == 422
    client.post(
        f"/contracts/{contract.pk}/edit/", {"version": 1, "title": "改", "amount": "3000", "currency": "CNY"}
    )
    assert Contract.objects.get(pk=contract.pk).title == "改"
    assert "改" in client.get(f"/contracts/{contract.pk}/?tab=history").content.decode()
