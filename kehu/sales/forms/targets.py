"""Forms of the quota, forecast and commission pages (query strings and small posts)."""

import datetime
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.sales.models import Quota
from kehu.sales.selectors.targets import month_start

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
CELL_RE = re.compile(r"^c-(?P<kind>[un])(?P<id>\d{1,18})-(?P<month>\d{4}-(0[1-9]|1[0-2]))$")


class MonthField(forms.CharField):
    """ "YYYY-MM" → the month's first day."""

    default_error_messages = {"invalid": _("Enter a month as YYYY-MM.")}

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        if not MONTH_RE.match(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return datetime.date.fromisoformat(f"{value}-01")


def _year_now() -> int:
    return timezone.localdate().year


class QuotaFilterForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2999, required=False)
    measure = forms.ChoiceField(label=_("Measure"), choices=Quota.Measure.choices, required=False)

    def values(self) -> tuple[int, str]:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("year") or _year_now(), data.get("measure") or Quota.Measure.WON


def parse_cell(name: str) -> tuple[str, int, datetime.date] | None:
    """ "c-u12-2026-03" → ("u", 12, 2026-03-01): a rep's (u) or a unit's (n) monthly quota cell."""
    match = CELL_RE.match(name or "")
    if match is None:
        return None
    return match["kind"], int(match["id"]), datetime.date.fromisoformat(f"{match['month']}-01")


class ForecastForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Months"), choices=[(n, n) for n in range(1, 13)], coerce=int, required=False
    )
    group = forms.ChoiceField(
        label=_("Rows"), choices=[("owner", _("Per rep")), ("unit", _("Per unit"))], required=False
    )
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=None, required=False, empty_label=_("All I see"))

    def __init__(self, data=None, *, units):
        super().__init__(data)
        self.fields["from"] = MonthField(label=_("From"), required=False)
        self.fields["unit"].queryset = units

    def values(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "first": data.get("from") or month_start(timezone.localdate()),
            "months": data.get("months") or 3,
            "group": data.get("group") or "owner",
            "unit": data.get("unit"),
        }


class MonthForm(forms.Form):
    month = MonthField(label=_("Month"), required=False)
