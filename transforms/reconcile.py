"""Reconciliation: the warehouse's form 06 against another side's figures, with explanations.

Pure: frames in, one frame out (``reconcile``); no I/O. The other side is a form 06 (the source
system's own report, or a spreadsheet an office filed: one row per unit or field, c3…c13) or
published figures (the indicators of a written report). Rules (docs/figures.md,
"Reconciliation"):

- every figure of every row is compared: counts exactly, rates at the precision the other side
  gave (a published 98.5 agrees with our 98.52; rates a form implies are compared at 2
  decimals);
- the other side's own arithmetic is checked too (c3 = c4+c5+c6, c7 = c8+c9+c10, c11 = c12+c13,
  c3 = c7+c11, a stated rate against its own counts);
- a difference is *explained* when a known cause, counted in the warehouse, accounts for it
  exactly: applying the cause (or two causes together) to our counts gives the other side's
  figure. Causes that account for a difference but need someone to correct the other side (a
  rate that does not follow from its own counts, a unit left out) are recorded and stay
  unexplained.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Literal

import polars as pl

from transforms.text import fold_key

COUNT_COLUMNS = tuple(f"c{i}" for i in range(3, 14))
TOTAL_KEY = "Tổng cộng"  # the key of the total row (form 06's TOTAL_LABEL)
Kind = Literal["form", "published"]

AGREES, EXPLAINED, UNEXPLAINED = "agrees", "explained", "unexplained"

# Explanation codes.
NO_DUE_DATE = "no_due_date"
CLOSED_AFTER_TO = "closed_after_to"
QUARANTINE = "quarantine"
UNIT_MISSING = "unit_missing"
OWN_INCONSISTENCY = "own_inconsistency"
FROM_COUNTS = "from_counts"
UNKNOWN = "unknown"


# ------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Figure:
    """A figure computed from form-06 counts: a count (sum of columns) or a rate in % (sum of
    ``parts`` over sum of ``denominator``)."""

    name: str
    formula: str
    label_vi: str
    parts: tuple[str, ...]
    denominator: tuple[str, ...] = ()

    @property
    def is_rate(self) -> bool:
        return bool(self.denominator)

    def value(self, counts: Mapping[str, float]) -> float | None:
        num = sum(counts[c] for c in self.parts)
        if not self.is_rate:
            return float(num)
        den = sum(counts[c] for c in self.denominator)
        return 100.0 * num / den if den else None


_CELL_LABELS = {
    "c3": "Tổng số hồ sơ nhận", "c4": "Nhận trực tuyến", "c5": "Nhận trực tiếp, bưu chính",
    "c6": "Kỳ trước chuyển qua", "c7": "Đã giải quyết", "c8": "Giải quyết trước hạn",
    "c9": "Giải quyết đúng hạn", "c10": "Giải quyết quá hạn", "c11": "Đang giải quyết",
    "c12": "Đang giải quyết trong hạn", "c13": "Đang giải quyết quá hạn",
}  # fmt: skip
CELLS = tuple(Figure(c, c, f"({c[1:]}) {_CELL_LABELS[c]}", (c,)) for c in COUNT_COLUMNS)
RATES = (
    Figure("online_rate_pct", "c4 / (c4 + c5)", "Tỷ lệ nộp trực tuyến (%)", ("c4",), ("c4", "c5")),
    Figure("on_time_rate_pct", "(c8 + c9) / c7", "Tỷ lệ giải quyết đúng hạn (%)", ("c8", "c9"),
           ("c7",)),
    Figure("late_rate_pct", "c10 / c7", "Tỷ lệ giải quyết quá hạn (%)", ("c10",), ("c7",)),
)  # fmt: skip
# The published indicators (docs/source-systems.md §9) and how form 06 computes each.
INDICATORS = (
    Figure("received_total", "c3", "Tổng số hồ sơ nhận", ("c3",)),
    Figure("received_online", "c4", "Nhận trực tuyến", ("c4",)),
    Figure("received_counter_postal", "c5", "Nhận trực tiếp, bưu chính", ("c5",)),
    Figure("carried_over", "c6", "Kỳ trước chuyển qua", ("c6",)),
    Figure("resolved_total", "c7", "Đã giải quyết", ("c7",)),
    Figure("resolved_on_time", "c8 + c9", "Giải quyết đúng hạn", ("c8", "c9")),
    Figure("resolved_late", "c10", "Giải quyết quá hạn", ("c10",)),
    Figure("in_progress_total", "c11", "Đang giải quyết", ("c11",)),
    *RATES,
)
FIGURES: dict[Kind, tuple[Figure, ...]] = {"form": CELLS + RATES, "published": INDICATORS}
INDICATOR_NAMES = tuple(f.name for f in INDICATORS)

# The other side's own identities, in its own figures: (total, parts).
Identity = tuple[str, tuple[str, ...]]
IDENTITIES: dict[Kind, tuple[Identity, ...]] = {
    "form": (("c3", ("c4", "c5", "c6")), ("c7", ("c8", "c9", "c10")), ("c11", ("c12", "c13")),
             ("c3", ("c7", "c11"))),
    "published": (
        ("received_total", ("received_online", "received_counter_postal", "carried_over")),
        ("resolved_total", ("resolved_on_time", "resolved_late")),
        ("received_total", ("resolved_total", "in_progress_total")),
    ),
}  # fmt: skip
# A stated rate against the stated counts it follows from: rate -> (numerator, denominator).
STATED_RATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "online_rate_pct": (("received_online",), ("received_online", "received_counter_postal")),
    "on_time_rate_pct": (("resolved_on_time",), ("resolved_total",)),
    "late_rate_pct": (("resolved_late",), ("resolved_total",)),
}
DERIVED_RATE_DECIMALS = 2  # a form states counts; the rates it implies are shown at 2 decimals


def decimals_of(text: str) -> int:
    """How many decimals a number was written with: "98.5" -> 1, "87221" -> 0."""
    return len(text.strip().partition(".")[2])


def agrees(ours: float | None, theirs: float | None, decimals: int = 0) -> bool:
    """Equal at the precision ``theirs`` was given with: ``theirs`` is ``ours`` rounded to
    ``decimals`` (either rounding of a half). 98.52 agrees with 98.5, not with 98.6; counts
    (0 decimals, integers) must be equal."""
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if decimals == 0 and float(ours).is_integer():
        return float(ours) == float(theirs)
    return abs(ours - theirs) <= 0.5 * 10.0**-decimals + 1e-9


# ------------------------------------------------------------------------------- causes


@dataclass(frozen=True)
class Cause:
    """A known reason why the other side counts differently, as a change of our counts.

    ``delta`` moves dossiers between form-06 columns (what the other side does with them);
    ``extra`` adds dossiers to any count figure without saying which column (quarantined
    dossiers: their raw values cannot be placed). ``explained``: whether the cause needs no
    correction (a rule difference the data accounts for) or someone must fix the other side."""

    code: str
    text: str
    text_vi: str
    delta: Mapping[str, int] = field(default_factory=dict)
    extra: int = 0
    explained: bool = True

    def _alt(self, counts: Mapping[str, int]) -> dict[str, int]:
        return {c: counts[c] + self.delta.get(c, 0) for c in COUNT_COLUMNS}

    def predict(self, figure: Figure, counts: Mapping[str, int]) -> float | None:
        """The figure the other side would show if this cause were the whole difference."""
        value = figure.value(self._alt(counts))
        if figure.is_rate:
            return None if self.extra else value
        return None if value is None else value + self.extra

    def predict_gap(self, identity: Identity, figures: Sequence[Figure],
                    counts: Mapping[str, int]) -> float | None:
        """The gap (total minus the sum of its parts) the other side would show."""
        if self.extra:
            return None
        alt = self._alt(counts)
        by_name = {f.name: f for f in figures}
        total, parts = identity
        values = [by_name[n].value(alt) for n in (total, *parts)]
        if any(v is None for v in values):
            return None
        return values[0] - sum(values[1:])

    def __add__(self, other: Cause) -> Cause:
        delta = {c: self.delta.get(c, 0) + other.delta.get(c, 0) for c in COUNT_COLUMNS}
        return Cause(f"{self.code}+{other.code}", f"{self.text}; and {other.text}",
                     f"{self.text_vi}; và {other.text_vi}", delta, self.extra + other.extra,
                     self.explained and other.explained)


FACT_COLUMNS = ("no_due_date", "open_no_due_date", "closed_after_to", "closed_after_to_c8",
                "closed_after_to_c9", "closed_after_to_c10", "closed_after_to_c12",
                "closed_after_to_c13", "quarantined")  # fmt: skip


def causes(facts: Mapping[str, int]) -> list[Cause]:
    """The causes a row's warehouse facts make possible (only those that count something)."""
    n, m = facts.get("no_due_date", 0) or 0, facts.get("open_no_due_date", 0) or 0
    a = {k: facts.get(f"closed_after_to{k}", 0) or 0 for k in ("", "_c8", "_c9", "_c10", "_c12",
                                                                "_c13")}  # fmt: skip
    q = facts.get("quarantined", 0) or 0
    out: list[Cause] = []
    if n or m:
        out.append(Cause(
            NO_DUE_DATE,
            f"{n:,} resolved dossiers without a due date (and {m:,} open ones) counted on time "
            "here, as the vendor does, and late / overdue there",
            f"{n:,} hồ sơ đã giải quyết không có ngày hẹn trả (và {m:,} hồ sơ đang giải quyết) "
            "được tính đúng hạn như phần mềm một cửa, bên kia tính quá hạn",
            {"c9": -n, "c10": n, "c12": -m, "c13": m}))
        out.append(Cause(
            NO_DUE_DATE,
            f"{n:,} resolved dossiers without a due date (and {m:,} open ones) counted here, "
            "as the vendor does, and left out there",
            f"{n:,} hồ sơ đã giải quyết không có ngày hẹn trả (và {m:,} hồ sơ đang giải quyết) "
            "được tính ở đây, bên kia bỏ ra",
            {"c3": -(n + m), "c7": -n, "c9": -n, "c11": -m, "c12": -m}))
    if a[""]:
        moved_out = {"c11": -a[""], "c12": -a["_c12"], "c13": -a["_c13"]}
        out.append(Cause(
            CLOSED_AFTER_TO,
            f"{a['']:,} dossiers still in progress at the period's end, closed after it, that "
            "the other side counts as resolved (it tests today's status)",
            f"{a['']:,} hồ sơ còn đang giải quyết cuối kỳ (giải quyết xong sau kỳ) bị bên kia "
            "tính là đã giải quyết (xét trạng thái hôm nay)",
            moved_out | {"c7": a[""], "c8": a["_c8"], "c9": a["_c9"], "c10": a["_c10"]}))
        out.append(Cause(
            CLOSED_AFTER_TO,
            f"{a['']:,} dossiers still in progress at the period's end, closed after it, that "
            "the other side leaves out of the dossiers in progress (it tests today's status)",
            f"{a['']:,} hồ sơ còn đang giải quyết cuối kỳ (giải quyết xong sau kỳ) bị bên kia "
            "bỏ khỏi số đang giải quyết (xét trạng thái hôm nay)",
            moved_out))
    if q:
        out.append(Cause(
            QUARANTINE,
            f"{q:,} dossiers held in quarantine here (they failed a critical check) that the "
            "source counts",
            f"{q:,} hồ sơ bị cách ly ở đây (không qua kiểm tra bắt buộc) mà nguồn vẫn đếm",
            extra=q))
    return out


