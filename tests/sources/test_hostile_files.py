"""The hostile-file corpus (tests/fixtures/hostile/corpus.py) through the readers and the pipeline.

Every file is read or rejected with one clear line naming the file (no traceback text, no raw
row content), within seconds; through ``stage_file`` + ``load_batch`` every row is loaded or
quarantined with a reason, or the file is rejected, and the warehouse keeps its earlier data.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from fixtures.hostile.corpus import SECRET_ID, SECRET_NAME, SECRET_PHONE, Case, build

from sources.errors import SourceFileError
from sources.files import read_export
from sources.registry import SOURCES

LAYOUTS = [spec.layout for spec in SOURCES]
SECONDS_PER_FILE = 3.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Case]]:
    folder = tmp_path_factory.mktemp("hostile")
    return folder, build(folder)


def _clear_line(message: str, path: Path) -> list[str]:
    """What is wrong with a rejection message (empty: nothing)."""
    problems = []
    if "\n" in message:
        problems.append("more than one line")
    if "Traceback" in message or "Error:" in message.split(": ", 1)[-1][:20]:
        problems.append("traceback text")
    if str(path) not in message:
        problems.append("does not name the file")
    problems += [f"quotes raw content {v!r}" for v in (SECRET_NAME, SECRET_ID, SECRET_PHONE)
                 if v in message]
    return problems


def test_corpus_has_at_least_30_files(corpus: tuple[Path, list[Case]]) -> None:
    _, cases = corpus
    assert len(cases) >= 30
    assert {c.expect for c in cases} == {"load", "reject"}


def test_every_file_is_read_or_rejected_with_one_clear_line(corpus: tuple[Path, list[Case]]) -> None:
    folder, cases = corpus
    failures: list[str] = []
    for case in cases:
        path = folder / case.name
        started = time.monotonic()
        try:
            layout, raw = read_export(path, LAYOUTS)
        except SourceFileError as exc:
            message = str(exc)
            if case.expect != "reject":
                failures.append(f"{case.name}: rejected: {message}")
            elif case.match not in message:
                failures.append(f"{case.name}: message lacks {case.match!r}: {message}")
            failures += [f"{case.name}: {p}: {message}" for p in _clear_line(message, path)]
        except BaseException as exc:  # noqa: BLE001 — any other exception is the failure
            failures.append(f"{case.name}: crashed with {type(exc).__name__}: {exc}"[:300])
        else:
            if case.expect != "load":
                failures.append(f"{case.name}: loaded ({raw.data_rows} rows), expected a rejection")
            elif layout.system != case.system:
                failures.append(f"{case.name}: read as {layout.system}")
            elif case.rows is not None and raw.data_rows != case.rows:
                failures.append(f"{case.name}: {raw.data_rows} rows, expected {case.rows}")
            elif case.match and not any(case.match in n for n in raw.notes):
                failures.append(f"{case.name}: no note with {case.match!r}: {raw.notes}")
            elif case.check is not None and not case.check(raw):
                failures.append(f"{case.name}: content check failed")
        elapsed = time.monotonic() - started
        if elapsed > SECONDS_PER_FILE:
            failures.append(f"{case.name}: took {elapsed:.1f} s")
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------- findings, one by one


def test_a_file_name_is_never_a_glob_pattern(tmp_path: Path) -> None:
    from onestop_fixtures import csv_text, dossier_row

    from sources.csv_stream import stage_plain_csv

    for n, name in enumerate(("exp1.csv", "exp2.csv", "exp[12].csv", "all1.csv", "all*.csv")):
        (tmp_path / name).write_text(csv_text([dossier_row(10 * n + i) for i in range(n + 1)]),
                                     encoding="utf-8")
    for name, n in (("exp[12].csv", 2), ("all*.csv", 4)):
        _, raw = read_export(tmp_path / name, LAYOUTS)
        assert raw.frame["MaHoSo"].to_list() == [dossier_row(10 * n + i)[0] for i in range(n + 1)]
        streamed = stage_plain_csv(tmp_path / name, tmp_path / f"out{n}", 1000, LAYOUTS)
        assert streamed is not None and streamed.rows == n + 1, name


@pytest.mark.timeout(20)
def test_a_fifo_or_a_link_to_dev_zero_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    import os

    from sources.csv_stream import stage_plain_csv
    from sources.files import file_sha256

    fifo, zero = tmp_path / "x.csv", tmp_path / "z.csv"
    os.mkfifo(fifo)
    os.symlink("/dev/zero", zero)
    for path, kind in ((fifo, "named pipe"), (zero, "character device behind a symbolic link")):
        for read in (file_sha256, lambda p: read_export(p, LAYOUTS),
                     lambda p: stage_plain_csv(p, tmp_path / "out", 100, LAYOUTS)):
            with pytest.raises(SourceFileError, match=kind):
                read(path)


def test_formula_cells_without_a_value_are_null_and_the_row_is_not_a_phantom_zero(
    corpus: tuple[Path, list[Case]],
) -> None:
    folder, _ = corpus
    for name, row in (("formula_no_value.xlsx", 1), ("formula_xlsxwriter.xlsx", 0)):
        _, raw = read_export(folder / name, LAYOUTS)
        assert raw.frame["MaHoSo"][row] is None
        assert "0" not in raw.frame["MaHoSo"].to_list()


def test_an_unterminated_quote_names_row_and_column_never_the_row(
    corpus: tuple[Path, list[Case]],
) -> None:
    folder, _ = corpus
    with pytest.raises(SourceFileError) as info:
        read_export(folder / "unterminated_quote.csv", LAYOUTS)
    assert (info.value.row, info.value.field) == (3, "K")
    assert not _clear_line(str(info.value), folder / "unterminated_quote.csv")


# --------------------------------------------------------------------------- through the pipeline


def _counts() -> dict[str, int]:
    import duckdb

    from cchc.config import load_settings

    con = duckdb.connect(str(load_settings().warehouse_path), read_only=True)
    try:
        tables = ["core_onestop__dossiers", "raw_onestop__dossier_versions",
                  "core_eoffice__documents", "raw_eoffice__document_versions"]
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        con.close()


# Loaded in the default run (each load costs ~2.5 s of validation); the slow variant loads all.
LOAD_SAMPLE = {"exp[12].csv", "hidden_first_sheet.xlsx", "formula_no_value.xlsx", "totals_lie.xlsx",
               "register_ok.csv"}


@pytest.mark.integration
def test_every_file_through_stage_and_load_keeps_the_earlier_data(
    data_dir: Path, tmp_path: Path
) -> None:
    """Every file is staged; rejected ones must leave the warehouse as it was; a sample of the
    readable ones is loaded (all of them with ``-m slow``)."""
    _through_the_pipeline(tmp_path, LOAD_SAMPLE)


@pytest.mark.integration
@pytest.mark.slow
def test_every_file_through_stage_and_load_all(data_dir: Path, tmp_path: Path) -> None:
    _through_the_pipeline(tmp_path, None)


def _through_the_pipeline(tmp_path: Path, sample: set[str] | None) -> None:
    from cchc import pipeline
    from cchc.config import load_settings
    from simulator.exports import export_dossiers
    from simulator.testing import simulator_options
    from sources.files import file_sha256

    settings = load_settings()
    clean = export_dossiers(tmp_path / "clean.csv", options=simulator_options(dossiers=300, seed=11),
                            date_from=date(2021, 1, 1), date_to=date(2022, 12, 31)).path
    first = pipeline.load_batch(settings, pipeline.stage_file(settings, clean, file_sha256(clean)))
    assert first.status == "succeeded" and first.rows_loaded > 0
    before = _counts()

    folder = tmp_path / "hostile"
    failures: list[str] = []
    timings: list[tuple[float, str]] = []
    for case in build(folder):
        path = folder / case.name
        started = time.monotonic()
        counts = _counts()
        try:
            batch = pipeline.stage_file(settings, path, file_sha256(path))
        except SourceFileError as exc:
            failures += [f"{case.name}: {p}" for p in _clear_line(str(exc), path)]
            if case.expect != "reject":
                failures.append(f"{case.name}: rejected on staging: {exc}")
            if _counts() != counts:
                failures.append(f"{case.name}: warehouse changed on rejection")
            continue
        except BaseException as exc:  # noqa: BLE001
            failures.append(f"{case.name}: staging crashed: {type(exc).__name__}: {exc}"[:300])
            continue
        if case.expect == "reject":
            failures.append(f"{case.name}: staged, expected a rejection")
            continue
        if sample is not None and case.name not in sample:
            continue
        summary = pipeline.load_batch(settings, batch)
        timings.append((time.monotonic() - started, case.name))
        if summary.status == "rejected":  # a batch gate (e.g. a total row that lies)
            if not summary.message or "\n" in summary.message:
                failures.append(f"{case.name}: gate rejection without one clear line")
            if _counts() != counts:
                failures.append(f"{case.name}: warehouse changed on a gate rejection")
        elif summary.status != "succeeded" or not summary.balanced:
            failures.append(f"{case.name}: {summary.status}, balanced={summary.balanced}")
        elif summary.rows_quarantined and not summary.quarantine_reasons:
            failures.append(f"{case.name}: rows quarantined without a reason")
        elif case.rows is not None and summary.rows_in != case.rows:
            failures.append(f"{case.name}: {summary.rows_in} rows in, expected {case.rows}")
        after = _counts()
        if any(after[t] < before[t] for t in before):
            failures.append(f"{case.name}: earlier data lost: {before} -> {after}")
        if time.monotonic() - started > 3 * SECONDS_PER_FILE:
            failures.append(f"{case.name}: took {time.monotonic() - started:.1f} s")
    assert not failures, "\n".join(failures)
