from django_tasks import task

from kehu.sales.services import leads as lead_services
from kehu.sales.services import opportunities as services


@task()
def opportunities_flag_stale() -> int:
    return services.opportunities_flag_stale()


@task()
def leads_recycle_due() -> int:
    return lead_services.leads_recycle_due()
