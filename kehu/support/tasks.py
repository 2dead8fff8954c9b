from django_tasks import task

from kehu.support import services


@task()
def ticket_reply_send(event_id: int) -> bool:
    return services.reply_send(event_id=event_id)


@task()
def tickets_escalate_due() -> int:
    return services.tickets_escalate_due()
