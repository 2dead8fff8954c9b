import datetime

from django_tasks import task

from kehu.analytics import services


@task()
def scores_recompute() -> int:
    return services.scores_recompute()


@task()
def scores_refresh_imported(since: str, shop_id: int | None = None) -> int:
    return services.scores_refresh_imported(since=datetime.datetime.fromisoformat(since), shop_id=shop_id)
