"""Territories assign customers too: a manager hands the pool customers of their subtree to the reps of the
territory that covers each one's place and industry, in turn (the same turn leads take)."""

from dataclasses import dataclass, field

from django.db import transaction

from kehu.core.exceptions import PermissionDenied
from kehu.customers.models import Customer
from kehu.customers.services import customer_assign
from kehu.sales.models import Territory
from kehu.sales.selectors.leads import pool_customers_for_territories, territory_for
from kehu.sales.services.leads import next_in_turn
from kehu.users import scoping
from kehu.users.models import OrgUnit, User
from kehu.users.services import primary_unit_of

MAX_PER_RUN = 500


@dataclass
class TerritoryRun:
    assigned: list[tuple[Customer, User, Territory]] = field(default_factory=list)
    unmatched: list[Customer] = field(default_factory=list)  # no territory covers them, or it has no rep


@transaction.atomic
def customers_assign_by_territory(*, actor: User, unit: OrgUnit, limit: int = MAX_PER_RUN) -> TerritoryRun:
    """Give each pool customer of the subtree to the next rep of its territory (each move audited, on the
    timeline and notified as a manager's assignment). Reps the actor may not assign to are skipped."""
    if not scoping.can_assign_in(actor, unit.pk):
        raise PermissionDenied()
    run = TerritoryRun()
    turns: dict[int, int | None] = {}
    # Customers of the same place and industry share a territory, and a territory its reps: each is looked up
    # once per run, not once per customer.
    territories: dict[tuple, Territory | None] = {}
    reps_of: dict[int, list[User]] = {}
    for customer in pool_customers_for_territories(actor=actor, unit=unit, limit=limit):
        place = (customer.province_id, customer.city_id, customer.industry)
        if place not in territories:
            territories[place] = territory_for(
                unit=unit, province_id=place[0], city_id=place[1], industry=place[2]
            )
        territory = territories[place]
        if territory is not None and territory.pk not in reps_of:
            reps_of[territory.pk] = [
                rep
                for rep in territory.reps.filter(is_active=True).order_by("id")
                if scoping.can_assign_in(actor, getattr(primary_unit_of(rep), "pk", None))
            ]
        reps = reps_of[territory.pk] if territory is not None else []
        if not reps:
            run.unmatched.append(customer)
            continue
        if territory.pk not in turns:
            turns[territory.pk] = Territory.objects.select_for_update().get(pk=territory.pk).last_assigned_id
        owner = next_in_turn(reps, turns[territory.pk])
        turns[territory.pk] = owner.pk
        customer_assign(actor=actor, customer=customer, owner=owner, reason=territory.name)
        run.assigned.append((customer, owner, territory))
    for territory_id, last in turns.items():
        Territory.objects.filter(pk=territory_id).update(last_assigned_id=last)
    return run
