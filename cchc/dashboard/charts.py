"""The dashboard's charts: plotly figures rendered as HTML fragments without plotly.js (the page
inlines it once).

Figures are plotly's figure dictionaries (``{"data": [...], "layout": {...}}``) rendered by
``plotly.io.to_html`` without validation: building ``plotly.graph_objects`` with a named
template costs about a second per publish, the dictionaries a few milliseconds. The layout sets
what a template would (white background, grid, fonts), so the figures stand alone.

Plotly's JSON encoder escapes ``<``, ``>`` and ``/`` inside the page's ``<script>``; on top of
that, text from the data (unit names) is HTML-escaped before plotly sees it, because plotly
draws a few HTML-like tags in labels (``<b>``, ``<a href>``) and decodes entities, so an escaped
name is shown as it was written and never becomes a tag or a link.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

Figure = dict[str, Any]

FONT_STACK = ('system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", '
              "Arial, sans-serif")
TOTAL_NAME = "Tổng cộng"
INK = "#1f2937"
GRID = "#e5e7eb"
GOOD_COLOR = "#15803d"
SHORT_COLOR = "#d97706"
NO_TARGET_COLOR = "#9ca3af"
TARGET_COLOR = "#b91c1c"
# Colour-blind-safe qualitative colours (plotly's "Safe", then "Vivid"), one per unit.
UNIT_COLORS = ("#88CCEE", "#CC6677", "#DDCC77", "#117733", "#332288", "#AA4499", "#44AA99",
               "#999933", "#882255", "#661100", "#6699CC", "#888888", "#E58606", "#5D69B1",
               "#52BCA3", "#99C945", "#CC61B0", "#24796C", "#DAA51B", "#2F8AC4")  # fmt: skip
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}


@dataclass(frozen=True)
class Chart:
    """One chart of the page: its div id, heading, a sentence on how to read it, the HTML."""

    chart_id: str
    title: str
    note: str
    html: str
    half: bool = False  # drawn beside the next half-width chart


def plot_text(value: object) -> str:
    """Data text as plotly must receive it: HTML-escaped (plotly decodes the entities)."""
    return html.escape("" if value is None else str(value), quote=True)


@cache
def plotly_js() -> str:
    """plotly.js, the whole library, to inline once in the page (no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _axis(**extra: Any) -> dict[str, Any]:
    return {"gridcolor": GRID, "linecolor": GRID, "zerolinecolor": GRID, "automargin": True,
            **extra}


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    return {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"family": FONT_STACK, "size": 12, "color": INK},
        "separators": ",.",  # Vietnamese: decimal comma, thousands dot
        "hoverlabel": {"font": {"family": FONT_STACK}},
        "hovermode": "closest",
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0,
                   "traceorder": "normal", "font": {"size": 11}},
        **extra,
    }


def _render(fig: Figure, chart_id: str) -> str:
    import plotly.io as pio

    return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=chart_id,
                       config=PLOTLY_CONFIG, validate=False)


def _units(monthly: pl.DataFrame) -> list[tuple[str, str, str]]:
    """(code, name, colour) of the units in the trend frame: the district (3-digit code) first,
    then by code, so a unit keeps its colour in every chart."""
    pairs = monthly.select("unit_code", "unit_name").unique().rows()
    pairs = sorted(pairs, key=lambda p: (len(p[0]) > 3, p[0]))
    return [(code, name, UNIT_COLORS[i % len(UNIT_COLORS)]) for i, (code, name) in enumerate(pairs)]


def _months(frame: pl.DataFrame) -> list[str]:
    return [f"{m:%Y-%m-%d}" for m in frame["month"]]


