"""The e-document report (docs/figures.md §5) computed from ``core_eoffice__documents``.

For a period [from, to] of local calendar days, per register holder (``by="unit"``) or per
calendar month (``by="month"``, each month cut to [from, to] and taken as its own period: its
``to`` is the month's last day, or ``to``), then a "Tổng cộng" row for the whole period:

- (3) incoming (DEN) received in the period (``received_date``); (4) of them DienTu or CaHai;
  (5) of them with a deadline;
- (6) completed on or before the deadline and by ``to``; (7) completed after the deadline, by
  ``to``; (8) not completed by ``to`` and deadline before ``to``; (9) not completed by ``to``
  and deadline on or after ``to`` (a deadline on the last day is within it). "Completed by
  ``to``" is decided by ``completed_date`` alone, so a past period reads as it stood at its end;
- (10) outgoing (DI) issued in the period (``issued_date``); (11) of them DienTu or CaHai;
  (12) of them digitally signed.

Incoming documents received before the period and still open are in no column. Every other
attribute is the document's newest version (the core row). Identities (5) = (6)+(7)+(8)+(9),
(4) ≤ (3), (11) ≤ (10), (12) ≤ (10) are checked on every call (:class:`DocumentsIdentityError`).

By month, the total row is the whole period judged at ``to``: columns (3), (4), (5), (10),
(11), (12) are the sums of the month rows, but (6)…(9) are not (a document received in January
and completed in March is open in the January row and completed in the total).
"""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sources.eoffice.vocabulary import ELECTRONIC_CODES
from warehouse.form06 import TOTAL_LABEL, by_level, total_row
from warehouse.report_units import (
    Units,
    check_units,
    report_unit_columns,
    report_unit_join,
    unit_join_sql,
    unit_label_sql,
    unit_map_cte,
    units_ctes,
)

if TYPE_CHECKING:
    import duckdb
    import polars as pl

By = Literal["unit", "month"]
COUNT_COLUMNS = tuple(f"c{i}" for i in range(3, 13))
# Columns that add up over any split of the period (all of them for a split by unit).
ADDITIVE_COLUMNS = ("c3", "c4", "c5", "c10", "c11", "c12")
RATE_COLUMNS = ("electronic_rate", "signed_rate", "on_time_rate")
# (numerator columns, denominator columns) of each rate.
RATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "electronic_rate": (("c4", "c11"), ("c3", "c10")),
    "signed_rate": (("c12",), ("c10",)),
    "on_time_rate": (("c6",), ("c6", "c7")),
}
COLUMNS = ("c1", "code", "c2", "level", "period_from", "period_to",
           *COUNT_COLUMNS, *RATE_COLUMNS)  # fmt: skip

_ELECTRONIC = "(" + ", ".join(f"'{c}'" for c in ELECTRONIC_CODES) + ")"
_OPEN = "(d.completed_date IS NULL OR d.completed_date > p.period_to)"
# Counts for the period p (period_from, period_to) over the documents d dated in it.
_COUNTS = f"""
    count(*) FILTER (d.direction = 'DEN') AS c3,
    count(*) FILTER (d.direction = 'DEN' AND d.transport IN {_ELECTRONIC}) AS c4,
    count(*) FILTER (d.direction = 'DEN' AND d.deadline_date IS NOT NULL) AS c5,
    count(*) FILTER (d.direction = 'DEN' AND d.completed_date <= d.deadline_date
                     AND d.completed_date <= p.period_to) AS c6,
    count(*) FILTER (d.direction = 'DEN' AND d.deadline_date < d.completed_date
                     AND d.completed_date <= p.period_to) AS c7,
    count(*) FILTER (d.direction = 'DEN' AND {_OPEN} AND d.deadline_date < p.period_to) AS c8,
    count(*) FILTER (d.direction = 'DEN' AND {_OPEN} AND d.deadline_date >= p.period_to) AS c9,
    count(*) FILTER (d.direction = 'DI') AS c10,
    count(*) FILTER (d.direction = 'DI' AND d.transport IN {_ELECTRONIC}) AS c11,
    count(*) FILTER (d.direction = 'DI' AND d.digitally_signed) AS c12
"""

