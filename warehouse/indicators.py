"""The service-index indicators (Decision 766/QĐ-TTg; docs/figures.md §6) for a period.

``indicators(con, date_from, date_to, by="unit"|"month")`` gives one row per unit over the
whole period (``by="unit"``), or one row per calendar month of the period for the whole
district (``by="month"``, each month cut to [from, to] and taken as its own period), then a
"Tổng cộng" row for the whole period. Every rate has its numerator, denominator, target and
verdict beside it (``<key>_numerator``, ``_denominator``, ``_rate``, ``_target``, ``_meets``),
so an analyst can re-add them.

Dossier counts follow form 06 (``warehouse.form06``) for the same period, over the same view
``out_onestop__dossier_lifecycle``: ``c3`` … ``c13`` here equal form 06's (tested). The other
dossier counts:

- ``received``: c4 + c5, received in the period; of them ``digitised`` (TrangThaiSoHoa in
  DIGITISED: 1 digitised, 2 reused a component, 3 reused a result) and ``paid_online``;
- ``finished``: resolved in the period with a result (FINISHED, i.e. c7 without withdrawals);
  of them ``electronic_results`` (KetQuaDienTu);
- ``rated``: resolved in the period (c7) with a rating; of them ``satisfied`` (SATISFIED);
- ``procedures_offered_online``: (unit, procedure) pairs where the unit received, on or before
  ``to``, a dossier of the procedure at an online service level (ONLINE_LEVELS: 3 "Một phần",
  4 "Toàn trình"); ``procedures_with_online``: of those, the pairs with a dossier received
  online (c4) in the period. The warehouse has no procedure catalogue: a procedure the unit
  never received a dossier for is unseen.

Document counts follow the e-document report (``warehouse.documents_report``, columns (3),
(4), (10), (11), (12)). Every attribute other than the dates (digitised, paid, rating, level)
is the record's newest state, as in form 06.

Rows by month cover the whole district; by unit and month is the view
``out_onestop__indicators_by_unit_month``. The total row is the whole period: by unit, the sum
of the unit rows; by month, not the months' sum for c6 … c13 and the uptake pairs (a
procedure used online in two months is one pair of the period).

Several periods by unit: ``indicators_for_periods(con, [(from, to), …])``, the same frames as
``indicators`` for each, counted in one query (``warehouse.indicator_counts``, where the SQL
is); a reader that has the counts already (``period_counts``) builds a period's frame with
``unit_indicators``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from warehouse.documents_report import month_label
from warehouse.form06 import TOTAL_LABEL, by_level, total_row
from warehouse.indicator_counts import (  # noqa: F401  (the column groups: re-exported)
    BY_MONTH_SQL,
    COUNT_COLUMNS,
    DOCUMENT_COLUMNS,
    DOSSIER_COLUMNS,
    FORM06_COLUMNS,
    MONTH_ADDITIVE,
    UPTAKE_COLUMNS,
    check_period,
    period_counts,
)
from warehouse.report_units import (
    Units,
    check_units,
    unit_join_sql,
    unit_label_sql,
    unit_map_cte,
    units_ctes,
)
from warehouse.targets import target_for

if TYPE_CHECKING:
    from collections.abc import Sequence

    import duckdb
    import polars as pl

By = Literal["unit", "month"]


class Indicator(NamedTuple):
    """One rate: its key, Vietnamese label, and the count columns it divides."""

    key: str
    label: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    formula: str  # in form 06's column numbers where it has them


INDICATORS: tuple[Indicator, ...] = (
    Indicator("on_time", "Tỷ lệ hồ sơ giải quyết đúng hạn", ("c8", "c9"), ("c7",),
              "[(8)+(9)] / (7)"),
    Indicator("progress", "Tỷ lệ tiến độ giải quyết (đúng hạn và đang trong hạn)",
              ("c8", "c9", "c12"), ("c3",), "[(8)+(9)+(12)] / (3)"),
    Indicator("online", "Tỷ lệ hồ sơ nộp trực tuyến", ("c4",), ("c4", "c5"), "(4) / [(4)+(5)]"),
    Indicator("online_uptake", "Tỷ lệ TTHC trực tuyến có phát sinh hồ sơ trực tuyến",
              ("procedures_with_online",), ("procedures_offered_online",),
              "TTHC có hồ sơ trực tuyến / TTHC mức độ 3, 4"),
    Indicator("digitised", "Tỷ lệ hồ sơ được số hóa", ("digitised",), ("received",),
              "số hóa / [(4)+(5)]"),
    Indicator("electronic_result", "Tỷ lệ kết quả giải quyết điện tử", ("electronic_results",),
              ("finished",), "kết quả điện tử / đã giải quyết xong"),
    Indicator("online_payment", "Tỷ lệ hồ sơ thanh toán trực tuyến", ("paid_online",),
              ("received",), "thanh toán trực tuyến / [(4)+(5)]"),
    Indicator("satisfaction", "Tỷ lệ hài lòng", ("satisfied",), ("rated",),
              "(rất) hài lòng / được đánh giá"),
    Indicator("edoc_electronic", "Tỷ lệ văn bản trao đổi điện tử",
              ("docs_received_electronic", "docs_issued_electronic"),
              ("docs_received", "docs_issued"), "[đến điện tử + đi điện tử] / [đến + đi]"),
    Indicator("edoc_signed", "Tỷ lệ văn bản đi ký số", ("docs_issued_signed",), ("docs_issued",),
              "ký số / văn bản đi"),
)
KEYS = tuple(i.key for i in INDICATORS)
SUBJECT_COLUMNS = ("code", "name", "level", "period_from", "period_to")
RATE_SUFFIXES = ("numerator", "denominator", "rate", "target", "meets")


def indicator_columns(key: str) -> tuple[str, ...]:
    """``on_time_numerator``, ``on_time_denominator``, ``on_time_rate``, ``…_target``, ``…_meets``."""
    return tuple(f"{key}_{suffix}" for suffix in RATE_SUFFIXES)


COLUMNS = SUBJECT_COLUMNS + COUNT_COLUMNS + tuple(c for k in KEYS for c in indicator_columns(k))

# The units one period lists (warehouse/report_units.py), given those with counts ($codes,
# $valid_from: the period's rows of period_counts): the rows of the by-unit report before counts.
UNITS_SQL = f"""
WITH {{unit_map}},
f AS (
    SELECT unnest($codes::VARCHAR[]) AS unit_code, unnest($valid_from::DATE[]) AS unit_valid_from
),
{units_ctes()}
SELECT
    units.unit_code AS code, {unit_label_sql()} AS name, u.level,
    units.unit_valid_from AS _valid_from