# ------------------------------------------------------------------------------- the other side


@dataclass
class Entry:
    """One row of the other side, in its own figures."""

    key: str
    label: str
    source_row: int | None
    values: dict[str, float | None]
    decimals: dict[str, int]
    stated: frozenset[str]  # figures the other side wrote (not implied by its counts)
    counts: dict[str, int] | None = None  # form-06 counts, when the side is a form


def _form_entries(rows: pl.DataFrame) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for r in rows.iter_rows(named=True):
        counts = {c: int(r[c]) for c in COUNT_COLUMNS}
        values = {f.name: f.value(counts) for f in FIGURES["form"]}
        decimals = {f.name: DERIVED_RATE_DECIMALS if f.is_rate else 0 for f in FIGURES["form"]}
        for f in RATES:  # as the form would show them
            v = values[f.name]
            values[f.name] = None if v is None else round(v, DERIVED_RATE_DECIMALS)
        out[r["key"]] = Entry(r["key"], r["label"], r.get("source_row"), values, decimals,
                              frozenset(COUNT_COLUMNS), counts)
    return out


def _published_entries(rows: pl.DataFrame) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for r in rows.iter_rows(named=True):
        e = out.setdefault(r["key"], Entry(r["key"], r["label"], r.get("source_row"), {}, {},
                                           frozenset()))
        e.values[r["indicator"]] = float(r["value"])
        e.decimals[r["indicator"]] = decimals_of(r["value"])
        e.stated = e.stated | {r["indicator"]}
    return out