# The documents dated in [from, to]: incoming by reception, outgoing by issue.
_DOCS = """
docs AS (
    SELECT * FROM (
        SELECT
            unit_code,
            cchc_unit_from(unit_code, unit_valid_from, coalesce(received_date, issued_date))
                AS unit_valid_from,
            direction, transport, deadline_date, completed_date, digitally_signed,
            CASE direction WHEN 'DEN' THEN received_date WHEN 'DI' THEN issued_date END
                AS report_date
        FROM core_eoffice__documents
    )
    WHERE report_date BETWEEN $date_from AND $date_to
)
"""

# One row per register holder with documents in the period, plus the other units of the same
# district(s) that existed during it (a commune with nothing to report keeps its zero row).
BY_UNIT_SQL = f"""
WITH {_DOCS},
{{unit_map}},
p AS (SELECT $date_from::DATE AS period_from, $date_to::DATE AS period_to),
keyed AS (
    SELECT x.* EXCLUDE (unit_code, unit_valid_from),
           {report_unit_columns("x", "x.unit_valid_from")}
    FROM docs x {report_unit_join("x", "x.unit_valid_from")}
),
f AS (
    SELECT d.unit_code, d.unit_valid_from, {_COUNTS}
    FROM keyed d CROSS JOIN p
    GROUP BY d.unit_code, d.unit_valid_from
),
{units_ctes()}
SELECT
    units.unit_code AS code, {unit_label_sql()} AS c2, u.level,
    units.unit_valid_from AS _valid_from, p.period_from, p.period_to,
    {", ".join(f"coalesce(f.{c}, 0) AS {c}" for c in COUNT_COLUMNS)}
FROM units
CROSS JOIN p
LEFT JOIN f USING (unit_code, unit_valid_from)
{unit_join_sql()}
"""

# One row per calendar month of the period (cut to it) and one for the whole period (the total).
BY_MONTH_SQL = f"""
WITH {_DOCS},
periods AS (
    SELECT
        strftime(m, '%Y-%m') AS code,
        greatest(m::DATE, $date_from::DATE) AS period_from,
        least(last_day(m::DATE), $date_to::DATE) AS period_to,
        false AS is_total
    FROM generate_series(date_trunc('month', $date_from::DATE)::TIMESTAMP,
                         date_trunc('month', $date_to::DATE)::TIMESTAMP,
                         INTERVAL 1 MONTH) AS t(m)
    UNION ALL
    SELECT NULL, $date_from::DATE, $date_to::DATE, true
)
SELECT p.code, p.period_from, p.period_to, p.is_total, {_COUNTS}
FROM periods p
LEFT JOIN docs d ON d.report_date BETWEEN p.period_from AND p.period_to
GROUP BY ALL
ORDER BY p.is_total, p.period_from
"""


class DocumentsIdentityError(ValueError):
    """The computed report breaks one of its identities (a bug or inconsistent data)."""


def month_label(period_from: date, period_to: date) -> str:
    """ "Tháng 3/2022", or "Tháng 3/2022 (05/03 - 31/03)" when the period cuts the month."""
    label = f"Tháng {period_from.month}/{period_from.year}"
    last = calendar.monthrange(period_from.year, period_from.month)[1]
    if period_from.day != 1 or period_to.day != last:
        label += f" ({period_from:%d/%m} - {period_to:%d/%m})"
    return label


def identity_violations(frame: pl.DataFrame, by: By = "unit") -> list[str]:
    """Rows where (5) = (6)+(7)+(8)+(9), (4) ≤ (3), (11) ≤ (10) or (12) ≤ (10) fails, and
    columns where the total row differs from the sum of the other rows (every column by unit,
    the additive ones by month)."""
    problems = []
    for row in frame.iter_rows(named=True):
        parts = row["c6"] + row["c7"] + row["c8"] + row["c9"]
        if row["c5"] != parts:
            problems.append(f"{row['c2']}: c5={row['c5']} but c6 + c7 + c8 + c9={parts}")
        for part, whole in (("c4", "c3"), ("c11", "c10"), ("c12", "c10")):
            if row[part] > row[whole]:
                problems.append(f"{row['c2']}: {part}={row[part]} > {whole}={row[whole]}")
    body, last = frame[:-1], frame.row(-1, named=True)
    for col in COUNT_COLUMNS if by == "unit" else ADDITIVE_COLUMNS:
        if last[col] != body[col].sum():
            problems.append(
                f"{TOTAL_LABEL}: {col}={last[col]} but rows sum to {body[col].sum()}"
            )
    return problems


