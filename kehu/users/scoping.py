"""The data scope: the one place that decides which records an actor may see and change.

Every selector filters with `visible_q(actor, Model)`; every write checks `can_edit` / `can_manage_unit`.
Rules (seed "CRM管理办法"):

- system admin: everything;
- manager, unit admin, analyst: every record whose org unit is in the subtree of a unit where they hold
  that role (analysts read only);
- sales rep, service agent: records they own, records shared with them, and pool (unowned) records of
  their units and of the units above them;
- every user: records they own or that are shared with them, wherever they sit.

Models declare how they are scoped with a `SCOPE` attribute (a `ScopeSpec`); a record reached through
another (a contact through its customer) declares `via`.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Q

from kehu.users.models import Membership, OrgUnit, Role, User

SUBTREE_ROLES = {Role.MANAGER, Role.UNIT_ADMIN, Role.ANALYST}
WRITE_SUBTREE_ROLES = {Role.MANAGER, Role.UNIT_ADMIN}
ASSIGN_ROLES = {Role.MANAGER, Role.UNIT_ADMIN}


@dataclass(frozen=True)
class ScopeSpec:
    owner: str | None = None  # FK to the owning user
    unit: str | None = None  # FK to the org unit that owns the record
    shared_model: str | None = None  # "app.Model" with (record FK, user FK) rows granting access
    shared_record_field: str = ""
    pool: bool = False  # unowned records are visible to the units that can claim them
    via: str | None = None  # visible when the related record is visible
    also_users: tuple[str, ...] = ()  # extra user FKs that grant visibility (assignee, author …)


@dataclass
class ActorScope:
    user_id: int
    is_system_admin: bool
    read_units: frozenset[int] = frozenset()
    write_units: frozenset[int] = frozenset()
    assign_units: frozenset[int] = frozenset()
    admin_units: frozenset[int] = frozenset()
    pool_units: frozenset[int] = frozenset()
    member_units: frozenset[int] = frozenset()
    roles: frozenset[str] = field(default_factory=frozenset)
    shared: dict[str, list[int] | None] = field(
        default_factory=dict
    )  # model label → ids shared with the actor
    reached: dict[str, tuple[int, list[int] | None]] = field(
        default_factory=dict
    )  # model label → (generation, ids the actor sees or None when there are many)

    @property
    def read_only(self) -> bool:
        return not self.is_system_admin and self.roles <= {Role.ANALYST}


def _units_below(units: list[OrgUnit]) -> list[tuple[int, str]]:
    """(id, path) of every unit at or below `units`, in one query."""
    if not units:
        return []
    q = Q()
    for unit in units:
        q |= Q(path__startswith=unit.path)
    return list(OrgUnit.objects.filter(q).values_list("id", "path"))


def _subtree_ids(units: list[OrgUnit], below: list[tuple[int, str]]) -> set[int]:
    prefixes = tuple(unit.path for unit in units)
    return {unit_id for unit_id, path in below if prefixes and path.startswith(prefixes)}


def _ancestor_ids(units: list[OrgUnit]) -> set[int]:
    ids: set[int] = set()
    for unit in units:
        ids.update(unit.ancestor_ids)
    return ids


def scope_for(actor: User) -> ActorScope:
    """Compute (once per actor object) what the actor's roles give access to."""
    cached = getattr(actor, "_kehu_scope", None)
    if cached is not None:
        return cached
    memberships = list(Membership.objects.filter(user_id=actor.pk).select_related("unit"))
    roles = frozenset(m.role for m in memberships)
    is_admin = bool(actor.is_active and (actor.is_superuser or Role.SYSTEM_ADMIN in roles))

    def units_with(role_set):
        return [m.unit for m in memberships if m.role in role_set]

    member_units = [m.unit for m in memberships]
    below = _units_below(units_with(SUBTREE_ROLES))  # every other role set below is a subset of these
    scope = ActorScope(
        user_id=actor.pk,
        is_system_admin=is_admin,
        read_units=frozenset(_subtree_ids(units_with(SUBTREE_ROLES), below)),
        write_units=frozenset(_subtree_ids(units_with(WRITE_SUBTREE_ROLES), below)),
        assign_units=frozenset(_subtree_ids(units_with(ASSIGN_ROLES), below)),
        admin_units=frozenset(_subtree_ids(units_with({Role.UNIT_ADMIN}), below)),
        pool_units=frozenset(_ancestor_ids(member_units) | _subtree_ids(units_with(SUBTREE_ROLES), below)),
        member_units=frozenset(m.unit_id for m in memberships),
        roles=roles,
    )
    actor._kehu_scope = scope
    return scope


