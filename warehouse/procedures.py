"""``dim_procedure``: the province's procedure catalogue, with each procedure's statutory time.

A province publishes the administrative procedures its units handle (danh mục thủ tục hành
chính) with the handling time the law gives each one, in working days. cchc reads that
catalogue as a CSV, one procedure a line, with these headers (UTF-8, codes as text):

=================  =================================================================
``MaTTHC``         procedure code as the catalogue writes it (``1.004873.000.00.00.H21``)
``TenTTHC``        procedure name
``MaLinhVuc``      field code
``TenLinhVuc``     field name
``MucDo``          online service level 2, 3 or 4 (may be empty)
``ThoiHanGiaiQuyet``  statutory handling time in working days (0: the same day)
``Nguon``          where the row comes from (the decision publishing it, or the file)
=================  =================================================================

The file is named by ``[reference] procedures_csv`` in cchc.toml; without it, the embedded
default ``warehouse/seeds/dim_procedure.csv`` is the simulated province's catalogue (written by
``cchc simulate catalogue --out …``). Procedures are matched to dossiers on the national code
``d.dddddd`` (``transforms.codes``), so local suffixes do not matter.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from transforms.codes import procedure_code_expr
from warehouse.schema import Column, Strategy, Table

PROCEDURES_CSV = Path(__file__).parent / "seeds" / "dim_procedure.csv"
CATALOGUE_HEADERS = ("MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MucDo", "ThoiHanGiaiQuyet", "Nguon")
MAX_STATUTORY_DAYS = 365

DIM_PROCEDURE = Table(
    name="dim_procedure",
    description=(
        "The province's procedure catalogue: each procedure's field, online level and "
        "statutory handling time in working days ([reference] procedures_csv)."
    ),
    key=("procedure_code",),
    strategy=Strategy.REPLACE,
    columns=(
        Column("procedure_code", "VARCHAR", "National code d.dddddd (what dossiers join on).", nullable=False),
        Column("procedure_code_local", "VARCHAR", "MaTTHC as the catalogue writes it (local suffix kept)."),
        Column("name", "VARCHAR", "TenTTHC, NFC."),
        Column("field_code", "VARCHAR", "MaLinhVuc."),
        Column("field_name", "VARCHAR", "TenLinhVuc, NFC."),
        Column("service_level", "TINYINT", "MucDo: 2 information, 3 partly online, 4 fully online."),
        Column("statutory_days", "SMALLINT", "Statutory handling time in working days (0: the same day).", nullable=False),
        Column("source", "VARCHAR", "Where the row comes from (Nguon, else the file name)."),
    ),
)


def _fail(path: Path, row: int, field: str, value: object, message: str) -> ValueError:
    return ValueError(f"{path}, row {row} (line {row + 1}), {field}={value!r}: {message}")


def read_procedure_catalogue(path: Path = PROCEDURES_CSV) -> pl.DataFrame:
    """The catalogue as ``dim_procedure`` rows, checked row by row (a bad row names the file,
    the row and the field)."""
    if not path.is_file():
        raise ValueError(f"{path}: the procedure catalogue ([reference] procedures_csv) does not exist")
    raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    missing = [h for h in CATALOGUE_HEADERS if h not in raw.columns and h != "Nguon"]
    if missing:
        raise ValueError(f"{path}: missing columns {missing} (expected {', '.join(CATALOGUE_HEADERS)})")
    if "Nguon" not in raw.columns:
        raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias("Nguon"))
    text = raw.select(
        pl.col(h).str.strip_chars().str.normalize("NFC").replace("", None) for h in CATALOGUE_HEADERS
    ).with_columns(procedure_code_expr(pl.col("MaTTHC")).alias("_code"))
    seen: dict[str, int] = {}
    for row, rec in enumerate(text.iter_rows(named=True), start=1):
        if rec["_code"] is None:
            raise _fail(path, row, "MaTTHC", rec["MaTTHC"], "is not a procedure code d.dddddd")
        if rec["_code"] in seen:
            raise _fail(path, row, "MaTTHC", rec["MaTTHC"],
                        f"the procedure {rec['_code']} is already on row {seen[rec['_code']]}")
        seen[rec["_code"]] = row
        days = rec["ThoiHanGiaiQuyet"]
        if days is None or not days.isdigit() or int(days) > MAX_STATUTORY_DAYS:
            raise _fail(path, row, "ThoiHanGiaiQuyet", days,
                        f"is not a whole number of working days (0–{MAX_STATUTORY_DAYS})")
        if rec["MucDo"] not in (None, "2", "3", "4"):
            raise _fail(path, row, "MucDo", rec["MucDo"], "online service level is not 2, 3 or 4")
    return text.select(
        pl.col("_code").alias("procedure_code"),
        pl.col("MaTTHC").alias("procedure_code_local"),
        pl.col("TenTTHC").alias("name"),
        pl.col("MaLinhVuc").alias("field_code"),
        pl.col("TenLinhVuc").alias("field_name"),
        pl.col("MucDo").cast(pl.Int8).alias("service_level"),
        pl.col("ThoiHanGiaiQuyet").cast(pl.Int16).alias("statutory_days"),
        pl.col("Nguon").fill_null(path.name).alias("source"),
    ).cast(DIM_PROCEDURE.polars_schema())
