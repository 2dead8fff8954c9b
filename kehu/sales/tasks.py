from django_tasks import task

from kehu.sales.services import opportunities as services


@task()
def opportunities_flag_stale() -> int:
    return services.opportunities_flag_stale()