# ------------------------------------------------------------------------------- matching


def match_form_rows(rows: pl.DataFrame, ours: pl.DataFrame, by: str,
                    units: pl.DataFrame | None = None, province_code: str = "",
                    district_code: str | None = None, day: date | None = None) -> pl.DataFrame:
    """``rows`` (``label``, ``code`` or null, ``is_total``, …) with the ``key`` of our form-06
    row each stands for. The total row is :data:`TOTAL_KEY`. Units: a code of ours (given, or
    found in the name: "Xã Uar (24109)"), else the name resolved like a dossier's receiving unit
    (``transforms.units``: folded, office and type words removed, aliases). Fields: the code,
    else the folded name. A row that matches nothing keeps ``?`` + its label as key (a unit
    missing from our side). ``day``: names are read as the units valid that day (the period's
    last), since a name may belong to another code after the 1 July 2025 reform."""
    our_keys = _our_keys(ours, by)
    codes = {c for c in ours["code"].drop_nulls().to_list()}
    by_fold = {fold_key(label): key for key, label in zip(our_keys, ours["c2"], strict=True)}
    by_code = {code: key for key, code in zip(our_keys, ours["code"], strict=True) if code}
    labels = rows["label"].to_list()
    resolved: list[str | None] = [None] * rows.height
    if by == "unit" and units is not None and rows.height:
        from transforms.units import resolve_units

        found = resolve_units(rows.select(pl.lit(None, pl.String).alias("MaDVHC"),
                                          pl.col("label").alias("TenDonVi")),
                              units, province_code, district_code,
                              day=pl.Series([day] * rows.height, dtype=pl.Date))
        resolved = found["unit_code"].to_list()
    keys: list[str] = []
    for i, (label, code, total) in enumerate(
            zip(labels, rows["code"], rows["is_total"], strict=True)):
        if total:
            keys.append(TOTAL_KEY)
            continue
        in_name = [c for c in re.findall(r"(?<![\d.])(\d{2,5})(?![\d.])", label or "")
                   if c in codes]
        key = (by_code.get(code) if code else None) or (by_code.get(in_name[0]) if in_name
                                                       else None)
        if key is None and by == "unit" and resolved[i] in codes:
            key = by_code[resolved[i]]
        if key is None:
            key = by_fold.get(fold_key(label or ""))
        keys.append(key or f"?{label}")
    return rows.with_columns(pl.Series("key", keys, dtype=pl.String))


