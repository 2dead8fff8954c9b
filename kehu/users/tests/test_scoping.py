"""The data scope, role by role: who sees and who may change which customers (and what hangs off them)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from kehu.activities.models import Task, TimelineEntry
from kehu.activities.selectors import task_scope, timeline_scope
from kehu.activities.services import task_create, timeline_entry_create
from kehu.core.exceptions import NotFound, PermissionDenied
from kehu.customers.models import Customer
from kehu.customers.selectors import contact_scope, customer_get_for, customer_scope
from kehu.customers.services import (
    contact_create,
    customer_assign,
    customer_create,
    customer_share,
    customer_update,
)
from kehu.users import scoping
from kehu.users.models import User


@pytest.fixture
def book(org, make_customer):
    """One customer per owner and one pool customer per unit, plus rep_c's customer shared with rep_a."""

    def pool(unit):
        return make_customer(org.admin, owner=None, org_unit=unit)

    b = SimpleNamespace(
        own_a=make_customer(org.rep_a),
        own_a2=make_customer(org.rep_a2),
        own_b=make_customer(org.rep_b),
        own_c=make_customer(org.rep_c),
        shared_c=make_customer(org.rep_c),
        pool_company=pool(org.company),
        pool_east=pool(org.east),
        pool_north=pool(org.north),
        pool_a=pool(org.team_a),
        pool_b=pool(org.team_b),
        pool_c=pool(org.team_c),
    )
    customer_share(actor=org.rep_c, customer=b.shared_c, user=org.rep_a)
    return b


def visible(actor, book) -> set[str]:
    ids = set(customer_scope(actor).values_list("pk", flat=True))
    return {name for name, customer in vars(book).items() if customer.pk in ids}


ALL = {
    "own_a",
    "own_a2",
    "own_b",
    "own_c",
    "shared_c",
    "pool_company",
    "pool_east",
    "pool_north",
    "pool_a",
    "pool_b",
    "pool_c",
}
EAST = {"own_a", "own_a2", "own_b", "pool_company", "pool_east", "pool_a", "pool_b"}


def test_system_admin_sees_every_customer(org, book):
    """Given customers all over the company, when the system admin lists, then every one is visible."""
    assert visible(org.admin, book) == ALL


@pytest.mark.parametrize("role", ["east_manager", "unit_admin", "analyst"])
def test_region_roles_see_their_subtree_and_the_company_pool_but_not_another_region(org, book, role):
    """Given the East region's manager, unit admin or analyst, when listing, then teams A and B and the pools
    above them are visible, and nothing of the North region (team C) is."""
    assert visible(getattr(org, role), book) == EAST


def test_a_rep_sees_own_shared_and_the_pools_of_their_units_and_above(org, book):
    """Given rep_a in team A, when listing, then rep_a sees their own customer, the one shared with them and
    the pool of team A, the East region and the company — not a teammate's customer, team B's pool or the
    North region."""
    assert visible(org.rep_a, book) == {"own_a", "shared_c", "pool_a", "pool_east", "pool_company"}


def test_a_rep_with_more_shares_than_listed_inline_sees_the_same_records(org, book, monkeypatch):
    """Given more records shared with rep_a than the filter lists by id, when listing, then the filter reads
    the shares through a subquery and rep_a sees exactly what a short list shows."""
    monkeypatch.setattr(scoping, "SHARED_IDS_INLINE", 0)
    rep = User.objects.get(pk=org.rep_a.pk)  # a fresh object: the scope is computed once per actor object

    assert visible(rep, book) == {"own_a", "shared_c", "pool_a", "pool_east", "pool_company"}
    assert scoping.scope_for(rep).shared == {"customers.CustomerShare": None}


def test_a_service_agent_sees_the_pools_of_their_units_but_no_colleague_records(org, book):
    """Given a service agent in team A with no customers of their own, when listing, then only the pools are
    visible."""
    assert visible(org.agent_a, book) == {"pool_a", "pool_east", "pool_company"}


