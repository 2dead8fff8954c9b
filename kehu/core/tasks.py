from django_tasks import task

from kehu.core import services


@task()
def recycle_bin_purge() -> int:
    return services.recycle_bin_purge()
