"""Dossier-list file exports, as a clerk downloads them (docs/source-systems.md §5): XLSX and CSV.

The rows are the system's emitted items (dirt included) of the dossiers that matter for the
period: received in it, finished in it, or received before it and still open at its start. The
XLSX has the report screen's title block, one header row, a "Tổng số" row and a signature block;
the CSV has the same header and values only. ``codes_as_numbers`` turns a share of plain
procedure codes into numbers, as a spreadsheet that guessed types would (``1.001230`` →
``1.00123``).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import polars as pl

from simulator import labels
from simulator.dataset import INSTANT_FIELDS, Dataset, get_dataset, shard_datasets
from simulator.dirt import Manifest
from simulator.generate import FIN, RECV, shards
from simulator.options import SimOptions
from simulator.units import ISSUING_BODY

DateStyle = Literal["text", "excel", "mixed"]
_LOCAL = timedelta(hours=7)


@dataclass
class ExportResult:
    """What was written: path, data rows, the dirt it carries, and the codes made numbers."""

    path: Path
    rows: int
    manifest: Manifest
    codes_as_numbers: set[str] = field(default_factory=set)


def select_rows(ds: Dataset, date_from: date, date_to: date, unit: str | None = None) -> pl.DataFrame:
    """Emitted items of the dossiers relevant to [date_from, date_to] (local days): received in
    it, finished in it, or received before it and still open at its start, judged on each
    dossier's newest version (an older version of a long-finished dossier does not make it
    "open"). Optionally one unit (statistics code such as "24109" or "637", or a MaDonVi).
    Ordered as the report screen lists them: reception, code, version."""
    lo, hi = (np.datetime64(d, "D").astype(np.int64) for d in (date_from, date_to))

    def relevant(recv: np.ndarray, fin: np.ndarray) -> np.ndarray:
        """recv/fin: local days, -1 when missing."""
        has_fin = fin >= 0
        return (((recv >= lo) & (recv <= hi)) | (has_fin & (fin >= lo) & (fin <= hi))
                | ((recv >= 0) & (recv < lo) & (~has_fin | (fin >= lo))))

    def local_day(t: np.ndarray) -> np.ndarray:
        return np.where(t >= 0, (t + 7 * 3600) // 86400, -1)

    gen = ds.generated
    latest = gen.latest_stage(int(ds.options.now.timestamp()) if ds.options.now else None)
    t_recv = np.where(latest >= RECV, gen.times[:, RECV], gen.full["NgayNopHoSo"].to_numpy())
    t_fin = np.where(latest >= FIN, gen.times[:, FIN], -1)
    keep_dossier = relevant(local_day(t_recv), local_day(t_fin)) & (latest >= 0)
    idx = ds.items["_idx"].to_numpy()
    keep = keep_dossier[np.maximum(idx, 0)] & (idx >= 0)
    extra = np.nonzero(idx < 0)[0]  # extras: one item each, judged on their own fields
    if len(extra):
        e = ds.items.select(pl.coalesce("NgayTiepNhan", "NgayNopHoSo"), "NgayKetThucXuLy")[extra]
        keep[extra] = relevant(local_day(e[:, 0].fill_null(-1).to_numpy()), local_day(e[:, 1].fill_null(-1).to_numpy()))
    items = ds.items.filter(pl.Series(keep))
    if unit:
        codes = [i for i, u in enumerate(gen.units) if unit in (u.code, u.unit_id)]
        items = items.filter(pl.col("_unit").is_in(codes) | (pl.col("MaDonVi") == unit))
    # Rows equal on all three keys are exact duplicates, so an unstable sort is deterministic.
    return items.sort(pl.coalesce("NgayTiepNhan", "NgayNopHoSo"), "_key", "NgayCapNhat")


def _labelled(items: pl.DataFrame) -> pl.DataFrame:
    """Export values as text (dates aside): Vietnamese labels for codes."""
    def lab(col: str, mapping: dict) -> pl.Expr:
        return pl.col(col).replace_strict(list(mapping), list(mapping.values()), default=None,
                                          return_dtype=pl.String)

    status = pl.coalesce(lab("TrangThaiHoSo", labels.STATUS), pl.col("_status_text"),
                         pl.col("TrangThaiHoSo").cast(pl.String))
    return items.with_columns(
        lab("MucDo", labels.LEVEL), lab("KenhThucHien", labels.CHANNEL), lab("LoaiDoiTuong", labels.APPLICANT),
        status.alias("TrangThaiHoSo"), lab("TrangThaiSoHoa", labels.DIGITISATION),
        pl.when(pl.col("KetQuaDienTu")).then(pl.lit("Có")).otherwise(pl.lit("Không")).alias("KetQuaDienTu"),
        pl.when(pl.col("ThanhToanTrucTuyen")).then(pl.lit("Có")).otherwise(pl.lit("Không")).alias("ThanhToanTrucTuyen"),
        lab("DanhGia", labels.RATING),
    )


def _numeric_codes(items: pl.DataFrame, rate: float, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    """Mark a share of rows whose plain d.dddddd code a spreadsheet would read as a number."""
    plain = items["MaTTHC"].str.contains(r"^\d\.\d{6}$").to_numpy()
    rng = np.random.default_rng([seed, 900, items.height])
    hit = plain & (rng.random(items.height) < rate)
    as_text = items["MaTTHC"].str.replace(r"0+$", "")
    return items.with_columns(_num=pl.Series(hit)), np.nonzero(hit & (as_text != items["MaTTHC"]).to_numpy())[0]


def export_dossiers(out: Path | str, fmt: Literal["xlsx", "csv"] | None = None, *,
                    options: SimOptions | None = None, dataset: Dataset | None = None,
                    date_from: date | None = None, date_to: date | None = None, unit: str | None = None,
                    dates: DateStyle = "text", bom: bool = True,
                    codes_as_numbers: float | None = None) -> ExportResult:
    """Write a dossier-list export of the simulated system; see the module docstring.

    ``fmt`` defaults to the file suffix; ``dates`` (XLSX only): local-time text
    ``dd/mm/yyyy HH:MM``, real Excel date cells, or a seeded mix per row; ``bom``: CSV only;
    ``codes_as_numbers`` overrides the options' rate. ``dataset`` (else ``options``, else the
    demo defaults) is the simulated system to export."""
    out = Path(out)
    fmt = fmt or ("csv" if out.suffix.lower() == ".csv" else "xlsx")
    opts = dataset.options if dataset is not None else (options or SimOptions())
    if dataset is not None:
        parts: Iterable[Dataset] = [dataset]
    elif len(shards(opts)) > 1:  # too big for one go: one shard at a time, appended
        parts = shard_datasets(opts)
    else:
        parts = [get_dataset(opts)]
    rate = opts.dirt.codes_as_numbers if codes_as_numbers is None else codes_as_numbers
    out.parent.mkdir(parents=True, exist_ok=True)
    rows, tables, entries, changed_codes = 0, [], [], set()
    unit_name = ISSUING_BODY
    with out.open("wb") if fmt == "csv" else nullcontext() as fh:
        for ds in parts:
            date_from, date_to = date_from or ds.period[0], date_to or ds.period[1]
            if unit:
                unit_name = next((u.name.upper() for u in ds.generated.units if unit in (u.code, u.unit_id)), unit_name)
            items = select_rows(ds, date_from, date_to, unit)
            items, changed = _numeric_codes(items, rate, opts.seed)
            codes = set(items["MaHoSo"].gather(changed).to_list())
            entries.append(ds.manifest.restricted(items["MaHoSo"].unique()).entries)
            if codes:
                counts = items.gather(changed).group_by("MaHoSo").len().rename({"len": "items"})
                entries.append(counts.select(pl.lit("codes_as_numbers").alias("kind"), "MaHoSo",
                                             pl.col("items").cast(pl.Int64)))
            changed_codes |= codes
            table = _labelled(items)
            if fmt == "csv":
                _write_csv(table, fh, bom and rows == 0, header=rows == 0, first_stt=rows + 1)
            else:
                tables.append(table)
            rows += items.height
            del ds, items, table  # one shard in memory at a time
    if fmt == "xlsx":
        _write_xlsx(pl.concat(tables), out, date_from, date_to, dates, opts.seed, unit_name)  # type: ignore[arg-type]
    return ExportResult(out, rows, Manifest(pl.concat(entries).sort("kind", "MaHoSo")), changed_codes)


def _local_text(frame: pl.DataFrame, col: str) -> pl.Series:
    """``dd/mm/yyyy HH:MM`` in local time. Built from two small lookup tables (days, minutes of
    the day) instead of strftime per value: a million rows take a tenth of the time."""
    t = frame[col]
    if t.len() == 0 or t.null_count() == t.len():
        return pl.Series(col, [None] * t.len(), dtype=pl.String)
    local = t.fill_null(t.drop_nulls()[0]).to_numpy() + 7 * 3600
    day, minute = local // 86400, (local % 86400) // 60
    first = int(day.min())
    days = pl.select(pl.from_epoch(pl.Series(np.arange(first, int(day.max()) + 1) * 86400), time_unit="s")
                     .dt.strftime("%d/%m/%Y")).to_series()
    minutes = pl.Series([f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)])
    text = pl.select(pl.concat_str(days.gather(day - first), pl.lit(" "), minutes.gather(minute))).to_series()
    return pl.select(pl.when(t.is_null()).then(None).otherwise(text)).to_series().alias(col)


def _code_text() -> pl.Expr:
    """The code as a spreadsheet shows a number: trailing zeros gone."""
    num = pl.col("MaTTHC").str.replace(r"0+$", "")
    return pl.when(pl.col("_num")).then(num).otherwise(pl.col("MaTTHC")).alias("MaTTHC")


def _write_csv(table: pl.DataFrame, fh: BinaryIO, bom: bool, header: bool = True, first_stt: int = 1) -> None:
    frame = table.with_columns([_local_text(table, c) for c in INSTANT_FIELDS] + [_code_text()])
    frame = frame.select((pl.int_range(0, pl.len()) + first_stt).alias("STT"), *[k for k, _ in labels.EXPORT_COLUMNS])
    frame.columns = list(labels.HEADERS)
    frame.write_csv(fh, include_bom=bom, include_header=header)


def _write_xlsx(table: pl.DataFrame, out: Path, date_from: date, date_to: date, dates: DateStyle,
                seed: int, issuing_body: str) -> None:
    import xlsxwriter

    keys = [k for k, _ in labels.EXPORT_COLUMNS]
    date_cols = [i + 1 for i, k in enumerate(keys) if k in INSTANT_FIELDS]
    code_col = keys.index("MaTTHC") + 1
    frame = table.with_columns([_local_text(table, c) for c in INSTANT_FIELDS])
    n = frame.height
    rng = np.random.default_rng([seed, 901, n])
    excel_rows = {"text": np.zeros(n, bool), "excel": np.ones(n, bool), "mixed": rng.random(n) < 0.5}[dates]
    last = len(labels.HEADERS) - 1

    # Shared strings (the usual layout, 1.5x faster here: values repeat a lot) unless the sheet
    # is too big to hold in memory.
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": n > 200_000})
    wb.set_properties({"title": labels.TITLE, "author": issuing_body,
                       "created": datetime.combine(date_to, datetime.min.time())})
    ws = wb.add_worksheet("Danh sách hồ sơ")
    bold_c = wb.add_format({"bold": True, "align": "center"})
    under_c = wb.add_format({"bold": True, "align": "center", "underline": True})
    title = wb.add_format({"bold": True, "align": "center", "font_size": 14})
    italic_c = wb.add_format({"italic": True, "align": "center"})
    header = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1})
    cell_dt = wb.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    bold = wb.add_format({"bold": True})
    ws.merge_range(0, 0, 0, 5, issuing_body, bold_c)
    ws.merge_range(0, last - 8, 0, last, labels.MOTTO[0], bold_c)
    ws.merge_range(1, 0, 1, 5, labels.OFFICE, under_c)
    ws.merge_range(1, last - 8, 1, last, labels.MOTTO[1], under_c)
    ws.merge_range(3, 0, 3, last, labels.TITLE, title)
    ws.merge_range(4, 0, 4, last, f"Từ ngày {date_from:%d/%m/%Y} đến ngày {date_to:%d/%m/%Y}", italic_c)
    ws.write_row(6, 0, labels.HEADERS, header)
    ws.set_column(0, 0, 6)
    ws.set_column(1, last, 16)

    raw = table.select(INSTANT_FIELDS).to_numpy() if excel_rows.any() else None
    numbers = frame["_num"].to_list()
    values = frame.select(pl.int_range(1, pl.len() + 1).alias("STT"), *keys).rows()
    write_string, write_number = ws.write_string, ws.write_number
    for i, row in enumerate(values):
        r = 7 + i
        write_number(r, 0, row[0])
        for c in range(1, len(row)):
            v = row[c]
            if v is not None:
                write_string(r, c, v)
        if numbers[i]:
            write_number(r, code_col, float(row[code_col]))
        if excel_rows[i]:
            for j, c in enumerate(date_cols):
                t = raw[i, j]
                if t is not None and not (isinstance(t, float) and np.isnan(t)):
                    ws.write_datetime(r, c, datetime(1970, 1, 1) + timedelta(seconds=int(t)) + _LOCAL, cell_dt)
    r = 7 + n
    ws.merge_range(r, 0, r, 5, f"Tổng số: {n} hồ sơ", bold)
    sign = last - 8
    ws.merge_range(r + 2, sign, r + 2, last, f"Krông Pa, ngày {date_to:%d} tháng {date_to:%m} năm {date_to:%Y}", italic_c)
    ws.merge_range(r + 3, sign, r + 3, last, labels.SIGNER_ROLE, bold_c)
    ws.merge_range(r + 4, sign, r + 4, last, "(Ký, ghi rõ họ tên)", italic_c)
    ws.merge_range(r + 8, sign, r + 8, last, labels.SIGNER_NAME, bold_c)
    wb.close()
