"""Loyalty in the admin: the ladder and the settings (also edited on /loyalty/tiers/), coupon definitions, and the
ledger read-only (entries are never changed; corrections are new entries made on the member page)."""

from django.contrib import admin

from kehu.loyalty.models import CouponDefinition, LoyaltySettings, PointsEntry, Tier


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = [
        "position",
        "key",
        "name",
        "min_spend",
        "min_orders",
        "discount_percent",
        "points_multiplier",
    ]
    ordering = ["position"]


@admin.register(LoyaltySettings)
class LoyaltySettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "points_per_yuan", "earn_on", "expiry", "review"]

    def has_add_permission(self, request):
        return not LoyaltySettings.objects.exists()


@admin.register(CouponDefinition)
class CouponDefinitionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "value", "min_spend", "code_mode", "quantity", "active"]
    list_filter = ["active", "kind", "code_mode"]


@admin.register(PointsEntry)
class PointsEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "customer", "kind", "source", "reference", "points"]
    list_filter = ["kind", "source"]
    raw_id_fields = ["customer", "order", "coupon", "ticket", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
