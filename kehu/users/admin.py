from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from kehu.users.models import Membership, OrgUnit, User
from kehu.users.services import org_unit_create


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "display_name", "email", "is_active", "deactivated_at"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Kehu"), {"fields": ["display_name", "mobile", "language", "deactivated_at", "successor"]}),
    ]
    readonly_fields = ["deactivated_at", "successor"]

    def has_delete_permission(self, request, obj=None):
        return False  # departing staff are deactivated with a successor, never deleted


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "parent", "path"]
    readonly_fields = ["path"]

    def get_readonly_fields(self, request, obj=None):
        # Moving a unit would re-parent every record below it; that is a deliberate migration, not an edit.
        return ["path", "parent"] if obj else ["path"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        unit = org_unit_create(name=obj.name, kind=obj.kind, parent=obj.parent)
        obj.pk = unit.pk
        obj.path = unit.path
