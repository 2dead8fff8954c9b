from django_tasks import task

from kehu.analytics import services


@task()
def scores_recompute() -> int:
    return services.scores_recompute()
