"""Marketing: segments of customers defined by rules and counted in SQL, with snapshots taken of their members."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.customers.models import Customer
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec


class Segment(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """A saved rule tree over customers (`kehu.marketing.segments` validates and compiles it). Its members are
    the customers matching the rules that the reader may see: a rep's segment of "VIP buyers in Zhejiang" holds
    the rep's own, a manager's the whole region's."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    rules = models.JSONField(_("rules"), default=dict)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class SegmentSnapshot(models.Model):
    """The members of a segment at a moment, as the one who took it saw them (a static list for a campaign
    that must not change while it runs)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(_("taken at"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rules = models.JSONField(default=dict)  # the rules as they were
    size = models.PositiveIntegerField(_("customers"))

    SCOPE = ScopeSpec(via="segment")

    class Meta:
        ordering = ["-taken_at", "-id"]
        verbose_name = _("segment snapshot")
        verbose_name_plural = _("segment snapshots")

    def __str__(self) -> str:
        return f"{self.segment} @ {self.taken_at:%Y-%m-%d %H:%M}"


class SnapshotMember(models.Model):
    snapshot = models.ForeignKey(SegmentSnapshot, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "customer"], name="snapshot_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}:{self.customer_id}"