def test_a_rep_of_another_region_gets_not_found_for_a_customer_they_may_not_see(org, book):
    """Given rep_a's customer, when rep_c fetches it by id, then it answers not found (the same as a missing
    id)."""
    with pytest.raises(NotFound):
        customer_get_for(actor=org.rep_c, customer_id=book.own_a.pk)
    with pytest.raises(NotFound):
        customer_get_for(actor=org.rep_c, customer_id="not-a-number")
    assert customer_get_for(actor=org.rep_a, customer_id=book.own_a.pk) == book.own_a


def test_a_deactivated_user_sees_nothing_not_even_their_own(org, book):
    """Given rep_a is deactivated, when their (stale) user object is used, then no customer is visible and
    none editable."""
    User.objects.filter(pk=org.rep_a.pk).update(is_active=False)
    departed = User.objects.get(pk=org.rep_a.pk)

    assert visible(departed, book) == set()
    assert not scoping.can_edit(departed, book.own_a)
    assert not scoping.can_assign_in(departed, org.team_a.pk)


def test_write_access_follows_ownership_role_and_share_level(org, book):
    """Given the book, when asking who may edit what, then owners, managers of the subtree, admins and
    edit-shares may; viewers, pool browsers, teammates and analysts may not."""
    assert scoping.can_edit(org.rep_a, book.own_a)
    assert not scoping.can_edit(org.rep_a, book.own_a2)
    assert not scoping.can_edit(org.rep_a, book.pool_a)
    assert not scoping.can_edit(org.rep_a, book.shared_c)  # shared read-only
    assert scoping.can_edit(org.east_manager, book.own_b)
    assert scoping.can_edit(org.unit_admin, book.pool_a)
    assert not scoping.can_edit(org.east_manager, book.own_c)
    assert scoping.can_edit(org.admin, book.own_c)

    customer_share(actor=org.rep_c, customer=book.shared_c, user=org.rep_a, can_edit=True)
    assert scoping.can_edit(org.rep_a, book.shared_c)


def test_the_analyst_reads_the_region_but_every_write_is_refused(org, book):
    """Given the East analyst, when trying to create, edit, add contacts, log follow-ups or create tasks, then
    each service refuses with PermissionDenied and nothing changes."""
    analyst = org.analyst
    assert not scoping.can_edit(analyst, book.own_a)

    with pytest.raises(PermissionDenied):
        customer_create(actor=analyst, data={"name": "分析员建的客户"}, org_unit=org.east, owner=None)
    with pytest.raises(PermissionDenied):
        customer_update(actor=analyst, customer=book.own_a, data={"name": "改名"}, version=None)
    with pytest.raises(PermissionDenied):
        contact_create(actor=analyst, customer=book.own_a, data={"name": "联系人"})
    with pytest.raises(PermissionDenied):
        timeline_entry_create(actor=analyst, customer=book.own_a, data={"kind": "call", "content": "电话"})
    with pytest.raises(PermissionDenied):
        task_create(actor=analyst, data={"title": "任务", "due_at": timezone.now() + timedelta(days=1)})

    book.own_a.refresh_from_db()
    assert book.own_a.version == 1
    assert not Customer.objects.filter(name="分析员建的客户").exists()


def test_contacts_timeline_and_tasks_follow_their_customer(org, book):
    """Given a contact, a follow-up and a task on rep_a's customer, when other users look, then the manager of
    the region sees all three, rep_a's teammate and the North rep see none of them."""
    contact = contact_create(actor=org.rep_a, customer=book.own_a, data={"name": "王小红"})
    entry = timeline_entry_create(
        actor=org.rep_a, customer=book.own_a, data={"kind": "call", "content": "电话沟通"}
    )
    task = task_create(
        actor=org.rep_a,
        data={"title": "回访", "customer": book.own_a, "due_at": timezone.now() + timedelta(days=1)},
    )

    def sees(actor):
        return (
            contact_scope(actor).filter(pk=contact.pk).exists(),
            timeline_scope(actor).filter(pk=entry.pk).exists(),
            task_scope(actor).filter(pk=task.pk).exists(),
        )

    assert sees(org.rep_a) == (True, True, True)
    assert sees(org.east_manager) == (True, True, True)
    assert sees(org.analyst) == (True, True, True)
    assert sees(org.rep_a2) == (False, False, False)
    assert sees(org.rep_c) == (False, False, False)
    assert scoping.can_edit(org.east_manager, contact)
    assert not scoping.can_edit(org.analyst, contact)


