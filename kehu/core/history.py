"""Audit history as people read it: who, when, what kind of change, why, and each field's old → new value."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

HISTORY_TYPES = {
    "+": pgettext_lazy("history action", "Created"),
    "~": pgettext_lazy("history action", "Changed"),
    "-": pgettext_lazy("history action", "Deleted"),
}
REASONS = {
    "deleted": _("moved to the recycle bin"),
    "restored": _("restored from the recycle bin"),
    "merged": _("merged"),
    "merge survivor": _("kept in a merge"),
    "assigned": _("assigned"),
    "claimed": _("claimed from the pool"),
    "released": _("released to the pool"),
    "recycled": _("recycled to the pool"),
    "handed_over": _("handed over"),
    "handed over": _("handed over"),
    "created": _("created"),
    "updated": _("edited"),
    "status": _("status changed"),
    "stage": _("moved to another stage"),
    "converted": _("converted"),
    "products": _("products changed"),
}
HIDDEN_FIELDS = {"version"}


def history_of(record: models.Model, *, limit: int = 100, masks: dict | None = None) -> list[dict]:
    """A record's audited changes, newest first: who, when, why and every field's old → new value. `masks`
    maps a field name to the function that hides its values from this reader (personal data)."""
    records = list(record.history.select_related("history_user").order_by("-history_id")[: limit + 1])
    return history_rows(records, limit=limit, masks=masks)


def history_rows(records: list, *, limit: int, masks: dict | None = None) -> list[dict]:
    """`records` newest first (one more than `limit`, so the oldest shown row has something to diff against)."""
    masks = masks or {}
    related_cache: dict = {}
    rows = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if previous is not None:
            delta = record.diff_against(previous, foreign_keys_are_objs=False)
            for change in delta.changes:
                if change.field in HIDDEN_FIELDS:
                    continue
                field = record.instance_type._meta.get_field(change.field)
                mask = masks.get(change.field, str)
                changes.append(
                    {
                        "field": str(field.verbose_name),
                        "old": mask(display_value(field, change.old, related_cache)),
                        "new": mask(display_value(field, change.new, related_cache)),
                    }
                )
        reason = record.history_change_reason or ""
        rows.append(
            {
                "at": record.history_date,
                "user": record.history_user,
                "type": str(HISTORY_TYPES.get(record.history_type, record.history_type)),
                "reason": str(REASONS.get(reason, reason)),
                "changes": changes,
                "created": previous is None,
            }
        )
    return rows


def display_value(field: models.Field, value, related_cache: dict) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):  # many-to-many rows, e.g. tags: [{"customer": 1, "tag": 3}]
        related = field.related_model
        ids = [v.get(related._meta.model_name) if isinstance(v, dict) else v for v in value]
        return ", ".join(_related_name(related, pk, related_cache) for pk in ids) or "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return str(_("Yes") if value else _("No"))
    if field.is_relation:
        return _related_name(field.related_model, value, related_cache)
    return str(value)


def _related_name(model, pk, cache: dict) -> str:
    key = (model, pk)
    if key not in cache:
        obj = model._base_manager.filter(pk=pk).first()
        cache[key] = str(obj) if obj is not None else f"#{pk}"
    return cache[key]
