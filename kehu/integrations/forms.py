from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.integrations import importers


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Import"))
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8 or GBK, comma- or tab-separated) or Excel XLSX; the first row holds the column names."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,.vcf"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(i.kind, i.label) for i in importers.kinds()]


class MappingForm(forms.Form):
    """One choice per column of the file: which field it fills, or none."""

    def __init__(self, *args, headers: list[str], columns: list, initial_mapping: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— do not import —"))] + [(c.key, c.label) for c in columns]
        self.headers = headers
        for index, header in enumerate(headers):
            self.fields[f"mapping__{index}"] = forms.ChoiceField(
                label=header or _("(column %(n)s)") % {"n": index + 1},
                choices=choices,
                required=False,
                initial=initial_mapping[index] if index < len(initial_mapping) else "",
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"mapping__{i}", "") for i in range(len(self.headers))]

    def rows(self):
        return [self[f"mapping__{i}"] for i in range(len(self.headers))]
