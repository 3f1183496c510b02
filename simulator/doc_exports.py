"""Register exports of the e-document system (docs/source-systems.md §5): "Sổ đăng ký văn bản đến / đi".

XLSX: the same kind of title block as the dossier export (issuing body and national motto, title,
"Từ ngày … đến ngày …"), one header row (``doc_catalog.register_headers``), data rows, a
"Tổng số: N văn bản" row (N = every data row, duplicates included) and a signature block. CSV:
the same header and values only, UTF-8 with a BOM by default.

Rows: the newest emitted version of every document of the register whose register date (NgayDen
incoming, NgayBanHanh outgoing) lies in the window, dirt included (duplicate copies of a newest
version stay, as an export of a dirty table would show them). Extras whose LoaiVanBan is an
unknown label belong to neither register and are in no export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from simulator import doc_catalog as dc
from simulator import labels
from simulator.doc_dataset import DocDataset, get_documents
from simulator.doc_dirt import DocManifest
from simulator.options import SimOptions
from simulator.units import ISSUING_BODY

Register = Literal["den", "di"]
DateStyle = Literal["text", "excel", "mixed"]


@dataclass
class RegisterExportResult:
    """What was written: path, data rows, and the dirt those rows carry."""

    path: Path
    rows: int
    manifest: DocManifest


def select_register(ds: DocDataset, register: Register, date_from: date, date_to: date,
                    unit: str | None = None) -> pl.DataFrame:
    """The register's rows for [date_from, date_to]: newest emitted versions (duplicate copies
    kept), optionally one body (statistics code such as "24109" or "637", or a MaDonVi), ordered
    by register date, number, id."""
    direction = "DEN" if register == "den" else "DI"
    day = "NgayDen" if register == "den" else "NgayBanHanh"
    items = ds.items.filter((pl.col("LoaiVanBan") == direction) & pl.col(day).is_between(date_from, date_to))
    items = items.filter(pl.col("NgayCapNhat") == pl.col("NgayCapNhat").max().over("MaVanBan"))
    if unit:
        idx = [i for i, u in enumerate(ds.generated.units) if unit in (u.code, u.unit_id)]
        items = items.filter(pl.col("_unit").is_in(idx) | (pl.col("MaDonVi") == unit))
    number = "SoDen" if register == "den" else "SoVanBan"
    return items.with_columns(pl.col(number).alias("_number")).sort(day, "_number", "MaVanBan", maintain_order=True)


def _labelled(rows: pl.DataFrame, register: Register) -> pl.DataFrame:
    def lab(col: str, mapping: dict[str, str]) -> pl.Expr:
        return pl.col(col).replace_strict(list(mapping), list(mapping.values()), default=pl.col(col),
                                          return_dtype=pl.String).alias(col)

    out = rows.with_columns(
        lab("DoMat", dc.SECRECY), lab("DoKhan", dc.URGENCY), lab("TrangThai", dc.STATUS), lab("HinhThuc", dc.TRANSPORT),
        pl.when(pl.col("KySo")).then(pl.lit("Có")).otherwise(pl.lit("Không")).alias("KySo"),
        *[pl.col(c).dt.strftime("%d/%m/%Y").alias(c) for c in dc.DATE_FIELDS])
    if register == "di":
        out = out.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in dc.INCOMING_ONLY])
    return out


def export_register(out: Path | str, fmt: Literal["xlsx", "csv"] | None = None, *, register: Register = "den",
                    options: SimOptions | None = None, dataset: DocDataset | None = None,
                    date_from: date | None = None, date_to: date | None = None, unit: str | None = None,
                    dates: DateStyle = "text", bom: bool = True) -> RegisterExportResult:
    """Write the incoming ("den") or outgoing ("di") register of the simulated e-document system.

    ``fmt`` defaults to the file suffix; ``dates`` (XLSX only): ``dd/mm/yyyy`` text, Excel date
    cells, or a seeded mix per row; ``bom``: CSV only. ``dataset`` (else ``options``, else the
    demo defaults) is the simulated system to export; the window defaults to the scenario's."""
    if register not in ("den", "di") or dates not in ("text", "excel", "mixed"):
        raise ValueError("register is den or di; dates is text, excel or mixed")
    out = Path(out)
    fmt = fmt or ("csv" if out.suffix.lower() == ".csv" else "xlsx")
    ds = dataset or get_documents(options or SimOptions())
    date_from, date_to = date_from or ds.period[0], date_to or ds.period[1]
    rows = select_register(ds, register, date_from, date_to, unit)
    table = _labelled(rows, register)
    keys = [k for k, _ in dc.REGISTER_COLUMNS]
    headers = list(dc.register_headers(register))
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame = table.select(pl.int_range(1, pl.len() + 1).alias("STT"), *keys)
        frame.columns = headers
        with out.open("wb") as fh:
            frame.write_csv(fh, include_bom=bom)
    else:
        body = ISSUING_BODY
        if unit:
            body = next((u.name.upper() for u in ds.generated.units if unit in (u.code, u.unit_id)), body)
        _write_xlsx(table, rows, out, register, headers, keys, date_from, date_to, dates, ds.options.seed, body)
    return RegisterExportResult(out, rows.height, ds.manifest.restricted(rows["MaVanBan"].unique()))


