"""The REST API for the follow-up timeline and tasks: status codes, errors, scope and query budgets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.activities.models import Task, TimelineEntry
from kehu.activities.services import task_create, timeline_entry_create
from kehu.customers.models import Customer
from kehu.customers.services import contact_create
from tests.api_client import ApiClient


@pytest.fixture
def api():
    return ApiClient


def walk(client, path, params=None):
    params = dict(params or {})
    items, pages = [], 0
    while True:
        response = client.get(path, params)
        assert response.status_code == 200, response.content
        body = response.json()
        items.extend(body["items"])
        pages += 1
        if body["next_cursor"] is None:
            return items, pages
        params["cursor"] = body["next_cursor"]


def log(actor, customer, *, content="电话沟通", ago=timedelta(hours=1), **data):
    return timeline_entry_create(
        actor=actor, customer=customer, data={"content": content, "occurred_at": timezone.now() - ago, **data}
    )


def soon(hours=2):
    return (timezone.now() + timedelta(hours=hours)).isoformat()


# --- timeline -----------------------------------------------------------------------------------------------------


def test_log_a_follow_up(org, api, make_customer):
    """Given a customer, when a call is logged with a next follow-up date, then 201 and the customer's dates move."""
    customer = make_customer(org.rep_a)
    contact = contact_create(actor=org.rep_a, customer=customer, data={"name": "王总"})
    next_on = (timezone.localdate() + timedelta(days=7)).isoformat()

    response = api(org.rep_a).post(
        f"/customers/{customer.pk}/timeline",
        {
            "kind": "call",
            "content": "确认报价",
            "outcome": "reached",
            "next_followup_on": next_on,
            "contact_id": contact.pk,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "call"
    assert body["author"]["id"] == org.rep_a.pk
    assert body["contact"] == {"id": contact.pk, "name": "王总"}
    assert body["text"] == "确认报价"
    customer.refresh_from_db()
    assert customer.next_followup_on.isoformat() == next_on
    assert customer.last_followup_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "content"),
        ({"content": "  "}, "content"),
        ({"content": "x", "kind": "system"}, "kind"),
        ({"content": "x", "kind": "telepathy"}, "kind"),
        ({"content": "x", "outcome": "great"}, "outcome"),
        ({"content": "x", "occurred_at": "2025-01-01T10:00:00"}, "occurred_at"),
        ({"content": "x", "occurred_at": "yesterday"}, "occurred_at"),
        ({"content": "x", "occurred_at": "2999-01-01T10:00:00+08:00"}, "occurred_at"),
        ({"content": "x", "contact_id": 10**12}, "contact_id"),
        ({"content": "x", "contact_id": "me"}, "contact_id"),
        ({"content": "a\x00b"}, "content"),
    ],
)
def test_invalid_follow_up_names_the_field(org, api, make_customer, body, field):
    """Given an invalid follow-up, when logging it, then 422 names the field."""
    customer = make_customer(org.rep_a)

    response = api(org.rep_a).post(f"/customers/{customer.pk}/timeline", body)

    assert response.status_code == 422, response.content
    assert field in response.json()["fields"], response.json()


def test_contact_of_another_customer_is_refused(org, api, make_customer):
    """Given a contact of a different customer, when logging with it, then 422 names the contact."""
    customer = make_customer(org.rep_a)
    other = make_customer(org.rep_a)
    stranger = contact_create(actor=org.rep_a, customer=other, data={"name": "外人"})

    response = api(org.rep_a).post(
        f"/customers/{customer.pk}/timeline", {"content": "x", "contact_id": stranger.pk}
    )

    assert response.status_code == 422
    assert "contact" in response.json()["fields"]


def test_timeline_lists_newest_first_with_system_events(org, api, make_customer):
    """Given a customer with logged follow-ups, when its timeline is read, then newest first, system events in words."""
    customer = make_customer(org.rep_a)
    older = log(org.rep_a, customer, content="第一次", ago=timedelta(days=2))
    newer = log(org.rep_a, customer, content="第二次", ago=timedelta(days=1))

    response = api(org.rep_a).get(f"/customers/{customer.pk}/timeline")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["id"] for i in items[:2]] == [
        e.pk for e in TimelineEntry.objects.filter(customer=customer).order_by("-occurred_at", "-id")[:2]
    ]
    assert {older.pk, newer.pk} <= {i["id"] for i in items}
    system = [i for i in items if i["kind"] == "system"]
    assert system
    assert system[0]["event"] == "created"
    assert system[0]["text"]


