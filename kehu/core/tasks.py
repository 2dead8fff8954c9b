from django_tasks import task

from kehu.core import services, sms


@task()
def recycle_bin_purge() -> int:
    return services.recycle_bin_purge()


@task()
def sms_deliver(message_id: int) -> bool:
    return sms.sms_deliver(message_id=message_id)