def _write_xlsx(table: pl.DataFrame, raw: pl.DataFrame, out: Path, register: Register, headers: list[str],
                keys: list[str], date_from: date, date_to: date, dates: DateStyle, seed: int, body: str) -> None:
    import xlsxwriter

    n = table.height
    rng = np.random.default_rng([seed, 7901, n])
    excel_rows = {"text": np.zeros(n, bool), "excel": np.ones(n, bool), "mixed": rng.random(n) < 0.5}[dates]
    last = len(headers) - 1
    title = dc.REGISTER_TITLE[register]
    wb = xlsxwriter.Workbook(str(out))
    wb.set_properties({"title": title, "author": body, "created": datetime.combine(date_to, datetime.min.time())})
    ws = wb.add_worksheet("Sổ văn bản đến" if register == "den" else "Sổ văn bản đi")
    bold_c = wb.add_format({"bold": True, "align": "center"})
    under_c = wb.add_format({"bold": True, "align": "center", "underline": True})
    title_f = wb.add_format({"bold": True, "align": "center", "font_size": 14})
    italic_c = wb.add_format({"italic": True, "align": "center"})
    header_f = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1})
    cell_d = wb.add_format({"num_format": "dd/mm/yyyy"})
    bold = wb.add_format({"bold": True})
    ws.merge_range(0, 0, 0, 5, body, bold_c)
    ws.merge_range(0, last - 8, 0, last, labels.MOTTO[0], bold_c)
    ws.merge_range(1, 0, 1, 5, dc.REGISTER_OFFICE, under_c)
    ws.merge_range(1, last - 8, 1, last, labels.MOTTO[1], under_c)
    ws.merge_range(3, 0, 3, last, title, title_f)
    ws.merge_range(4, 0, 4, last, f"Từ ngày {date_from:%d/%m/%Y} đến ngày {date_to:%d/%m/%Y}", italic_c)
    ws.write_row(6, 0, headers, header_f)
    ws.set_column(0, 1, 8)
    ws.set_column(2, last, 16)

    date_cols = [(keys.index(c) + 1, c) for c in dc.DATE_FIELDS if not (register == "di" and c in dc.INCOMING_ONLY)]
    raw_dates = {c: raw[c].to_list() for _, c in date_cols}
    values = table.select(pl.int_range(1, pl.len() + 1).alias("STT"), *keys).rows()
    for i, row in enumerate(values):
        r = 7 + i
        ws.write_number(r, 0, row[0])
        if row[1] is not None:
            ws.write_number(r, 1, row[1])
        for c in range(2, len(row)):
            if row[c] is not None:
                ws.write_string(r, c, row[c])
        if excel_rows[i]:
            for c, name in date_cols:
                d = raw_dates[name][i]
                if d is not None:
                    ws.write_datetime(r, c, datetime.combine(d, datetime.min.time()), cell_d)
    r = 7 + n
    ws.merge_range(r, 0, r, 5, f"Tổng số: {n} văn bản", bold)
    sign = last - 8
    ws.merge_range(r + 2, sign, r + 2, last, f"Krông Pa, ngày {date_to:%d} tháng {date_to:%m} năm {date_to:%Y}", italic_c)
    ws.merge_range(r + 3, sign, r + 3, last, labels.SIGNER_ROLE, bold_c)
    ws.merge_range(r + 4, sign, r + 4, last, "(Ký, ghi rõ họ tên)", italic_c)
    ws.merge_range(r + 8, sign, r + 8, last, labels.SIGNER_NAME, bold_c)
    wb.close()
