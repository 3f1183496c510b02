"""The findings cchc's own checks report (``warehouse.alerts.Finding``), worded once.

Every message names the system, the load or period, the figures and what to do, in Vietnamese
(what an official reads) and in English. The quarantine-spike rule lives here too: it compares
one load with that system's recent loads.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from warehouse.alerts import Finding

# What officials call the systems (English: the spec's title).
SYSTEM_NAMES_VI = {
    "onestop": "Hệ thống thông tin giải quyết thủ tục hành chính (một cửa)",
    "eoffice": "Hệ thống quản lý văn bản và điều hành",
}
SYSTEM_NAMES_EN = {
    "onestop": "one-stop / public-service system",
    "eoffice": "e-document management system",
}


def name_vi(system: str | None) -> str:
    if system is None:
        return "cchc"
    return f"{SYSTEM_NAMES_VI.get(system, system)} ({system})"


def name_en(system: str | None) -> str:
    if system is None:
        return "cchc"
    return f"{SYSTEM_NAMES_EN.get(system, system)} ({system})"


def _top(reasons: Mapping[str, int], n: int = 3) -> str:
    return "; ".join(f"{r} ({k})" for r, k in Counter(reasons).most_common(n))


# --------------------------------------------------------------------------- batch gates

GATE_KEYS = {"columns": "missing_columns", "not_empty": "short_pull",
             "declared_total": "total_mismatch"}
_GATE_VI = {
    "columns": ("thiếu cột bắt buộc",
                "yêu cầu đơn vị vận hành hệ thống nguồn giữ đúng tên trường chuẩn (hoặc xuất lại "
                "danh sách đúng mẫu); lần nạp sau đạt yêu cầu sẽ tự đóng cảnh báo này"),
    "not_empty": ("số bản ghi nhận được không khớp số nguồn báo",
                  "kiểm tra hệ thống nguồn có đang hoạt động bình thường; lượt kéo sẽ được chạy "
                  "lại"),
    "declared_total": ("dòng tổng số không khớp số dòng dữ liệu",
                       "kiểm tra các dòng bị xóa, lọc hoặc ẩn rồi xuất lại danh sách"),
}
_GATE_EN = {
    "columns": ("required columns are missing",
                "ask the source system's operator to keep the standard field names (or export "
                "the list again in the standard layout); the next load that passes closes this "
                "alert"),
    "not_empty": ("the source returned fewer records than it announced",
                  "check that the source system works normally; the pull is retried"),
    "declared_total": ("the total row disagrees with the data rows",
                       "check for deleted, filtered or hidden rows and export the list again"),
}


def gate_finding(system: str, gate: str, reason: str, *, load_id: str | None, source: str,
                 rows: int, reported_total: int | None,
                 period: tuple[date | None, date | None] = (None, None)) -> Finding:
    """A batch gate stopped a load: nothing of it was written."""
    what_vi, todo_vi = _GATE_VI.get(gate, ("lô dữ liệu không đạt kiểm tra", "xem chi tiết"))
    what_en, todo_en = _GATE_EN.get(gate, ("the batch failed a check", "see the details"))
    counts: dict[str, int | str] = {"rows_received": rows}
    if reported_total is not None:
        counts["rows_reported"] = reported_total
    return Finding(
        key=GATE_KEYS.get(gate, gate), severity="critical",
        message=(f"{name_vi(system)}: lượt nạp {load_id} ({source}) bị dừng: {what_vi}; chưa "
                 f"nạp dòng nào (nhận {rows} dòng). Chi tiết: {reason} Cần làm: {todo_vi}."),
        message_en=(f"{name_en(system)}: load {load_id} ({source}) stopped: {what_en}; nothing "
                    f"was loaded ({rows} rows received). Details: {reason} What to do: "
                    f"{todo_en}."),
        counts=counts, load_id=load_id, period_from=period[0], period_to=period[1],
    )


def load_failed_finding(system: str, *, load_id: str | None, source: str, error: str,
                        rows: int) -> Finding:
    """A load broke half-way: its committed parts were undone."""
    return Finding(
        key="error", severity="critical",
        message=(f"{name_vi(system)}: lượt nạp {load_id} ({source}, {rows} dòng) bị lỗi và đã "
                 f"được hoàn tác, không để lại dữ liệu: {error}. Cần làm: xem nhật ký "
                 "(data/logs) rồi nạp lại; nếu lỗi lặp lại, báo người quản trị cchc."),
        message_en=(f"{name_en(system)}: load {load_id} ({source}, {rows} rows) failed and was "
                    f"undone, nothing of it remains: {error}. What to do: read the logs "
                    "(data/logs) and load it again; if it fails again, tell the cchc "
                    "administrator."),
        counts={"rows_in": rows}, load_id=load_id,
    )


def secret_leak_finding(system: str, *, load_id: str | None, source: str,
                        rows_withheld: int) -> Finding:
    """Secret records arrived with fields the source must withhold (never quoted)."""
    return Finding(
        key="withheld_fields", severity="critical",
        message=(f"{name_vi(system)}: {rows_withheld} văn bản mật trong lượt nạp {load_id} "
                 f"({source}) được gửi kèm các trường hệ thống nguồn phải giữ lại (trích yếu, cơ "
                 "quan ban hành, người ký hoặc hồ sơ liên quan); cchc đã loại bỏ chúng trước khi "
                 "lưu. Cần làm: báo sự cố lộ thông tin cho đơn vị vận hành hệ thống."),
        message_en=(f"{name_en(system)}: {rows_withheld} secret document(s) of load {load_id} "
                    f"({source}) arrived with fields the source must withhold (summary, issuing "
                    "body, signer or linked dossier); cchc dropped them before storing anything. "
                    "What to do: report the leak to the system's operator."),
        counts={"rows_withheld": rows_withheld}, load_id=load_id,
    )


def row_findings(system: str, *, load_id: str | None, source: str, rows_loaded: int,
                 rows_warned: int, warning_reasons: Mapping[str, int], rows_quarantined: int,
                 quarantine_reasons: Mapping[str, int]) -> list[Finding]:
    """Per-load row problems, recorded as info (the quarantine spike is the alert people get)."""
    out = []
    if rows_warned:
        top = _top(warning_reasons)
        out.append(Finding(
            key="warned", severity="info",
            message=(f"{name_vi(system)}: {rows_warned} / {rows_loaded} dòng đã nạp của lượt "
                     f"{load_id} ({source}) có cảnh báo: {top}."),
            message_en=(f"{name_en(system)}: {rows_warned} of {rows_loaded} loaded rows of load "
                        f"{load_id} ({source}) carry warnings: {top}."),
            counts={"rows_warned": rows_warned, "rows_loaded": rows_loaded}, load_id=load_id))
    if rows_quarantined:
        top = _top(quarantine_reasons)
        out.append(Finding(
            key="quarantined", severity="info",
            message=(f"{name_vi(system)}: {rows_quarantined} dòng của lượt {load_id} ({source}) "
                     f"bị cách ly: {top}."),
            message_en=(f"{name_en(system)}: {rows_quarantined} row(s) of load {load_id} "
                        f"({source}) quarantined: {top}."),
            counts={"rows_quarantined": rows_quarantined}, load_id=load_id))
    return out


# --------------------------------------------------------------------------- quarantine spike

SPIKE_MIN_ROWS = 100  # a smaller load is too small to judge (12 rows, 2 bad = 17 %)
SPIKE_MIN_QUARANTINED = 10  # and so are a handful of bad rows
SPIKE_HISTORY = 10  # recent succeeded loads of the system (each >= SPIKE_MIN_ROWS rows)
SPIKE_MIN_HISTORY = 3  # fewer: the usual share is taken as 0
SPIKE_FACTOR = 2.0  # spike: share > max(FACTOR × usual, usual + MARGIN)
SPIKE_MARGIN = 0.05


@dataclass(frozen=True)
class SpikeVerdict:
    """One load's quarantined share against the system's usual share."""

    share: float
    usual: float
    threshold: float
    history: int  # loads the usual share is the median of
    judged: bool  # the load is large enough to open an alert

    @property
    def spike(self) -> bool:
        return self.judged and self.share > self.threshold


def judge_spike(rows_considered: int, rows_quarantined: int,
                recent_shares: list[float]) -> SpikeVerdict:
    """The rule: a load of at least SPIKE_MIN_ROWS distinct rows with at least
    SPIKE_MIN_QUARANTINED quarantined is a spike when its quarantined share exceeds both twice
    the usual share and the usual share plus 5 points. The usual share is the median of the
    system's recent loads (a median: one bad night does not raise the bar for the next), 0 with
    fewer than three of them."""
    share = rows_quarantined / rows_considered if rows_considered else 0.0
    usual = statistics.median(recent_shares) if len(recent_shares) >= SPIKE_MIN_HISTORY else 0.0
    threshold = max(SPIKE_FACTOR * usual, usual + SPIKE_MARGIN)
    judged = rows_considered >= SPIKE_MIN_ROWS and rows_quarantined >= SPIKE_MIN_QUARANTINED
    return SpikeVerdict(share, usual, threshold, len(recent_shares), judged)


def spike_finding(system: str, verdict: SpikeVerdict, *, load_id: str | None, source: str,
                  rows_considered: int, rows_quarantined: int,
                  quarantine_reasons: Mapping[str, int], quarantine_table: str) -> Finding:
    top = _top(quarantine_reasons)
    pct, usual = f"{verdict.share:.1%}", f"{verdict.usual:.1%}"
    return Finding(
        key="quarantine_share", severity="warning",
        message=(f"{name_vi(system)}: lượt nạp {load_id} ({source}) có {rows_quarantined} / "
                 f"{rows_considered} dòng bị cách ly ({pct}), trong khi thường chỉ {usual} "
                 f"(trung vị {verdict.history} lượt nạp gần nhất). Lý do nhiều nhất: {top}. Cần "
                 f"làm: xem bảng {quarantine_table} và báo đơn vị vận hành hệ thống nguồn nếu dữ "
                 "liệu xuất ra bị lỗi."),
        message_en=(f"{name_en(system)}: load {load_id} ({source}) quarantined "
                    f"{rows_quarantined} of {rows_considered} rows ({pct}), against a usual "
                    f"{usual} (median of the {verdict.history} latest loads). Top reasons: {top}. "
                    f"What to do: look at {quarantine_table} and tell the source system's "
                    "operator if its export is broken."),
        counts={"rows_quarantined": rows_quarantined, "rows_considered": rows_considered,
                "share_pct": round(verdict.share * 100, 2),
                "usual_pct": round(verdict.usual * 100, 2)},
        load_id=load_id,
    )


# --------------------------------------------------------------------------- missing data


def pull_failed_finding(system: str, error: str, flow_run: str | None = None) -> Finding:
    run_vi = f" (lượt chạy {flow_run})" if flow_run else ""
    run_en = f" (flow run {flow_run})" if flow_run else ""
    token = f"CCHC_{system.upper()}_TOKEN"
    return Finding(
        key="run", severity="critical",
        message=(f"{name_vi(system)}: lượt kéo dữ liệu thất bại{run_vi}: {error}. Cần làm: "
                 f"kiểm tra hệ thống nguồn có hoạt động không và mã truy cập ({token}) còn hiệu "
                 "lực; lượt kéo sau thành công sẽ tự đóng cảnh báo này."),
        message_en=(f"{name_en(system)}: pull failed{run_en}: {error}. What to do: check that "
                    f"the source system answers and that its token ({token}) is valid; the next "
                    "successful pull closes this alert."),
        counts={})


def stale_finding(system: str, last_success: str | None, hours_since: float | None,
                  threshold_hours: float) -> Finding:
    if last_success is None:
        vi = "chưa từng có lượt nạp thành công"
        en = "no successful load recorded"
        counts: dict[str, float | str] = {"threshold_hours": threshold_hours}
    else:
        vi = (f"không có lượt nạp thành công nào trong {hours_since:.1f} giờ (lần cuối "
              f"{last_success}, ngưỡng {threshold_hours:g} giờ)")
        en = (f"no successful load for {hours_since:.1f} h (last {last_success}, alert after "
              f"{threshold_hours:g} h)")
        counts = {"hours_since": hours_since or 0.0, "threshold_hours": threshold_hours,
                  "last_success": last_success}
    return Finding(
        key="no_recent_load", severity="warning",
        message=(f"{name_vi(system)}: {vi}; số liệu báo cáo đang cũ. Cần làm: kiểm tra dịch vụ "
                 "cchc (`cchc status`) và hệ thống nguồn."),
        message_en=(f"{name_en(system)}: {en}; the figures are out of date. What to do: check "
                    "the cchc service (`cchc status`) and the source system."),
        counts=counts)


def flow_failed_finding(flow_name: str, run_name: str | None, state_name: str,
                        message: str, system: str | None = None) -> Finding:
    crashed = state_name.lower() == "crashed"
    what_vi = "bị dừng đột ngột" if crashed else "bị lỗi"
    what_en = "crashed" if crashed else "failed"
    return Finding(
        key=state_name.lower(), severity="critical",
        message=(f"{name_vi(system)}: luồng {flow_name} (lượt chạy {run_name}) {what_vi}: "
                 f"{message}. Cần làm: xem nhật ký lượt chạy trên giao diện Prefect; lượt chạy "
                 "sau hoàn tất sẽ tự đóng cảnh báo này."),
        message_en=(f"{name_en(system)}: flow {flow_name} (run {run_name}) {what_en}: "
                    f"{message}. What to do: read the run's logs in the Prefect UI; the next "
                    "completed run closes this alert."),
        counts={})


def unreadable_file_finding(file_name: str, reason: str, load_id: str | None) -> Finding:
    """A dropped file no system's reader could read (which system made it is unknown)."""
    return Finding(
        key="unreadable", severity="critical",
        message=(f"Tệp {file_name} không đọc được nên chưa nạp (lượt {load_id}): {reason}. Cần "
                 "làm: xuất lại danh sách từ hệ thống nguồn đúng mẫu rồi đặt lại vào thư mục "
                 "inbox; nạp được tệp cùng tên sẽ tự đóng cảnh báo này."),
        message_en=(f"File {file_name} could not be read, nothing was loaded (load {load_id}): "
                    f"{reason}. What to do: export the list again from the source system in "
                    "its standard layout and drop it in the inbox again; loading a file of the "
                    "same name closes this alert."),
        counts={}, load_id=load_id)
