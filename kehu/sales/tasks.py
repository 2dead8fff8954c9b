from django_tasks import task

from kehu.sales.services import leads as lead_services
from kehu.sales.services import opportunities as services
from kehu.sales.services import payments as payment_services
from kehu.sales.services import quotes as quote_services


@task()
def opportunities_flag_stale() -> int:
    return services.opportunities_flag_stale()


@task()
def leads_recycle_due() -> int:
    return lead_services.leads_recycle_due()


@task()
def quotes_expire_due() -> int:
    return quote_services.quotes_expire_due()


@task()
def instalments_notify_overdue() -> int:
    return payment_services.instalments_notify_overdue()


@task()
def rollups_rebuild() -> dict:
    from kehu.sales.rollups import rollups_rebuild as rebuild

    return rebuild()