def test_timeline_pagination_and_query_budget(org, api, make_customer, django_assert_max_num_queries):
    """Given 30 entries, when walking the timeline 7 at a time, then each once, with a fixed number of queries."""
    customer = make_customer(org.rep_a)
    contact = contact_create(actor=org.rep_a, customer=customer, data={"name": "张三"})
    for n in range(30):
        log(org.rep_a, customer, content=f"记录{n}", ago=timedelta(minutes=n + 1), contact=contact)
    expected = set(TimelineEntry.objects.filter(customer=customer).values_list("pk", flat=True))
    client = api(org.rep_a)

    items, _pages = walk(client, f"/customers/{customer.pk}/timeline", {"limit": 7})
    with django_assert_max_num_queries(7):
        response = client.get(f"/customers/{customer.pk}/timeline", {"limit": 100})

    assert [i["id"] for i in items] == list(dict.fromkeys(i["id"] for i in items))
    assert {i["id"] for i in items} == expected
    assert len(response.json()["items"]) == len(expected)


def test_edit_and_delete_own_entry(org, api, make_customer):
    """Given an entry, when its author PATCHes with the version and then DELETEs it, then 200 and 204."""
    customer = make_customer(org.rep_a)
    entry = log(org.rep_a, customer)
    client = api(org.rep_a)

    patched = client.patch(
        f"/timeline/{entry.pk}", {"version": entry.version, "content": "更正：上门拜访", "kind": "visit"}
    )
    stale = client.patch(f"/timeline/{entry.pk}", {"version": entry.version, "content": "再改"})
    deleted = client.delete(f"/timeline/{entry.pk}")

    assert patched.status_code == 200, patched.content
    assert patched.json()["content"] == "更正：上门拜访"
    assert patched.json()["kind"] == "visit"
    assert stale.status_code == 409
    assert "content" in stale.json()["changes"]
    assert deleted.status_code == 204
    assert client.delete(f"/timeline/{entry.pk}").status_code == 404


def test_system_events_and_others_entries_cannot_be_changed(org, api, make_customer):
    """Given a system event and a teammate's entry on a shared customer, when edited, then 403."""
    customer = make_customer(org.rep_a)
    system = TimelineEntry.objects.get(customer=customer, kind=TimelineEntry.Kind.SYSTEM)
    entry = log(org.rep_a, customer)
    customer_client = api(org.rep_a)
    manager = api(org.east_manager)

    assert customer_client.patch(f"/timeline/{system.pk}", {"version": 1, "content": "x"}).status_code == 403
    assert customer_client.delete(f"/timeline/{system.pk}").status_code == 403
    assert api(org.rep_a2).patch(f"/timeline/{entry.pk}", {"version": 1, "content": "x"}).status_code == 404
    assert manager.patch(f"/timeline/{entry.pk}", {"version": 1, "content": "经理更正"}).status_code == 200


def test_timeline_of_another_reps_customer_is_404(org, api, make_customer):
    """Given rep_a's customer and entry, when rep_b reads or changes them, then 404."""
    customer = make_customer(org.rep_a)
    entry = log(org.rep_a, customer)
    client = api(org.rep_b)

    assert client.get(f"/customers/{customer.pk}/timeline").status_code == 404
    assert client.post(f"/customers/{customer.pk}/timeline", {"content": "x"}).status_code == 404
    assert client.patch(f"/timeline/{entry.pk}", {"version": 1, "content": "x"}).status_code == 404
    assert client.delete(f"/timeline/{entry.pk}").status_code == 404
    assert TimelineEntry.objects.get(pk=entry.pk).content == "电话沟通"


def test_timeline_of_a_binned_customer_is_gone(org, api, make_customer):
    """Given an entry whose customer is in the recycle bin, when read, then 404."""
    customer = make_customer(org.rep_a)
    entry = log(org.rep_a, customer)
    Customer.objects.filter(pk=customer.pk).update(deleted_at=timezone.now())

    response = api(org.rep_a).patch(f"/timeline/{entry.pk}", {"version": 1, "content": "x"})

    assert response.status_code == 404


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "W3sidCI6IjIwMjUtMDEtMDEifSwxXQ", "x" * 1001])
def test_bad_timeline_cursor_is_422(org, api, make_customer, cursor):
    """Given an absurd cursor, when reading the timeline, then 422 naming cursor."""
    customer = make_customer(org.rep_a)

    response = api(org.rep_a).get(f"/customers/{customer.pk}/timeline", {"cursor": cursor})

    assert response.status_code == 422
    assert "cursor" in response.json()["fields"]


# --- tasks --------------------------------------------------------------------------------------------------------


