"""HTML forms: they parse and type-check input; the services decide what is allowed."""

from decimal import Decimal

from django import forms
from django.forms.models import fields_for_model
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kehu.core.models import Region
from kehu.core.text import split_list
from kehu.customers.models import Contact, Customer, CustomField

CUSTOMER_FORM_FIELDS = [
    "kind",
    "name",
    "short_name",
    "customer_type",
    "status",
    "level",
    "source",
    "industry",
    "phone",
    "phone2",
    "email",
    "wechat",
    "birthday",
    "website",
    "province",
    "city",
    "district",
    "address",
    "next_followup_on",
    "notes",
]
CONTACT_FORM_FIELDS = [
    "name",
    "title",
    "department",
    "reports_to",
    "mobile",
    "phone",
    "email",
    "wechat",
    "birthday",
    "is_primary",
    "notes",
]


class DateInput(forms.DateInput):
    input_type = "date"


def _custom_form_field(definition: CustomField) -> forms.Field:
    label = definition.label(get_language())
    common = {"label": label, "required": definition.required}
    kind = definition.field_type
    if kind == CustomField.FieldType.NUMBER:
        return forms.DecimalField(**common)
    if kind == CustomField.FieldType.MONEY:
        return forms.DecimalField(
            decimal_places=2, min_value=Decimal("-1e12"), max_value=Decimal("1e12"), **common
        )
    if kind == CustomField.FieldType.DATE:
        return forms.DateField(widget=DateInput, **common)
    if kind == CustomField.FieldType.BOOLEAN:
        return forms.BooleanField(label=label, required=False)
    if kind == CustomField.FieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in definition.choices]], **common)
    if kind == CustomField.FieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    return forms.CharField(max_length=500, **common)


class CustomFieldsMixin:
    """Adds `custom__<key>` fields for the active custom field definitions of `entity`."""

    entity: str

    def add_custom_fields(self, initial_values: dict | None) -> None:
        self.custom_definitions = list(CustomField.objects.filter(entity=self.entity, active=True))
        for definition in self.custom_definitions:
            name = f"custom__{definition.key}"
            self.fields[name] = _custom_form_field(definition)
            if initial_values and definition.key in initial_values:
                self.initial[name] = initial_values[definition.key]

    def custom_values(self) -> dict:
        values = {}
        for definition in self.custom_definitions:
            value = self.cleaned_data.get(f"custom__{definition.key}")
            if isinstance(value, Decimal):
                value = str(value)
            values[definition.key] = value.isoformat() if hasattr(value, "isoformat") else value
        return values

    @property
    def custom_bound_fields(self):
        return [self[f"custom__{d.key}"] for d in self.custom_definitions]


class CustomerForm(CustomFieldsMixin, forms.Form):
    entity = CustomField.Entity.CUSTOMER

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))
    override_collision = forms.BooleanField(
        label=_("Save anyway (manager override of the duplicate check)"), required=False
    )

    def __init__(self, *args, instance: Customer | None = None, **kwargs):
        initial = kwargs.pop("initial", {}) or {}
        if instance is not None:
            for name in CUSTOMER_FORM_FIELDS:
                field = Customer._meta.get_field(name)
                initial.setdefault(name, getattr(instance, field.attname))
            initial["version"] = instance.version
            initial["tags"] = ", ".join(t.name for t in instance.tags.all())
        super().__init__(*args, initial=initial, **kwargs)
        model_fields = fields_for_model(Customer, fields=[f for f in CUSTOMER_FORM_FIELDS if f != "website"])
        model_fields["website"] = forms.URLField(
            label=Customer._meta.get_field("website").verbose_name,
            required=False,
            max_length=200,
            assume_scheme="https",
        )
        for name in CUSTOMER_FORM_FIELDS:
            self.fields[name] = model_fields[name]
        self.order_fields(["version", *CUSTOMER_FORM_FIELDS, "tags", "override_collision"])
        self.fields["next_followup_on"].widget = DateInput()
        self.fields["birthday"].widget = DateInput()
        self.fields["notes"].widget.attrs["rows"] = 3
        province = self.data.get("province") or initial.get("province")
        city = self.data.get("city") or initial.get("city")
        self.fields["province"].queryset = Region.objects.filter(level=Region.Level.PROVINCE)
        self.fields["city"].queryset = Region.objects.filter(
            level=Region.Level.CITY, parent_id=province or "-"
        )
        self.fields["district"].queryset = Region.objects.filter(
            level=Region.Level.DISTRICT, parent_id=city or "-"
        )
        for name, target in (("province", "city"), ("city", "district")):
            self.fields[name].widget.attrs.update(
                {
                    "hx-get": f"/customers/regions/?child={target}",
                    "hx-target": f"#id_{target}",
                    "hx-trigger": "change",
                }
            )
        self.add_custom_fields(instance.custom if instance else None)

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in CUSTOMER_FORM_FIELDS}

    def tag_names(self) -> list[str]:
        return split_list(self.cleaned_data.get("tags"))


class ContactForm(CustomFieldsMixin, forms.Form):
    entity = CustomField.Entity.CONTACT

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, customer: Customer, instance: Contact | None = None, **kwargs):
        initial = kwargs.pop("initial", {}) or {}
        if instance is not None:
            for name in CONTACT_FORM_FIELDS:
                initial.setdefault(name, getattr(instance, Contact._meta.get_field(name).attname))
            initial["version"] = instance.version
        super().__init__(*args, initial=initial, **kwargs)
        model_fields = fields_for_model(Contact, fields=CONTACT_FORM_FIELDS)
        for name in CONTACT_FORM_FIELDS:
            self.fields[name] = model_fields[name]
        self.order_fields(["version", *CONTACT_FORM_FIELDS])
        others = Contact.objects.filter(customer=customer)
        if instance is not None:
            others = others.exclude(pk=instance.pk)
        self.fields["reports_to"].queryset = others
        self.fields["birthday"].widget = DateInput()
        self.fields["notes"].widget.attrs["rows"] = 2
        self.add_custom_fields(instance.custom if instance else None)

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in CONTACT_FORM_FIELDS}


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("New owner"), queryset=None)
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class MergeForm(forms.Form):
    survivor = forms.IntegerField(label=_("Keep customer No."), min_value=1)
    merged = forms.IntegerField(label=_("Merge customer No. into it"), min_value=1)


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    query = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)