def _our_keys(ours: pl.DataFrame, by: str) -> list[str]:
    """Key of each form-06 row: the unit code, or the field's name; the total row TOTAL_KEY."""
    return [TOTAL_KEY if c1 is None else (code if by == "unit" else label)
            for c1, code, label in zip(ours["c1"], ours["code"], ours["c2"], strict=True)]


def published_keys(rows: pl.DataFrame, total_scopes: Sequence[str]) -> pl.DataFrame:
    """Published rows with the ``key`` of the row they describe: a scope that is the whole
    installation (its district or province code, or empty) is the total, any other scope a
    unit code."""
    whole = [s for s in total_scopes if s]
    return rows.with_columns(
        key=pl.when(pl.col("scope").is_null() | pl.col("scope").is_in(whole))
        .then(pl.lit(TOTAL_KEY)).otherwise(pl.col("scope")),
        label=pl.when(pl.col("scope").is_null() | pl.col("scope").is_in(whole))
        .then(pl.lit(TOTAL_KEY)).otherwise(pl.col("scope")),
    )


def quarantined_by_key(rows: pl.DataFrame, ours: pl.DataFrame, by: str, date_from: date,
                       date_to: date, units: pl.DataFrame | None = None,
                       province_code: str = "", district_code: str | None = None) -> pl.DataFrame:
    """Distinct quarantined dossiers the source would count in the period, per key of ours and
    in total: ``key``, ``quarantined``.

    ``rows``: raw quarantine rows (``MaHoSo``, ``MaDVHC``, ``TenDonVi``, ``TenLinhVuc``,
    ``NgayTiepNhan``, ``NgayKetThucXuLy``) of dossiers that have no loaded version. In the
    period: the reception day (read like any raw date) is on or before ``to`` and the finish
    day is missing or on or after ``from``; a row whose reception day cannot be read cannot
    be placed and is left out. A row whose unit or field is not one of ours counts in the
    total only (the source counts it in its total and in no row of ours)."""
    from transforms.dates import parse_local_dates

    schema = {"key": pl.String, "quarantined": pl.Int64}
    if rows.is_empty():
        return pl.DataFrame({"key": [TOTAL_KEY], "quarantined": [0]}, schema=schema)
    received = parse_local_dates(rows["NgayTiepNhan"].cast(pl.String))
    finished = parse_local_dates(rows["NgayKetThucXuLy"].cast(pl.String))
    in_period = (received <= date_to) & (finished.is_null() | (finished >= date_from))
    rows = rows.filter(in_period.fill_null(False))
    our_keys = set(_our_keys(ours, by)) - {TOTAL_KEY}
    if by == "unit":
        from transforms.units import resolve_units

        found = resolve_units(rows.select("MaDVHC", "TenDonVi"), units, province_code,
                              district_code, day=received.filter(in_period.fill_null(False)),
                              ) if units is not None and rows.height else None
        keys = (found["unit_code"] if found is not None
                else pl.Series([None] * rows.height, dtype=pl.String)).to_list()
    else:
        folded = {fold_key(k): k for k in our_keys}
        keys = [folded.get(fold_key(v or "")) for v in rows["TenLinhVuc"].to_list()]
    ids = rows["MaHoSo"].cast(pl.String).str.strip_chars().str.to_uppercase().to_list()
    per_key: dict[str, set[str]] = {}
    for key, dossier in zip(keys, ids, strict=True):
        per_key.setdefault(TOTAL_KEY, set()).add(dossier)
        if key in our_keys:
            per_key.setdefault(key, set()).add(dossier)
    per_key.setdefault(TOTAL_KEY, set())
    return pl.DataFrame({"key": list(per_key), "quarantined": [len(v) for v in per_key.values()]},
                        schema=schema)


