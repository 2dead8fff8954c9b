"""Writes for staff, org units, roles and API tokens."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import hooks
from kehu.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from kehu.users import scoping
from kehu.users.models import ApiToken, Membership, OrgUnit, Role, User

TOKEN_PREFIX = "kehu_"  # noqa: S105 - a public prefix, not a secret
ROLE_PRIORITY = [
    Role.SALES_REP,
    Role.SERVICE_AGENT,
    Role.MANAGER,
    Role.UNIT_ADMIN,
    Role.ANALYST,
    Role.SYSTEM_ADMIN,
]


@transaction.atomic
def org_unit_create(*, name: str, kind: str, parent: OrgUnit | None = None) -> OrgUnit:
    if not name.strip():
        raise ValidationFailed(fields={"name": _("This field is required.")})
    unit = OrgUnit.objects.create(name=name.strip(), kind=kind, parent=parent)
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    return unit


def user_create(
    *,
    username: str,
    password: str | None,
    display_name: str = "",
    email: str = "",
    mobile: str = "",
    language: str = "",
    is_superuser: bool = False,
) -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(fields={"username": _("A user with this user name already exists.")})
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        mobile=mobile,
        language=language,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


def membership_set(*, actor: User | None, user: User, unit: OrgUnit, role: str) -> Membership:
    """Give `user` exactly one role in `unit` (replacing an earlier one there)."""
    if actor is not None and not scoping.can_manage_users_in(actor, unit.pk):
        raise PermissionDenied()
    if role not in Role.values:
        raise ValidationFailed(fields={"role": _("Unknown role.")})
    membership, _created = Membership.objects.update_or_create(user=user, unit=unit, defaults={"role": role})
    scoping.forget_scope(user)
    return membership


def primary_unit_of(user: User) -> OrgUnit | None:
    """The unit a user's records belong to: where they work hands-on (rep/agent) before where they manage."""
    memberships = list(Membership.objects.filter(user=user).select_related("unit"))
    if not memberships:
        return None
    memberships.sort(key=lambda m: (ROLE_PRIORITY.index(m.role), -m.unit.depth, m.unit_id))
    return memberships[0].unit


@transaction.atomic
def user_deactivate(*, actor: User, user: User, successor: User | None) -> dict:
    """Freeze a departing user and hand every record they own to `successor`, in one transaction.

    Each domain moves its own records through the ``user.handover`` hook and audits each move.
    Returns the number of records moved per kind.
    """
    unit = primary_unit_of(user)
    if not (scoping.is_system_admin(actor) or (unit and scoping.can_manage_users_in(actor, unit.pk))):
        raise PermissionDenied()
    if user.pk == actor.pk:
        raise ValidationFailed(fields={"user": _("You cannot deactivate yourself.")})
    if successor is None:
        raise ValidationFailed(fields={"successor": _("Choose who takes over this user's records.")})
    if successor.pk == user.pk or not successor.is_active:
        raise ValidationFailed(fields={"successor": _("The successor must be another active user.")})
    moved: dict[str, int] = {}
    for result in hooks.emit("user.handover", actor=actor, user=user, successor=successor):
        moved.update(result or {})
    now = timezone.now()
    user.is_active = False
    user.deactivated_at = now
    user.successor = successor
    user.save(update_fields=["is_active", "deactivated_at", "successor"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    if any(moved.values()):
        hooks.emit(
            "notify",
            recipient=successor,
            kind="customers_handed_over",
            params={"count": moved.get("customers", 0), "from": str(user)},
            url="/customers/?owner=me",
        )
    return moved


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for the actor. The returned secret is never stored and cannot be shown again."""
    if not name.strip():
        raise ValidationFailed(fields={"name": _("This field is required.")})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=actor, name=name.strip(), prefix=secret[:12], key_hash=_hash(secret))
    return token, secret


def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor).first()
    if token is None:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, secret: str) -> User | None:
    """The active user behind a valid, unrevoked token; records the last use (at most once a minute)."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def user_set_language(*, user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])
