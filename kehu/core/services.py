"""Cross-cutting writes: reference data and recycle-bin housekeeping."""

import json
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kehu.core import hooks
from kehu.core.models import Region


@transaction.atomic
def regions_load(*, path: Path) -> int:
    """Load provinces, cities and districts from the china-division `pca-code.json` tree (idempotent)."""
    tree = json.loads(path.read_text(encoding="utf-8"))
    rows: list[Region] = []

    def walk(nodes, level, parent):
        for node in nodes:
            rows.append(
                Region(
                    code=node["code"].ljust(6, "0")[:6] if level < 3 else node["code"],
                    name=node["name"],
                    level=level,
                    parent_id=parent,
                )
            )
            walk(node.get("children", []), level + 1, rows[-1].code)

    walk(tree, 1, None)
    existing = set(Region.objects.values_list("code", flat=True))
    new = [r for r in rows if r.code not in existing]
    Region.objects.bulk_create(new, batch_size=1000)
    return len(new)


def recycle_bin_purge(*, now=None) -> int:
    """Scheduled: permanently delete records that sat in the recycle bin longer than the retention period.

    Domains listen to ``recycle.purge`` and delete their own expired records (children first)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.KEHU["RECYCLE_BIN_DAYS"])
    return sum(hooks.emit("recycle.purge", cutoff=cutoff) or [0])


def audit_event_record(*, actor, action: str, target: str, detail: dict) -> None:
    from kehu.core.models import AuditEvent

    AuditEvent.objects.create(actor=actor, action=action, target=target, detail=detail)
