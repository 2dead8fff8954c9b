from django_tasks import task

from kehu.integrations import services


@task()
def import_run(job_id: int) -> int:
    return services.import_run(job_id=job_id).processed_rows


@task()
def imports_resume_stalled() -> int:
    return services.imports_resume_stalled()
