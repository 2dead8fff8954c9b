"""Loyalty (会员): membership tiers and their rules, the points ledger, coupons and referrals.

Membership data follows its customer: a member, its ledger, tier history, coupons and referrals are seen by whoever
sees the customer (`via="customer"`). The tier ladder, the programme's settings and the coupon definitions are
company-wide configuration, read by everyone and changed by system admins and managers.

The ledger is append-only: a member's `points` is a cached balance kept equal to the sum of its entries, written in
the same transaction as each entry under a lock on the member row, and never negative. How points are earned,
reversed and expired is in `kehu.loyalty.services.points`.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.customers.models import Customer
from kehu.users.scoping import ScopeSpec

MONEY = {"max_digits": 14, "decimal_places": 2}

# The ladder a new installation starts with (seeded by the data migration, then edited by admins). Names are
# English message ids shown translated; a name an admin types instead is shown as typed.
DEFAULT_TIER_NAMES = {
    "regular": gettext_noop("Regular member"),
    "senior": gettext_noop("Senior member"),
    "vip": gettext_noop("VIP member"),
    "supreme": gettext_noop("Supreme VIP member"),
}


class Tier(TimeStampedModel):
    """A step of the membership ladder. A member qualifies for a tier when, over the settings' window, they paid at
    least `min_spend` or completed at least `min_orders` orders (either rule left empty is not used); the lowest
    tier (position 1) has no rule and everyone qualifies for it."""

    key = models.SlugField(_("key"), max_length=30, unique=True)
    name = models.CharField(
        _("name"), max_length=60, help_text=_("Shown translated when it is one of the built-in names.")
    )
    position = models.PositiveSmallIntegerField(
        _("position"), unique=True, validators=[MinValueValidator(1)], help_text=_("1 is the lowest tier.")
    )
    min_spend = models.DecimalField(
        _("upgrade when paid at least (CNY)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        **MONEY,
    )
    min_orders = models.PositiveIntegerField(_("… or when orders at least"), null=True, blank=True)
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    free_shipping = models.BooleanField(_("free shipping"), default=False)
    birthday_gift = models.CharField(_("birthday gift"), max_length=200, blank=True)
    points_multiplier = models.DecimalField(
        _("points multiplier"),
        max_digits=4,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0)],
        help_text=_("Points earned for a paid order are multiplied by this."),
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["position"]
        verbose_name = _("membership tier")
        verbose_name_plural = _("membership tiers")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100),
                name="loyalty_tier_discount_range",
            ),
            models.CheckConstraint(
                condition=models.Q(points_multiplier__gte=0), name="loyalty_tier_multiplier"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return gettext(self.name) if self.name else ""


class LoyaltySettings(TimeStampedModel):
    """How the programme runs (one row): what earns points and how many, when they expire, how tiers are judged
    and reviewed, and the points for reviews and referrals."""

    class EarnOn(models.TextChoices):
        COMPLETED = "completed", _("When the order is completed (交易成功)")
        PAID = "paid", _("When the order is paid")

    class Expiry(models.TextChoices):
        END_OF_NEXT_YEAR = "next_year_end", _("At the end of the year after they were earned")
        MONTHS = "months", _("A number of months after they were earned")
        NEVER = "never", _("Never")

    class Review(models.TextChoices):
        YEARLY = "yearly", _("Every year on a fixed date")
        ANNIVERSARY = (
            "anniversary",
            _("On each member's anniversary (a year after joining or the last review)"),
        )

    points_per_yuan = models.DecimalField(
        _("points per ¥1 paid"), max_digits=8, decimal_places=2, default=1, validators=[MinValueValidator(0)]
    )
    earn_on = models.CharField(
        _("orders earn points"), max_length=12, choices=EarnOn.choices, default="completed"
    )
    expiry = models.CharField(
        _("points expire"), max_length=16, choices=Expiry.choices, default=Expiry.END_OF_NEXT_YEAR
    )
    expiry_months = models.PositiveSmallIntegerField(
        _("… months after earning"), default=12, validators=[MinValueValidator(1)]
    )
    notice_days = models.PositiveSmallIntegerField(
        _("list points expiring within (days)"),
        default=30,
        help_text=_("The advance notice list for marketing."),
    )
    window_days = models.PositiveSmallIntegerField(
        _("tiers judged on the last (days)"), default=365, validators=[MinValueValidator(1)]
    )
    review = models.CharField(_("downgrade review"), max_length=12, choices=Review.choices, default="yearly")
    review_month = models.PositiveSmallIntegerField(
        _("review month"), default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    review_day = models.PositiveSmallIntegerField(
        _("review day"), default=1, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    downgrade_steps = models.PositiveSmallIntegerField(
        _("at most this many tiers down per review"), default=1, validators=[MinValueValidator(1)]
    )
    review_points = models.PositiveIntegerField(_("points for a product review"), default=10)
    referrer_points = models.PositiveIntegerField(_("points for the referrer"), default=100)
    invitee_points = models.PositiveIntegerField(_("points for the invited customer"), default=50)
    referral_link = models.CharField(
        _("invitation link"),
        max_length=200,
        blank=True,
        help_text=_(
            "Your shop's sign-up address with {code} where the invitation code goes. Empty: Kehu's page."
        ),
    )
    # Where the accrual pass got to: orders changed after this are looked at again (editable=False: the pass's).
    accrued_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The day the expiry pass last ran for: earnings due before it are dealt with.
    expired_until = models.DateField(null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at", "accrued_until", "expired_until"])

    class Meta:
        verbose_name = _("loyalty settings")
        verbose_name_plural = _("loyalty settings")

    def __str__(self) -> str:
        return str(_("Loyalty settings"))


class Member(TimeStampedModel):
    """A customer's membership: tier, cached points balance, the figures the tier was judged on, and the next
    points to expire (kept with every ledger write, for segments and message merge fields)."""

    customer = models.OneToOneField(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="loyalty_member"
    )
    tier = models.ForeignKey(Tier, verbose_name=_("tier"), on_delete=models.PROTECT, related_name="members")
    tier_since = models.DateTimeField(_("tier since"), default=timezone.now)
    points = models.IntegerField(_("points"), default=0)
    window_spend = models.DecimalField(_("paid in the window"), default=0, **MONEY)
    window_orders = models.PositiveIntegerField(_("orders in the window"), default=0)
    evaluated_at = models.DateTimeField(_("tier evaluated at"), null=True, blank=True)
    joined_at = models.DateTimeField(_("member since"), default=timezone.now)
    reviewed_on = models.DateField(_("last review"), default=timezone.localdate)
    expiring_points = models.PositiveIntegerField(_("points expiring next"), default=0)
    expiring_on = models.DateField(_("next points expire on"), null=True, blank=True)
    referral_code = models.CharField(_("invitation code"), max_length=12, null=True, blank=True, unique=True)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__gte=0), name="loyalty_member_points_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["-points", "-id"], name="loyalty_member_points"),
            models.Index(fields=["tier", "-points", "-id"], name="loyalty_member_tier"),
            models.Index(fields=["expiring_on", "id"], name="loyalty_member_expiring"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.tier_id}"


class PointsEntry(models.Model):
    """One movement of a member's points, never changed once written. `points` is what moved the balance;
    `requested` what the rule asked for (they differ only when a reversal or expiry found fewer points left, so
    no balance goes below zero). Positive entries carry the day they expire (`expires_on`, none: never).

    Each entry has a key (`source`, `reference`, `kind`) written once: an order earns under its id, its later
    corrections under "<id>:<n>", so a pass run twice, or two passes at once, never count an order twice."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        REVERSE = "reverse", _("Reversed")
        ADJUST = "adjust", _("Adjusted")
        REDEEM = "redeem", _("Redeemed")
        EXPIRE = "expire", _("Expired")

    class Source(models.TextChoices):
        ORDER = "order", _("Order")
        REVIEW = "review", _("Product review")
        REFERRAL = "referral", _("Referral")
        MANUAL = "manual", _("Manual adjustment")
        TICKET = "ticket", _("Service compensation")
        COUPON = "coupon", _("Coupon")
        GIFT = "gift", _("Gift")
        EXPIRY = "expiry", _("Expiry")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    reference = models.CharField(_("reference"), max_length=64)
    points = models.IntegerField(_("points"))
    requested = models.IntegerField(_("requested"))
    order = models.ForeignKey(
        "sales.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    amount = models.DecimalField(_("amount (CNY)"), null=True, blank=True, **MONEY)
    rate = models.DecimalField(_("points per ¥1"), max_digits=10, decimal_places=4, null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    coupon = models.ForeignKey(
        "Coupon", verbose_name=_("coupon"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.ForeignKey(
        "support.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        constraints = [
            models.UniqueConstraint(fields=["source", "reference", "kind"], name="loyalty_entry_once"),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True) | models.Q(points__gt=0),
                name="loyalty_entry_only_earnings_expire",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-id"], name="loyalty_entry_customer"),
            models.Index(
                fields=["expires_on", "customer"],
                name="loyalty_entry_expiring",
                condition=models.Q(points__gt=0, expires_on__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.points:+d}"

    def save(self, *args, **kwargs):
        # The ledger is append-only: a correction is a new entry, never an edit of an old one.
        if not self._state.adding:
            raise ValueError("points entries are never changed")
        super().save(*args, **kwargs)


class TierChange(models.Model):
    """A move between tiers: from where to where, why (the evaluation, a review, an admin), by whom, and the
    figures it was judged on."""

    class Reason(models.TextChoices):
        JOINED = "joined", _("Joined")
        UPGRADE = "upgrade", _("Upgraded by the rules")
        REVIEW = "review", _("Downgraded at the review")
        MANUAL = "manual", _("Set by hand")
        MERGE = "merge", _("Customers merged")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    from_tier = models.ForeignKey(
        Tier, verbose_name=_("from"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_tier = models.ForeignKey(Tier, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=8, choices=Reason.choices)
    spend = models.DecimalField(_("paid in the window"), null=True, blank=True, **MONEY)
    orders = models.PositiveIntegerField(_("orders in the window"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        indexes = [models.Index(fields=["customer", "-id"], name="loyalty_tier_change_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_tier_id} → {self.to_tier_id}"


class CouponDefinition(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """A kind of coupon: its value (yuan off or a percentage), minimum spend, validity (fixed dates and/or N days
    from issue), how many a customer may hold and how many exist, and its codes (one shared code, or unique codes
    generated in bulk). With a points price, members may buy it with points."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("Amount off (¥)")
        PERCENT = "percent", _("Percentage off")

    class CodeMode(models.TextChoices):
        SHARED = "shared", _("One shared code")
        UNIQUE = "unique", _("A unique code per coupon")

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.AMOUNT)
    value = models.DecimalField(
        _("value"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    min_spend = models.DecimalField(
        _("minimum spend (CNY)"), default=0, validators=[MinValueValidator(0)], **MONEY
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveSmallIntegerField(
        _("valid for (days from issue)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    per_customer_limit = models.PositiveSmallIntegerField(
        _("per customer at most"), null=True, blank=True, default=1, help_text=_("Empty: no limit.")
    )
    quantity = models.PositiveIntegerField(
        _("total quantity"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    code_mode = models.CharField(_("codes"), max_length=8, choices=CodeMode.choices, default=CodeMode.UNIQUE)
    shared_code = models.CharField(_("shared code"), max_length=32, blank=True)
    points_cost = models.PositiveIntegerField(
        _("price in points"), null=True, blank=True, help_text=_("Empty: cannot be bought with points.")
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("coupon definition")
        verbose_name_plural = _("coupon definitions")
        constraints = [
            models.UniqueConstraint(
                fields=["shared_code"], condition=~models.Q(shared_code=""), name="loyalty_shared_code_once"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="amount") | models.Q(value__lte=100),
                name="loyalty_percent_at_most_100",
            ),
            models.CheckConstraint(condition=models.Q(value__gt=0), name="loyalty_coupon_value_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def value_label(self) -> str:
        if self.kind == self.Kind.PERCENT:
            return f"{self.value.normalize():f}%"
        return f"¥{self.value:,.2f}"


class Coupon(models.Model):
    """One coupon: a generated unique code (available until issued), or a customer's copy of a definition's shared
    code. Issued to a customer it carries its own validity; redeemed it names the order and the discount given."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Not issued")
        ISSUED = "issued", _("Issued")
        REDEEMED = "redeemed", _("Redeemed")
        VOID = "void", _("Void")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Issued by hand")
        CAMPAIGN = "campaign", _("Campaign")
        TICKET = "ticket", _("Service compensation")
        POINTS = "points", _("Bought with points")
        REDEMPTION = "redemption", _("Issued when redeemed")

    definition = models.ForeignKey(
        CouponDefinition, verbose_name=_("coupon"), on_delete=models.PROTECT, related_name="coupons"
    )
    code = models.CharField(_("code"), max_length=32)
    shared = models.BooleanField(default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.AVAILABLE)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, blank=True)
    ticket = models.ForeignKey(
        "support.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        "sales.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    discount = models.DecimalField(_("discount given"), null=True, blank=True, **MONEY)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("coupon code")
        verbose_name_plural = _("coupon codes")
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(shared=False), name="loyalty_code_once"
            ),
            models.CheckConstraint(
                condition=models.Q(status="available") | models.Q(customer__isnull=False),
                name="loyalty_issued_coupon_has_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["definition", "status", "id"], name="loyalty_coupon_definition"),
            models.Index(fields=["customer", "definition"], name="loyalty_coupon_customer"),
            models.Index(fields=["code"], name="loyalty_coupon_code"),
        ]

    def __str__(self) -> str:
        return self.code


class Referral(models.Model):
    """An invited customer linked to the member who invited them. Points go to both when the invitee's first paid
    order completes (once); a referral that looks like one person inviting themselves is refused, with why."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the first order")
        REWARDED = "rewarded", _("Rewarded")
        REFUSED = "refused", _("Refused")

    class Refusal(models.TextChoices):
        SELF = "self", _("A customer cannot invite themselves")
        SAME_PHONE = "same_phone", _("Inviter and invitee share a phone number")
        SAME_ADDRESS = "same_address", _("Inviter and invitee share a receiver address")
        PRIOR_ORDERS = "prior_orders", _("The invitee had orders before the invitation")

    referrer = models.ForeignKey(
        Customer, verbose_name=_("referrer"), on_delete=models.CASCADE, related_name="+"
    )
    invitee = models.ForeignKey(
        Customer, verbose_name=_("invitee"), on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(_("invitation code"), max_length=12)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    refusal = models.CharField(_("refused because"), max_length=14, choices=Refusal.choices, blank=True)
    refusal_detail = models.CharField(_("detail"), max_length=255, blank=True)
    order = models.ForeignKey(
        "sales.Order",
        verbose_name=_("first order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("invited at"), default=timezone.now)
    decided_at = models.DateTimeField(_("rewarded or refused at"), null=True, blank=True)

    SCOPE = ScopeSpec(via="invitee")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.UniqueConstraint(
                fields=["invitee"],
                condition=models.Q(status__in=["pending", "rewarded"]),
                name="loyalty_invited_once",
            ),
        ]
        indexes = [
            models.Index(fields=["referrer", "-id"], name="loyalty_referral_referrer"),
            models.Index(fields=["invitee", "status"], name="loyalty_referral_invitee"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.invitee_id}"
