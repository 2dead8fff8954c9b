from django_tasks import task

from kehu.activities import services


@task()
def task_reminders_send() -> int:
    return services.task_reminders_send()


@task()
def notification_email(notification_id: int) -> None:
    services.notification_email(notification_id=notification_id)
