from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kehu.core.models import Region, SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.core.search import SearchTextField
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec

HISTORY_EXCLUDED = [
    "search_text",
    "name_key",
    "phone_key",
    "email_key",
    "pinyin",
    "pinyin_initials",
    "updated_at",
]


class Tag(TimeStampedModel):
    name = models.CharField(_("name"), max_length=40, unique=True)
    color = models.CharField(_("colour"), max_length=16, default="secondary")

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Customer(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """A company account or an individual buyer. Unowned customers sit in their unit's public pool (公海)."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        INDIVIDUAL = "individual", _("Individual")

    class Type(models.TextChoices):
        END_USER = "end_user", _("End customer")
        DISTRIBUTOR = "distributor", _("Distributor")
        AGENT = "agent", _("Agent")
        PARTNER = "partner", _("Partner")
        OTHER = "other", _("Other")

    class Source(models.TextChoices):
        REFERRAL = "referral", _("Referral")
        WEBSITE = "website", _("Website")
        EXHIBITION = "exhibition", _("Exhibition")
        COLD_CALL = "cold_call", _("Cold call")
        ADVERTISING = "advertising", _("Advertising")
        MARKETPLACE = "marketplace", _("Marketplace")
        PARTNER = "partner", _("Partner")
        OTHER = "other", _("Other")

    class Level(models.TextChoices):
        KEY = "key", _("Key account")
        A = "a", _("Level A")
        B = "b", _("Level B")
        C = "c", _("Level C")

    class Status(models.TextChoices):
        POTENTIAL = "potential", _("Potential")
        ACTIVE = "active", _("Active")
        LOST = "lost", _("Lost")
        BLACKLISTED = "blacklisted", _("Blacklisted")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMPANY)
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    customer_type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.END_USER)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, blank=True)
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.POTENTIAL)
    province = models.ForeignKey(
        Region, verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    city = models.ForeignKey(
        Region, verbose_name=_("city"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        Region, verbose_name=_("district"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    phone2 = models.CharField(_("other phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)  # an individual's, for birthday care
    website = models.URLField(_("website"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    last_followup_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    next_followup_on = models.DateField(_("next follow-up"), null=True, blank=True)
    pooled_at = models.DateTimeField(_("moved to pool at"), null=True, blank=True)
    pool_reason = models.CharField(_("pool reason"), max_length=255, blank=True)
    claimed_at = models.DateTimeField(_("owned since"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Derived columns kept by the services: collision keys, pinyin sort key and the search tokens.
    name_key = models.CharField(max_length=200, db_index=True, editable=False, default="")
    phone_key = models.CharField(max_length=32, db_index=True, editable=False, default="")
    email_key = models.CharField(max_length=254, db_index=True, editable=False, default="")
    pinyin = models.CharField(_("pinyin"), max_length=255, editable=False, default="")
    pinyin_initials = models.CharField(max_length=64, editable=False, default="")
    search_text = SearchTextField(editable=False, default="")

    history = HistoricalRecords(excluded_fields=HISTORY_EXCLUDED, m2m_fields=[tags])

    SCOPE = ScopeSpec(
        owner="owner",
        unit="org_unit",
        shared_model="customers.CustomerShare",
        shared_record_field="customer_id",
        pool=True,
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["owner", "-updated_at", "-id"], name="cust_owner_updated"),
            models.Index(fields=["org_unit", "-updated_at", "-id"], name="cust_unit_updated"),
            models.Index(fields=["-updated_at", "-id"], name="cust_updated"),
            models.Index(fields=["status", "-updated_at", "-id"], name="cust_status_updated"),
            models.Index(fields=["pinyin", "id"], name="cust_pinyin"),
            models.Index(fields=["pinyin_initials"], name="cust_initials"),
            models.Index(fields=["next_followup_on", "id"], name="cust_next_followup"),
            models.Index(fields=["last_followup_at", "id"], name="cust_last_followup"),
            models.Index(fields=["-created_at", "-id"], name="cust_created"),
            models.Index(fields=["org_unit", "owner", "pooled_at"], name="cust_pool"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="customer_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def in_pool(self) -> bool:
        return self.owner_id is None


class CustomerShare(TimeStampedModel):
    """Gives one user access to a customer they do not own (a rep's colleague helping on an account)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_shares"
    )
    can_edit = models.BooleanField(_("can edit"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "user"], name="customer_share_unique")]
        indexes = [models.Index(fields=["user", "customer"], name="share_user_customer")]


class Contact(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """A person at a customer. `reports_to` draws the customer's org chart."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contacts"
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    title = models.CharField(pgettext_lazy("job title", "title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    mobile_key = models.CharField(max_length=32, db_index=True, editable=False, default="")
    email_key = models.CharField(max_length=254, db_index=True, editable=False, default="")
    search_text = SearchTextField(editable=False, default="")

    history = HistoricalRecords(excluded_fields=["search_text", "mobile_key", "email_key", "updated_at"])

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        ordering = ["-is_primary", "name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["customer", "-is_primary", "name"], name="contact_customer")]

    def __str__(self) -> str:
        return self.name


class CustomField(TimeStampedModel):
    """A field a system admin adds to customers or contacts. Values live in the record's `custom` JSON."""

    class Entity(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        CONTACT = "contact", _("Contact")

    class FieldType(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        MONEY = "money", _("Money")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        MULTI_CHOICE = "multi_choice", _("Multiple choice")
        BOOLEAN = "boolean", _("Yes / no")

    entity = models.CharField(_("applies to"), max_length=16, choices=Entity.choices)
    key = models.SlugField(
        _("key"), max_length=40, help_text=_("Lower-case letters, digits and underscores.")
    )
    label_zh = models.CharField(_("label (Chinese)"), max_length=60)
    label_en = models.CharField(_("label (English)"), max_length=60)
    field_type = models.CharField(_("type"), max_length=16, choices=FieldType.choices)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("For choice fields: a list of options.")
    )
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["entity", "position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [models.UniqueConstraint(fields=["entity", "key"], name="custom_field_unique_key")]

    def __str__(self) -> str:
        return self.key

    def label(self, language: str | None) -> str:
        return self.label_en if (language or "").startswith("en") else self.label_zh


class PoolRule(TimeStampedModel):
    """Public-pool rules of one unit (the nearest unit up the tree with a rule applies)."""

    unit = models.OneToOneField(
        OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="pool_rule"
    )
    owner_cap = models.PositiveIntegerField(
        _("customers a rep may own"), null=True, blank=True, help_text=_("Empty means no limit.")
    )
    recycle_after_days = models.PositiveIntegerField(
        _("recycle after days without follow-up"),
        null=True,
        blank=True,
        help_text=_("Empty turns recycling off."),
    )
    recycle_only_without_deal = models.BooleanField(_("only customers without a deal"), default=False)
    claim_cooldown_days = models.PositiveIntegerField(_("days before a releasing rep may reclaim"), default=0)
    lead_recycle_after_days = models.PositiveIntegerField(
        _("recycle leads after days untouched"),
        null=True,
        blank=True,
        help_text=_(
            "Open leads nobody worked on for this many days go to the lead pool. Empty turns it off."
        ),
    )

    class Meta:
        verbose_name = _("pool rule")
        verbose_name_plural = _("pool rules")

    def __str__(self) -> str:
        return str(self.unit)


class SavedFilter(TimeStampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("query"), max_length=1000)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique_name")]

    def __str__(self) -> str:
        return self.name


class RecentView(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    viewed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "customer"], name="recent_view_unique")]
        indexes = [models.Index(fields=["user", "-viewed_at"], name="recent_view_user")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.customer_id}"
