"""Writes for analytics: the stored scores and the settings that say how they are computed."""

from django.utils.translation import gettext as _

from kehu.analytics import scores, tasks
from kehu.analytics.models import ScoreSettings
from kehu.core.exceptions import PermissionDenied
from kehu.users import scoping


def scores_recompute(*, now=None) -> int:
    """Recompute every customer's scores, predicted values and churn warnings now; the number of customers scored
    (the job and the command)."""
    from kehu.analytics import values  # NumPy and SciPy load where predictions are made, not on every start

    count = scores.recompute(now=now)
    values.recompute(now=now)
    return count


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