# ------------------------------------------------------------------------------- comparison

RESULT_SCHEMA = {
    "key": pl.String, "unit": pl.String, "source_row": pl.Int64, "figure": pl.String,
    "formula": pl.String, "ours": pl.Float64, "theirs": pl.Float64, "difference": pl.Float64,
    "status": pl.String, "explanation_code": pl.String, "explanation": pl.String,
    "explanation_vi": pl.String, "explained": pl.Boolean,
}  # fmt: skip


def reconcile(ours: pl.DataFrame, theirs: pl.DataFrame, facts: pl.DataFrame | None,
              kind: Kind, by: str = "unit") -> pl.DataFrame:
    """Every figure of every row of ``ours`` (``form06()``'s frame) against ``theirs``, and
    every broken identity of theirs, one result row each (:data:`RESULT_SCHEMA`).

    ``theirs`` is keyed (``key``, ``label``, ``source_row``): for ``kind="form"`` one row per
    unit or field with c3…c13 (:func:`match_form_rows`); for ``"published"`` one row per
    figure with ``indicator`` and ``value`` as written (:func:`published_keys`). ``facts``
    (``key`` and :data:`FACT_COLUMNS`, any missing column is 0) are the warehouse's counts the
    causes are made of; ``no_due_date`` and ``open_no_due_date`` come from ``ours``.
    Unexplained rows first keep their order: units as in ``ours``, then theirs alone."""
    figures = FIGURES[kind]
    entries = _form_entries(theirs) if kind == "form" else _published_entries(theirs)
    keys = _our_keys(ours, by)
    our_counts = {k: {c: int(r[c]) for c in COUNT_COLUMNS}
                  for k, r in zip(keys, ours.iter_rows(named=True), strict=True)}
    labels = dict(zip(keys, ours["c2"], strict=True))
    fact_rows = _facts(ours, keys, facts)
    only_ours = [k for k in keys if k != TOTAL_KEY and k not in entries]
    only_theirs = [k for k in entries if k != TOTAL_KEY and k not in our_counts]
    # published figures describe only the rows they name: our other rows are not "missing"
    compared = keys if kind == "form" else [k for k in keys if k in entries]

    rows: list[dict] = []
    for key in compared + only_theirs:
        mine, other = our_counts.get(key), entries.get(key)
        label = labels.get(key) or (other.label if other else key)
        if mine is None or other is None:
            rows += _missing_unit_rows(key, label, mine, other, figures)
            continue
        candidates = causes(fact_rows.get(key, {}))
        if key == TOTAL_KEY:
            candidates += _missing_units_cause(only_ours, only_theirs, our_counts, entries, kind)
        rows += _compare(key, label, mine, other, figures, candidates, kind)
    return pl.DataFrame(rows, schema=RESULT_SCHEMA, orient="row") if rows else pl.DataFrame(
        schema=RESULT_SCHEMA)