def forget_scope(actor: User) -> None:
    if hasattr(actor, "_kehu_scope"):
        del actor._kehu_scope


def _spec(model) -> ScopeSpec:
    spec = getattr(model, "SCOPE", None)
    if spec is None:
        raise TypeError(f"{model.__name__} declares no SCOPE; every scoped record must")
    return spec


def visible_q(actor: User, model, *, prefix: str = "") -> Q:
    """A filter selecting the rows of `model` that `actor` may see. `prefix` scopes a related path."""
    scope = scope_for(actor)
    if not actor.is_active:
        return Q(pk__in=[])
    if scope.is_system_admin:
        return Q()
    spec = _spec(model)
    q = Q(pk__in=[])
    if spec.via:
        q |= _via_q(actor, scope, model, spec, prefix)
    if spec.owner:
        q |= Q(**{f"{prefix}{spec.owner}_id": actor.pk})
    for user_field in spec.also_users:
        q |= Q(**{f"{prefix}{user_field}_id": actor.pk})
    if spec.unit and scope.read_units:
        q |= Q(**{f"{prefix}{spec.unit}_id__in": scope.read_units})
    if spec.shared_model:
        ids = _shared_ids(actor, scope, spec)
        if ids is None:
            shared = apps.get_model(spec.shared_model)
            ids = shared.objects.filter(user_id=actor.pk).values(spec.shared_record_field)
        if ids:
            q |= Q(**{f"{prefix}pk__in": ids})
    if spec.pool and spec.owner and spec.unit and scope.pool_units:
        q |= Q(**{f"{prefix}{spec.owner}__isnull": True, f"{prefix}{spec.unit}_id__in": scope.pool_units})
    return q


SHARED_IDS_INLINE = 500  # up to this many shared records are written into the filter as a list of ids


def _shared_ids(actor: User, scope: ActorScope, spec: ScopeSpec) -> list[int] | None:
    """The ids of the records shared with the actor, read once per actor object; None when there are too many
    to list (the filter then uses a subquery). A list, usually empty or short, lets the database estimate how
    much of the table the actor sees: `OR id IN (subquery)` is guessed at half of it, which makes PostgreSQL
    walk a table in key order where an index would find a rare search term at once."""
    if spec.shared_model not in scope.shared:
        shared = apps.get_model(spec.shared_model)
        rows = shared.objects.filter(user_id=actor.pk).values_list(spec.shared_record_field, flat=True)
        ids = sorted(rows[: SHARED_IDS_INLINE + 1])
        scope.shared[spec.shared_model] = ids if len(ids) <= SHARED_IDS_INLINE else None
    return scope.shared[spec.shared_model]


def _via_q(actor: User, scope: ActorScope, model, spec: ScopeSpec, prefix: str) -> Q:
    """Records reached through a related record the actor sees. When the actor sees few of those (a rep's or
    an agent's own customers) they are matched by id from a list read once per actor object; otherwise
    through a join on the related record's own rules. The list keeps the join out of the query, so the
    database can walk the record's own indexes (a queue ordered by priority) instead of joining first."""
    related = model._meta.get_field(spec.via).related_model
    label = related._meta.label
    generation, ids = scope.reached.get(label, (-1, None))
    if generation != _generation:
        generation = _generation
        rows = related._default_manager.filter(visible_q(actor, related)).values_list("pk", flat=True)
        ids = sorted(rows.order_by()[: SHARED_IDS_INLINE + 1])
        ids = ids if len(ids) <= SHARED_IDS_INLINE else None
        scope.reached[label] = (generation, ids)
    if ids is None:
        return visible_q(actor, related, prefix=f"{prefix}{spec.via}__")
    return Q(**{f"{prefix}{spec.via}_id__in": ids}) if ids else Q(pk__in=[])