@pytest.mark.parametrize("inline", [500, 0], ids=["listed by id", "joined"])
def test_records_reached_through_a_customer_follow_it_when_it_moves(org, book, monkeypatch, inline):
    """Given rep_a2 has looked at contacts (so the customers they reach are known), when rep_a's customer is
    transferred to rep_a2 and later taken back, then the same rep_a2 object sees its contact at once and then
    no longer — whether the reached customers are listed by id or joined."""
    monkeypatch.setattr(scoping, "SHARED_IDS_INLINE", inline)
    contact = contact_create(actor=org.rep_a, customer=book.own_a, data={"name": "王小红"})
    rep = User.objects.get(pk=org.rep_a2.pk)
    assert not contact_scope(rep).filter(pk=contact.pk).exists()

    customer_assign(actor=org.east_manager, customer=book.own_a, owner=org.rep_a2)
    assert contact_scope(rep).filter(pk=contact.pk).exists()
    reached = scoping.scope_for(rep).reached["customers.Customer"][1]
    assert (reached is None) == (inline == 0)

    customer_assign(actor=org.east_manager, customer=book.own_a, owner=org.rep_a)
    assert not contact_scope(rep).filter(pk=contact.pk).exists()


def test_a_task_without_customer_is_seen_by_its_assignee_and_creator_only(org):
    """Given the manager gives rep_a2 a task not tied to a customer, when listing tasks, then rep_a2 and the
    manager see it, rep_a does not."""
    task = task_create(
        actor=org.east_manager,
        data={"title": "整理报价单", "assignee": org.rep_a2, "due_at": timezone.now() + timedelta(days=1)},
    )

    assert task_scope(org.rep_a2).filter(pk=task.pk).exists()
    assert task_scope(org.east_manager).filter(pk=task.pk).exists()
    assert not task_scope(org.rep_a).filter(pk=task.pk).exists()
    assert scoping.can_edit(org.rep_a2, task)


def test_records_of_a_binned_customer_disappear_with_it(org, book):
    """Given a customer with a contact, follow-up and task, when the customer goes to the recycle bin, then
    its contact, timeline and task are hidden too."""
    from kehu.customers.services import customer_delete

    contact = contact_create(actor=org.rep_a, customer=book.own_a, data={"name": "王小红"})
    entry = timeline_entry_create(
        actor=org.rep_a, customer=book.own_a, data={"kind": "call", "content": "电话"}
    )
    task = task_create(
        actor=org.rep_a,
        data={"title": "回访", "customer": book.own_a, "due_at": timezone.now() + timedelta(days=1)},
    )

    customer_delete(actor=org.rep_a, customer=book.own_a)

    assert not contact_scope(org.rep_a).filter(pk=contact.pk).exists()
    assert not timeline_scope(org.admin).filter(pk=entry.pk).exists()
    assert not task_scope(org.rep_a).filter(pk=task.pk).exists()
    assert TimelineEntry.all_objects.filter(pk=entry.pk).exists()
    assert Task.all_objects.filter(pk=task.pk).exists()


def test_who_may_assign_and_pick_colleagues(org):
    """Given the org, when asking who may assign in which unit and whom they may pick, then managers assign in
    their subtree only and reps pick teammates only."""
    assert scoping.can_assign_in(org.east_manager, org.team_b.pk)
    assert not scoping.can_assign_in(org.east_manager, org.team_c.pk)
    assert not scoping.can_assign_in(org.rep_a, org.team_a.pk)
    assert not scoping.can_assign_in(org.analyst, org.team_a.pk)
    assert scoping.is_manager(org.east_manager)
    assert not scoping.is_manager(org.rep_a)

    manager_picks = set(
        User.objects.filter(scoping.visible_user_ids_q(org.east_manager)).values_list("username", flat=True)
    )
    rep_picks = set(
        User.objects.filter(scoping.visible_user_ids_q(org.rep_a)).values_list("username", flat=True)
    )

    assert {"rep_a", "rep_a2", "rep_b", "agent_a", "analyst"} <= manager_picks
    assert "rep_c" not in manager_picks
    assert rep_picks == {"rep_a", "rep_a2", "agent_a"}