def test_create_task_for_a_teammate(org, api, make_customer):
    """Given a customer, when a rep gives a teammate a task on it, then 201 and the teammate is notified."""
    customer = make_customer(org.rep_a, name="任务客户")

    response = api(org.rep_a).post(
        "/tasks",
        {
            "title": "寄样品",
            "customer_id": customer.pk,
            "assignee_id": org.rep_a2.pk,
            "due_at": soon(24),
            "remind_at": soon(20),
            "priority": "high",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"] == {"id": customer.pk, "name": "任务客户"}
    assert body["assignee"]["id"] == org.rep_a2.pk
    assert body["created_by"]["id"] == org.rep_a.pk
    assert body["status"] == "open"
    assert org.rep_a2.notifications.filter(kind="task_assigned").exists()


def test_task_defaults_to_the_caller(org, api):
    """Given no assignee and no customer, when creating a task, then the caller gets it."""
    response = api(org.rep_b).post("/tasks", {"title": "整理名片", "due_at": soon()})

    assert response.status_code == 201, response.content
    assert response.json()["assignee"]["id"] == org.rep_b.pk
    assert response.json()["customer"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"due_at": "2030-01-01T00:00:00+08:00"}, "title"),
        ({"title": "x"}, "due_at"),
        ({"title": "x", "due_at": "2030-01-01T00:00:00"}, "due_at"),
        ({"title": "x", "due_at": "2030-01-01T00:00:00+08:00", "priority": "asap"}, "priority"),
        (
            {"title": "x", "due_at": "2030-01-01T00:00:00+08:00", "remind_at": "2030-02-01T00:00:00+08:00"},
            "remind_at",
        ),
        ({"title": "x", "due_at": "2030-01-01T00:00:00+08:00", "assignee_id": 10**12}, "assignee_id"),
        ({"title": "x", "due_at": "2030-01-01T00:00:00+08:00", "customer_id": 10**12}, "customer_id"),
        ({"title": "", "due_at": "2030-01-01T00:00:00+08:00"}, "title"),
        ({"title": "x" * 201, "due_at": "2030-01-01T00:00:00+08:00"}, "title"),
    ],
)
def test_invalid_task_names_the_field(org, api, body, field):
    """Given an invalid task, when creating it, then 422 names the field."""
    response = api(org.rep_a).post("/tasks", body)

    assert response.status_code == 422, response.content
    assert field in response.json()["fields"], response.json()


def test_task_for_someone_out_of_reach_is_refused(org, api, make_customer):
    """Given a rep, when giving a task to a rep of another region or on another rep's customer, then 422."""
    hidden = make_customer(org.rep_b)
    client = api(org.rep_a)

    other_region = client.post("/tasks", {"title": "x", "due_at": soon(), "assignee_id": org.rep_c.pk})
    hidden_customer = client.post("/tasks", {"title": "x", "due_at": soon(), "customer_id": hidden.pk})

    assert "assignee_id" in other_region.json()["fields"]
    assert "customer_id" in hidden_customer.json()["fields"]


def test_update_complete_and_delete_a_task(org, api):
    """Given a task, when PATCHed, completed and deleted, then each answers right and a stale PATCH is 409."""
    client = api(org.rep_a)
    created = client.post("/tasks", {"title": "回访", "due_at": soon()}).json()
    path = f"/tasks/{created['id']}"

    patched = client.patch(path, {"version": created["version"], "title": "电话回访", "priority": "urgent"})
    stale = client.patch(path, {"version": created["version"], "title": "又改"})
    completed = client.post(f"{path}/complete")
    deleted = client.delete(path)

    assert patched.status_code == 200, patched.content
    assert patched.json()["title"] == "电话回访"
    assert patched.json()["version"] == created["version"] + 1
    assert stale.status_code == 409
    assert completed.status_code == 200
    assert completed.json()["status"] == "done"
    assert completed.json()["completed_at"] is not None
    assert deleted.status_code == 204
    assert client.get(path).status_code == 404


def test_reopen_a_task(org, api):
    """Given a done task, when PATCHed back to open, then completed_at is cleared."""
    client = api(org.rep_a)
    created = client.post("/tasks", {"title": "报价", "due_at": soon()}).json()
    done = client.post(f"/tasks/{created['id']}/complete").json()

    response = client.patch(f"/tasks/{created['id']}", {"version": done["version"], "status": "open"})

    assert response.status_code == 200
    assert response.json()["completed_at"] is None


