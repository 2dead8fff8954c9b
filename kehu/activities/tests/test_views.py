"""Timeline, tasks, dashboard and notifications through the pages."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kehu.activities import services
from kehu.activities.models import Attachment, Notification, Task, TimelineEntry

pytestmark = pytest.mark.django_db


def test_logging_a_follow_up_with_attachments_updates_the_customer(org, login, make_customer):
    customer = make_customer(org.rep_a, name="跟进客户")
    client = login(org.rep_a)
    response = client.post(
        f"/customers/{customer.pk}/timeline/",
        {
            "kind": "visit",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "content": "上门拜访，演示了新产品",
            "outcome": "reached",
            "next_followup_on": (timezone.localdate() + timedelta(days=7)).isoformat(),
            "attachments": [
                SimpleUploadedFile("报价单.pdf", b"%PDF-1.4", "application/pdf"),
                SimpleUploadedFile("现场.png", b"\x89PNG", "image/png"),
            ],
        },
    )
    assert response.status_code == 302
    entry = TimelineEntry.objects.get(customer=customer, kind="visit")
    assert sorted(a.name for a in entry.attachments.all()) == ["报价单.pdf", "现场.png"]
    customer.refresh_from_db()
    assert customer.last_followup_at == entry.occurred_at
    assert customer.next_followup_on == timezone.localdate() + timedelta(days=7)
    download = client.get(f"/attachments/{entry.attachments.first().pk}/")
    # Draining the stream closes the file, as a WSGI server would.
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")


def test_a_forbidden_attachment_type_is_refused_and_nothing_is_saved(org, login, make_customer):
    customer = make_customer(org.rep_a, name="附件客户")
    response = login(org.rep_a).post(
        f"/customers/{customer.pk}/timeline/",
        {
            "kind": "note",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "content": "带了一个脚本",
            "attachments": [SimpleUploadedFile("run.exe", b"MZ", "application/octet-stream")],
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert ".exe" in response.content.decode()
    assert not TimelineEntry.objects.filter(customer=customer, kind="note").exists()
    assert not Attachment.objects.exists()


def test_the_dashboard_shows_due_and_overdue_tasks_and_follow_ups(org, login, make_customer):
    customer = make_customer(org.rep_a, name="看板客户", next_followup_on=timezone.localdate())
    now = timezone.now()
    services.task_create(
        actor=org.rep_a, data={"title": "逾期的任务", "due_at": now - timedelta(days=2), "customer": customer}
    )
    services.task_create(
        actor=org.rep_a,
        data={"title": "今天的任务", "due_at": timezone.localtime().replace(hour=23, minute=0)},
    )
    services.task_create(actor=org.rep_a2, data={"title": "别人的任务", "due_at": now - timedelta(days=1)})
    html = login(org.rep_a).get("/").content.decode()
    assert "逾期的任务" in html and "今天的任务" in html and "看板客户" in html
    assert "别人的任务" not in html


def test_creating_and_completing_a_task_from_the_customer_page(org, login, make_customer):
    customer = make_customer(org.rep_a, name="任务客户")
    client = login(org.rep_a)
    due = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(
        "/tasks/new/",
        {
            "customer": customer.pk,
            "title": "寄送样品",
            "due_at": due,
            "priority": "high",
            "assignee": org.rep_a2.pk,
        },
    )
    task = Task.objects.get(title="寄送样品")
    assert task.customer == customer and task.assignee == org.rep_a2
    assert Notification.objects.filter(recipient=org.rep_a2, kind="task_assigned").exists()
    login(org.rep_a2).post(f"/tasks/{task.pk}/complete/")
    task.refresh_from_db()
    assert task.status == "done" and task.completed_at is not None


def test_task_list_has_a_query_budget(org, login, make_customer, django_assert_max_num_queries):
    customer = make_customer(org.rep_a, name="预算任务客户")
    for i in range(30):
        services.task_create(
            actor=org.rep_a,
            data={"title": f"任务{i}", "due_at": timezone.now() + timedelta(hours=i), "customer": customer},
        )
    client = login(org.rep_a)
    client.get("/tasks/")
    with django_assert_max_num_queries(15):
        html = client.get("/tasks/").content.decode()
    assert html.count("任务2") >= 1


def test_notifications_render_in_the_readers_language_and_can_be_marked_read(org, login):
    services.notification_send(
        recipient=org.rep_a, kind="customer_released", params={"customer": "某公司", "reason": "无需求"}
    )
    client = login(org.rep_a)
    english = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "某公司" in english and "released to the pool" in english
    client.post("/notifications/")
    assert not Notification.objects.filter(recipient=org.rep_a, read_at__isnull=True).exists()
