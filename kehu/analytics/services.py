"""Writes for analytics: recomputing the stored scores (the job and the command call this)."""

from kehu.analytics import scores


def scores_recompute(*, now=None) -> int:
    """Recompute every customer's RFM and ABC; the number of customers scored."""
    return scores.recompute(now=now)
