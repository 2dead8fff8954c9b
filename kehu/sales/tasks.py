from django_tasks import task

from kehu.sales import services


@task()
def opportunities_flag_stale() -> int:
    return services.opportunities_flag_stale()
