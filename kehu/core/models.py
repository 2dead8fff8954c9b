"""Base models every domain builds on, plus reference data (China's administrative divisions)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def dead(self):
        return self.filter(deleted_at__isnull=False)


class AliveManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """The default manager: records in the recycle bin are invisible unless asked for through `all_objects`."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class SoftDeleteModel(models.Model):
    """Deleting moves a record to the recycle bin; a scheduled job purges it after the retention period."""

    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, db_index=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = AliveManager()
    all_objects = models.Manager.from_queryset(SoftDeleteQuerySet)()

    class Meta:
        abstract = True
        base_manager_name = "all_objects"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class VersionedModel(models.Model):
    """Optimistic locking: every save through a service bumps `version`; a stale form is refused."""

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True


class Region(models.Model):
    """A province, city or district, keyed by its GB/T 2260 code (loaded by `kehu load_regions`)."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        CITY = 2, _("City")
        DISTRICT = 3, _("District")

    # GB/T 2260 codes have 6 digits; towns directly under cities without districts (东莞, 中山) have 9.
    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class ScheduledRun(models.Model):
    """When each periodic job was last enqueued, so the scheduler keeps its rhythm across restarts."""

    name = models.CharField(max_length=100, primary_key=True)
    last_enqueued_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class AuditEvent(models.Model):
    """An audited action that is not a record change: exports, unmasking, logins to sensitive views."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=40)
    target = models.CharField(_("target"), max_length=100)
    detail = models.JSONField(_("detail"), default=dict)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.action} {self.target}"


class NumberSequence(models.Model):
    """How one kind of document is numbered (quotes, contracts, orders …). `pattern` may use {year}, {month},
    {day} and {n}; {n:05} pads. The counter restarts each year or month when `reset` says so."""

    class Reset(models.TextChoices):
        NEVER = "never", _("Never")
        YEARLY = "yearly", _("Every year")
        MONTHLY = "monthly", _("Every month")

    key = models.CharField(_("document"), max_length=40, primary_key=True)
    pattern = models.CharField(
        _("pattern"), max_length=60, help_text=_("For example QT{year}{month}-{n:04} gives QT202611-0001.")
    )
    reset = models.CharField(_("restart counter"), max_length=8, choices=Reset.choices, default=Reset.YEARLY)
    period = models.CharField(max_length=8, blank=True, editable=False)
    next_value = models.PositiveIntegerField(_("next number"), default=1)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return self.key


# --- SMS ----------------------------------------------------------------------------------------------------------


MANY_PER_PURPOSE = ["marketing", "care"]  # campaigns and care automations each choose one of many templates


class SmsTemplate(TimeStampedModel):
    """A message template the SMS provider approved: its code there, its kind and its text with ${name}
    variables. Kehu sends by purpose (a ticket reply, a rating request) through the active template for it;
    marketing and care messages name the template they use. A provider sends only approved templates, never
    free text."""

    class Kind(models.TextChoices):
        NOTICE = "notice", _("Notice")
        VERIFICATION = "verification", _("Verification code")
        PROMOTION = "promotion", _("Promotion")

    purpose = models.CharField(_("used for"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("template code"), max_length=40, help_text=_("As the provider issued it."))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.NOTICE)
    text = models.TextField(
        _("text"),
        help_text=_(
            "Exactly as approved, without the signature; variables are written ${name}. "
            "Promotional texts may not have variables."
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["purpose", "name"]
        verbose_name = _("SMS template")
        verbose_name_plural = _("SMS templates")
        constraints = [
            models.UniqueConstraint(
                fields=["purpose"],
                condition=models.Q(active=True) & ~models.Q(purpose__in=MANY_PER_PURPOSE),
                name="sms_template_one_active_per_purpose",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class SmsMessage(models.Model):
    """One text message: what was rendered, how many billed segments, and what became of it. Kept as the
    record the per-number daily cap counts."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    phone = models.CharField(_("mobile"), max_length=20)
    template = models.ForeignKey(
        SmsTemplate, verbose_name=_("template"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    template_code = models.CharField(_("template code"), max_length=40)
    params = models.JSONField(default=dict)
    text = models.TextField(_("text"))
    segments = models.PositiveSmallIntegerField(_("segments"))
    purpose = models.CharField(_("used for"), max_length=40)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    provider_id = models.CharField(max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        indexes = [models.Index(fields=["phone", "created_at"], name="sms_phone_day")]

    def __str__(self) -> str:
        return f"{self.phone} {self.template_code}"
