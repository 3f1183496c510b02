"""Batch gates: checks on a whole batch that stop the load before anything is written.

Row checks (``expectations.validate``) quarantine single rows; a gate failing means the batch as
a whole cannot be trusted — a required column is gone, a pull came back short, a file's own
total row disagrees with its rows — so loading part of it would publish wrong figures. The
reason is written for the clerk who made the export: it names the columns by the labels the
export screen shows.

No Great Expectations here: these are a handful of comparisons on counts and names, decided
before the (slow to import) validation stage is needed at all.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sources.fields import SOURCE_COLUMN, SOURCE_ROW_COLUMN, WITHHELD_COLUMN, FieldSet

PROVENANCE_COLUMNS = frozenset({SOURCE_COLUMN, SOURCE_ROW_COLUMN, WITHHELD_COLUMN})
RENAME_SIMILARITY = 0.75  # difflib ratio of folded names above which a column looks renamed


class GateFailure(Exception):
    """A batch gate failed: the load stops and nothing is written."""

    def __init__(self, gate: str, source: str, reason: str) -> None:
        super().__init__(reason)
        self.gate = gate  # which gate: columns, not_empty, declared_total
        self.source = source  # the file or API window the batch came from
        self.reason = reason  # one sentence a clerk can act on

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class ColumnReport:
    """What ``check_columns`` saw besides the required fields: worth a note, not a stop."""

    fields: FieldSet
    unexpected: list[str] = field(default_factory=list)  # columns cchc does not know
    renamed: dict[str, str] = field(default_factory=dict)  # unexpected column -> field it resembles

    @property
    def notes(self) -> list[str]:
        """Sentences for the load's notes (etl_loads.message)."""
        out = [
            f"column '{col}' looks like {describe(key, self.fields)} renamed"
            for col, key in self.renamed.items()
        ]
        others = [c for c in self.unexpected if c not in self.renamed]
        if others:
            out.append(
                "columns cchc does not know (ignored): " + ", ".join(f"'{c}'" for c in others)
            )
        return out


def describe(key: str, fields: FieldSet) -> str:
    """A field as a clerk knows it: ``'Ngày tiếp nhận' (NgayTiepNhan)``, or the key alone."""
    label = dict(fields.export_fields).get(key)
    return f"'{label}' ({key})" if label else key


def fold(name: str) -> str:
    """Compare names loosely: NFC, case-folded, no diacritics, đ→d, letters and digits only."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFC", name).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("đ", "d")
    return "".join(ch for ch in text if ch.isalnum())


def _names_of(key: str, fields: FieldSet) -> set[str]:
    """Folded names a field goes by: API key, export label, known aliases."""
    names = {key, *fields.aliases.get(key, ())}
    names.add(fields.labels.get(key, key))
    return {fold(n) for n in names}


def _resembles(column: str, candidates: Iterable[str], fields: FieldSet) -> str | None:
    """The field among ``candidates`` that ``column`` most looks like, if any is close."""
    folded = fold(column)
    best, best_score = None, 0.0
    for key in candidates:
        score = max(_similarity(folded, n) for n in _names_of(key, fields))
        if score > best_score:
            best, best_score = key, score
    return best if best_score >= RENAME_SIMILARITY else None


def _similarity(a: str, b: str) -> float:
    """1.0 when one folded name contains the other ('Đánh giá hài lòng' ⊃ 'Đánh giá'), else
    difflib's ratio (typos, dropped words)."""
    if min(len(a), len(b)) >= 5 and (a in b or b in a):
        return 1.0
    return difflib.SequenceMatcher(None, a, b).ratio()


def check_columns(
    frame_columns: Sequence[str], required: Sequence[str], source: str, fields: FieldSet,
    export: str = "export",
) -> ColumnReport:
    """Stop the load if a required field is missing; report unknown columns otherwise.

    ``frame_columns`` are the fields the source actually sent (the keys of a pull's items, the
    columns of a file), never a staged frame, which carries every field. A missing field is
    named by its export label; when an unknown column resembles it (a renamed header, e.g.
    'Ngày tiếp nhận HS', or a renamed API key), the reason says so, the usual cause.
    """
    present = set(frame_columns)
    missing = [key for key in required if key not in present]
    known = set(fields.raw_fields) | PROVENANCE_COLUMNS
    unexpected = [c for c in frame_columns if c not in known]
    renamed: dict[str, str] = {}
    for col in unexpected:
        match = _resembles(col, [k for k in fields.raw_fields if k not in present], fields)
        if match:
            renamed[col] = match
    report = ColumnReport(fields=fields, unexpected=unexpected, renamed=renamed)
    if missing:
        hints = {key: col for col, key in renamed.items() if key in missing}
        parts = [
            describe(key, fields)
            + (f" (is '{hints[key]}' the same column renamed?)" if key in hints else "")
            for key in missing
        ]
        noun = "column" if len(missing) == 1 else "columns"
        raise GateFailure(
            "columns",
            source,
            f"{source}: required {noun} missing: {', '.join(parts)}. Nothing was loaded; "
            f"the source must send the standard fields (export the {export} again).",
        )
    return report


def check_not_empty(rows: int, reported_total: int | None, source: str,
                    entity: str = "dossier") -> None:
    """Stop the load if a batch has no rows, or not the number its source reported.

    An empty batch passes only when the source itself reported zero (a quiet window): an empty
    answer to a window that should hold dossiers is an outage, not "nothing happened".
    """
    if reported_total is not None and rows != reported_total:
        if rows == 0:
            detail = f"the source reported {reported_total} {entity}s but returned none"
        else:
            detail = f"the source reported {reported_total} {entity}s but {rows} arrived"
        raise GateFailure(
            "not_empty",
            source,
            f"{source}: {detail}. Nothing was loaded; the pull will be retried.",
        )
    if rows == 0 and reported_total is None:
        raise GateFailure(
            "not_empty", source, f"{source}: the batch has no {entity} rows. Nothing was loaded."
        )


def check_declared_total(data_rows: int, declared_total: int | None, source: str,
                         entity: str = "dossier", noun: str = "hồ sơ") -> None:
    """Stop the load if a file's total row ("Tổng số: N hồ sơ") disagrees with its data rows.

    The mismatch means rows were deleted, filtered or hidden after the total was computed:
    loading such a file would publish figures the issuing office never stated.
    """
    if declared_total is None or declared_total == data_rows:
        return
    raise GateFailure(
        "declared_total",
        source,
        f"{source}: the total row says 'Tổng số: {declared_total} {noun}' but the file has "
        f"{data_rows} {entity} rows. Nothing was loaded; check for deleted, filtered or hidden "
        "rows and export the list again.",
    )
