from django_tasks import task

from kehu.support import escalation, inbound_mail, portal, services


@task()
def ticket_reply_send(event_id: int) -> bool:
    return services.reply_send(event_id=event_id)


@task()
def acknowledgement_send(ticket_id: int) -> bool:
    return portal.acknowledgement_send(ticket_id=ticket_id)


@task()
def rating_request_send(ticket_id: int) -> bool:
    return portal.rating_request_send(ticket_id=ticket_id)


@task()
def tickets_escalate_due() -> int:
    return escalation.tickets_escalate_due()


@task()
def mail_fetch() -> int:
    return inbound_mail.mail_fetch()
