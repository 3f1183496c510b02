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
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from warehouse.documents_report import month_label
from warehouse.form06 import LEVEL_ORDER, TOTAL_LABEL
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
from warehouse.targets import target_for
from warehouse.views import expand

if TYPE_CHECKING:
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
FORM06_COLUMNS = tuple(f"c{i}" for i in range(3, 14))
DOSSIER_COLUMNS = ("no_due_date", "withdrawn", "received", "digitised", "paid_online", "finished",
                   "electronic_results", "rated", "satisfied")  # fmt: skip
UPTAKE_COLUMNS = ("procedures_offered_online", "procedures_with_online")
DOCUMENT_COLUMNS = ("docs_received", "docs_received_electronic", "docs_issued",
                    "docs_issued_electronic", "docs_issued_signed")  # fmt: skip
COUNT_COLUMNS = FORM06_COLUMNS + DOSSIER_COLUMNS + UPTAKE_COLUMNS + DOCUMENT_COLUMNS
# Counts that add up over months (all of them add up over units).
MONTH_ADDITIVE = ("c4", "c5", "no_due_date", "received", "digitised", "paid_online",
                  "docs_received", "docs_received_electronic", "docs_issued",
                  "docs_issued_electronic", "docs_issued_signed")  # fmt: skip
SUBJECT_COLUMNS = ("code", "name", "level", "period_from", "period_to")
RATE_SUFFIXES = ("numerator", "denominator", "rate", "target", "meets")


def indicator_columns(key: str) -> tuple[str, ...]:
    """``on_time_numerator``, ``on_time_denominator``, ``on_time_rate``, ``…_target``, ``…_meets``."""
    return tuple(f"{key}_{suffix}" for suffix in RATE_SUFFIXES)


COLUMNS = SUBJECT_COLUMNS + COUNT_COLUMNS + tuple(c for k in KEYS for c in indicator_columns(k))

# Counts per (period, unit) for the periods p(period_code, period_from, period_to): the rules of
# form 06 (warehouse/form06.py) with p's bounds for $date_from / $date_to.
_COUNTS_SQL = expand("""
{unit_map},
lifecycle AS (  -- dossiers under their report unit (warehouse/report_units.py)
    SELECT l.* EXCLUDE (unit_code, unit_valid_from),
           """ + report_unit_columns("l", "l.unit_valid_from") + """
    FROM out_onestop__dossier_lifecycle l """ + report_unit_join("l", "l.unit_valid_from") + """
),
documents_keyed AS (
    SELECT d.* EXCLUDE (unit_code, unit_valid_from),
           """ + report_unit_columns("d", "d.day_unit") + """
    FROM (SELECT *, cchc_unit_from(unit_code, unit_valid_from,
                                   coalesce(received_date, issued_date)) AS day_unit
          FROM core_eoffice__documents) d
    """ + report_unit_join("d", "d.day_unit") + """
),
scoped AS (
    SELECT p.period_code, p.period_from, p.period_to, l.*
    FROM periods p
    JOIN lifecycle l
      ON l.received_date <= p.period_to
     AND (l.closed_date IS NULL OR l.closed_date >= p.period_from)
),
dossiers AS (
    SELECT
        period_code, unit_code, unit_valid_from,
    {{dossier_counts index period_from period_to}}
    FROM scoped
    GROUP BY period_code, unit_code, unit_valid_from
),
offered AS (
    SELECT unit_code, unit_valid_from, procedure_code, min(received_date) AS offered_from
    FROM lifecycle
    WHERE service_level IN {{codes onestop.ONLINE_LEVELS}} AND procedure_code IS NOT NULL
    GROUP BY unit_code, unit_valid_from, procedure_code
),
used_online AS (
    SELECT DISTINCT p.period_code, l.unit_code, l.unit_valid_from, l.procedure_code
    FROM periods p
    JOIN lifecycle l
      ON l.received_date BETWEEN p.period_from AND p.period_to
    WHERE l.channel IN {{codes onestop.ONLINE_CHANNELS}}
),
uptake AS (
    SELECT
        p.period_code, o.unit_code, o.unit_valid_from,
        count(*) AS procedures_offered_online,
        count(u.procedure_code) AS procedures_with_online
    FROM periods p
    JOIN offered o ON o.offered_from <= p.period_to
    LEFT JOIN used_online u
      ON u.period_code = p.period_code AND u.unit_code = o.unit_code
     AND u.unit_valid_from = o.unit_valid_from AND u.procedure_code = o.procedure_code
    GROUP BY p.period_code, o.unit_code, o.unit_valid_from
),
documents AS (
    SELECT
        p.period_code, d.unit_code, d.unit_valid_from,
        count(*) FILTER (d.direction = 'DEN') AS docs_received,
        count(*) FILTER (d.direction = 'DEN' AND d.transport IN {{codes eoffice.ELECTRONIC_CODES}})
            AS docs_received_electronic,
        count(*) FILTER (d.direction = 'DI') AS docs_issued,
        count(*) FILTER (d.direction = 'DI' AND d.transport IN {{codes eoffice.ELECTRONIC_CODES}})
            AS docs_issued_electronic,
        count(*) FILTER (d.direction = 'DI' AND d.digitally_signed) AS docs_issued_signed
    FROM periods p
    JOIN (
        SELECT unit_code, unit_valid_from, direction, transport, digitally_signed,
               CASE direction WHEN 'DEN' THEN received_date WHEN 'DI' THEN issued_date END
                   AS report_date
        FROM documents_keyed
    ) d ON d.report_date BETWEEN p.period_from AND p.period_to
    GROUP BY p.period_code, d.unit_code, d.unit_valid_from
),
counted AS (
    SELECT period_code, unit_code, unit_valid_from FROM dossiers
    UNION SELECT period_code, unit_code, unit_valid_from FROM uptake
    UNION SELECT period_code, unit_code, unit_valid_from FROM documents
),
counts AS (
    SELECT
        k.period_code, k.unit_code, k.unit_valid_from,
        """ + ",\n        ".join(f"coalesce({c}, 0) AS {c}" for c in COUNT_COLUMNS) + """
    FROM counted k
    LEFT JOIN dossiers USING (period_code, unit_code, unit_valid_from)
    LEFT JOIN uptake USING (period_code, unit_code, unit_valid_from)
    LEFT JOIN documents USING (period_code, unit_code, unit_valid_from)
)""")