def _facts(ours: pl.DataFrame, keys: list[str], facts: pl.DataFrame | None) -> dict[str, dict]:
    out = {k: {"no_due_date": r["no_due_date"], "open_no_due_date": r["open_no_due_date"]}
           for k, r in zip(keys, ours.iter_rows(named=True), strict=True)}
    if facts is not None:
        for r in facts.iter_rows(named=True):
            out.setdefault(r["key"], {}).update(
                {c: r[c] for c in FACT_COLUMNS if c in r and c not in ("no_due_date",
                                                                       "open_no_due_date")})
    return out


def _row(key: str, label: str, source_row: int | None, figure: str, formula: str,
         ours: float | None, theirs: float | None, status: str, cause: Cause | None = None,
         code: str | None = None, text: str | None = None, text_vi: str | None = None,
         ) -> dict:  # fmt: skip
    diff = None if ours is None or theirs is None else round(theirs - ours, 6)
    explained = None if status == AGREES else status == EXPLAINED
    return {"key": key, "unit": label, "source_row": source_row, "figure": figure,
            "formula": formula, "ours": ours, "theirs": theirs, "difference": diff,
            "status": status, "explanation_code": code or (cause.code if cause else None),
            "explanation": text or (cause.text if cause else None),
            "explanation_vi": text_vi or (cause.text_vi if cause else None),
            "explained": explained}


