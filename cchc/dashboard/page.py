"""Render the dashboard page from ``template.html.j2`` with an auto-escaping Jinja environment.

Every value from the data goes through Jinja's HTML escaping (``autoescape=True``); the only
unescaped inserts are plotly.js itself and the chart fragments plotly renders (whose JSON is
escaped by plotly and whose data text is escaped by ``charts.plot_text``). Numbers and dates are
written the Vietnamese way: ``87.221``, ``98,5 %``, ``01/12/2026 07:05``.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cchc.config import LOCAL_TZ

if TYPE_CHECKING:
    import jinja2

    from cchc.dashboard.data import DashboardData

TEMPLATE = "template.html.j2"
PAGE_TITLE = "Cải cách thủ tục hành chính"
DASH = "—"
# The page fetches nothing: its inline script (plotly.js and the charts) and styles only.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; "
                           "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
                           "connect-src 'none'; base-uri 'none'; form-action 'none'")

SYSTEM_LABELS = {"onestop": "Một cửa / dịch vụ công", "eoffice": "Quản lý văn bản"}
LOAD_KINDS = {"pull": "Kéo qua API", "file": "Tệp xuất"}
LOAD_STATUSES = {
    "succeeded": ("Thành công", "good"), "recovered": ("Đã khôi phục", "good"),
    "running": ("Đang chạy", "muted"), "skipped": ("Bỏ qua (đã nạp)", "muted"),
    "rejected": ("Bị từ chối", "bad"), "failed": ("Lỗi", "bad"),
    "interrupted": ("Bị ngắt", "warn"),
}  # fmt: skip
SEVERITIES = {"critical": "Nghiêm trọng", "warning": "Cảnh báo", "info": "Thông tin"}
ALERT_KINDS = {
    "gate_failed": "Lô dữ liệu bị chặn", "load_failed": "Nạp lỗi",
    "pull_failed": "Kéo dữ liệu lỗi", "flow_failed": "Tác vụ lỗi",
    "quarantine": "Dòng bị cách ly", "quarantine_spike": "Cách ly tăng đột biến",
    "warnings": "Dòng có cảnh báo", "row_warnings": "Dòng có cảnh báo",
    "stale_source": "Nguồn không cập nhật", "secret_leak": "Văn bản mật bị lộ trường",
    "reconciliation_difference": "Lệch với số liệu công bố",
    "moved_due_date": "Ngày hẹn trả bị dời",
}  # fmt: skip


def number(value: object) -> str:
    """``87221`` -> ``87.221``; floats keep one decimal (``1,5``); None -> a dash."""
    if value is None:
        return DASH
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{int(value):,}".replace(",", ".")


def percent(value: float | None, digits: int = 1) -> str:
    """``0.98523`` -> ``98,5 %``; None (no denominator) -> a dash."""
    if value is None:
        return DASH
    return f"{value * 100:.{digits}f}".replace(".", ",") + " %"


def local_time(value: datetime | None) -> str:
    """An instant as local (Asia/Ho_Chi_Minh) ``dd/mm/yyyy HH:MM``."""
    if value is None:
        return DASH
    if value.tzinfo is not None:
        value = value.astimezone(ZoneInfo(LOCAL_TZ))
    return f"{value:%d/%m/%Y %H:%M}"


def day(value: date | None) -> str:
    return DASH if value is None else f"{value:%d/%m/%Y}"


def ago(hours: float | None) -> str:
    """How long ago, in Vietnamese: ``vừa xong``, ``5 phút trước``, ``3 giờ trước``,
    ``2 ngày trước``."""
    if hours is None:
        return DASH
    if hours < 1 / 60:
        return "vừa xong"
    if hours < 1:
        return f"{int(hours * 60)} phút trước"
    if hours < 48:
        return f"{int(hours)} giờ trước"
    return f"{int(hours // 24)} ngày trước"


def seconds(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f} s".replace(".", ",")


def text(value: object) -> str:
    """Data text (None shows a dash); escaping is the environment's."""
    return DASH if value is None or value == "" else str(value)


def _label(labels: dict[str, str]):
    return lambda value: labels.get(value, text(value)) if isinstance(value, str) else text(value)


@cache
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=number, pct=percent, dt=local_time, day=day, ago=ago, seconds=seconds, text=text,
        system=_label(SYSTEM_LABELS), load_kind=_label(LOAD_KINDS),
        load_status=_label({k: v[0] for k, v in LOAD_STATUSES.items()}),
        status_class=lambda s: LOAD_STATUSES.get(s, ("", "muted"))[1],
        severity=_label(SEVERITIES), alert_kind=_label(ALERT_KINDS),
        verdict=lambda meets: {True: "good", False: "warn"}.get(meets, ""),
        severity_class=lambda s: {"critical": "bad", "warning": "warn"}.get(s, "muted"),
    )
    return env


def page_title(area_name: str | None) -> str:
    return f"{PAGE_TITLE} — {area_name}" if area_name else PAGE_TITLE


def render_page(data: DashboardData | None, *, message: str | None = None,
                snapshot: Path | None = None, generated_at: datetime | None = None) -> str:
    """The whole page. ``data`` None (nothing published yet) renders the frame with
    ``message``; a page with data and no rows renders every section saying it is empty."""
    from cchc.dashboard.charts import build_charts, chart_rows, plotly_js
    from cchc.dashboard.data import local_now

    charts = []
    if data is not None:
        period = data.headlines[0].period.label if data.headlines else None
        charts = build_charts(data.monthly, data.unit_rates, period)
    return environment().get_template(TEMPLATE).render(
        title=page_title(data.area_name if data else None),
        data=data,
        message=message,
        charts=charts,
        chart_rows=chart_rows(charts),
        plotly_js=plotly_js() if charts else "",
        snapshot=snapshot,
        csp=CONTENT_SECURITY_POLICY,
        generated_at=generated_at or (data.generated_at if data else local_now()),
    )
