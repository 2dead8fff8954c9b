"""Loyalty's background jobs; each calls one service. The scheduler runs the first three (config/schedule.py)."""

import datetime

from django_tasks import task

from kehu.loyalty import services


@task()
def points_accrue() -> dict:
    """Points for the orders changed since the last pass (and referral rewards)."""
    return services.points_accrue_changed()


@task()
def points_expire() -> dict:
    return services.points_expire()


@task()
def tiers_evaluate() -> dict:
    """Every member's tier: upgrades, and downgrades for the members whose review is due."""
    return services.tiers_evaluate()


@task()
def orders_imported(since: str, shop_id: int | None = None) -> dict:
    """After an order import (the import layer enqueues it with the time the import started)."""
    return services.orders_imported(since=datetime.datetime.fromisoformat(since), shop_id=shop_id)