def _missing_unit_rows(key: str, label: str, mine: dict | None, other: Entry | None,
                       figures: Sequence[Figure]) -> list[dict]:
    """A row only one side has: each count it holds is a difference nobody can explain away."""
    where = "the other side" if other is None else "the warehouse"
    where_vi = "bên kia" if other is None else "kho dữ liệu"
    out = []
    for f in figures:
        if f.is_rate:
            continue
        ours = f.value(mine) if mine else None
        theirs = other.values.get(f.name) if other else None
        if other is not None and f.name not in other.stated and f.name not in other.values:
            continue
        value = ours if mine else theirs
        if not value:
            out.append(_row(key, label, other.source_row if other else None, f.name, f.formula,
                            ours, theirs, AGREES))
            continue
        out.append(_row(
            key, label, other.source_row if other else None, f.name, f.formula, ours, theirs,
            UNEXPLAINED, code=UNIT_MISSING,
            text=f"{label} is missing from {where}",
            text_vi=f"{label} không có trong {where_vi}"))
    return out


def _missing_units_cause(only_ours: list[str], only_theirs: list[str], our_counts: dict,
                         entries: dict[str, Entry], kind: Kind) -> list[Cause]:
    """The total's difference that rows present on one side only make (form sides)."""
    if kind != "form" or not (only_ours or only_theirs):
        return []
    delta = {c: -sum(our_counts[k][c] for k in only_ours)
             + sum((entries[k].counts or {}).get(c, 0) for k in only_theirs)
             for c in COUNT_COLUMNS}
    if not any(delta.values()):
        return []
    names = ", ".join([*only_ours, *only_theirs][:5])
    return [Cause(UNIT_MISSING, f"rows present on one side only: {names}",
                  f"dòng chỉ có ở một bên: {names}", delta, explained=False)]


def _explain(predict, theirs: float | None, decimals: int,
             candidates: list[Cause]) -> Cause | None:
    """The first cause, else the first pair of causes of different kinds, that predicts
    ``theirs`` exactly."""
    for cause in candidates:
        if agrees(predict(cause), theirs, decimals):
            return cause
    for a, b in combinations(candidates, 2):
        if a.code != b.code and agrees(predict(a + b), theirs, decimals):
            return a + b
    return None


def _compare(key: str, label: str, mine: dict[str, int], other: Entry,
             figures: Sequence[Figure], candidates: list[Cause], kind: Kind) -> list[dict]:
    out: list[dict] = []
    status_of: dict[str, str] = {}
    own_rate_errors = _stated_rate_errors(other) if kind == "published" else {}
    for f in figures:
        if f.name not in other.values:
            continue
        ours, theirs, dec = f.value(mine), other.values[f.name], other.decimals[f.name]
        if f.is_rate and ours is not None and f.name not in other.stated:
            ours_shown = round(ours, dec)
        else:
            ours_shown = ours
        if agrees(ours, theirs, dec) and f.name not in own_rate_errors:
            out.append(_row(key, label, other.source_row, f.name, f.formula, ours_shown, theirs,
                            AGREES))
            status_of[f.name] = AGREES
            continue
        if agrees(ours, theirs, dec):  # agrees with us, but not with its own counts
            out.append(_own_rate_row(key, label, other, f, own_rate_errors[f.name], ours_shown))
            status_of[f.name] = UNEXPLAINED
            continue
        if f.name in own_rate_errors:
            own, text, text_vi = own_rate_errors[f.name]
            out.append(_row(key, label, other.source_row, f.name, f.formula, ours_shown, theirs,
                            UNEXPLAINED, code=OWN_INCONSISTENCY, text=text, text_vi=text_vi))
            status_of[f.name] = UNEXPLAINED
            continue
        cause = _explain(lambda c, f=f: c.predict(f, mine), theirs, dec, candidates)
        if cause is not None:
            status = EXPLAINED if cause.explained else UNEXPLAINED
            out.append(_row(key, label, other.source_row, f.name, f.formula, ours_shown, theirs,
                            status, cause))
        elif f.is_rate and f.name not in other.stated:
            parts = [c for c in dict.fromkeys(f.parts + f.denominator)]
            differing = [c for c in parts if status_of.get(c, AGREES) != AGREES]
            status = (EXPLAINED if differing and all(status_of[c] == EXPLAINED for c in differing)
                      else UNEXPLAINED)
            cols = ", ".join(differing) or ", ".join(parts)
            out.append(_row(key, label, other.source_row, f.name, f.formula, ours_shown, theirs,
                            status, code=FROM_COUNTS,
                            text=f"follows from the differences in {cols}",
                            text_vi=f"do chênh lệch ở {cols}"))
        else:
            out.append(_row(key, label, other.source_row, f.name, f.formula, ours_shown, theirs,
                            UNEXPLAINED, code=UNKNOWN,
                            text="no known cause accounts for this difference",
                            text_vi="chưa rõ nguyên nhân"))
        status_of[f.name] = out[-1]["status"]
    out += _identity_rows(key, label, mine, other, figures, candidates, kind)
    return out