_generation = 0  # bumped whenever a record that others are reached through, or a share, is written here


def records_changed(sender=None, **kwargs) -> None:
    """A record that decides what else is visible may have changed (saved, deleted, bulk-written): the lists
    of reached ids read before are stale. Connected to every save and delete; writes around the ORM that
    create or move such records call it themselves."""
    global _generation
    if sender is None or sender._meta.label in _deciding_models():
        _generation += 1


def _deciding_models() -> frozenset[str]:
    """Models others are reached through (`via` targets), the models those are reached through, and shares."""
    global _deciding
    if _deciding is None:
        specs = [(m, m.SCOPE) for m in apps.get_models() if getattr(m, "SCOPE", None) is not None]
        labels = {spec.shared_model for _m, spec in specs if spec.shared_model}
        for model, spec in specs:
            target = model._meta.get_field(spec.via).related_model if spec.via else None
            while target is not None:
                labels.add(target._meta.label)
                target_spec = _spec(target)
                target = target._meta.get_field(target_spec.via).related_model if target_spec.via else None
        _deciding = frozenset(labels)
    return _deciding


_deciding: frozenset[str] | None = None


def can_see(actor: User, obj) -> bool:
    return type(obj)._default_manager.filter(visible_q(actor, type(obj)), pk=obj.pk).exists()


def can_edit(actor: User, obj) -> bool:
    """Write access: admins; managers and unit admins in their subtree; the owner; editors it is shared with."""
    scope = scope_for(actor)
    if not actor.is_active or scope.read_only:
        return False
    if scope.is_system_admin:
        return True
    spec = _spec(type(obj))
    if spec.owner and getattr(obj, f"{spec.owner}_id") == actor.pk:
        return True
    # A task's assignee and creator may work on it even when someone else owns its customer.
    if any(getattr(obj, f"{f}_id") == actor.pk for f in spec.also_users):
        return True
    if spec.via:
        related = getattr(obj, spec.via)
        # A task need not belong to a customer; then only its own user fields (above) grant access.
        return related is not None and can_edit(actor, related)
    if spec.unit and getattr(obj, f"{spec.unit}_id") in scope.write_units:
        return True
    if spec.shared_model:
        shared = apps.get_model(spec.shared_model)
        return shared.objects.filter(
            user_id=actor.pk, can_edit=True, **{spec.shared_record_field: obj.pk}
        ).exists()
    return False


def can_assign_in(actor: User, unit_id: int | None) -> bool:
    """Managers (and unit admins) assign records within their subtree; system admins anywhere."""
    scope = scope_for(actor)
    if not actor.is_active:
        return False
    return scope.is_system_admin or (unit_id is not None and unit_id in scope.assign_units)


def can_manage_users_in(actor: User, unit_id: int | None) -> bool:
    scope = scope_for(actor)
    return scope.is_system_admin or (unit_id is not None and unit_id in scope.admin_units)


def is_system_admin(actor: User) -> bool:
    return scope_for(actor).is_system_admin


def is_manager(actor: User) -> bool:
    scope = scope_for(actor)
    return scope.is_system_admin or bool(scope.assign_units)


CONTACT_DETAIL_ROLES = {Role.MANAGER, Role.UNIT_ADMIN}


def sees_contact_details(actor: User) -> bool:
    """Whether the actor may see buyers' full phone numbers, names and addresses (personal data): system admins,
    managers and unit admins may, and anyone given the "view contact details" permission; everyone else sees
    them masked, in pages, the API and exports alike."""
    scope = scope_for(actor)
    if scope.is_system_admin or scope.roles & CONTACT_DETAIL_ROLES:
        return True
    return actor.has_perm("users.view_contact_details")


def visible_user_ids_q(actor: User) -> Q:
    """Users the actor may pick as owner/assignee: colleagues in the actor's readable units, or all for admins."""
    scope = scope_for(actor)
    if scope.is_system_admin:
        return Q(is_active=True)
    units = scope.read_units | scope.member_units
    return Q(is_active=True) & (Q(pk=actor.pk) | Q(memberships__unit_id__in=units))