def test_task_filters(org, api, make_customer):
    """Given tasks due yesterday, today and next week, then the due, status, assignee and customer filters narrow."""
    customer = make_customer(org.rep_a)
    now = timezone.localtime()
    end_of_day = now.replace(hour=23, minute=59, second=59, microsecond=0)
    midday = now + (end_of_day - now) / 2  # later today, whatever time the test runs
    overdue = task_create(actor=org.rep_a, data={"title": "逾期", "due_at": midday - timedelta(days=1)})
    today = task_create(actor=org.rep_a, data={"title": "今天", "due_at": midday, "customer": customer})
    later = task_create(actor=org.rep_a, data={"title": "下周", "due_at": midday + timedelta(days=7)})
    theirs = task_create(actor=org.rep_a, data={"title": "给同事", "due_at": midday, "assignee": org.rep_a2})
    Task.objects.filter(pk=later.pk).update(status=Task.Status.DONE)
    client = api(org.rep_a)

    def ids(**params):
        response = client.get("/tasks", params)
        assert response.status_code == 200, response.content
        return [t["id"] for t in response.json()["items"]]

    assert ids() == [overdue.pk, today.pk, theirs.pk, later.pk]
    assert ids(due="overdue") == [overdue.pk]
    assert set(ids(due="today")) == {today.pk, theirs.pk}
    assert ids(due="upcoming") == [later.pk]
    assert ids(status="done") == [later.pk]
    assert ids(assignee="me", status="open") == [overdue.pk, today.pk]
    assert ids(assignee=str(org.rep_a2.pk)) == [theirs.pk]
    assert ids(customer_id=customer.pk) == [today.pk]
    assert ids(due="", status="") == [overdue.pk, today.pk, theirs.pk, later.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"due": "someday"}, "due"),
        ({"status": "maybe"}, "status"),
        ({"assignee": "boss"}, "assignee"),
        ({"assignee": "9" * 30}, "assignee"),
        ({"customer_id": "x"}, "customer_id"),
        ({"limit": 201}, "limit"),
        ({"cursor": "!!"}, "cursor"),
    ],
)
def test_bad_task_filters_are_422(org, api, params, field):
    """Given nonsense task filters, then 422 naming the parameter."""
    response = api(org.rep_a).get("/tasks", params)

    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]


def test_task_list_walks_pages_with_a_fixed_query_count(
    org, api, make_customer, django_assert_max_num_queries
):
    """Given 30 tasks on customers with assignees, when listed, then every page once and a fixed query count."""
    customers = [make_customer(org.rep_a) for _ in range(3)]
    start = timezone.now() + timedelta(days=1)
    for n in range(30):
        task_create(
            actor=org.rep_a,
            data={
                "title": f"任务{n}",
                "due_at": start + timedelta(hours=n % 5),  # equal due times: the id breaks the tie
                "customer": customers[n % 3],
                "assignee": [org.rep_a, org.rep_a2][n % 2],
            },
        )
    client = api(org.rep_a)

    items, pages = walk(client, "/tasks", {"limit": 8})
    with django_assert_max_num_queries(5):  # token, memberships, the customers the rep sees, count, page
        response = client.get("/tasks", {"limit": 100})

    assert len(items) == 30
    assert len({t["id"] for t in items}) == 30
    assert pages == 4
    assert len(response.json()["items"]) == 30


def test_another_reps_task_is_404(org, api):
    """Given rep_a's own task, when rep_b reads, changes, completes or deletes it, then 404 and it is not listed."""
    task = task_create(actor=org.rep_a, data={"title": "私事", "due_at": timezone.now() + timedelta(days=1)})
    client = api(org.rep_b)

    assert client.get(f"/tasks/{task.pk}").status_code == 404
    assert client.patch(f"/tasks/{task.pk}", {"version": 1, "title": "x"}).status_code == 404
    assert client.post(f"/tasks/{task.pk}/complete").status_code == 404
    assert client.delete(f"/tasks/{task.pk}").status_code == 404
    assert client.get("/tasks").json()["items"] == []
    assert Task.objects.get(pk=task.pk).status == Task.Status.OPEN


def test_assignee_sees_a_task_on_a_customer_they_cannot_see(org, api, make_customer):
    """Given a manager's task for a rep on a customer the rep cannot see, then the rep sees and completes the
    task but still not the customer."""
    customer = make_customer(org.rep_b)
    task = task_create(
        actor=org.east_manager,
        data={
            "title": "协助拜访",
            "due_at": timezone.now() + timedelta(days=1),
            "customer": customer,
            "assignee": org.rep_a,
        },
    )
    client = api(org.rep_a)

    assert [t["id"] for t in client.get("/tasks").json()["items"]] == [task.pk]
    assert client.get(f"/tasks/{task.pk}").json()["customer"]["id"] == customer.pk
    assert client.post(f"/tasks/{task.pk}/complete").json()["status"] == "done"
    assert client.get(f"/customers/{customer.pk}").status_code == 404


@pytest.mark.parametrize("path", ["/tasks/abc", "/tasks/0", f"/tasks/{10**25}", "/timeline/abc"])
def test_bad_ids_are_client_errors(org, api, path):
    """Given a path id that is not a positive 64-bit number, then 404 or 422, never a 500."""
    client = api(org.rep_a)

    assert client.get(path).status_code in {404, 405, 422}
    assert client.delete(path).status_code in {404, 422}
