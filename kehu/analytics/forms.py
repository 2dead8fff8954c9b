from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.activities.forms import DateTimeInput
from kehu.analytics.models import ScoreSettings

BOUNDS = ("recency_days", "frequency_bounds", "monetary_bounds")


class BoundsField(forms.CharField):
    """Four ascending numbers typed as "7, 30, 90, 180" (Chinese commas too)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", gettext_lazy("Four ascending numbers: the lines of scores 2, 3, 4 and 5.")
        )
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value):
        text = (value or "").replace("，", ",").replace("、", ",").strip()
        if not text:
            return []
        try:
            numbers = [Decimal(part.strip()) for part in text.split(",")]
        except InvalidOperation:
            raise forms.ValidationError(_("Enter four numbers separated by commas.")) from None
        if len(numbers) != 4 or any(n < 0 for n in numbers) or numbers != sorted(set(numbers)):
            raise forms.ValidationError(_("Enter four different numbers of zero or more, smallest first."))
        return [int(n) if n == n.to_integral_value() else float(n) for n in numbers]


class ScoreSettingsForm(forms.ModelForm):
    recency_days = BoundsField(label=gettext_lazy("Recency: at most (days)"))
    frequency_bounds = BoundsField(label=gettext_lazy("Frequency: at least (orders)"))
    monetary_bounds = BoundsField(label=gettext_lazy("Money: at least (CNY)"))

    class Meta:
        model = ScoreSettings
        fields = [
            "method",
            "recency_days",
            "frequency_bounds",
            "monetary_bounds",
            "classes_by_thresholds",
            "recent_days",
            "frequent_orders",
            "big_spend",
            "lapse_days",
            "stable_orders",
            "abc_a",
            "abc_b",
            "new_days",
            "loyal_days",
            "holdout_days",
            "yearly_discount",
            "min_customers",
            "min_repeaters",
            "churn_gap_factor",
            "churn_one_time_days",
            "churn_window_days",
            "churn_min_value",
        ]

    def clean(self):
        data = super().clean()
        if data.get("method") == ScoreSettings.Method.THRESHOLDS:
            for name in BOUNDS:
                if name in data and not data[name]:
                    self.add_error(name, _("Scoring by your thresholds needs these four numbers."))
        a, b = data.get("abc_a") or 0, data.get("abc_b") or 0
        if a + b > 100 or a == 0:
            self.add_error(
                "abc_b", _("A and B together may not exceed all of the sales, and A must be more than zero.")
            )
        if data.get("min_customers") is not None and data.get("min_customers") < 2:
            self.add_error("min_customers", _("A model needs at least two customers."))
        if data.get("churn_gap_factor") is not None and data["churn_gap_factor"] <= 0:
            self.add_error("churn_gap_factor", _("k must be more than zero."))
        return data


class ChurnRetainForm(forms.Form):
    measure = forms.CharField(
        label=gettext_lazy("Win-back measure"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("What will be done: a call, a coupon, a visit … It becomes a task."),
    )
    due_at = forms.DateTimeField(label=gettext_lazy("Due"), widget=DateTimeInput())


class ChurnLostForm(forms.Form):
    lost_reason = forms.CharField(label=gettext_lazy("Why the customer is lost"), max_length=200)
