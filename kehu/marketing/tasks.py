from django_tasks import task

from kehu.marketing import campaigns


@task()
def campaign_run_process(run_id: int) -> str:
    return campaigns.run_process(run_id=run_id)


@task()
def campaigns_due() -> int:
    return campaigns.campaigns_due()


@task()
def automations_run() -> int:
    from kehu.marketing import automations

    return sum(automations.automations_run().values())
