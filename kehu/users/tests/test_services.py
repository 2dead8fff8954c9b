"""Staff services: handing over a departing user's work, API tokens, and lockout after failed logins."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from kehu.activities.models import Notification, Task, TimelineEntry
from kehu.activities.services import task_complete, task_create
from kehu.core import hooks
from kehu.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from kehu.customers.models import Customer
from kehu.users.models import ApiToken, User
from kehu.users.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    user_create,
    user_deactivate,
)


def can_log_in(client, user, password) -> bool:
    return client.login(request=RequestFactory().post("/login/"), username=user.username, password=password)


@pytest.fixture
def departing(org, make_customer):
    """rep_a with two customers, an open and a finished task, and an API token."""
    customers = [make_customer(org.rep_a, name="星辰科技"), make_customer(org.rep_a, name="云海数据")]
    due = timezone.now() + timedelta(days=2)
    open_task = task_create(
        actor=org.rep_a, data={"title": "回访星辰", "customer": customers[0], "due_at": due}
    )
    done_task = task_create(
        actor=org.rep_a, data={"title": "已完成", "customer": customers[1], "due_at": due}
    )
    task_complete(actor=org.rep_a, task=done_task)
    _token, secret = api_token_create(actor=org.rep_a, name="ERP")
    return customers, open_task, done_task, secret


def test_handover_moves_customers_and_open_tasks_and_freezes_the_user(org, departing, client):
    """Given rep_a with customers, tasks and an API token, when the East unit admin deactivates rep_a with
    rep_a2 as successor, then the customers and the open task belong to rep_a2, each move is audited with the
    actor and a reason, the timeline shows the handover, rep_a2 is told, and rep_a can no longer log in or use
    the token."""
    customers, open_task, done_task, secret = departing
    assert can_log_in(client, org.rep_a, org.password)
    assert api_token_authenticate(secret=secret) == org.rep_a

    moved = user_deactivate(actor=org.unit_admin, user=org.rep_a, successor=org.rep_a2)

    assert moved["customers"] == 2 and moved["tasks"] == 1
    assert not {k: v for k, v in moved.items() if k not in ("customers", "tasks") and v}
    for customer in customers:
        customer.refresh_from_db()
        assert customer.owner == org.rep_a2
        last = customer.history.order_by("-history_id").first()
        assert last.history_change_reason == "handed_over"
        assert last.history_user == org.unit_admin
        assert last.prev_record.owner_id == org.rep_a.pk
        event = TimelineEntry.objects.get(customer=customer, event="handed_over")
        assert event.kind == TimelineEntry.Kind.SYSTEM
        assert event.event_data["from"] == str(org.rep_a)
        assert event.event_data["to"] == str(org.rep_a2)
    open_task.refresh_from_db()
    done_task.refresh_from_db()
    assert open_task.assignee == org.rep_a2
    assert open_task.history.order_by("-history_id").first().history_change_reason == "handed over"
    assert done_task.assignee == org.rep_a
    notice = Notification.objects.get(recipient=org.rep_a2, kind="customers_handed_over")
    assert notice.params["count"] == 2

    departed = User.objects.get(pk=org.rep_a.pk)
    assert not departed.is_active
    assert departed.deactivated_at is not None
    assert departed.successor == org.rep_a2
    assert not can_log_in(client, departed, org.password)
    assert api_token_authenticate(secret=secret) is None
    assert ApiToken.objects.get(user=departed).revoked_at is not None


def test_handover_requires_an_active_successor_other_than_the_user(org, departing):
    """Given rep_a leaving, when the successor is missing, rep_a themself or deactivated, then it is refused
    and rep_a keeps everything."""
    inactive = user_create(username="gone", password=None, display_name="已离职")
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    inactive.refresh_from_db()

    for successor in (None, org.rep_a, inactive):
        with pytest.raises(ValidationFailed) as caught:
            user_deactivate(actor=org.admin, user=org.rep_a, successor=successor)
        assert "successor" in caught.value.fields

    assert Customer.objects.filter(owner=org.rep_a).count() == 2
    assert User.objects.get(pk=org.rep_a.pk).is_active


def test_only_a_system_or_unit_admin_may_deactivate(org, departing):
    """Given rep_a leaving, when the region manager, a rep, the North rep or rep_a themself tries, then it is
    refused."""
    for actor in (org.east_manager, org.rep_a2, org.rep_c):
        with pytest.raises(PermissionDenied):
            user_deactivate(actor=actor, user=org.rep_a, successor=org.rep_a2)
    with pytest.raises(ValidationFailed):
        user_deactivate(actor=org.admin, user=org.admin, successor=org.rep_a2)

    assert Customer.objects.filter(owner=org.rep_a).count() == 2


def test_handover_is_all_or_nothing(org, departing):
    """Given a later handover step fails after the customers were moved, when deactivating, then nothing has
    moved and rep_a is still active (one transaction)."""

    def failing_step(**_payload):
        raise RuntimeError("disk full")

    hooks.register("user.handover", failing_step)
    try:
        with pytest.raises(RuntimeError):
            user_deactivate(actor=org.admin, user=org.rep_a, successor=org.rep_a2)
    finally:
        hooks._handlers["user.handover"].remove(failing_step)

    assert Customer.objects.filter(owner=org.rep_a).count() == 2
    assert Task.objects.filter(assignee=org.rep_a, status=Task.Status.OPEN).count() == 1
    assert User.objects.get(pk=org.rep_a.pk).is_active
    assert not TimelineEntry.objects.filter(event="handed_over").exists()


# --- API tokens ---------------------------------------------------------------------------------------------


def test_a_token_authenticates_its_user_and_only_its_hash_is_stored(org):
    """Given a new token, when its secret is presented, then it authenticates rep_a and records the use; the
    secret itself is not stored anywhere."""
    token, secret = api_token_create(actor=org.rep_a, name=" ERP 同步 ")

    assert secret.startswith("kehu_")
    assert token.name == "ERP 同步"
    assert token.prefix == secret[:12]
    assert not ApiToken.objects.filter(key_hash=secret).exists()
    assert secret not in token.key_hash
    assert api_token_authenticate(secret=secret) == org.rep_a
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("secret", ["", "kehu_wrong", "Bearer kehu_x", "not-a-token"])
def test_an_unknown_secret_authenticates_nobody(org, secret):
    """Given a token exists, when a wrong secret is presented, then nobody is authenticated."""
    api_token_create(actor=org.rep_a, name="ERP")

    assert api_token_authenticate(secret=secret) is None


def test_a_revoked_token_stops_working_and_only_its_owner_may_revoke_it(org):
    """Given rep_a's token, when rep_b tries to revoke it, then it is not found; when rep_a revokes it, it
    stops."""
    token, secret = api_token_create(actor=org.rep_a, name="ERP")

    with pytest.raises(NotFound):
        api_token_revoke(actor=org.rep_b, token_id=token.pk)
    assert api_token_authenticate(secret=secret) == org.rep_a

    api_token_revoke(actor=org.rep_a, token_id=token.pk)

    assert api_token_authenticate(secret=secret) is None


def test_a_token_needs_a_name(org):
    """Given a blank name, when creating a token, then it is refused."""
    with pytest.raises(ValidationFailed) as caught:
        api_token_create(actor=org.rep_a, name="  ")
    assert "name" in caught.value.fields


# --- lockout ------------------------------------------------------------------------------------------------


def post_login(client, username, password):
    return client.post(reverse("users:login"), {"username": username, "password": password})


def test_repeated_failed_logins_lock_the_account(org, client):
    """Given AXES_FAILURE_LIMIT wrong passwords for rep_a on the login page, when the right password is then
    given, then rep_a is still not logged in (locked out), while another user can log in."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "rep_a", "wrong-password")

    response = post_login(client, "rep_a", org.password)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    response = post_login(client, "rep_b", org.password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(org.rep_b.pk)


def test_fewer_failures_than_the_limit_do_not_lock(org, client):
    """Given one wrong password fewer than the limit, when the right password follows, then rep_a logs in."""
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = post_login(client, "rep_a", "wrong-password")
        assert response.status_code == 200

    response = post_login(client, "rep_a", org.password)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(org.rep_a.pk)