def _rates() -> list[pl.Expr]:
    import polars as pl

    out = []
    for name, (num, den) in RATES.items():
        numerator = pl.sum_horizontal(*num)
        denominator = pl.sum_horizontal(*den)
        rate = pl.when(denominator > 0).then(numerator / denominator).otherwise(None)
        out.append(rate.round(4).alias(name))
    return out


def documents_report(
    con: duckdb.DuckDBPyConnection,
    date_from: date,
    date_to: date,
    by: By = "unit",
    *,
    strict: bool = True,
    units: Units = "received",
) -> pl.DataFrame:
    """The e-document report per unit or per month, then a "Tổng cộng" row (whole period).

    Columns: ``c1`` (row number; null on the total), ``code`` (statistics-office code, or
    ``YYYY-MM``), ``c2`` (unit name, or "Tháng m/yyyy"), ``level`` (unit level; null by month),
    ``period_from``, ``period_to`` (the row's period: the month cut to [from, to] by month),
    ``c3``…``c12`` (Int64), then ``electronic_rate`` = (c4+c11)/(c3+c10), ``signed_rate`` =
    c12/c10, ``on_time_rate`` = c6/(c6+c7) (fractions rounded to 4 places, null when the
    denominator is 0). ``units``: rows by the register holder (``received``) or by today's
    successor of that unit (``new``; warehouse/report_units.py). With ``strict``, a broken
    identity raises :class:`DocumentsIdentityError`.
    """
    import polars as pl

    if date_from > date_to:
        raise ValueError(f"the period starts ({date_from}) after it ends ({date_to})")
    if by not in ("unit", "month"):
        raise ValueError(f"by must be 'unit' or 'month', not {by!r}")
    check_units(units)
    sql = (BY_UNIT_SQL if by == "unit" else BY_MONTH_SQL).replace("{unit_map}", unit_map_cte(units))
    rows = con.execute(sql, {"date_from": date_from, "date_to": date_to}).pl()
    rows = rows.with_columns(
        [pl.col(c).cast(pl.Int64) for c in COUNT_COLUMNS]
        + [pl.col("period_from", "period_to").cast(pl.Date)]
    )
    if by == "unit":
        rows = rows.sort(by_level("code", "_valid_from")).drop("_valid_from")
        total = total_row(rows, "c2", COUNT_COLUMNS, pl.lit(date_from, pl.Date).alias("period_from"),
                          pl.lit(date_to, pl.Date).alias("period_to"))
    else:
        total = rows.filter(pl.col("is_total")).with_columns(
            c2=pl.lit(TOTAL_LABEL), level=pl.lit(None, pl.String)
        )
        rows = rows.filter(~pl.col("is_total"))
        labels = [month_label(f, t) for f, t in rows.select("period_from", "period_to").rows()]
        rows = rows.with_columns(
            c2=pl.Series(labels, dtype=pl.String), level=pl.lit(None, pl.String)
        )
    rows = rows.with_columns(c1=pl.int_range(1, rows.height + 1, dtype=pl.Int64))
    total = total.with_columns(c1=pl.lit(None, pl.Int64))
    order = [c for c in COLUMNS if c not in RATE_COLUMNS]
    out = pl.concat([rows.select(order), total.select(order)], how="vertical_relaxed")
    out = out.with_columns(_rates())
    problems = identity_violations(out, by)
    if problems and strict:
        raise DocumentsIdentityError(
            "e-document report identities do not hold: " + "; ".join(problems[:10])
        )
    return out


