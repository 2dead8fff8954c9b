"""Writes for analytics: the stored scores and the settings that say how they are computed."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities.models import Task
from kehu.activities.services import task_create
from kehu.analytics import reports, scores, tasks
from kehu.analytics.models import ChurnWarning, ScoreSettings
from kehu.core import hooks
from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.records import save_audited
from kehu.sales.models import Order
from kehu.users import scoping


def scores_recompute(*, now=None) -> int:
    """Recompute every customer's scores, predicted values and churn warnings now; the number of customers scored
    (the job and the command)."""
    from kehu.analytics import values  # NumPy and SciPy load where predictions are made, not on every start

    count = scores.recompute(now=now)
    reports.rebuild(now=now)
    values.recompute(now=now)
    return count


# Above this many changed customers an import is followed by a full computation instead.
REFRESH_AT_MOST = 200_000


def scores_refresh(*, customer_ids: list[int], now=None) -> int:
    """Score again only the customers whose purchases changed (after an import), by the lines of the last full
    computation; their predictions, churn warnings and the report figures follow at the next full one (nightly)."""
    return scores.refresh(customer_ids, now=now)


def scores_refresh_imported(*, since, shop_id: int | None = None, now=None) -> int:
    """After an order import: the customers of the orders it wrote or changed (since it started) are scored again;
    a very large import recomputes everything."""
    changed = Order.all_objects.filter(updated_at__gte=since, customer__isnull=False)
    if shop_id:
        changed = changed.filter(shop_id=shop_id)
    ids = list(changed.order_by().values_list("customer_id", flat=True).distinct())
    if len(ids) > REFRESH_AT_MOST:
        return scores_recompute(now=now)
    return scores_refresh(customer_ids=ids, now=now)


def scores_recompute_request(*, actor) -> None:
    """A manager asks for fresh scores: the recompute is queued for the background worker."""
    if not scoping.is_manager(actor):
        raise PermissionDenied(_("Only managers and admins recompute the scores."))
    tasks.scores_recompute.enqueue()


def score_settings_save(*, actor, values: dict) -> ScoreSettings:
    """System admins change how scores are computed (values cleaned by the settings form); the scores are then
    recomputed in the background."""
    if not scoping.is_system_admin(actor):
        raise PermissionDenied()
    settings = scores.settings_get()
    for name, value in values.items():
        setattr(settings, name, value)
    settings.save()
    tasks.scores_recompute.enqueue()
    return settings


# --- churn management (流失管理) -----------------------------------------------------------------------------------


PENDING = (ChurnWarning.Status.OPEN, ChurnWarning.Status.RETAINING)


def churn_actionable(*, actor, warning: ChurnWarning) -> bool:
    """Whether the actor may still record a measure: the warning is pending and the customer theirs to edit."""
    return warning.status in PENDING and scoping.can_edit(actor, warning.customer)


def _check_pending(*, actor, warning: ChurnWarning) -> None:
    if not scoping.can_edit(actor, warning.customer):
        raise PermissionDenied(_("Only the customer's owner and their managers act on this warning."))
    if warning.status not in PENDING:
        raise ValidationFailed(
            _("This warning is settled: %(status)s.") % {"status": warning.get_status_display()}
        )


def _decide(*, actor, warning: ChurnWarning, status: str, event: str, data: dict) -> ChurnWarning:
    warning.status = status
    warning.decided_at = timezone.now()
    warning.decided_by = actor
    save_audited(warning, actor=actor)
    hooks.emit("customer.event", actor=actor, customer=warning.customer, event=event, data=data)
    return warning


@transaction.atomic
def churn_retain(*, actor, warning: ChurnWarning, measure: str, due_at) -> ChurnWarning:
    """暂缓流失: the owner records the win-back measure; it becomes a task for the customer's owner, due then."""
    measure = (measure or "").strip()
    if not measure:
        raise ValidationFailed(fields={"measure": _("Say what will be done to win the customer back.")})
    warning = ChurnWarning.objects.select_for_update().select_related("customer").get(pk=warning.pk)
    _check_pending(actor=actor, warning=warning)
    customer = warning.customer
    task = task_create(
        actor=actor,
        data={
            "title": _("Win back %(customer)s") % {"customer": customer.name},
            "description": measure,
            "customer": customer,
            "assignee": customer.owner or actor,
            "due_at": due_at,
            "priority": Task.Priority.HIGH,
        },
    )
    warning.measure = measure
    warning.task = task
    return _decide(
        actor=actor,
        warning=warning,
        status=ChurnWarning.Status.RETAINING,
        event="churn_retaining",
        data={"measure": measure},
    )


@transaction.atomic
def churn_confirm_lost(*, actor, warning: ChurnWarning, reason: str) -> ChurnWarning:
    """确认流失: the owner confirms the customer is lost and says why."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"lost_reason": _("Say why the customer is lost.")})
    warning = ChurnWarning.objects.select_for_update().select_related("customer").get(pk=warning.pk)
    _check_pending(actor=actor, warning=warning)
    warning.lost_reason = reason[:200]
    return _decide(
        actor=actor,
        warning=warning,
        status=ChurnWarning.Status.LOST,
        event="churn_lost",
        data={"reason": reason},
    )
