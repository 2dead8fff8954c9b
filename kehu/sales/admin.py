from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kehu.customers.models import Customer
from kehu.sales.models import (
    REQUIRABLE_FIELDS,
    ApprovalStep,
    CommissionRule,
    CommissionTier,
    ExchangeRate,
    LeadAssignmentRule,
    LeadCaptureForm,
    Opportunity,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    Shop,
    Stage,
    Territory,
)


class StageForm(forms.ModelForm):
    required_fields = forms.MultipleChoiceField(
        label=_("required to enter"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=lambda: [(name, Opportunity.field_label(name)) for name in REQUIRABLE_FIELDS],
    )

    class Meta:
        model = Stage
        fields = ["name", "name_en", "position", "probability", "outcome", "required_fields"]


class StageInline(admin.TabularInline):
    model = Stage
    form = StageForm
    extra = 1


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "followup_days", "position", "is_active"]
    filter_horizontal = ["units"]
    inlines = [StageInline]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "valid_from", "rate"]
    list_filter = ["currency"]


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_select_related = ["org_unit"]
    list_display = ["name", "org_unit", "position", "is_active"]
    list_filter = ["is_active"]
    filter_horizontal = ["provinces", "cities", "reps"]


class LeadRuleForm(forms.ModelForm):
    sources = forms.MultipleChoiceField(
        label=_("only leads from these sources"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=Customer.Source.choices,
        help_text=_("None ticked means any source."),
    )

    class Meta:
        model = LeadAssignmentRule
        fields = ["name", "unit", "method", "team", "sources", "position", "is_active"]


@admin.register(LeadAssignmentRule)
class LeadAssignmentRuleAdmin(admin.ModelAdmin):
    list_select_related = ["unit", "team"]
    form = LeadRuleForm
    list_display = ["name", "unit", "method", "team", "position", "is_active"]
    list_filter = ["method", "is_active"]


@admin.register(LeadCaptureForm)
class LeadCaptureFormAdmin(admin.ModelAdmin):
    list_select_related = ["org_unit"]
    list_display = ["name", "org_unit", "source", "campaign", "is_active"]
    readonly_fields = ["embed_code"]

    @admin.display(description=_("Address and embed code"))
    def embed_code(self, obj):
        if not obj.pk:
            return _("Save the form to get its address.")
        path = reverse("lead-capture", args=[obj.token])
        return format_html(
            '<a href="{}" target="_blank">{}</a><br><code>&lt;iframe src="https://YOUR-KEHU-HOST{}" '
            'style="border:0;width:100%;height:40rem"&gt;&lt;/iframe&gt;</code>',
            path,
            path,
            path,
        )


@admin.register(ProductCategory)
class ProductCategoryAdmin(admin.ModelAdmin):
    list_select_related = ["parent"]
    list_display = ["name", "name_en", "parent", "position"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_select_related = ["category"]
    list_display = [
        "sku",
        "name",
        "name_en",
        "category",
        "unit",
        "list_price",
        "currency",
        "tax_rate",
        "is_active",
    ]
    list_filter = ["is_active", "category"]
    search_fields = ["sku", "name", "name_en"]


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    autocomplete_fields = ["product"]
    extra = 1


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_select_related = ["territory"]
    list_display = [
        "name",
        "customer_level",
        "territory",
        "currency",
        "discount",
        "valid_from",
        "valid_until",
        "is_active",
    ]
    list_filter = ["is_active", "customer_level"]
    inlines = [PriceListItemInline]


@admin.register(ApprovalStep)
class ApprovalStepAdmin(admin.ModelAdmin):
    """The contract approval chain: each contract needs every active step its amount reaches, in order."""

    list_display = ["label", "min_amount", "approver", "approver_user", "position", "is_active"]
    list_editable = ["position", "is_active"]
    autocomplete_fields = ["approver_user"]


class CommissionTierInline(admin.TabularInline):
    model = CommissionTier
    extra = 3


@admin.register(CommissionRule)
class CommissionRuleAdmin(admin.ModelAdmin):
    list_display = ["label", "user", "role", "valid_from", "valid_until", "is_marginal"]
    list_filter = ["role", "is_marginal"]
    autocomplete_fields = ["user"]
    inlines = [CommissionTierInline]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    """Online shops: their orders and the buyers they bring belong to the owning unit."""

    list_display = ["name", "platform", "external_id", "org_unit", "is_active"]
    list_filter = ["platform", "is_active"]
    search_fields = ["name", "external_id"]