FROM units
{unit_join_sql()}
"""


def _with_rates(frame: pl.DataFrame) -> pl.DataFrame:
    """Each indicator's numerator, denominator, rate (4 places, null on a zero denominator),
    target for the row's level and verdict (exact: numerator ≥ target × denominator)."""
    import polars as pl

    levels = frame["level"].to_list()
    out = []
    for ind in INDICATORS:
        num, den, _rate, tgt, _meets = indicator_columns(ind.key)
        targets = [target_for(ind.key, level) for level in levels]
        minimum = [None if t is None else float(t.minimum) for t in targets]
        # exact comparison num / den >= p / q  <=>  num * q >= p * den
        p = [None if t is None else t.minimum.numerator for t in targets]
        q = [None if t is None else t.minimum.denominator for t in targets]
        out += [
            pl.sum_horizontal(*ind.numerator).cast(pl.Int64).alias(num),
            pl.sum_horizontal(*ind.denominator).cast(pl.Int64).alias(den),
            pl.Series(tgt, minimum, dtype=pl.Float64),
            pl.Series(f"_{ind.key}_p", p, dtype=pl.Int64),
            pl.Series(f"_{ind.key}_q", q, dtype=pl.Int64),
        ]
    frame = frame.with_columns(out)
    rates = []
    for ind in INDICATORS:
        num, den, rate, _tgt, meets = indicator_columns(ind.key)
        has = pl.col(den) > 0
        rates += [
            pl.when(has).then(pl.col(num) / pl.col(den)).round(4).alias(rate),
            pl.when(has & pl.col(f"_{ind.key}_p").is_not_null())
            .then(pl.col(num) * pl.col(f"_{ind.key}_q") >= pl.col(f"_{ind.key}_p") * pl.col(den))
            .alias(meets),
        ]  # fmt: skip
    return frame.with_columns(rates).select(COLUMNS)


