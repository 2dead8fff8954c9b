"""ECharts options built on the server: the page embeds them as JSON (`json_script`) and `analytics/charts.js`
draws them, offering the picture as PNG. A data point with a `link` opens it (the customer list filtered to
exactly those customers) when clicked."""

from dataclasses import dataclass, field
from operator import itemgetter
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.analytics.models import ValueModel
from kehu.core.exports import ExportColumn, export_format, export_response


@dataclass
class Chart:
    name: str  # the element id, unique on the page
    title: str
    option: dict
    height: int = 320
    table: list = field(default_factory=list)  # header first: what the CSV/XLSX download holds

    @property
    def option_id(self) -> str:
        return f"{self.name}-option"


def _frame(series: list, labels: list, axis_name: str, *, right: int) -> dict:
    """Tooltip, legend on top, and a category axis named below its labels."""
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": series, "top": 0, "left": "center"},
        "grid": {"left": 56, "right": right, "bottom": 48, "top": 48},
        "xAxis": {
            "type": "category",
            "data": labels,
            "name": axis_name,
            "nameLocation": "middle",
            "nameGap": 28,
        },
    }


def holdout_chart(model: ValueModel) -> Chart | None:
    """Average purchases in the held-out days, as predicted and as made, per repeat purchases before them."""
    rows = model.holdout.get("rows") if model.holdout else None
    if not rows:
        return None
    labels = [f"{k}+" if k == rows[-1][0] and k >= 7 else str(k) for k, *_rest in rows]
    predicted, actual = _("Predicted"), _("Actual")
    option = {
        **_frame([predicted, actual], labels, _("Repeat purchases before the cut-off"), right=24),
        "yAxis": {"type": "value", "name": _("Purchases per customer")},
        "series": [
            {"name": predicted, "type": "line", "data": [row[3] for row in rows], "smooth": False},
            {"name": actual, "type": "bar", "data": [row[2] for row in rows]},
        ],
    }
    table = [[_("Repeat purchases before the cut-off"), _("Customers"), actual, predicted], *rows]
    return Chart(name=f"holdout-{model.pk}", title=_("Check on held-out days"), option=option, table=table)


def download(request, charts: list) -> object | None:
    """`?download=<chart>&format=csv|xlsx`: the chart's data as a file (audited like every export), else None."""
    name = request.GET.get("download")
    chart = next((c for c in charts if c and c.name == name), None)
    if chart is None or not chart.table:
        return None
    fmt = export_format(request.GET)
    header, *rows = chart.table
    columns = [ExportColumn(label=label, value=itemgetter(i)) for i, label in enumerate(header)]
    return export_response(
        actor=request.user,
        target=f"chart-{chart.name}",
        title=str(chart.title),
        columns=columns,
        rows=rows,
        fmt=fmt,
        filters={"chart": chart.name},
        masked=False,
    )


def pareto_chart(shares: list[tuple[int, float]]) -> Chart | None:
    """Sales share of each equal group of customers, richest first, with the cumulative share."""
    if not shares:
        return None
    groups = len(shares)
    labels = [f"{round(100 * bucket / groups)}%" for bucket, _share in shares]
    running, cumulative = 0.0, []
    for _bucket, share in shares:
        running += share
        cumulative.append(round(100 * running, 1))
    sales, total = _("Share of sales"), _("Cumulative share")
    option = {
        **_frame([sales, total], labels, _("Customers, biggest spenders first"), right=48),
        "yAxis": [{"type": "value", "name": "%"}, {"type": "value", "name": "%", "max": 100}],
        "series": [
            {"name": sales, "type": "bar", "data": [round(100 * share, 2) for _b, share in shares]},
            {"name": total, "type": "line", "yAxisIndex": 1, "data": cumulative, "showSymbol": False},
        ],
    }
    table = [
        [_("Customers, biggest spenders first"), sales, total],
        *[
            [label, round(100 * share, 2), c]
            for label, (_b, share), c in zip(labels, shares, cumulative, strict=True)
        ],
    ]
    return Chart(name="pareto", title=_("Pareto: customers and sales"), option=option, table=table)


def segments_chart(name: str, title: str, rows: list) -> Chart | None:
    """Customers per segment as bars; a bar opens the customer list of exactly those customers."""
    if not any(row.customers for row in rows):
        return None
    customers, sales = _("Customers"), _("Share of sales")
    option = {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [customers, sales], "top": 0, "left": "center"},
        "grid": {"left": 56, "right": 56, "bottom": 96, "top": 48},
        "xAxis": {"type": "category", "data": [row.label for row in rows], "axisLabel": {"rotate": 30}},
        "yAxis": [{"type": "value", "name": customers}, {"type": "value", "name": "%", "max": 100}],
        "series": [
            {
                "name": customers,
                "type": "bar",
                "data": [
                    {
                        "value": row.customers,
                        "link": f"{reverse('customers:list')}?{urlencode({'segment': row.key})}",
                    }
                    for row in rows
                ],
            },
            {
                "name": sales,
                "type": "line",
                "yAxisIndex": 1,
                "data": [round(100 * row.sales_share, 1) for row in rows],
            },
        ],
    }
    table = [
        [str(title), customers, sales],
        *[[row.label, row.customers, round(100 * row.sales_share, 1)] for row in rows],
    ]
    return Chart(name=name, title=title, option=option, table=table, height=360)
