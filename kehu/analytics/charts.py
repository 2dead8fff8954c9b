"""ECharts options built on the server: the page embeds them as JSON (`json_script`) and `kehu/charts.js`
draws them, offering the picture as PNG. A data point with a `link` opens it (the customer list filtered to
exactly those customers) when clicked."""

from dataclasses import dataclass, field
from operator import itemgetter
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

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


def pareto_chart(shares: list[tuple[int, float]], groups: int) -> Chart | None:
    """Sales share of each of `groups` equal groups of all buyers, richest first, with the cumulative share."""
    if not shares:
        return None
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


def _customers_link(segment: str) -> str:
    return f"{reverse('customers:list')}?{urlencode({'segment': segment})}"


def products_chart(rows: list, top: int = 30) -> Chart | None:
    """Sales of the best-selling products with the cumulative share of all sales; a bar opens their buyers."""
    if not rows:
        return None
    shown = rows[:top]
    sales, total = pgettext("amount", "Sales"), _("Cumulative share")
    option = {
        **_frame([sales, total], [row.label for row in shown], "", right=48),
        "yAxis": [{"type": "value", "name": sales}, {"type": "value", "name": "%", "max": 100}],
        "series": [
            {
                "name": sales,
                "type": "bar",
                "data": [{"value": float(row.sales), "link": _customers_link(row.key)} for row in shown],
            },
            {
                "name": total,
                "type": "line",
                "yAxisIndex": 1,
                "data": [round(100 * row.cumulative, 1) for row in shown],
            },
        ],
    }
    option["xAxis"]["axisLabel"] = {"rotate": 30}
    option["grid"]["bottom"] = 96
    table = [
        [_("Product"), sales, _("Share of sales"), total, _("Quantity"), _("Orders"), "ABC"],
        *[
            [
                row.label,
                float(row.sales),
                round(100 * row.share, 2),
                round(100 * row.cumulative, 2),
                float(row.quantity),
                row.orders,
                row.abc,
            ]
            for row in rows
        ],
    ]
    return Chart(
        name="products", title=_("Product sales composition"), option=option, table=table, height=380
    )


def monthly_chart(months: dict) -> Chart | None:
    """Sales per month; a bar opens the customers who bought in that month."""
    if not months:
        return None
    sales, customers = pgettext("amount", "Sales"), _("Buying customers")
    keys = sorted(months)
    option = {
        **_frame([sales, customers], [f"{m:%Y-%m}" for m in keys], "", right=56),
        "yAxis": [{"type": "value", "name": sales}, {"type": "value", "name": customers}],
        "series": [
            {
                "name": sales,
                "type": "bar",
                "data": [
                    {"value": float(months[m]["sales"] or 0), "link": _customers_link(f"month:{m}")}
                    for m in keys
                ],
            },
            {
                "name": customers,
                "type": "line",
                "yAxisIndex": 1,
                "data": [
                    {"value": months[m]["customers"], "link": _customers_link(f"month:{m}")} for m in keys
                ],
            },
        ],
    }
    table = [
        [_("Month"), sales, _("Purchases"), customers],
        *[
            [f"{m:%Y-%m}", float(months[m]["sales"] or 0), months[m]["orders"], months[m]["customers"]]
            for m in keys
        ],
    ]
    return Chart(name="months", title=_("Sales per month"), option=option, table=table)


def seasonal_chart(seasonal) -> Chart | None:
    """Each calendar month's seasonal index (100 = an average month), and the target it is given."""
    if not seasonal.enough:
        return None
    labels = [str(MONTHS[m]) for m, *_rest in seasonal.table]
    index, target = _("Seasonal index (%)"), _("Monthly target")
    series = [
        {"name": index, "type": "bar", "data": [round(100 * row[3], 1) for row in seasonal.table]},
    ]
    axes = [{"type": "value", "name": "%"}]
    if seasonal.target is not None:
        series.append(
            {
                "name": target,
                "type": "line",
                "yAxisIndex": 1,
                "data": [float(row[4]) for row in seasonal.table],
            }
        )
        axes.append({"type": "value", "name": target})
    option = {**_frame([s["name"] for s in series], labels, "", right=72), "yAxis": axes, "series": series}
    years = [f"{start:%Y-%m} – {end:%Y-%m}" for start, end in seasonal.years]
    table = [
        [_("Month"), *years, _("Monthly average"), index, target],
        *[
            [
                labels[i],
                *[round(value, 2) for value in row[1]],
                round(row[2], 2),
                round(100 * row[3], 1),
                float(row[4]) if row[4] is not None else "",
            ]
            for i, row in enumerate(seasonal.table)
        ],
    ]
    return Chart(name="seasonal", title=_("Seasonal index"), option=option, table=table)


