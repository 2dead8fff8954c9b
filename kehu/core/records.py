"""Helpers every service uses to write a record: field assignment, validation, optimistic locking, audit."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone

from kehu.core.exceptions import NotFound, StaleEdit, ValidationFailed


def record_id(raw) -> int:
    """A record id from a URL or form; anything that is not a number is a record that does not exist."""
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise NotFound() from exc


def assign_fields(instance: models.Model, data: dict, allowed: set[str]) -> set[str]:
    """Copy the allowed keys of `data` onto `instance`; returns the names that changed."""
    changed = set()
    for name, value in data.items():
        if name not in allowed:
            continue
        field = instance._meta.get_field(name)
        attname = field.attname if field.is_relation else name
        current = getattr(instance, attname)
        new = value.pk if (field.is_relation and isinstance(value, models.Model)) else value
        if new is None and not field.null and isinstance(field, models.CharField | models.TextField):
            new = ""
        if current != new:
            setattr(instance, attname, new)
            changed.add(name)
    return changed


def validate(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            fields={k: " ".join(str(m) for m in v) for k, v in exc.message_dict.items()}
        ) from exc


def check_version(instance: models.Model, expected: int | None, *, fields: list[str]) -> None:
    """Refuse to save over a newer version; report which fields changed since `expected` was loaded."""
    if expected is None or int(expected) == instance.version:
        return
    changes = {}
    history = getattr(instance, "history", None)
    then = (
        history.filter(version=int(expected)).order_by("-history_id").first() if history is not None else None
    )
    for name in fields:
        field = instance._meta.get_field(name)
        attname = field.attname if field.is_relation else name
        before = getattr(then, attname, None) if then is not None else None
        now = getattr(instance, attname)
        if then is None or before != now:
            changes[name] = {"label": str(field.verbose_name), "then": _display(before), "now": _display(now)}
    raise StaleEdit(changes=changes, current_version=instance.version)


def _display(value) -> str:
    if value is None:
        return ""
    return str(value)


def save_audited(instance: models.Model, *, actor, reason: str = "", bump_version: bool = True) -> None:
    """Save through simple-history with who and why recorded; bump the optimistic-lock version."""
    if bump_version and hasattr(instance, "version") and instance.pk is not None:
        instance.version += 1
    instance._history_user = actor if (actor is not None and actor.is_authenticated) else None
    if reason:
        instance._change_reason = reason
    instance.save()


def move_to_recycle_bin(instance: models.Model, *, actor) -> None:
    """Soft-delete an (already locked) record: stamped with when and by whom, audited as "deleted"."""
    instance.deleted_at = timezone.now()
    instance.deleted_by = actor
    save_audited(instance, actor=actor, reason="deleted")


def restore_from_recycle_bin(instance: models.Model, *, actor) -> None:
    instance.deleted_at = None
    instance.deleted_by = None
    save_audited(instance, actor=actor, reason="restored")
