from django_tasks import task

from kehu.customers import services


@task()
def pool_recycle_due() -> int:
    return services.pool_recycle_due()
