"""Reads for shops: those an actor manages (the managers of a shop's unit and system admins)."""

from django.db.models import Q

from kehu.sales.models import Shop
from kehu.users import scoping
from kehu.users.models import User


def shop_list(*, actor: User) -> list[Shop]:
    """The active shops of the units the actor manages (admins: all), with their unit."""
    return list(
        Shop.objects.filter(scoping.visible_q(actor, Shop), is_active=True)
        .select_related("org_unit")
        .order_by("platform", "name")
    )


def shop_find(*, actor: User, name: str, platform: str | None = None) -> list[Shop]:
    """The actor's shops named `name`, with that platform shop id, or with that id."""
    wanted = Q(name=name) | Q(external_id=name) | (Q(pk=int(name)) if name.isdigit() else Q(pk__in=[]))
    if platform:
        wanted &= Q(platform=platform)
    return list(
        Shop.objects.filter(scoping.visible_q(actor, Shop), wanted, is_active=True).select_related("org_unit")
    )
