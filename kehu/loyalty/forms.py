"""Forms of the loyalty pages. They parse and check what a field can say alone; the services decide the rest."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.activities.forms import DateInput
from kehu.core.text import split_list
from kehu.customers.models import Customer
from kehu.loyalty.models import CouponDefinition, LoyaltySettings, Tier
from kehu.loyalty.services.points import MAX_ADJUST


class AdjustForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-MAX_ADJUST,
        max_value=MAX_ADJUST,
        help_text=_("Negative to take points off."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)


class TierSetForm(forms.Form):
    tier = forms.ModelChoiceField(label=_("Tier"), queryset=Tier.objects.order_by("position"))
    reason = forms.CharField(label=_("Reason"), max_length=255)


class RedeemCouponWithPointsForm(forms.Form):
    definition = forms.ModelChoiceField(label=_("Coupon"), queryset=CouponDefinition.objects.none())
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["definition"].queryset = CouponDefinition.objects.filter(
            active=True, points_cost__isnull=False
        ).order_by("points_cost")
        self.fields["definition"].label_from_instance = lambda d: (
            _("%(name)s (%(points)s points)")
            % {
                "name": d.name,
                "points": d.points_cost,
            }
        )


class RedeemGiftForm(forms.Form):
    gift = forms.CharField(label=_("Gift"), max_length=255)
    points = forms.IntegerField(label=_("Points"), min_value=1, max_value=MAX_ADJUST)
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class IssueOneForm(forms.Form):
    definition = forms.ModelChoiceField(label=_("Coupon"), queryset=CouponDefinition.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["definition"].queryset = CouponDefinition.objects.filter(active=True).order_by("name")


class TierForm(forms.ModelForm):
    class Meta:
        model = Tier
        fields = [
            "key",
            "name",
            "position",
            "min_spend",
            "min_orders",
            "discount_percent",
            "free_shipping",
            "birthday_gift",
            "points_multiplier",
        ]


class SettingsForm(forms.ModelForm):
    class Meta:
        model = LoyaltySettings
        fields = [
            "points_per_yuan",
            "earn_on",
            "expiry",
            "expiry_months",
            "notice_days",
            "window_days",
            "review",
            "review_month",
            "review_day",
            "downgrade_steps",
            "review_points",
            "referrer_points",
            "invitee_points",
            "referral_link",
        ]


class DefinitionForm(forms.ModelForm):
    class Meta:
        model = CouponDefinition
        fields = [
            "name",
            "description",
            "kind",
            "value",
            "min_spend",
            "valid_from",
            "valid_until",
            "valid_days",
            "per_customer_limit",
            "quantity",
            "code_mode",
            "shared_code",
            "points_cost",
            "active",
        ]
        widgets = {
            "valid_from": DateInput(),
            "valid_until": DateInput(),
            "description": forms.Textarea(attrs={"rows": 2}),
        }


class GenerateForm(forms.Form):
    count = forms.IntegerField(label=_("How many codes"), min_value=1, max_value=10_000)


class IssueManyForm(forms.Form):
    customer_ids = forms.CharField(
        label=_("Customer numbers"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Separated by commas, spaces or new lines."),
    )

    def clean_customer_ids(self) -> list[int]:
        raw = split_list(" ".join(self.cleaned_data["customer_ids"].split()).replace(" ", ","))
        ids = []
        for part in raw:
            if not part.isdigit() or len(part) > 18:
                raise forms.ValidationError(_("“%(part)s” is not a customer number.") % {"part": part})
            ids.append(int(part))
        if not ids:
            raise forms.ValidationError(_("Enter at least one customer number."))
        if len(ids) > 50_000:
            raise forms.ValidationError(_("At most 50,000 customers at once."))
        return ids


class RedeemForm(forms.Form):
    code = forms.CharField(label=_("Coupon code"), max_length=40)
    order_number = forms.CharField(label=_("Order number"), max_length=64, required=False)
    customer = forms.IntegerField(
        label=_("Or customer number"), required=False, min_value=1, max_value=2**63 - 1
    )

    def clean(self):
        data = super().clean()
        if not data.get("order_number") and not data.get("customer"):
            raise forms.ValidationError(_("Enter the order number or the customer number."))
        return data


class ReferralForm(forms.Form):
    code = forms.CharField(label=_("Invitation code"), max_length=20)
    existing = forms.IntegerField(
        label=_("Existing customer number"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_("Leave empty to enter a new customer below."),
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Customer.Kind.choices, initial=Customer.Kind.INDIVIDUAL)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)

    def clean(self):
        data = super().clean()
        if not data.get("existing") and not (data.get("name") or "").strip():
            raise forms.ValidationError(_("Enter the new customer's name, or an existing customer's number."))
        return data