def indicators(
    con: duckdb.DuckDBPyConnection, date_from: date, date_to: date, by: By = "unit",
    *, units: Units = "received",
) -> pl.DataFrame:
    """The indicators per unit (district first, then its communes by code) or per month, then
    the "Tổng cộng" row. Columns: :data:`COLUMNS` (``code``, ``name``, ``level``,
    ``period_from``, ``period_to``, the counts, then five columns per indicator). ``units``:
    rows by the receiving unit or by today's successor (warehouse/report_units.py)."""
    check_period(date_from, date_to)
    if by not in ("unit", "month"):
        raise ValueError(f"by must be 'unit' or 'month', not {by!r}")
    check_units(units)
    if by == "unit":
        return indicators_for_periods(con, [(date_from, date_to)], units=units)[0]
    return _by_month(con, date_from, date_to, units)


def indicators_for_periods(
    con: duckdb.DuckDBPyConnection, spans: Sequence[tuple[date, date]],
    *, units: Units = "received",
) -> list[pl.DataFrame]:
    """``indicators(con, from, to, "unit", units=units)`` for every ``(from, to)`` of ``spans``,
    counted in one query (``period_counts``): the dossier lifecycle view is read once, not once
    per period."""
    import polars as pl

    counts = period_counts(con, spans, units)
    return [unit_indicators(con, counts.filter(pl.col("period") == i), date_from, date_to,
                            units=units)
            for i, (date_from, date_to) in enumerate(spans)]  # fmt: skip


def unit_indicators(
    con: duckdb.DuckDBPyConnection, counts: pl.DataFrame, date_from: date, date_to: date,
    *, units: Units = "received",
) -> pl.DataFrame:
    """One period's frame by unit from its rows of ``period_counts`` (counted with the same
    ``units``): the units the report lists (report_units.py: those with counts and the other
    units of their district, with zeros), sorted, then the total row and the rates."""
    import polars as pl

    listed = con.execute(UNITS_SQL.replace("{unit_map}", unit_map_cte(units)), {
        "codes": counts["unit_code"].to_list(), "valid_from": counts["unit_valid_from"].to_list(),
        "date_from": date_from, "date_to": date_to,
    }).pl()  # fmt: skip
    keyed = counts.select(pl.col("unit_code").alias("code"),
                          pl.col("unit_valid_from").alias("_valid_from"), *COUNT_COLUMNS)
    # null keys match nothing, as in SQL: a unit dim_admin_unit does not know gets zeros
    rows = listed.join(keyed, on=["code", "_valid_from"], how="left").with_columns(
        pl.lit(date_from, pl.Date).alias("period_from"),
        pl.lit(date_to, pl.Date).alias("period_to"),
        *[pl.col(c).fill_null(0).cast(pl.Int64) for c in COUNT_COLUMNS],
    )
    rows = rows.sort(by_level("code", "_valid_from"))
    total = total_row(rows, "name", COUNT_COLUMNS, pl.lit(date_from, pl.Date).alias("period_from"),
                      pl.lit(date_to, pl.Date).alias("period_to"))
    return _with_total(rows, total)


def _by_month(con: duckdb.DuckDBPyConnection, date_from: date, date_to: date,
              units: Units) -> pl.DataFrame:
    """The whole district by calendar month of the period, then the whole period."""
    import polars as pl

    params = {"date_from": date_from, "date_to": date_to}
    rows = con.execute(BY_MONTH_SQL.replace("{unit_map}", unit_map_cte(units)), params).pl()
    rows = rows.with_columns(
        [pl.col(c).cast(pl.Int64) for c in COUNT_COLUMNS]
        + [pl.col("period_from", "period_to").cast(pl.Date)]
    )
    is_total = pl.col("code") == "total"
    total = rows.filter(is_total).with_columns(
        code=pl.lit(None, pl.String), name=pl.lit(TOTAL_LABEL), level=pl.lit(None, pl.String)
    )
    rows = rows.filter(~is_total)
    labels = [month_label(f, t) for f, t in rows.select("period_from", "period_to").rows()]
    rows = rows.with_columns(name=pl.Series(labels, dtype=pl.String), level=pl.lit(None, pl.String))
    return _with_total(rows, total)


def _with_total(rows: pl.DataFrame, total: pl.DataFrame) -> pl.DataFrame:
    """The rows, the total row last, in :data:`COLUMNS` with the rates."""
    import polars as pl

    order = list(SUBJECT_COLUMNS + COUNT_COLUMNS)
    return _with_rates(pl.concat([rows.select(order), total.select(order)], how="vertical_relaxed"))