_ZEROS = ", ".join(f"coalesce(c.{col}, 0) AS {col}" for col in COUNT_COLUMNS)

# One period, one row per unit with figures plus the other units of the same district that
# existed during it (zero rows), as form 06 lists them.
BY_UNIT_SQL = f"""
WITH periods AS (
    SELECT 'period' AS period_code, $date_from::DATE AS period_from, $date_to::DATE AS period_to
),
{_COUNTS_SQL},
f AS (SELECT DISTINCT unit_code, unit_valid_from FROM counts),
{units_ctes()}
SELECT
    units.unit_code AS code, {unit_label_sql()} AS name, u.level,
    units.unit_valid_from AS _valid_from,
    $date_from::DATE AS period_from, $date_to::DATE AS period_to,
    {_ZEROS}
FROM units
LEFT JOIN counts c USING (unit_code, unit_valid_from)
{unit_join_sql()}
"""

# One row per calendar month of the period (cut to it) and one for the whole period, summed
# over the units.
BY_MONTH_SQL = f"""
WITH periods AS (
    SELECT
        strftime(m, '%Y-%m') AS period_code,
        greatest(m::DATE, $date_from::DATE) AS period_from,
        least(last_day(m::DATE), $date_to::DATE) AS period_to
    FROM generate_series(date_trunc('month', $date_from::DATE)::TIMESTAMP,
                         date_trunc('month', $date_to::DATE)::TIMESTAMP,
                         INTERVAL 1 MONTH) AS t(m)
    UNION ALL
    SELECT 'total', $date_from::DATE, $date_to::DATE
),
{_COUNTS_SQL}
SELECT
    p.period_code AS code, p.period_from, p.period_to,
    {", ".join(f"coalesce(sum(c.{col}), 0) AS {col}" for col in COUNT_COLUMNS)}
FROM periods p
LEFT JOIN counts c USING (period_code)
GROUP BY p.period_code, p.period_from, p.period_to
ORDER BY p.period_code = 'total', p.period_from
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
    import polars as pl

    if date_from > date_to:
        raise ValueError(f"the period starts ({date_from}) after it ends ({date_to})")
    if by not in ("unit", "month"):
        raise ValueError(f"by must be 'unit' or 'month', not {by!r}")
    params = {"date_from": date_from, "date_to": date_to}
    check_units(units)
    sql = (BY_UNIT_SQL if by == "unit" else BY_MONTH_SQL).replace("{unit_map}", unit_map_cte(units))
    rows = con.execute(sql, params).pl()
    rows = rows.with_columns(
        [pl.col(c).cast(pl.Int64) for c in COUNT_COLUMNS]
        + [pl.col("period_from", "period_to").cast(pl.Date)]
    )
    if by == "unit":
        rows = rows.sort(pl.col("level").replace_strict(LEVEL_ORDER, default=2), "code",
                         "_valid_from")
        total = rows.select(
            pl.lit(None, pl.String).alias("code"),
            pl.lit(TOTAL_LABEL).alias("name"),
            pl.lit(None, pl.String).alias("level"),
            pl.lit(date_from, pl.Date).alias("period_from"),
            pl.lit(date_to, pl.Date).alias("period_to"),
            *[pl.col(c).sum().cast(pl.Int64) for c in COUNT_COLUMNS],
        )
    else:
        is_total = pl.col("code") == "total"
        total = rows.filter(is_total).with_columns(
            code=pl.lit(None, pl.String), name=pl.lit(TOTAL_LABEL), level=pl.lit(None, pl.String)
        )
        rows = rows.filter(~is_total)
        labels = [month_label(f, t) for f, t in rows.select("period_from", "period_to").rows()]
        rows = rows.with_columns(
            name=pl.Series(labels, dtype=pl.String), level=pl.lit(None, pl.String)
        )
    order = list(SUBJECT_COLUMNS + COUNT_COLUMNS)
    out = pl.concat([rows.select(order), total.select(order)], how="vertical_relaxed")
    return _with_rates(out)


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
