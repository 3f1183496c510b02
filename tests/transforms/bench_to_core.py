"""Benchmark of ``to_core`` on a synthetic raw frame (API form or file form).

    .venv/bin/python tests/transforms/bench_to_core.py --rows 1000000 --form api
    .venv/bin/python tests/transforms/bench_to_core.py --rows 1000000 --form file --profile

Prints wall and CPU seconds of the whole call and, with ``--profile``, of each stage. The
frame is realistic in shape: unique dossier codes, names, identity numbers and times; a few
hundred procedures; the 15 receiving units; labels or codes.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np
import polars as pl

from sources.onestop.fields import RAW_FIELDS
from transforms import labels
from transforms.onestop_dossiers import to_core
from warehouse.seeds import load_admin_units

UNITS = [
    ("24076", "UBND thị trấn Phú Túc"),
    ("24079", "UBND xã Ia Rsai"),
    ("24082", "UBND xã Ia Rsươm"),
    ("24085", "UBND xã Chư Gu"),
    ("24088", "UBND xã Đất Bằng"),
    ("24091", "UBND xã Ia Mlah"),
    ("24094", "UBND xã Chư Drăng"),
    ("24097", "UBND xã Phú Cần"),
    ("24100", "UBND xã Ia Hdreh"),
    ("24103", "UBND xã Ia Rmok"),
    ("24106", "UBND xã Chư Ngọc"),
    ("24109", "UBND xã Uar"),
    ("24112", "UBND xã Chư Rcăm"),
    ("24115", "UBND xã Krông Năng"),
    ("637", "UBND huyện Krông Pa"),
]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Ksor", "Rơ Mah", "Nay", "Siu", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "H'"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hằng", "Lan", "Tuấn", "Út", "Ánh", "Blơ", "Hen", "Tâm"]


def make_raw(rows: int, form: str, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    base = np.datetime64("2021-01-01T00:00:00", "us")
    received = base + (rng.integers(0, 700 * 86400, rows) * 1_000_000).astype("timedelta64[us]")
    due = received + np.timedelta64(3, "D")
    finished = received + (rng.integers(0, 5 * 86400, rows) * 1_000_000).astype("timedelta64[us]")
    unit = rng.integers(0, len(UNITS), rows)
    status = rng.integers(1, 11, rows)
    procedures = [f"{rng.integers(1, 3)}.{rng.integers(0, 999999):06d}" for _ in range(300)]
    proc_names = [
        f"Thủ tục hành chính số {i} về chứng thực, hộ tịch và đất đai" for i in range(300)
    ]
    proc = rng.integers(0, 300, rows)
    name = [
        f"{SURNAMES[a]} {MIDDLE[b]} {GIVEN[c]} {i % 97}"
        for i, (a, b, c) in enumerate(
            zip(
                rng.integers(0, 10, rows),
                rng.integers(0, 6, rows),
                rng.integers(0, 12, rows),
                strict=True,
            )
        )
    ]
    df = pl.DataFrame(
        {
            "MaHoSo": [f"000.00.12.H21-{i // 10000:06d}-{i % 10000:04d}" for i in range(rows)],
            "MaTTHC": pl.Series(procedures).gather(proc),
            "TenTTHC": pl.Series(proc_names).gather(proc),
            "TenLinhVuc": pl.Series(["Chứng thực", "Hộ tịch", "Đất đai", "Tư pháp"]).gather(
                proc % 4
            ),
            "TenDonVi": pl.Series([u[1] for u in UNITS]).gather(unit),
            "MaDVHC": pl.Series([u[0] for u in UNITS]).gather(unit),
            "ChuHoSo": name,
            "SoGiayTo": [f"0{64_000_000_000 + i:011d}" for i in range(rows)],
            "SoDienThoai": [f"09{i % 100_000_000:08d}" for i in range(rows)],
        }
    )
    times = {
        "NgayNopHoSo": received,
        "NgayTiepNhan": received,
        "NgayHenTra": due,
        "NgayKetThucXuLy": finished,
        "NgayTra": finished,
        "NgayCapNhat": finished,
    }
    if form == "api":
        df = df.with_columns(
            *(pl.Series(k, v).dt.strftime("%Y-%m-%dT%H:%M:%SZ") for k, v in times.items()),
            pl.Series("TrangThaiHoSo", status).cast(pl.String),
            pl.Series("KenhThucHien", rng.integers(1, 4, rows)).cast(pl.String),
            pl.Series("MucDo", rng.integers(2, 5, rows)).cast(pl.String),
            pl.lit("CongDan").alias("LoaiDoiTuong"),
            pl.Series("TrangThaiSoHoa", rng.integers(0, 4, rows)).cast(pl.String),
            pl.Series("KetQuaDienTu", rng.integers(0, 2, rows).astype(bool))
            .cast(pl.String)
            .str.to_lowercase(),
            pl.lit("false").alias("ThanhToanTrucTuyen"),
            pl.lit("HaiLong").alias("DanhGia"),
            pl.lit("HT").alias("MaLinhVuc"),
            pl.lit("000.00.12.H21").alias("MaDonVi"),
        )
    else:
        local = {k: v + np.timedelta64(7, "h") for k, v in times.items()}

        def label(mapping: dict, codes: np.ndarray) -> pl.Series:
            keys = sorted(mapping)
            return pl.Series([mapping[k][0] for k in keys]).gather(np.searchsorted(keys, codes))

        df = df.with_columns(
            *(pl.Series(k, v).dt.strftime("%d/%m/%Y %H:%M") for k, v in local.items()),
            label(labels.STATUS_LABELS, status).alias("TrangThaiHoSo"),
            label(labels.CHANNEL_LABELS, rng.integers(1, 4, rows)).alias("KenhThucHien"),
            label(labels.SERVICE_LEVEL_LABELS, rng.integers(2, 5, rows)).alias("MucDo"),
            pl.lit("Công dân").alias("LoaiDoiTuong"),
            label(labels.DIGITISATION_LABELS, rng.integers(0, 4, rows)).alias("TrangThaiSoHoa"),
            pl.Series("KetQuaDienTu", np.where(rng.integers(0, 2, rows) == 1, "Có", "Không")),
            pl.lit("Không").alias("ThanhToanTrucTuyen"),
            pl.lit("Hài lòng").alias("DanhGia"),
            pl.lit(None, dtype=pl.String).alias("MaLinhVuc"),
            pl.lit(None, dtype=pl.String).alias("MaDonVi"),
        )
    return df.select(RAW_FIELDS).with_columns(
        pl.lit(f"bench-{form}").alias("_source"),
        pl.int_range(1, rows + 1, dtype=pl.Int64).alias("_source_row"),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--form", choices=["api", "file"], default="api")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    raw = make_raw(args.rows, args.form).rechunk()
    units = load_admin_units()
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        to_core(raw, units, province_code="64", district_code="637", as_of=date(2023, 1, 1))
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    best_wall = best_cpu = float("inf")
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        batch = to_core(raw, units, province_code="64", district_code="637", as_of=date(2023, 1, 1))
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    nulls = {
        c: n for c, n in zip(batch.frame.columns, batch.frame.null_count().row(0), strict=True) if n
    }
    print(
        f"to_core {args.form} {args.rows:,} rows: wall {best_wall:.2f} s, CPU {best_cpu:.2f} s; nulls {nulls}"
    )


if __name__ == "__main__":
    main()