def cohort_chart(rows: list) -> Chart | None:
    """First-purchase months down, months since across: the share of the cohort who bought that month. A cell
    opens exactly those customers."""
    if not rows:
        return None
    span = max(len(row.cells) for row in rows)
    months = [f"{row.cohort:%Y-%m}" for row in rows]
    data = [
        {"value": [k, y, round(100 * share, 1), n], "link": _customers_link(key)}
        for y, row in enumerate(rows)
        for k, n, share, key in row.cells
        if n
    ]
    option = {
        "tooltip": {"position": "top"},
        "grid": {"left": 72, "right": 24, "bottom": 96, "top": 24},
        "xAxis": {
            "type": "category",
            "data": [str(k) for k in range(span)],
            "name": _("Months after the first purchase"),
            "nameLocation": "middle",
            "nameGap": 28,
            "splitArea": {"show": True},
        },
        "yAxis": {"type": "category", "data": months, "inverse": True, "splitArea": {"show": True}},
        "visualMap": {
            "min": 0,
            "max": 100,
            "calculable": False,
            "itemHeight": 120,
            "orient": "horizontal",
            "left": "center",
            "bottom": 0,
            "text": ["100%", "0%"],
        },
        "series": [{"name": _("Bought (%)"), "type": "heatmap", "data": data, "label": {"show": True}}],
    }
    table = [
        [_("First purchase month"), _("Customers"), *[str(k) for k in range(span)]],
        *[
            [f"{row.cohort:%Y-%m}", row.size, *[n for _k, n, _s, _key in row.cells]]
            + [""] * (span - len(row.cells))
            for row in rows
        ],
    ]
    return Chart(
        name="cohorts",
        title=_("Cohort retention"),
        option=option,
        table=table,
        height=max(320, 40 + 28 * len(rows)),
    )


def migration_chart(start, end, matrix: list) -> Chart | None:
    """Flows of customers from their class in one month to their class in another (Sankey); a flow opens them."""
    if start == end:
        return None
    flows = [(value, label, to, n) for value, label, cells in matrix for to, n in cells if n]
    if not flows:
        return None
    labels = {value: label for value, label, _cells in matrix}
    left = {value: f"{label} · {start:%Y-%m}" for value, label in labels.items()}
    right = {value: f"{label} · {end:%Y-%m}" for value, label in labels.items()}
    used_left = {value for value, _l, _t, _n in flows}
    used_right = {to for _v, _l, to, _n in flows}
    option = {
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "type": "sankey",
                "left": 8,
                "right": 200,
                "emphasis": {"focus": "adjacency"},
                "data": [{"name": left[v]} for v in labels if v in used_left]
                + [{"name": right[v]} for v in labels if v in used_right],
                "links": [
                    {
                        "source": left[value],
                        "target": right[to],
                        "value": n,
                        "link": _customers_link(f"moved:{start}:{value}:{end}:{to}"),
                    }
                    for value, _label, to, n in flows
                ],
            }
        ],
    }
    table = [[_("From"), _("To"), _("Customers")], *[[left[v], right[t], n] for v, _l, t, n in flows]]
    return Chart(name="migration", title=_("Segment migration"), option=option, table=table, height=480)


def service_chart(rows: list, by: str) -> Chart | None:
    """Per agent or team: service-level compliance and the share of fully satisfied ratings (bars), and the
    median hours to first response (line)."""
    if not rows:
        return None
    shown = rows[:30]
    met, full, hours = _("SLA compliance (%)"), _("Fully satisfied (%)"), _("First response, median (h)")
    option = {
        **_frame([met, full, hours], [row.label for row in shown], "", right=56),
        "yAxis": [{"type": "value", "name": "%", "max": 100}, {"type": "value", "name": _("hours")}],
        "series": [
            {"name": met, "type": "bar", "data": [row.compliance for row in shown]},
            {"name": full, "type": "bar", "data": [row.fully_satisfied for row in shown]},
            {
                "name": hours,
                "type": "line",
                "yAxisIndex": 1,
                "data": [row.first_response_median for row in shown],
            },
        ],
    }
    option["xAxis"]["axisLabel"] = {"rotate": 30}
    option["grid"]["bottom"] = 96
    table = [
        [
            {"agent": _("Agent"), "team": _("Team")}.get(by, _("Category")),
            _("Tickets"),
            _("Resolved"),
            _("First response, median (h)"),
            _("First response, p90 (h)"),
            _("Resolution, median (h)"),
            _("Resolution, p90 (h)"),
            met,
            _("Reopen rate (%)"),
            _("Average rating"),
            full,
            _("Ratings"),
            _("Escalations"),
        ],
        *[
            [
                row.label,
                row.handled,
                row.resolved,
                row.first_response_median,
                row.first_response_p90,
                row.resolution_median,
                row.resolution_p90,
                row.compliance,
                row.reopen_rate,
                row.satisfaction,
                row.fully_satisfied,
                len(row.scores),
                row.escalations,
            ]
            for row in rows
        ],
    ]
    return Chart(name="service", title=_("Service quality"), option=option, table=table, height=360)
