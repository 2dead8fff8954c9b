from django.db.models import Prefetch, Q, QuerySet

from kehu.core.exceptions import NotFound
from kehu.users import scoping
from kehu.users.models import ApiToken, Membership, OrgUnit, User


def staff_list(*, actor: User) -> QuerySet:
    """Users the actor may manage: all for a system admin, their subtree for a unit admin."""
    scope = scoping.scope_for(actor)
    qs = User.objects.all()
    if not scope.is_system_admin:
        qs = qs.filter(memberships__unit_id__in=scope.admin_units).distinct()
    return qs.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("unit"))
    ).order_by("-is_active", "username")


def staff_get_for(*, actor: User, user_id) -> User:
    user = staff_list(actor=actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    return user


def assignable_users(*, actor: User) -> QuerySet:
    return User.objects.filter(scoping.visible_user_ids_q(actor)).distinct().order_by("username")


def successor_candidates(*, actor: User, leaving: User) -> QuerySet:
    return (
        User.objects.filter(is_active=True)
        .exclude(pk=leaving.pk)
        .filter(Q(pk__in=staff_list(actor=actor).values("pk")) | Q(pk=actor.pk))
        .order_by("username")
    )


def tokens_of(*, actor: User) -> QuerySet:
    return ApiToken.objects.filter(user=actor)


def unit_subtree_ids(*, unit_id: int) -> QuerySet | None:
    """The ids of a unit and every unit below it (a subquery), or None when there is no such unit."""
    unit = OrgUnit.objects.filter(pk=unit_id).first()
    if unit is None:
        return None
    return OrgUnit.objects.filter(path__startswith=unit.path).values("id")


def units_visible(*, actor: User) -> QuerySet:
    scope = scoping.scope_for(actor)
    qs = OrgUnit.objects.all()
    if not scope.is_system_admin:
        qs = qs.filter(pk__in=scope.read_units | scope.member_units)
    return qs.order_by("path")