def received_chart(monthly: pl.DataFrame) -> Chart:
    """Dossiers received per month, stacked by unit."""
    data = []
    for code, name, color in _units(monthly):
        rows = monthly.filter(pl.col("unit_code") == code).sort("month")
        data.append({"type": "bar", "x": _months(rows), "y": rows["received"].to_list(),
                     "name": plot_text(name), "marker": {"color": color},
                     "hovertemplate": "%{x|%m/%Y}: %{y:,} hồ sơ<extra>" + plot_text(name)
                     + "</extra>"})
    layout = _layout(400, barmode="stack", bargap=0.15,
                     xaxis=_axis(type="date", tickformat="%m/%Y", dtick="M1", tickangle=-45),
                     yaxis=_axis(title={"text": "Hồ sơ tiếp nhận"}, tickformat=",d"))
    return Chart("chart-received", "Hồ sơ tiếp nhận theo tháng",
                 "Mỗi cột là một tháng, chia theo đơn vị; bấm tên đơn vị ở chú giải để ẩn/hiện.",
                 _render({"data": data, "layout": layout}, "chart-received"))


def _ratios(numerator: pl.Series, denominator: pl.Series) -> list[float | None]:
    return [n / d if d else None for n, d in zip(numerator, denominator, strict=True)]


def _rate_trend(monthly: pl.DataFrame, chart_id: str, title: str, note: str,
                numerator: str, denominator: pl.Expr, axis_title: str) -> Chart:
    """One thin line per unit, the total bold, of ``numerator`` / ``denominator`` by month."""
    frame = monthly.with_columns(denominator.alias("_den"))
    total = frame.group_by("month").agg(pl.col(numerator).sum(), pl.col("_den").sum()).sort("month")
    data = []
    for code, name, color in _units(frame):
        rows = frame.filter(pl.col("unit_code") == code).sort("month")
        data.append({"type": "scatter", "mode": "lines", "x": _months(rows),
                     "y": _ratios(rows[numerator], rows["_den"]), "name": plot_text(name),
                     "line": {"width": 1.2, "color": color}, "opacity": 0.45,
                     "hovertemplate": "%{x|%m/%Y}: %{y:.1%}<extra>" + plot_text(name)
                     + "</extra>"})
    data.append({"type": "scatter", "mode": "lines+markers", "x": _months(total),
                 "y": _ratios(total[numerator], total["_den"]), "name": TOTAL_NAME,
                 "line": {"width": 3.5, "color": INK}, "marker": {"size": 5},
                 "hovertemplate": "%{x|%m/%Y}: %{y:.2%}<extra>" + TOTAL_NAME + "</extra>"})
    layout = _layout(420, xaxis=_axis(type="date", tickformat="%m/%Y", dtick="M3", tickangle=-45),
                     yaxis=_axis(title={"text": axis_title}, tickformat=".1%"),
                     legend={"orientation": "v", "x": 1.01, "y": 1, "yanchor": "top",
                             "font": {"size": 10}, "tracegroupgap": 0})
    return Chart(chart_id, title, note, _render({"data": data, "layout": layout}, chart_id),
                 half=True)


def on_time_chart(monthly: pl.DataFrame) -> Chart:
    return _rate_trend(
        monthly, "chart-on-time", "Tỷ lệ giải quyết đúng hạn theo tháng",
        "Hồ sơ giải quyết trước hạn và đúng hạn / hồ sơ đã giải quyết trong tháng (cột 8, 9 "
        "và 7 của biểu 06). Đường đậm: tổng cộng.",
        "on_time_numerator", pl.col("on_time_denominator"), "Đúng hạn")


def online_chart(monthly: pl.DataFrame) -> Chart:
    return _rate_trend(
        monthly, "chart-online", "Tỷ lệ hồ sơ trực tuyến theo tháng",
        "Hồ sơ nộp trực tuyến / hồ sơ tiếp nhận trong tháng (trực tuyến, trực tiếp và bưu "
        "chính). Đường đậm: tổng cộng.",
        "online_numerator", pl.col("online_denominator"), "Trực tuyến")


def targeted_indicators() -> list[tuple[str, str]]:
    """(key, Vietnamese label) of every indicator with a national target, in the indicators'
    order (``warehouse.targets`` declares the targets once)."""
    from warehouse.indicators import INDICATORS
    from warehouse.targets import TARGETS

    keys = {t.indicator for t in TARGETS}
    return [(i.key, i.label) for i in INDICATORS if i.key in keys]


