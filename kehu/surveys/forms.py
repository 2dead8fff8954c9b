"""The builder's forms: the survey's texts, a section, a question (options one per line, "中文 | English"; skip
rules as rows `rule-N-op`, `rule-N-value`, `rule-N-goto`), the invitations, and the indicator tree as rows."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.surveys import logic
from kehu.surveys.models import Invitation, QuestionKind, Survey


class SurveyForm(forms.Form):
    title = forms.CharField(label=_("Title (Chinese)"), max_length=200)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    intro = forms.CharField(
        label=_("Introduction (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    intro_en = forms.CharField(
        label=_("Introduction (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    thanks = forms.CharField(
        label=_("Thank-you text (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    thanks_en = forms.CharField(
        label=_("Thank-you text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    anonymous_link = forms.BooleanField(label=_("Anyone with the public link may answer"), required=False)
    link_days = forms.IntegerField(label=_("Days a customer's link stays valid"), min_value=1, max_value=365)
    closes_at = forms.DateTimeField(
        label=_("Closes at (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    @classmethod
    def initial_of(cls, survey: Survey | None) -> dict:
        if survey is None:
            return {"anonymous_link": True, "link_days": 30}
        return {name: getattr(survey, name) for name in cls.base_fields}


class SectionForm(forms.Form):
    title = forms.CharField(label=_("Section title (Chinese)"), max_length=200, required=False)
    title_en = forms.CharField(label=_("Section title (English)"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    description_en = forms.CharField(
        label=_("Description (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=QuestionKind.choices)
    text = forms.CharField(label=_("Question (Chinese)"), max_length=500, required=False)
    text_en = forms.CharField(label=_("Question (English)"), max_length=500, required=False)
    required = forms.BooleanField(label=_("Required"), required=False, initial=True)
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One option per line, the English after a bar: 很好 | Very good"),
    )


def options_text(options: list[dict]) -> str:
    return "\n".join(
        f"{o.get('label', '')} | {o['label_en']}" if o.get("label_en") else o.get("label", "")
        for o in options
    )


def options_from(text: str, current: list[dict]) -> list[dict]:
    """Options from the text box, keeping the value of an option whose Chinese label stays (so answers and skip
    rules that name it keep their meaning)."""
    by_label = {o.get("label"): o.get("value") for o in current}
    taken = {o.get("value") for o in current}
    options = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        label, _bar, label_en = line.partition("|")
        label, label_en = label.strip(), label_en.strip()
        value = by_label.get(label)
        if value is None:
            value = next(f"o{n}" for n in range(1, 1000) if f"o{n}" not in taken)
            taken.add(value)
        options.append({"value": value, "label": label, "label_en": label_en})
    return options


def rules_from(post) -> list[dict]:
    """The skip rules as posted; a row without a target is no rule."""
    indexes = sorted(
        {int(k.split("-")[1]) for k in post if k.startswith("rule-") and k.split("-")[1].isdigit()}
    )
    rules = []
    for i in indexes:
        goto = post.get(f"rule-{i}-goto", "")
        if not goto:
            continue
        values = [v for v in post.getlist(f"rule-{i}-value") if v != ""]
        op = post.get(f"rule-{i}-op", "")
        rules.append(
            {
                "op": op,
                "value": values if op in ("in", "any") else (values[0] if values else ""),
                "goto": goto,
            }
        )
    return rules


class InviteForm(forms.Form):
    customer_ids = forms.CharField(
        label=_("Customer ids"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "1024, 1025, 1031"}),
        help_text=_("Separated by commas, spaces or new lines."),
    )
    segment = forms.CharField(
        label=_("Or a customer segment"),
        required=False,
        max_length=60,
        help_text=_("A segment key as the customer list takes it, e.g. segment:12 or rfm_group:champions."),
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Invitation.Channel.choices, initial=Invitation.Channel.LINK
    )
    source = forms.CharField(
        label=_("Source of the invitations"),
        required=False,
        max_length=500,
        help_text=_("A campaign, an event … (free text, kept with each invitation)."),
    )

    def clean_customer_ids(self):
        raw = self.cleaned_data["customer_ids"].replace(",", " ").replace("，", " ").split()
        if not all(part.isdigit() for part in raw):
            raise forms.ValidationError(_("Customer ids are numbers."))
        return [int(part) for part in raw]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("customer_ids") and not cleaned.get("segment"):
            raise forms.ValidationError(_("Give customer ids or a segment."))
        return cleaned


def indicator_rows_from(post) -> list[dict]:
    """The tree as posted: rows `ind-N-name`, `ind-N-name_en`, `ind-N-weight`, `ind-N-parent` (the row number of
    its first-level indicator, empty for one) and `ind-N-questions` (codes). Rows without a name and weight are
    blank rows and skipped."""
    indexes = sorted(
        {int(k.split("-")[1]) for k in post if k.startswith("ind-") and k.split("-")[1].isdigit()}
    )
    rows = []
    for i in indexes:
        row = {
            "row": i,
            "name": post.get(f"ind-{i}-name", "").strip(),
            "name_en": post.get(f"ind-{i}-name_en", "").strip(),
            "weight": post.get(f"ind-{i}-weight", "").strip(),
            "parent": post.get(f"ind-{i}-parent", "").strip(),
            "questions": post.getlist(f"ind-{i}-questions"),
        }
        if row["name"] or row["name_en"] or row["weight"] or row["questions"]:
            rows.append(row)
    return rows


def tree_from_rows(rows: list[dict]) -> list[dict]:
    """Rows → the tree `services.indicators_set` takes; a row whose parent is no first-level row is first-level."""
    firsts = {row["row"]: {**row, "children": []} for row in rows if not row["parent"]}
    tree = list(firsts.values())
    for row in rows:
        if row["parent"]:
            parent = firsts.get(int(row["parent"])) if row["parent"].isdigit() else None
            if parent is None:
                tree.append({**row, "children": []})
            else:
                parent["children"].append(row)

    def plain(node):
        shown = {k: node[k] for k in ("name", "name_en", "weight", "questions")}
        if node.get("children"):
            shown["children"] = [plain(child) for child in node["children"]]
        return shown

    return [plain(node) for node in tree]


def rows_from_tree(tree: list[dict]) -> list[dict]:
    rows = []
    for node in tree:
        parent_row = len(rows)
        rows.append({**node, "row": parent_row, "parent": "", "weight": str(node["weight"])})
        for child in node.get("children", []):
            rows.append(
                {**child, "row": len(rows), "parent": str(parent_row), "weight": str(child["weight"])}
            )
    return rows


SCALE_CHOICES = {kind: list(range(low, high + 1)) for kind, (low, high) in logic.SCALE_RANGE.items()}