def long_form(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (row of ``frame``, indicator): ``code``, ``name``, ``level``,
    ``period_from``, ``period_to``, ``indicator``, ``label``, ``formula``, ``numerator``,
    ``denominator``, ``rate``, ``target``, ``meets``; for tables, CSV and JSON."""
    import polars as pl

    parts = []
    for order, ind in enumerate(INDICATORS):
        num, den, rate, tgt, meets = indicator_columns(ind.key)
        parts.append(
            frame.with_row_index("_row").select(
                "_row", "code", "name", "level", "period_from", "period_to",
                pl.lit(order, pl.UInt32).alias("_order"),
                pl.lit(ind.key).alias("indicator"),
                pl.lit(ind.label).alias("label"),
                pl.lit(ind.formula).alias("formula"),
                pl.col(num).alias("numerator"),
                pl.col(den).alias("denominator"),
                pl.col(rate).alias("rate"),
                pl.col(tgt).alias("target"),
                pl.col(meets).alias("meets"),
            )
        )  # fmt: skip
    return pl.concat(parts).sort("_row", "_order").drop("_row", "_order")


# --- Presentation: Vietnamese labels for screens, CSV and the spreadsheet.

MEETS_LABELS = {True: "Đạt", False: "Chưa đạt", None: ""}
SUBJECT_HEADER: dict[str, str] = {"unit": "Đơn vị", "month": "Tháng"}
LONG_HEADERS: dict[str, str] = {
    "code": "Mã",
    "indicator": "Mã chỉ số",
    "label": "Chỉ số",
    "formula": "Công thức",
    "numerator": "Tử số",
    "denominator": "Mẫu số",
    "rate": "Tỷ lệ (%)",
    "target": "Mục tiêu (%)",
    "meets": "Đánh giá",
}
# Two-line headers for a terminal, where ten rates must fit.
SHORT_LABELS: dict[str, str] = {
    "on_time": "Đúng\nhạn",
    "progress": "Tiến\nđộ",
    "online": "Trực\ntuyến",
    "online_uptake": "TTHC có\nHS tr.tuyến",
    "digitised": "Số\nhóa",
    "electronic_result": "Kết quả\nđiện tử",
    "online_payment": "Th.toán\ntr.tuyến",
    "satisfaction": "Hài\nlòng",
    "edoc_electronic": "VB điện\ntử",
    "edoc_signed": "VB\nký số",
}
NOTE = (
    "Mục tiêu quốc gia đến năm 2025 (trực tuyến ≥ 50 %, số hóa ≥ 80 %, hài lòng ≥ 90 %, văn bản "
    "điện tử 80 % cấp huyện, 60 % cấp xã) lấy từ nguồn thứ cấp, chưa kiểm chứng với văn bản gốc, "
    "có thể điều chỉnh (warehouse/targets.py). Chỉ số không có mục tiêu thì không đánh giá. Dòng "
    "theo tháng và dòng Tổng cộng là toàn huyện (mục tiêu cấp huyện)."
)


def _percent(column: str) -> pl.Expr:
    import polars as pl

    return (pl.col(column) * 100).round(2).alias(column)


def with_headers(frame: pl.DataFrame, by: By) -> pl.DataFrame:
    """The long form (one row per subject and indicator) with Vietnamese headers, rates and
    targets in percent, the verdict as "Đạt" / "Chưa đạt" (blank without a target); for CSV."""
    import polars as pl

    drop = ["level"] + (["period_from", "period_to"] if by == "unit" else [])
    long = long_form(frame).drop(drop).with_columns(
        _percent("rate"),
        _percent("target"),
        pl.col("meets").replace_strict(MEETS_LABELS, return_dtype=pl.String),
    )
    names = {**LONG_HEADERS, "name": SUBJECT_HEADER[by], "period_from": "Từ ngày",
             "period_to": "Đến ngày"}  # fmt: skip
    return long.rename({old: new for old, new in names.items() if old in long.columns})


def _shown(rate: float | None, meets: bool | None) -> str:
    if rate is None:
        return ""
    mark = {True: " ✓", False: " ✗", None: ""}[meets]
    return f"{rate * 100:.2f} %{mark}"


def compact_table(frame: pl.DataFrame, by: By) -> pl.DataFrame:
    """The rates as a screen shows them: one row per unit or month, one column per indicator,
    "98.52 % ✓" (✓ meets its target, ✗ does not, no mark without a target)."""
    import polars as pl

    cells = {
        SHORT_LABELS[key]: [
            _shown(rate, meets)
            for rate, meets in frame.select(f"{key}_rate", f"{key}_meets").iter_rows()
        ]
        for key in KEYS
    }
    subject = SUBJECT_HEADER[by]
    return pl.DataFrame({subject: frame["name"].to_list(), **cells}, schema_overrides={
        name: pl.String for name in cells})  # fmt: skip


def summary_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The total row as a list of indicators: label, numerator, denominator, value, target and
    verdict, in Vietnamese."""
    import polars as pl

    long = long_form(frame.tail(1))
    return pl.DataFrame(
        {
            "Chỉ số": long["label"],
            "Tử số": long["numerator"],
            "Mẫu số": long["denominator"],
            "Giá trị": [_shown(r, None) for r in long["rate"].to_list()],
            "Mục tiêu": ["" if t is None else f"≥ {t * 100:g} %" for t in long["target"].to_list()],
            "Đánh giá": [MEETS_LABELS[m] for m in long["meets"].to_list()],
        }
    )


XLSX_TITLE = "CHỈ SỐ PHỤC VỤ NGƯỜI DÂN, DOANH NGHIỆP (QUYẾT ĐỊNH 766/QĐ-TTg)"
_XLSX_HEADERS = ("STT", "Mã", "Đơn vị", "Chỉ số", "Công thức", "Tử số", "Mẫu số", "Tỷ lệ",
                 "Mục tiêu", "Đánh giá")  # fmt: skip


def write_indicators_xlsx(
    frame: pl.DataFrame, path: Path, date_from: date, date_to: date, by: By, issuer: str = ""
) -> Path:
    """Write ``indicators(...)``'s frame as a spreadsheet in the style of the other reports:
    title block, one block of rows per unit or month (the total last, in bold), each
    indicator with numerator, denominator, rate, target and verdict, a note and signatures."""
    from warehouse.form06_xlsx import (
        add_formats,
        new_workbook,
        write_cell,
        write_signatures,
        write_title_block,
    )

    wb = new_workbook(path)
    ws = wb.add_worksheet("Chỉ số")
    fmt = add_formats(wb)
    last = len(_XLSX_HEADERS) - 1
    wide = max(last, 11)  # the title block and signatures need twelve columns
    for col, width in enumerate((6, 10, 28, 44, 30, 10, 10, 10, 10, 10)):
        ws.set_column(col, col, width)
    write_title_block(ws, fmt, wide, issuer, "", XLSX_TITLE, date_from, date_to)
    top = 7
    headers = list(_XLSX_HEADERS)
    headers[2] = SUBJECT_HEADER[by]
    for col, label in enumerate(headers):
        ws.write_string(top, col, label, fmt["head"])
    r = top + 1
    long = long_form(frame)
    total_rows = frame.height
    for i, row in enumerate(long.iter_rows(named=True)):
        is_total = i // len(INDICATORS) == total_rows - 1
        number, text, percent = (
            ("total", "total_text", "total_percent") if is_total else ("cell", "text", "percent")
        )
        subject = i // len(INDICATORS)
        write_cell(ws, r, 0, None if is_total else subject + 1, fmt[number])
        write_cell(ws, r, 1, row["code"], fmt[text])
        write_cell(ws, r, 2, row["name"], fmt[text])
        write_cell(ws, r, 3, row["label"], fmt[text])
        write_cell(ws, r, 4, row["formula"], fmt[text])
        ws.write_number(r, 5, row["numerator"], fmt[number])
        ws.write_number(r, 6, row["denominator"], fmt[number])
        for col, value in ((7, row["rate"]), (8, row["target"])):
            if value is None:
                ws.write_blank(r, col, None, fmt[percent])
            else:
                ws.write_number(r, col, value, fmt[percent])
        write_cell(ws, r, 9, MEETS_LABELS[row["meets"]], fmt[text])
        r += 1
    r += 1
    ws.merge_range(r, 0, r + 2, wide, "Ghi chú: " + NOTE, fmt["note"])
    write_signatures(ws, fmt, r + 4, wide)
    ws.freeze_panes(top + 1, 3)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    wb.close()
    return path


def issuer(frame: pl.DataFrame) -> str:
    """ "UBND HUYỆN KRÔNG PA" from the district row of a by-unit frame, else ""."""
    districts = frame.filter(frame["level"] == "district")["name"]
    return f"UBND {districts[0].upper()}" if districts.len() else ""