def _target_caption(unit_rates: pl.DataFrame, key: str) -> str:
    values = sorted({v for v in unit_rates[f"{key}_target"].to_list() if v is not None})
    return "chỉ tiêu " + " / ".join(f"{v:.0%}" for v in values) if values else "không có chỉ tiêu"


def _percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}".replace(".", ",")


def targets_chart(unit_rates: pl.DataFrame, period_label: str) -> Chart:
    """Each unit's rate beside its national target: one panel per targeted indicator, a bar per
    unit (green when it meets the target, orange when not), the target as a red tick on each
    bar's row (targets may differ by level: district and commune)."""
    indicators = targeted_indicators()
    names = [plot_text(n) for n in unit_rates["name"].to_list()]
    gap, n = 0.03, len(indicators)
    width = (1 - gap * (n - 1)) / n
    data, layout = [], _layout(100 + 26 * max(unit_rates.height, 1), bargap=0.3,
                               margin={"l": 10, "r": 10, "t": 56, "b": 10}, showlegend=False,
                               yaxis=_axis(autorange="reversed", type="category"), annotations=[])
    for i, (key, label) in enumerate(indicators):
        axis = "x" if i == 0 else f"x{i + 1}"
        left = i * (width + gap)
        values, meets = unit_rates[f"{key}_rate"].to_list(), unit_rates[f"{key}_meets"].to_list()
        data.append({
            "type": "bar", "orientation": "h", "x": values, "y": names, "xaxis": axis,
            "yaxis": "y", "text": [_percent_text(v) for v in values], "textposition": "outside",
            "cliponaxis": False,
            "marker": {"color": [GOOD_COLOR if m else SHORT_COLOR if m is False
                                 else NO_TARGET_COLOR for m in meets]},
            "hovertemplate": "%{y}: %{x:.1%}<extra>" + label + "</extra>"})
        data.append({
            "type": "scatter", "mode": "markers", "x": unit_rates[f"{key}_target"].to_list(),
            "y": names, "xaxis": axis, "yaxis": "y",
            "marker": {"symbol": "line-ns", "size": 18,
                       "line": {"width": 3, "color": TARGET_COLOR}},
            "hovertemplate": "chỉ tiêu %{x:.0%}<extra></extra>"})
        layout["xaxis" if i == 0 else f"xaxis{i + 1}"] = _axis(
            domain=[left, left + width], range=[0, 1.22], tickformat=".0%", dtick=0.25,
            anchor="y")
        layout["annotations"].append({
            "text": f"{label}<br>({_target_caption(unit_rates, key)})", "showarrow": False,
            "xref": "paper", "yref": "paper", "x": left + width / 2, "y": 1.0,
            "xanchor": "center", "yanchor": "bottom", "font": {"size": 12}})
    return Chart("chart-targets", f"So với chỉ tiêu quốc gia — {period_label}",
                 "Thanh xanh: đạt chỉ tiêu; thanh cam: chưa đạt; vạch đỏ: chỉ tiêu năm 2025 "
                 "(Quyết định 766/QĐ-TTg; văn bản điện tử: cấp huyện 80 %, cấp xã 60 %).",
                 _render({"data": data, "layout": layout}, "chart-targets"))


def chart_rows(charts: list[Chart]) -> list[list[Chart]]:
    """Charts grouped into the page's rows: consecutive half-width charts two by two."""
    rows: list[list[Chart]] = []
    for chart in charts:
        if chart.half and rows and len(rows[-1]) == 1 and rows[-1][0].half:
            rows[-1].append(chart)
        else:
            rows.append([chart])
    return rows


def build_charts(monthly: pl.DataFrame, unit_rates: pl.DataFrame,
                 period_label: str | None) -> list[Chart]:
    """Every chart there is data for (none on an empty warehouse)."""
    charts = []
    if monthly.height:
        charts += [received_chart(monthly), on_time_chart(monthly), online_chart(monthly)]
    if unit_rates.height and period_label:
        charts.append(targets_chart(unit_rates, period_label))
    return charts
