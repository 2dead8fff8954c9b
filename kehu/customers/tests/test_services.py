"""Customer and contact services: creation, collisions (撞单), custom fields, optimistic locking, audit,
the recycle bin and merging duplicates."""

import datetime
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from kehu.activities.models import Task, TimelineEntry
from kehu.activities.services import task_create, timeline_entry_create
from kehu.core.exceptions import NotFound, PermissionDenied, StaleEdit, ValidationFailed
from kehu.core.services import recycle_bin_purge
from kehu.customers.exceptions import CustomerCollision
from kehu.customers.models import Contact, Customer, CustomerShare, CustomField
from kehu.customers.selectors import (
    contact_history,
    contact_scope,
    customer_get_for,
    customer_history,
    customer_list,
    deleted_customers,
    search,
)
from kehu.customers.services import (
    contact_create,
    contact_delete,
    contact_restore,
    contact_update,
    customer_assign,
    customer_create,
    customer_delete,
    customer_merge,
    customer_restore,
    customer_share,
    customer_update,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def visible_ids(actor) -> set[int]:
    return {c.pk for c in customer_list(actor=actor, size=200).items}


# --- create -------------------------------------------------------------------------------------------------


def test_a_rep_creates_a_customer_they_own_in_their_team(org):
    """Given rep_a, when creating a customer, then rep_a owns it in team A, it is findable and the timeline
    says it was created."""
    customer = customer_create(
        actor=org.rep_a, data={"name": "　上海星辰科技 ", "phone": "+86 138-1234-5678"}, tags=["重点", "华东"]
    )

    assert customer.owner == org.rep_a
    assert customer.org_unit == org.team_a
    assert customer.created_by == org.rep_a
    assert customer.claimed_at is not None
    assert customer.phone_key == "13812345678"
    assert customer.pinyin == "shanghaixingchenkeji"
    assert sorted(t.name for t in customer.tags.all()) == ["华东", "重点"]
    assert TimelineEntry.objects.get(customer=customer).event == "created"
    assert customer.pk in visible_ids(org.rep_a)


def test_a_rep_may_not_create_customers_for_someone_else_but_a_manager_may(org):
    """Given rep_a and the East manager, when each creates a customer owned by rep_b, then only the manager
    may."""
    with pytest.raises(PermissionDenied):
        customer_create(actor=org.rep_a, data={"name": "星辰科技"}, owner=org.rep_b)

    customer = customer_create(actor=org.east_manager, data={"name": "星辰科技"}, owner=org.rep_b)

    assert customer.owner == org.rep_b
    assert customer.org_unit == org.team_b


def test_a_rep_may_put_a_new_customer_in_their_own_pools_only(org):
    """Given rep_a, when creating a pool customer in team A it works; in team B (another team's pool) it is
    refused."""
    pooled = customer_create(actor=org.rep_a, data={"name": "星辰科技"}, owner=None, org_unit=org.team_a)
    assert pooled.owner is None
    assert pooled.pooled_at is not None

    with pytest.raises(PermissionDenied):
        customer_create(actor=org.rep_a, data={"name": "云海数据"}, owner=None, org_unit=org.team_b)


def test_invalid_fields_are_reported_per_field(org):
    """Given a blank name and a malformed e-mail, when creating, then both fields are reported and nothing is
    saved."""
    with pytest.raises(ValidationFailed) as caught:
        customer_create(actor=org.rep_a, data={"name": "  ", "email": "not-an-email"})

    assert set(caught.value.fields) >= {"email"}
    assert not Customer.all_objects.exists()


# --- collisions ---------------------------------------------------------------------------------------------


@pytest.fixture
def existing(org):
    return customer_create(
        actor=org.rep_b,
        data={"name": "ＡＢＣ星辰科技", "phone": "+86 138-1234-5678", "email": "Info@XingChen.cn"},
    )


@pytest.mark.parametrize(
    ("data", "matched"),
    [
        ({"name": "新客户", "phone": "0086 13812345678"}, ["phone"]),
        ({"name": "新客户", "phone": "138 1234 5678"}, ["phone"]),
        ({"name": "新客户", "email": "info@xingchen.cn"}, ["email"]),
        ({"name": "abc星辰科技　"}, ["name"]),
        ({"name": " ABC 星辰科技"}, ["name"]),
        ({"name": "ABC星辰科技", "phone": "13812345678"}, ["name", "phone"]),
    ],
)
def test_a_customer_matching_an_existing_one_is_refused_naming_it_and_its_owner(org, existing, data, matched):
    """Given rep_b's customer, when rep_a creates one with the same normalised phone, e-mail or name, then it
    is refused with the existing customer's number and owner, and nothing is created."""
    with pytest.raises(CustomerCollision) as caught:
        customer_create(actor=org.rep_a, data=data)

    error = caught.value
    assert error.extra["existing_id"] == existing.pk
    assert error.extra["existing_owner"] == str(org.rep_b)
    assert error.matched_on == matched
    assert str(existing.pk) in str(error.message)
    assert str(org.rep_b) in str(error.message)
    assert Customer.objects.count() == 1


def test_a_collision_with_a_pool_customer_names_the_pool(org):
    """Given a pool customer, when a duplicate is created, then the message says it is in the public pool."""
    customer_create(actor=org.admin, data={"name": "星辰科技"}, owner=None, org_unit=org.team_a)

    with pytest.raises(CustomerCollision) as caught:
        customer_create(actor=org.rep_a, data={"name": "星辰科技"})

    assert "the public pool" in str(caught.value.message)
    assert caught.value.extra["existing_owner"] == ""


def test_a_manager_may_override_a_collision_but_a_rep_may_not(org, existing):
    """Given a colliding customer, when a rep asks to override it is still refused; when the manager asks, it
    is created."""
    with pytest.raises(CustomerCollision):
        customer_create(actor=org.rep_a, data={"name": "ABC星辰科技"}, override_collision=True)

    duplicate = customer_create(
        actor=org.east_manager, data={"name": "ABC星辰科技"}, owner=org.rep_a, override_collision=True
    )

    assert duplicate.pk != existing.pk


def test_editing_into_a_collision_is_refused(org, existing):
    """Given rep_a's customer, when rep_a changes its phone to the existing customer's, then it is refused and
    the stored phone is unchanged; editing other fields still works."""
    mine = customer_create(actor=org.rep_a, data={"name": "云海数据", "phone": "13900001111"})

    with pytest.raises(CustomerCollision) as caught:
        customer_update(actor=org.rep_a, customer=mine, data={"phone": "138-1234-5678"}, version=mine.version)

    assert caught.value.extra["existing_id"] == existing.pk
    mine.refresh_from_db()
    assert mine.phone == "13900001111"
    customer_update(actor=org.rep_a, customer=mine, data={"industry": "软件"}, version=mine.version)
    mine.refresh_from_db()
    assert mine.industry == "软件"


def test_a_binned_customer_does_not_block_a_new_one(org, existing):
    """Given the existing customer went to the recycle bin, when the same name is created again, then it is
    allowed."""
    customer_delete(actor=org.rep_b, customer=existing)

    assert customer_create(actor=org.rep_a, data={"name": "ABC星辰科技"}).pk != existing.pk


# --- custom fields ------------------------------------------------------------------------------------------


@pytest.fixture
def custom_fields(db):
    def define(key, field_type, **extra):
        return CustomField.objects.create(
            entity=CustomField.Entity.CUSTOMER,
            key=key,
            label_zh=key,
            label_en=key,
            field_type=field_type,
            **extra,
        )

    define("note", CustomField.FieldType.TEXT)
    define("employees", CustomField.FieldType.NUMBER)
    define("budget", CustomField.FieldType.MONEY)
    define("founded", CustomField.FieldType.DATE)
    define("grade", CustomField.FieldType.CHOICE, choices=["A", "B"])
    define("channels", CustomField.FieldType.MULTI_CHOICE, choices=["淘宝", "京东", "抖音"])
    define("vip", CustomField.FieldType.BOOLEAN)
    define("retired", CustomField.FieldType.TEXT, active=False)


def test_custom_values_are_coerced_and_stored(org, custom_fields):
    """Given one field of each type, when valid values arrive as form strings, then they are stored typed."""
    customer = customer_create(
        actor=org.rep_a,
        data={"name": "星辰科技"},
        custom={
            "note": "  老客户介绍  ",
            "employees": "1,200",
            "budget": "99.5",
            "founded": datetime.date(2015, 6, 1),
            "grade": "A",
            "channels": "淘宝,抖音",
            "vip": "是",
        },
    )

    customer.refresh_from_db()
    assert customer.custom == {
        "note": "老客户介绍",
        "employees": 1200,
        "budget": "99.50",
        "founded": "2015-06-01",
        "grade": "A",
        "channels": ["淘宝", "抖音"],
        "vip": True,
    }


def test_each_bad_custom_value_is_reported_under_its_own_key(org, custom_fields):
    """Given a wrong value for every type and an unknown key, when creating, then each is reported as
    custom.<key> with a message saying what is expected, and nothing is saved."""
    with pytest.raises(ValidationFailed) as caught:
        customer_create(
            actor=org.rep_a,
            data={"name": "星辰科技"},
            custom={
                "note": "字" * 501,
                "employees": "很多",
                "budget": True,
                "founded": "2024-13-01",
                "grade": "C",
                "channels": ["淘宝", "拼多多"],
                "vip": "也许",
                "color": "red",
                "retired": "x",
            },
        )

    assert caught.value.fields == {
        "custom.note": "At most 500 characters.",
        "custom.employees": "Enter a number.",
        "custom.budget": "Enter a number.",
        "custom.founded": "Enter a valid date (YYYY-MM-DD).",
        "custom.grade": "Choose one of the listed options.",
        "custom.channels": "Not an option: 拼多多",
        "custom.vip": "Enter yes or no.",
        "custom.color": "Unknown custom field.",
        "custom.retired": "Unknown custom field.",
    }
    assert not Customer.objects.exists()


def test_a_required_custom_field_must_be_filled(org, custom_fields):
    """Given a required custom field, when it is missing or blank, then it is reported; when given, it is
    saved."""
    CustomField.objects.create(
        entity=CustomField.Entity.CUSTOMER,
        key="tax_id",
        label_zh="税号",
        label_en="Tax ID",
        field_type="text",
        required=True,
    )

    for custom in (None, {"tax_id": "  "}):
        with pytest.raises(ValidationFailed) as caught:
            customer_create(actor=org.rep_a, data={"name": "星辰科技"}, custom=custom)
        assert caught.value.fields == {"custom.tax_id": "This field is required."}

    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"}, custom={"tax_id": "91310000MA1K"})
    assert customer.custom == {"tax_id": "91310000MA1K"}


def test_updating_custom_values_merges_and_blank_clears(org, custom_fields):
    """Given stored custom values, when an update sends one new value and one blank, then the new one is set,
    the blank one removed and the rest kept."""
    customer = customer_create(
        actor=org.rep_a, data={"name": "星辰科技"}, custom={"grade": "A", "employees": 10, "vip": False}
    )

    customer_update(
        actor=org.rep_a,
        customer=customer,
        data={},
        custom={"grade": "B", "employees": ""},
        version=customer.version,
    )

    customer.refresh_from_db()
    assert customer.custom == {"grade": "B", "vip": False}
    assert customer.version == 2


# --- optimistic locking -------------------------------------------------------------------------------------


def test_saving_a_stale_form_is_refused_and_lists_what_changed(org):
    """Given two people opened version 1, when the first saves a new name and the second then saves a new
    phone, then the second save is refused listing the name as it was and as it is now, and nothing is
    overwritten."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技", "phone": "13900001111"})
    opened = customer.version
    customer_update(actor=org.east_manager, customer=customer, data={"name": "星辰信息科技"}, version=opened)

    with pytest.raises(StaleEdit) as caught:
        customer_update(actor=org.rep_a, customer=customer, data={"phone": "13900002222"}, version=opened)

    error = caught.value
    assert error.current_version == opened + 1
    assert error.changes == {"name": {"label": "name", "then": "星辰科技", "now": "星辰信息科技"}}
    customer.refresh_from_db()
    assert customer.phone == "13900001111"
    assert customer.name == "星辰信息科技"

    customer_update(
        actor=org.rep_a, customer=customer, data={"phone": "13900002222"}, version=error.current_version
    )
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.version) == ("星辰信息科技", "13900002222", opened + 2)


def test_a_stale_contact_edit_is_refused_too(org):
    """Given a contact edited by someone else, when an older form is saved, then it is refused."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    contact = contact_create(actor=org.rep_a, customer=customer, data={"name": "王小红", "title": "经理"})
    contact_update(actor=org.rep_a, contact=contact, data={"title": "总监"}, version=1)

    with pytest.raises(StaleEdit) as caught:
        contact_update(actor=org.east_manager, contact=contact, data={"title": "采购"}, version=1)

    assert caught.value.changes["title"]["then"] == "经理"
    assert caught.value.changes["title"]["now"] == "总监"
    contact.refresh_from_db()
    assert contact.title == "总监"


# --- audit --------------------------------------------------------------------------------------------------


def test_customer_history_shows_who_changed_which_field_from_what_to_what(org):
    """Given a customer created by rep_a, edited by the manager and deleted by rep_a, when reading its
    history, then each step is listed newest first with its user and the old → new value of each changed
    field."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技", "phone": "13900001111"})
    customer_update(
        actor=org.east_manager,
        customer=customer,
        data={"name": "星辰信息科技", "industry": "软件"},
        version=customer.version,
    )
    customer.refresh_from_db()
    customer_delete(actor=org.rep_a, customer=customer)

    deleted, edited, created = customer_history(customer=customer)

    assert created["created"] is True
    assert created["user"] == org.rep_a
    assert edited["user"] == org.east_manager
    assert {(c["field"], c["old"], c["new"]) for c in edited["changes"]} == {
        ("name", "星辰科技", "星辰信息科技"),
        ("industry", "—", "软件"),
    }
    assert deleted["user"] == org.rep_a
    assert deleted["reason"] == "moved to the recycle bin"


def test_contact_history_records_create_update_and_delete(org):
    """Given a contact created, edited and deleted, when reading its history, then each step has its actor and
    the edit shows the old and new title."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    contact = contact_create(actor=org.rep_a, customer=customer, data={"name": "王小红", "title": "经理"})
    contact_update(actor=org.east_manager, contact=contact, data={"title": "总监"}, version=contact.version)
    contact.refresh_from_db()
    contact_delete(actor=org.rep_a, contact=contact)

    deleted, edited, created = contact_history(contact=contact)

    assert created["user"] == org.rep_a
    assert edited["user"] == org.east_manager
    assert edited["changes"] == [{"field": "title", "old": "经理", "new": "总监"}]
    assert deleted["reason"] == "moved to the recycle bin"
    assert deleted["user"] == org.rep_a


# --- recycle bin --------------------------------------------------------------------------------------------


def test_a_deleted_customer_disappears_until_a_system_admin_restores_it(org):
    """Given rep_a deletes a customer, then it leaves the list, search and fetch-by-id; only the system admin
    sees it in the bin and may restore it, after which it is back everywhere."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    contact = contact_create(actor=org.rep_a, customer=customer, data={"name": "王小红"})

    customer_delete(actor=org.rep_a, customer=customer)

    assert customer.pk not in visible_ids(org.rep_a)
    assert customer.pk not in visible_ids(org.admin)
    assert search(actor=org.admin, q="星辰")["customers"] == []
    assert not contact_scope(org.rep_a).filter(pk=contact.pk).exists()
    with pytest.raises(NotFound):
        customer_get_for(actor=org.rep_a, customer_id=customer.pk)
    assert list(deleted_customers(actor=org.east_manager)) == []
    assert list(deleted_customers(actor=org.admin)) == [customer]

    for actor in (org.rep_a, org.east_manager):
        with pytest.raises(PermissionDenied):
            customer_restore(actor=actor, customer=customer)

    customer_restore(actor=org.admin, customer=customer)

    assert customer.pk in visible_ids(org.rep_a)
    assert customer_get_for(actor=org.rep_a, customer_id=customer.pk).deleted_at is None
    assert contact_scope(org.rep_a).filter(pk=contact.pk).exists()


def test_deleting_and_restoring_through_an_old_copy_keeps_the_latest_edit(org):
    """Given a page loaded the customer before the manager set its industry, when that old copy is deleted and
    then restored, then the manager's edit survives both and the restore really happens."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    old_copy = Customer.objects.get(pk=customer.pk)
    customer_update(
        actor=org.east_manager, customer=customer, data={"industry": "软件"}, version=customer.version
    )

    customer_delete(actor=org.rep_a, customer=old_copy)

    binned = Customer.all_objects.get(pk=customer.pk)
    assert (binned.industry, binned.deleted_at is not None, binned.version) == ("软件", True, 3)

    customer_restore(actor=org.admin, customer=old_copy)

    restored = Customer.objects.get(pk=customer.pk)
    assert (restored.industry, restored.deleted_at) == ("软件", None)


def test_deleting_a_contact_through_an_old_copy_keeps_the_latest_edit(org):
    """Given a contact's title changed after a page loaded it, when the old copy is deleted, the new title
    stays."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    contact = contact_create(actor=org.rep_a, customer=customer, data={"name": "王小红", "title": "经理"})
    old_copy = Contact.objects.get(pk=contact.pk)
    contact_update(actor=org.rep_a, contact=contact, data={"title": "总监"}, version=contact.version)

    contact_delete(actor=org.rep_a, contact=old_copy)

    assert Contact.all_objects.get(pk=contact.pk).title == "总监"


def test_restoring_is_refused_when_a_new_customer_took_its_name(org):
    """Given a binned customer whose name was reused since, when the admin restores it, then it is refused."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    customer_delete(actor=org.rep_a, customer=customer)
    customer_create(actor=org.rep_a2, data={"name": "星辰科技"})

    with pytest.raises(ValidationFailed):
        customer_restore(actor=org.admin, customer=customer)

    customer.refresh_from_db()
    assert customer.deleted_at is not None


def test_a_deleted_contact_can_be_restored_by_the_system_admin_only(org):
    """Given a deleted contact, when rep_a tries to restore it, then it is refused; the admin brings it
    back."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    contact = contact_create(actor=org.rep_a, customer=customer, data={"name": "王小红"})
    contact_delete(actor=org.rep_a, contact=contact)
    assert not Contact.objects.filter(pk=contact.pk).exists()

    with pytest.raises(PermissionDenied):
        contact_restore(actor=org.rep_a, contact=contact)
    contact_restore(actor=org.admin, contact=contact)

    assert Contact.objects.filter(pk=contact.pk).exists()


def test_the_purge_deletes_expired_customers_with_everything_hanging_off_them_but_keeps_history(
    org, settings
):
    """Given a customer with contacts, follow-ups and tasks binned longer than the retention period, and
    another binned yesterday, when the purge job runs, then the expired one and all its records are gone for
    good, the recent one stays restorable, and the audit history of the purged records is kept."""
    settings.KEHU = {**settings.KEHU, "RECYCLE_BIN_DAYS": 30}
    old = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    boss = contact_create(actor=org.rep_a, customer=old, data={"name": "王总"})
    contact = contact_create(actor=org.rep_a, customer=old, data={"name": "王小红", "reports_to": boss})
    entry = timeline_entry_create(
        actor=org.rep_a, customer=old, data={"kind": "call", "content": "电话沟通", "contact": contact}
    )
    task = task_create(
        actor=org.rep_a,
        data={
            "title": "回访",
            "customer": old,
            "contact": contact,
            "due_at": timezone.now() + timedelta(days=1),
        },
    )
    recent = customer_create(actor=org.rep_a, data={"name": "云海数据"})
    recent_contact = contact_create(actor=org.rep_a, customer=recent, data={"name": "李雷"})
    customer_delete(actor=org.rep_a, customer=old)
    customer_delete(actor=org.rep_a, customer=recent)
    Customer.all_objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    Customer.all_objects.filter(pk=recent.pk).update(deleted_at=timezone.now() - timedelta(days=1))

    purged = recycle_bin_purge()

    assert purged >= 3  # the customer and its two contacts, at least
    assert not Customer.all_objects.filter(pk=old.pk).exists()
    assert not Contact.all_objects.filter(pk__in=[boss.pk, contact.pk]).exists()
    assert not TimelineEntry.all_objects.filter(customer_id=old.pk).exists()
    assert not Task.all_objects.filter(pk=task.pk).exists()
    assert Customer.all_objects.filter(pk=recent.pk).exists()
    assert Contact.all_objects.filter(pk=recent_contact.pk).exists()
    assert Customer.history.filter(id=old.pk).count() >= 3
    assert Contact.history.filter(id=contact.pk).exists()
    assert TimelineEntry.history.filter(id=entry.pk).exists()
    assert Task.history.filter(id=task.pk).exists()


def test_the_purge_deletes_expired_binned_contacts_of_live_customers(org, settings):
    """Given a live customer with a contact binned 31 days ago and one binned today, when purging, then only
    the old one is gone."""
    customer = customer_create(actor=org.rep_a, data={"name": "星辰科技"})
    old = contact_create(actor=org.rep_a, customer=customer, data={"name": "王小红"})
    fresh = contact_create(actor=org.rep_a, customer=customer, data={"name": "李雷"})
    contact_delete(actor=org.rep_a, contact=old)
    contact_delete(actor=org.rep_a, contact=fresh)
    Contact.all_objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=31))

    recycle_bin_purge()

    assert not Contact.all_objects.filter(pk=old.pk).exists()
    assert Contact.all_objects.filter(pk=fresh.pk).exists()
    assert Customer.objects.filter(pk=customer.pk).exists()


# --- merge --------------------------------------------------------------------------------------------------


@pytest.fixture
def duplicates(org):
    """Two records of the same company: the survivor (rep_a) and a richer duplicate (rep_a2)."""
    survivor = customer_create(
        actor=org.rep_a, data={"name": "星辰科技", "phone": "13800001111"}, tags=["华东"]
    )
    merged = customer_create(
        actor=org.east_manager,
        owner=org.rep_a2,
        data={
            "name": "上海星辰科技有限公司",
            "phone": "13800002222",
            "email": "info@xingchen.cn",
            "industry": "软件",
        },
        tags=["重点", "华东"],
    )
    for customer, actor in ((survivor, org.rep_a), (merged, org.rep_a2)):
        contact_create(actor=actor, customer=customer, data={"name": f"联系人{customer.pk}"})
        timeline_entry_create(actor=actor, customer=customer, data={"kind": "call", "content": "电话"})
        task_create(
            actor=actor,
            data={
                "title": f"回访{customer.pk}",
                "customer": customer,
                "due_at": timezone.now() + timedelta(days=1),
            },
        )
    contact_create(actor=org.rep_a2, customer=merged, data={"name": "王总"})
    customer_share(actor=org.rep_a2, customer=merged, user=org.rep_b, can_edit=True)
    return survivor, merged


def counts(*customers):
    ids = [c.pk for c in customers]
    return {
        "contacts": Contact.objects.filter(customer_id__in=ids).count(),
        "followups": TimelineEntry.objects.filter(customer_id__in=ids).exclude(kind="system").count(),
        "tasks": Task.objects.filter(customer_id__in=ids).count(),
    }


def test_merging_moves_everything_to_the_survivor_and_loses_nothing(org, duplicates):
    """Given two records of one company, when the system admin merges them, then contacts, follow-ups, tasks,
    tags and shares sit on the survivor, its blank fields are filled from the duplicate, and the duplicate is
    in the recycle bin pointing at the survivor; the totals are the same before and after."""
    survivor, merged = duplicates
    before = counts(survivor, merged)

    customer_merge(actor=org.admin, survivor=survivor, merged=merged)

    survivor.refresh_from_db()
    merged = Customer.all_objects.get(pk=merged.pk)
    assert counts(survivor) == before
    assert counts(merged) == {"contacts": 0, "followups": 0, "tasks": 0}
    assert sorted(t.name for t in survivor.tags.all()) == ["华东", "重点"]
    assert CustomerShare.objects.filter(customer=survivor, user=org.rep_b, can_edit=True).exists()
    assert (survivor.email, survivor.industry, survivor.phone2) == ("info@xingchen.cn", "软件", "13800002222")
    assert survivor.name == "星辰科技"
    assert survivor.owner == org.rep_a
    assert merged.deleted_at is not None
    assert merged.merged_into == survivor
    assert TimelineEntry.objects.filter(customer=survivor, event="merged").exists()
    assert {c.pk for c in search(actor=org.admin, q="13800002222")["customers"]} == {survivor.pk}
    assert Contact.history.filter(customer_id=survivor.pk, history_change_reason="merged").count() == 2


def test_only_a_system_admin_may_merge_and_not_a_customer_with_itself(org, duplicates):
    """Given duplicates, when the region manager tries to merge, or the admin merges a customer with itself,
    then it is refused and nothing moves."""
    survivor, merged = duplicates
    before = (counts(survivor), counts(merged))

    with pytest.raises(PermissionDenied):
        customer_merge(actor=org.east_manager, survivor=survivor, merged=merged)
    with pytest.raises(ValidationFailed):
        customer_merge(actor=org.admin, survivor=survivor, merged=survivor)

    assert (counts(survivor), counts(merged)) == before
    assert Customer.objects.filter(pk=merged.pk).exists()


def test_history_shows_labels_not_codes(org):
    """Given a customer whose level, owner and province change, when reading its history, then the changes
    show the choice label, the user's name and the region's name rather than stored codes and ids."""
    from django.utils import translation

    from kehu.core.models import Region

    Region.objects.create(code="440000", name="广东省", level=Region.Level.PROVINCE)
    customer = customer_create(actor=org.rep_a, data={"name": "标签客户"})
    customer_update(
        actor=org.rep_a,
        customer=customer,
        data={"level": "a", "province": "440000"},
        version=customer.version,
    )
    customer_assign(actor=org.east_manager, customer=Customer.objects.get(pk=customer.pk), owner=org.rep_b)

    with translation.override("en"):
        assigned, edited, _created = customer_history(customer=customer)
    assert {(c["old"], c["new"]) for c in edited["changes"]} == {("—", "Level A"), ("—", "广东省")}
    assert ("李销售", "陈销售") in {(c["old"], c["new"]) for c in assigned["changes"]}
    assert assigned["reason"] == "assigned"
