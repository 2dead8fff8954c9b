"""ECharts options for the results and index pages, built on the server like the analytics charts: the page embeds
each as JSON (`json_script`) and `kehu/charts.js` draws it with a "save as PNG" button; `?download=<chart>&
format=csv|xlsx` gives its data (audited like every export)."""

from dataclasses import dataclass, field
from operator import itemgetter
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.core.exports import ExportColumn, export_format, export_response
from kehu.surveys.models import QuestionKind

NPS_COLOURS = {"detractors": "#dc3545", "passives": "#adb5bd", "promoters": "#198754"}


@dataclass
class Chart:
    name: str  # the element id, unique on the page
    title: str
    option: dict
    height: int = 280
    table: list = field(default_factory=list)  # header first: what the CSV/XLSX download holds

    @property
    def option_id(self) -> str:
        return f"{self.name}-option"


def download(request, charts: list) -> object | None:
    """`?download=<chart>&format=csv|xlsx`: the chart's data as a file, else None."""
    name = request.GET.get("download")
    chart = next((c for c in charts if c and c.name == name), None)
    if chart is None or not chart.table:
        return None
    header, *rows = chart.table
    return export_response(
        actor=request.user,
        target=f"chart-{chart.name}",
        title=str(chart.title),
        columns=[ExportColumn(label=label, value=itemgetter(i)) for i, label in enumerate(header)],
        rows=rows,
        fmt=export_format(request.GET),
        filters={"chart": chart.name},
        masked=False,
    )


def _nps_group(score: int) -> str:
    return "promoters" if score >= 9 else "passives" if score >= 7 else "detractors"


def question_chart(result, survey_id: int) -> Chart | None:
    """The distribution of a question's answers: horizontal bars for choices and scales (best first), the NPS
    scale 0–10 as columns coloured by group (each group opens its customers)."""
    question = result.question
    if not result.bars:
        return None
    count = _("Answers")
    labels = [bar.label for bar in result.bars]
    table = [[_("Answer"), count, "%"], *[[b.label, b.count, b.percent] for b in result.bars]]
    name = f"q-{question.code}".lower()
    title = f"{question.code} {question.shown_text}"
    if question.kind == QuestionKind.NPS:
        data = []
        for bar in result.bars:
            group = _nps_group(bar.value)
            segment = f"survey:{survey_id}:{group}"
            data.append(
                {
                    "value": bar.count,
                    "itemStyle": {"color": NPS_COLOURS[group]},
                    "link": f"{reverse('customers:list')}?{urlencode({'segment': segment})}",
                }
            )
        option = {
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 48, "right": 24, "bottom": 40, "top": 24},
            "xAxis": {"type": "category", "data": labels},
            "yAxis": {"type": "value", "name": count, "minInterval": 1},
            "series": [{"name": count, "type": "bar", "data": data}],
        }
        return Chart(name=name, title=title, option=option, table=table)
    option = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 8, "right": 48, "bottom": 24, "top": 8, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": labels, "inverse": True},
        "series": [
            {
                "name": count,
                "type": "bar",
                "data": [b.count for b in result.bars],
                "label": {"show": True, "position": "right", "formatter": "{c}"},
            }
        ],
    }
    height = max(140, 34 * len(labels) + 40)
    return Chart(name=name, title=title, option=option, table=table, height=height)


def trend_chart(rows: list) -> Chart | None:
    """The index and the fully-satisfied share per period (lines, 0–100), respondents as bars."""
    if not rows:
        return None
    index, top, respondents = _("Satisfaction index"), _("Fully satisfied (%)"), _("Respondents")
    labels = [row.label for row in rows]
    option = {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [index, top, respondents], "top": 0, "left": "center"},
        "grid": {"left": 56, "right": 56, "bottom": 40, "top": 48},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": [
            {"type": "value", "min": 0, "max": 100, "name": index},
            {"type": "value", "name": respondents, "minInterval": 1},
        ],
        "series": [
            {
                "name": respondents,
                "type": "bar",
                "yAxisIndex": 1,
                "data": [r.respondents for r in rows],
                "itemStyle": {"color": "#cfe2ff"},
            },
            {"name": index, "type": "line", "data": [r.score.index for r in rows], "label": {"show": True}},
            {"name": top, "type": "line", "data": [r.score.top_percent for r in rows]},
        ],
    }
    table = [
        [_("Period"), index, top, respondents],
        *[[r.label, r.score.index, r.score.top_percent, r.respondents] for r in rows],
    ]
    return Chart(
        name="index-trend", title=_("Satisfaction index by period"), option=option, table=table, height=340
    )


def indicators_chart(roots: list, overall) -> Chart | None:
    """The first-level indicators' indices as bars."""
    if overall is None or not roots:
        return None
    index = _("Index")
    labels = [node.name for node in roots]
    values = [overall.scores[node.id].index if node.id in overall.scores else None for node in roots]
    option = {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 48, "bottom": 24, "top": 8, "containLabel": True},
        "xAxis": {"type": "value", "min": 0, "max": 100},
        "yAxis": {"type": "category", "data": labels, "inverse": True},
        "series": [
            {"name": index, "type": "bar", "data": values, "label": {"show": True, "position": "right"}}
        ],
    }
    table = [[_("Indicator"), index], *[[label, value] for label, value in zip(labels, values, strict=True)]]
    return Chart(
        name="index-indicators",
        title=_("Index by first-level indicator"),
        option=option,
        table=table,
        height=max(160, 40 * len(labels) + 40),
    )
