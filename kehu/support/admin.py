"""Service-desk settings in the admin: working calendars with their holidays, categories, service-level
policies, routing rules and agents' profiles."""

from django.contrib import admin

from kehu.support.models import (
    Article,
    CalendarDay,
    Category,
    ReplyTemplate,
    RoutingRule,
    ServiceAgent,
    SlaPolicy,
    WorkCalendar,
)


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 3


@admin.register(WorkCalendar)
class WorkCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "mon", "sat", "sun"]
    inlines = [CalendarDayInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "parent", "position", "active"]
    list_filter = ["active"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "ticket_type",
        "severity",
        "customer_level",
        "first_response_minutes",
        "resolution_minutes",
        "active",
    ]
    list_filter = ["active", "ticket_type"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "position",
        "ticket_type",
        "category",
        "severity",
        "channel",
        "team",
        "method",
        "active",
    ]
    list_filter = ["active", "method"]


@admin.register(ServiceAgent)
class ServiceAgentAdmin(admin.ModelAdmin):
    list_display = ["user", "level", "on_shift"]
    list_filter = ["level", "on_shift"]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "then_status", "team", "position", "active"]
    list_filter = ["active", "then_status"]
    search_fields = ["name", "body"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """An overview where the category and visibility may be corrected. The text, publishing and deleting go
    through the knowledge-base pages, which keep the versions, the search words and the recycle bin."""

    list_display = ["title", "language", "category", "visibility", "status", "solved_count", "updated_at"]
    list_filter = ["status", "visibility", "language"]
    search_fields = ["title"]
    fields = [
        "title",
        "problem",
        "solution",
        "language",
        "translation_of",
        "status",
        "category",
        "visibility",
    ]
    readonly_fields = ["title", "problem", "solution", "language", "translation_of", "status"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
