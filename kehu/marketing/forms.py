"""The segment form and the builder's conditions as posted: rows of `field-N`, `op-N`, `value-N`, `value2-N`,
turned into a rule tree (and back, to show a saved segment)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.marketing import segments

EMPTY_ROW = {"field": "", "op": "", "value": [], "value2": ""}


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


def rows_from(post) -> tuple[str, list[dict]]:
    """The builder's conditions as posted (`field-N`, `op-N`, `value-N`, `value2-N`), one list of rows."""
    indexes = sorted(
        {int(k.split("-")[1]) for k in post if k.startswith("field-") and k.split("-")[1].isdigit()}
    )
    rows = [
        {
            "field": post.get(f"field-{i}", ""),
            "op": post.get(f"op-{i}", ""),
            "value": post.getlist(f"value-{i}"),
            "value2": post.get(f"value2-{i}", ""),
        }
        for i in indexes
    ]
    if post.get("remove", "").isdigit() and int(post["remove"]) < len(rows):
        del rows[int(post["remove"])]
    if post.get("add"):
        rows.append(dict(EMPTY_ROW))
    return post.get("match", "all"), rows


def rules_of(match: str, rows: list[dict], fields) -> tuple[dict, int]:
    """The rules of the complete rows, and how many rows still lack a field or a value."""
    rules, incomplete = [], 0
    for row in rows:
        field = fields.get(row["field"])
        if field is None:
            incomplete += 1
            continue
        op = row["op"] if row["op"] in segments.OPS[field.type] else segments.OPS[field.type][0]
        values = [v for v in row["value"] if v != ""]
        if op not in segments.NO_VALUE and not values:
            incomplete += 1
            continue
        if op == "between":
            value = [values[0] if values else "", row["value2"]]
        elif field.type in ("choice", "tags"):
            value = values
        else:
            value = values[0] if values else ""
        rules.append({"field": field.key, "op": op, "value": value})
    return {"match": match if match in ("all", "any") else "all", "rules": rules}, incomplete


def rows_of(rules: dict) -> list[dict]:
    rows = []
    for rule in rules.get("rules", []):
        value = rule.get("value")
        first = value[0] if isinstance(value, list) and rule["op"] == "between" else value
        rows.append(
            {
                "field": rule["field"],
                "op": rule["op"],
                "value": [str(v) for v in value]
                if isinstance(value, list) and rule["op"] != "between"
                else [str(first or "")],
                "value2": str(value[1]) if rule["op"] == "between" else "",
            }
        )
    return rows