# Vietnamese headers for screens and CSV, with the column numbers of docs/figures.md §5.
HEADERS: dict[str, str] = {
    "c1": "(1) STT",
    "code": "Mã",
    "period_from": "Từ ngày",
    "period_to": "Đến ngày",
    "c3": "(3) Văn bản đến trong kỳ",
    "c4": "(4) Đến điện tử",
    "c5": "(5) Có hạn xử lý",
    "c6": "(6) Hoàn thành đúng hạn",
    "c7": "(7) Hoàn thành quá hạn",
    "c8": "(8) Chưa hoàn thành, quá hạn",
    "c9": "(9) Chưa hoàn thành, trong hạn",
    "c10": "(10) Văn bản đi trong kỳ",
    "c11": "(11) Đi điện tử",
    "c12": "(12) Ký số",
    "electronic_rate": "Tỷ lệ trao đổi điện tử (%)",
    "signed_rate": "Tỷ lệ ký số (%)",
    "on_time_rate": "Tỷ lệ xử lý đúng hạn (%)",
}
SUBJECT_HEADER: dict[str, str] = {"unit": "(2) Đơn vị", "month": "(2) Tháng"}
# What each rate is, in the report's column numbers.
RATE_FORMULAS: dict[str, str] = {
    "electronic_rate": "[(4)+(11)] / [(3)+(10)]",
    "signed_rate": "(12) / (10)",
    "on_time_rate": "(6) / [(6)+(7)]",
}


def with_headers(frame: pl.DataFrame, by: By) -> pl.DataFrame:
    """The report with its Vietnamese headers and rates in percent (2 places), for CSV.

    By unit the period columns (the same on every row) and ``level`` are dropped.
    """
    import polars as pl

    drop = ["level"] + (["period_from", "period_to"] if by == "unit" else [])
    percent = [(pl.col(c) * 100).round(2).alias(c) for c in RATE_COLUMNS]
    out = frame.drop(drop).with_columns(percent)
    names = {**HEADERS, "c2": SUBJECT_HEADER[by]}
    return out.rename({old: new for old, new in names.items() if old in out.columns})


# Two-line headers for a terminal.
COMPACT_HEADERS: dict[str, str] = {
    "c3": "(3)\nĐến",
    "c4": "(4)\nĐến ĐT",
    "c5": "(5)\nCó hạn",
    "c6": "(6)\nĐúng hạn",
    "c7": "(7)\nQuá hạn",
    "c8": "(8)\nChưa HT\nquá hạn",
    "c9": "(9)\nChưa HT\ntrong hạn",
    "c10": "(10)\nĐi",
    "c11": "(11)\nĐi ĐT",
    "c12": "(12)\nKý số",
    "electronic_rate": "% trao\nđổi ĐT",
    "signed_rate": "%\nký số",
    "on_time_rate": "% đúng\nhạn",
}


XLSX_TITLE = "TÌNH HÌNH TIẾP NHẬN, XỬ LÝ VĂN BẢN ĐẾN VÀ BAN HÀNH VĂN BẢN ĐI"
# Spreadsheet columns: 0 STT, 1 Mã, 2 subject, 3…12 the counts (3)…(12), 13…15 the rates.
_FIRST_COUNT = 3
_LAST_COL = _FIRST_COUNT + len(COUNT_COLUMNS) + len(RATE_COLUMNS) - 1
# Groups over the header: (label, first col, last col).
_HEADER_GROUPS = (
    ("Văn bản đến", 3, 9),
    ("Văn bản đi", 10, 12),
    ("Tỷ lệ", 13, 15),
)
_HEADER_TALL = {  # spans rows 1 and 2 of the header
    3: "Tổng số nhận trong kỳ",
    4: "Nhận điện tử",
    5: "Có hạn xử lý",
    10: "Tổng số ban hành trong kỳ",
    13: "Trao đổi điện tử",
    14: "Ký số",
    15: "Xử lý đúng hạn",
}
_HEADER_PAIRS = (  # (first col, label over the two, labels of the two)
    (6, "Đã hoàn thành đến cuối kỳ", ("Đúng hạn", "Quá hạn")),
    (8, "Chưa hoàn thành đến cuối kỳ", ("Quá hạn", "Trong hạn")),
    (11, "Trong đó", ("Gửi điện tử", "Ký số")),
)