def _stated_rate_errors(other: Entry) -> dict[str, tuple[float | None, str, str]]:
    """Stated rates that do not follow from the same side's stated counts: rate -> (what its
    counts give, text, Vietnamese text)."""
    out = {}
    for rate, (num, den) in STATED_RATES.items():
        names = (rate, *num, *den)
        if not all(n in other.values and other.values[n] is not None for n in names):
            continue
        d = sum(other.values[n] for n in den)
        own = 100.0 * sum(other.values[n] for n in num) / d if d else None
        dec = other.decimals[rate]
        if own is None or agrees(own, other.values[rate], dec):
            continue
        shown = f"{own:.{max(dec, 2)}f}"
        formula = f"{' + '.join(num)} / ({' + '.join(den)})" if len(den) > 1 else (
            f"{' + '.join(num)} / {den[0]}")
        counts = f"{int(sum(other.values[n] for n in num)):,} / {int(d):,}"
        out[rate] = (own,
                     f"the other side's own counts give {shown} % ({formula} = {counts}), not "
                     f"the {other.values[rate]:g} % it states: its own error, to be corrected "
                     "where it was published",
                     f"chính số liệu của bên kia cho {shown} % ({counts}), không phải "
                     f"{other.values[rate]:g} % như đã công bố: cần đính chính")
    return out


def _own_rate_row(key: str, label: str, other: Entry, f: Figure,
                  error: tuple[float | None, str, str], ours_shown: float | None) -> dict:
    own, text, text_vi = error
    return _row(key, label, other.source_row, f"check: {f.name}", f"{f.name} from its own counts",
                own, other.values[f.name], UNEXPLAINED, code=OWN_INCONSISTENCY, text=text,
                text_vi=text_vi)


def _identity_rows(key: str, label: str, mine: dict[str, int], other: Entry,
                   figures: Sequence[Figure], candidates: list[Cause], kind: Kind) -> list[dict]:
    """A row per broken identity of the other side: ``ours`` is what its parts add up to,
    ``theirs`` the total it states. Explained when a cause, applied to our counts (whose
    identities hold), breaks the identity by the same amount."""
    out = []
    for total, parts in IDENTITIES[kind]:
        if not all(other.values.get(n) is not None for n in (total, *parts)):
            continue
        summed = sum(other.values[p] for p in parts)
        stated = other.values[total]
        if stated == summed:
            continue
        identity = (total, parts)
        name = f"check: {total} = {' + '.join(parts)}"
        cause = _explain(lambda c, i=identity: c.predict_gap(i, figures, mine), stated - summed,
                         0, candidates)
        if cause is not None:
            status = EXPLAINED if cause.explained else UNEXPLAINED
            out.append(_row(key, label, other.source_row, name, name[7:], summed, stated, status,
                            cause))
        else:
            out.append(_row(
                key, label, other.source_row, name, name[7:], summed, stated, UNEXPLAINED,
                code=OWN_INCONSISTENCY,
                text=f"the other side's {total} ({stated:,.0f}) is not the sum of its "
                     f"{' + '.join(parts)} ({summed:,.0f})",
                text_vi=f"số liệu bên kia tự mâu thuẫn: {total} = {stated:,.0f} nhưng "
                        f"{' + '.join(parts)} = {summed:,.0f}"))
    return out


def unexplained(result: pl.DataFrame) -> pl.DataFrame:
    """The rows someone must act on."""
    return result.filter(pl.col("status") == UNEXPLAINED)
