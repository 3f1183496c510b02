"""The views take labels and code groups from the sources' vocabularies, never their own copies."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl
import pytest
from warehouse_fixtures import UNITS_CSV, core_frame, dossier

from sources.eoffice import vocabulary as eoffice
from sources.onestop import vocabulary as onestop
from warehouse.ddl import ensure_schema
from warehouse.seeds import load_admin_units
from warehouse.strategies import write_frame
from warehouse.tables import CORE_ONESTOP_DOSSIERS, DIM_ADMIN_UNIT
from warehouse.views import (
    VIEWS_SQL,
    code_list,
    create_views,
    declared,
    expand,
    label_case,
    views_sql,
)


def _code(sql: str) -> str:
    """The SQL without its ``--`` comments and ``COMMENT ON VIEW`` statements (prose)."""
    sql = re.sub(r"--[^\n]*", "", sql)
    return re.sub(r"COMMENT ON VIEW \w+ IS '(?:[^']|'')*';", "", sql)


RAW = VIEWS_SQL.read_text(encoding="utf-8")
LABEL_PLACEHOLDERS = re.findall(r"\{\{label (\S+) (\S+)\}\}", _code(RAW))
CODE_PLACEHOLDERS = re.findall(r"\{\{codes (\S+)\}\}", _code(RAW))
# out_onestop__dossiers: label column -> (code column, vocabulary).
ONESTOP_LABEL_COLUMNS = {
    "service_level_label": ("service_level", onestop.SERVICE_LEVEL_LABELS),
    "channel_label": ("channel", onestop.CHANNEL_LABELS),
    "applicant_type_label": ("applicant_type", onestop.APPLICANT_LABELS),
    "status_label": ("status", onestop.STATUS_LABELS),
    "digitisation_label": ("digitisation", onestop.DIGITISATION_LABELS),
    "rating_label": ("rating", onestop.RATING_LABELS),
}


def test_every_vocabulary_of_both_systems_is_labelled_from_its_module() -> None:
    named = {name for name, _ in LABEL_PLACEHOLDERS}
    assert {f"onestop.{n}" for n in ("STATUS_LABELS", "CHANNEL_LABELS", "SERVICE_LEVEL_LABELS",
                                     "APPLICANT_LABELS", "DIGITISATION_LABELS", "RATING_LABELS")} <= named  # fmt: skip
    assert {f"eoffice.{n}" for n in ("DIRECTION_LABELS", "SECRECY_LABELS", "URGENCY_LABELS",
                                     "STATUS_LABELS", "TRANSPORT_LABELS")} <= named  # fmt: skip
    assert declared("onestop.STATUS_LABELS") is onestop.STATUS_LABELS
    assert declared("eoffice.ELECTRONIC_CODES") is eoffice.ELECTRONIC_CODES
    assert "{{" not in _code(views_sql())


@pytest.mark.parametrize(("name", "expression"), sorted(set(LABEL_PLACEHOLDERS)))
def test_each_label_placeholder_shows_the_first_label_of_every_code(
    name: str, expression: str
) -> None:
    vocabulary = declared(name)
    assert label_case(name, expression) in views_sql()
    con = duckdb.connect()
    for code, names in vocabulary.items():
        shown = con.execute(f"SELECT {label_case(name, '$c')}", {"c": code}).fetchone()
        assert shown == (names[0],), (name, code)
    # anything else has no label
    unknown = 99 if all(isinstance(c, int) for c in vocabulary) else "nope"
    assert con.execute(f"SELECT {label_case(name, '$c')}", {"c": unknown}).fetchone() == (None,)


def test_code_placeholders_are_the_declared_groups() -> None:
    assert {"onestop.NOT_RECEIVED", "onestop.FINISHED", "onestop.WITHDRAWN", "onestop.WAITING",
            "eoffice.ELECTRONIC_CODES"} <= set(CODE_PLACEHOLDERS)  # fmt: skip
    assert code_list("onestop.FINISHED") == "(9, 10)"
    assert code_list("onestop.NOT_RECEIVED") == "(1, 3)"
    assert code_list("onestop.WITHDRAWN") == "(7)"
    assert code_list("onestop.SATISFIED") == "('RatHaiLong', 'HaiLong')"
    assert code_list("eoffice.ELECTRONIC_CODES") == "('DienTu', 'CaHai')"
    # the short names of the first e-document placeholders still work
    assert code_list("eoffice_electronic") == code_list("eoffice.ELECTRONIC_CODES")
    assert label_case("eoffice_status", "x") == label_case("eoffice.STATUS_LABELS", "x")
    assert expand("{{label eoffice_direction d.direction}}").startswith("CASE d.direction WHEN")


@pytest.mark.parametrize(
    "text",
    ["{{codes onestop.FINSHED}}", "{{codes nosuchsource.FINISHED}}", "{{label onestop.NOPE x}}",
     "{{codes onestop.STATUS_LABELS}}", "{{label onestop.FINISHED x}}", "{{codes  onestop.FINISHED}}"],
)  # fmt: skip
def test_a_placeholder_naming_nothing_declared_fails_loudly(text: str) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        expand(text)


def test_no_literal_onestop_code_list_or_label_in_views_sql() -> None:
    code = _code(RAW)
    columns = r"(?:status|channel|service_level|digitisation|rating|applicant_type)"
    # status IN (9, 10), status NOT IN (1, 3), channel = 2, status IS DISTINCT FROM 7 …
    literal = re.compile(
        rf"\b{columns}\s*(?:(?:NOT\s+)?IN\s*\(|(?:=|<>|!=|IS\s+(?:NOT\s+)?DISTINCT\s+FROM)\s*['\d])",
        re.IGNORECASE,
    )
    assert literal.findall(code) == []
    assert re.findall(r"WHEN\s+\d+\s+THEN", code) == []  # a hand-written CASE over codes
    for vocabulary in (onestop.STATUS_LABELS, onestop.CHANNEL_LABELS, onestop.SERVICE_LEVEL_LABELS,
                       onestop.APPLICANT_LABELS, onestop.DIGITISATION_LABELS, onestop.RATING_LABELS):  # fmt: skip
        for code_value, names in vocabulary.items():
            for name in names:
                assert f"'{name}'" not in code, name
            if isinstance(code_value, str):
                assert f"'{code_value}'" not in code, code_value


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    seed = Path(tmp_path_factory.mktemp("seed")) / "units.csv"
    seed.write_text(UNITS_CSV, encoding="utf-8")
    con = duckdb.connect()
    ensure_schema(con)
    write_frame(con, DIM_ADMIN_UNIT, load_admin_units(seed))
    rows = []
    for i, status in enumerate(onestop.STATUS_LABELS):  # ten rows: every code of every table
        fields = {}
        for column, vocabulary in ONESTOP_LABEL_COLUMNS.values():
            codes = list(vocabulary)
            fields[column] = codes[i % len(codes)]
        fields["status"] = status
        if status in onestop.FINISHED:
            fields["finished_date"] = "2022-01-05"
        rows.append(dossier(f"S{status}", received_date="2022-01-03", **fields))
    write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(*rows), "L1")
    create_views(con)
    return con


def test_dossier_view_labels_equal_the_vocabulary_first_labels(
    con: duckdb.DuckDBPyConnection,
) -> None:
    view = con.execute("SELECT * FROM out_onestop__dossiers").pl()
    assert view.height == len(onestop.STATUS_LABELS)
    for label_column, (column, vocabulary) in ONESTOP_LABEL_COLUMNS.items():
        assert set(view[column].to_list()) == set(vocabulary), column
        expected = view[column].map_elements(lambda c, v=vocabulary: v[c][0], pl.String)
        assert view[label_column].to_list() == expected.to_list(), label_column


def test_lifecycle_uses_the_status_groups(con: duckdb.DuckDBPyConnection) -> None:
    life = con.execute(
        "SELECT status, closed_date IS NOT NULL AS closed, closed_timeliness, waiting "
        "FROM out_onestop__dossier_lifecycle"
    ).pl()
    statuses = set(life["status"].to_list())
    assert statuses == set(onestop.STATUS_LABELS) - set(onestop.NOT_RECEIVED)
    closed = set(life.filter(pl.col("closed"))["status"].to_list())
    assert closed == set(onestop.WITHDRAWN) | set(onestop.FINISHED)
    withdrawn = life.filter(pl.col("closed_timeliness") == "withdrawn")["status"].to_list()
    assert withdrawn == list(onestop.WITHDRAWN)
    assert set(life.filter(pl.col("waiting"))["status"].to_list()) == set(onestop.WAITING)