def write_documents_xlsx(
    frame: pl.DataFrame, path: Path, date_from: date, date_to: date, by: By, issuer: str = ""
) -> Path:
    """Write ``documents_report(...)``'s frame as a spreadsheet in the style of form 06: title
    block, three-row header, the row of column numbers, section rows by unit level, the total
    row, the rates (percent), a note and the signature block. Returns ``path``."""
    from warehouse.form06_xlsx import (
        add_formats,
        new_workbook,
        sections,
        write_cell,
        write_signatures,
        write_title_block,
    )

    wb = new_workbook(path)  # text stays text: no formulas from the data
    ws = wb.add_worksheet("Văn bản")
    fmt = add_formats(wb)
    head, last = fmt["head"], _LAST_COL

    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 10)
    ws.set_column(2, 2, 30)
    ws.set_column(3, last, 11)
    write_title_block(ws, fmt, last, issuer, "", XLSX_TITLE, date_from, date_to)

    top = 7
    ws.merge_range(top, 0, top + 2, 0, "STT", head)
    ws.merge_range(top, 1, top + 2, 1, "Mã", head)
    ws.merge_range(top, 2, top + 2, 2, "Đơn vị" if by == "unit" else "Tháng", head)
    for label, first, end in _HEADER_GROUPS:
        ws.merge_range(top, first, top, end, label, head)
    for col, label in _HEADER_TALL.items():
        ws.merge_range(top + 1, col, top + 2, col, label, head)
    for first, label, (left, right) in _HEADER_PAIRS:
        ws.merge_range(top + 1, first, top + 1, first + 1, label, head)
        ws.write_string(top + 2, first, left, head)
        ws.write_string(top + 2, first + 1, right, head)
    ws.set_row(top + 2, 45)
    numbers = ["(1)", "", "(2)", *[f"({i})" for i in range(3, 13)],
               *[RATE_FORMULAS[c] for c in RATE_COLUMNS]]  # fmt: skip
    for col, label in enumerate(numbers):
        write_cell(ws, top + 3, col, label, fmt["num_row"])

    def write_row(r: int, row: dict, number: str, text: str, percent: str) -> None:
        write_cell(ws, r, 0, row["c1"], fmt[number])
        write_cell(ws, r, 1, row["code"], fmt[text])
        write_cell(ws, r, 2, row["c2"], fmt[text])
        for i, col in enumerate(COUNT_COLUMNS, start=_FIRST_COUNT):
            ws.write_number(r, i, row[col], fmt[number])
        for i, col in enumerate(RATE_COLUMNS, start=_FIRST_COUNT + len(COUNT_COLUMNS)):
            if row[col] is None:
                ws.write_blank(r, i, None, fmt[percent])
            else:
                ws.write_number(r, i, row[col], fmt[percent])

    r = top + 4
    for label, rows in sections(frame, by):
        if label is not None:
            ws.write_blank(r, 0, None, fmt["section"])
            ws.merge_range(r, 1, r, last, label, fmt["section"])
            r += 1
        for row in rows:
            write_row(r, row, "cell", "text", "percent")
            r += 1
    write_row(r, frame.row(-1, named=True), "total", "total_text", "total_percent")

    note = (
        "Ghi chú: cột (6) - (9) xét đến ngày cuối kỳ theo ngày hoàn thành; hạn xử lý đúng ngày "
        "cuối kỳ tính là trong hạn (9); văn bản đến trước kỳ chưa hoàn thành không tính vào "
        "cột nào. Tỷ lệ trao đổi điện tử = [(4)+(11)] / [(3)+(10)]; tỷ lệ ký số = (12) / (10); "
        "tỷ lệ xử lý đúng hạn = (6) / [(6)+(7)]."
    )
    if by == "month":
        note += (
            " Mỗi tháng là một kỳ riêng (cột (6) - (9) xét đến ngày cuối tháng); dòng Tổng cộng"
            " là cả kỳ báo cáo, nên cột (6) - (9) của dòng này có thể khác tổng các tháng."
        )
    r += 2
    ws.merge_range(r, 0, r + 2, last, note, fmt["note"])
    write_signatures(ws, fmt, r + 4, last)
    ws.freeze_panes(top + 4, 3)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    wb.close()
    return path


def compact_table(frame: pl.DataFrame, by: str) -> pl.DataFrame:
    """The report as a screen shows it: short headers, rates as percentages."""
    import polars as pl

    percent = [
        pl.when(pl.col(c).is_null()).then(pl.lit("")).otherwise(pl.format("{} %", (pl.col(c) * 100).round(2)))
        .alias(c)
        for c in RATE_COLUMNS
    ]
    return (
        frame.with_columns(percent)
        .select("c1", "code", "c2", *COUNT_COLUMNS, *RATE_COLUMNS)
        .rename({"c1": "STT", "code": "Mã", "c2": "Đơn vị" if by == "unit" else "Tháng", **COMPACT_HEADERS})
    )
