"""Service-desk settings in the admin: working calendars with their holidays, categories, service-level
policies, routing rules and agents' profiles."""

from django.contrib import admin

from kehu.support.models import CalendarDay, Category, RoutingRule, ServiceAgent, SlaPolicy, WorkCalendar


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
