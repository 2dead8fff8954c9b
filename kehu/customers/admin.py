from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kehu.customers.models import Customer, CustomField, PoolRule, Tag


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["key", "entity", "label_zh", "label_en", "field_type", "required", "active", "position"]
    list_filter = ["entity", "field_type", "active"]


@admin.register(PoolRule)
class PoolRuleAdmin(admin.ModelAdmin):
    list_display = [
        "unit",
        "owner_cap",
        "recycle_after_days",
        "recycle_only_without_deal",
        "claim_cooldown_days",
    ]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "color"]
    search_fields = ["name"]


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    """Read-only in the admin: customers are edited through the CRM pages so every rule applies."""

    list_display = ["name", "kind", "status", "owner", "org_unit"]
    search_fields = ["name"]
    list_select_related = ["owner", "org_unit"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
