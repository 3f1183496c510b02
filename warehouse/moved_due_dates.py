"""Due dates moved later after reception, found per load (the alert input).

The view ``out_onestop__moved_due_dates`` (views.sql) answers "which dossiers ever had their due
date changed" from every version in the raw layer. After a load, :func:`moved_in_load` asks the
narrower question an alert needs: which moves to a later day (dossier, from day, to day, between
consecutive versions in NgayCapNhat order) appear once this load's versions are added and did not
appear without them — so the load that brings the moving version, or an older version arriving
late that reveals the move, reports it, and a file export of versions pulled before does not
report it again.

Why a view over the raw layer and not a flag on the core row computed at load: the core merge
keeps only the newest version, and versions arrive in any order (a file with older versions may
come after the pull with newer ones), so a flag computed from one batch would go stale; a
recomputation at every load would read the raw versions of every touched dossier each time. The
view reads them only when someone asks, and is always consistent with the raw layer, undone
loads included. Dates are read from the raw text by the ``cchc_instant`` macro (views.sql), the
same formats as ``transforms.dates``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from warehouse.writer import Warehouse

log = logging.getLogger(__name__)

FINDING_KEY = "due_date_moved_later"
SCOPE = "loads"

_CANONICAL = (
    "upper(regexp_replace(regexp_replace(nfc_normalize(MaHoSo), "
    "'[\\s\\x{200B}-\\x{200D}\\x{2060}\\x{FEFF}]', '', 'g'), '[\\x{2010}-\\x{2015}\\x{2212}]', '-', 'g'))"
)
# A code of plain ASCII letters, digits and . _ / - is canonical once upper-cased (the usual
# case): the normalisation's regular expressions are then skipped (a third of the check's time).
_DOSSIER = f"(CASE WHEN regexp_full_match(MaHoSo, '[A-Za-z0-9._/-]*') THEN upper(MaHoSo) ELSE {_CANONICAL} END)"
_RAW = "raw_onestop__dossier_versions"
_COLUMNS = "NgayCapNhat, NgayHenTra, NgayTiepNhan, row_hash, load_id"

# An increment: every version of the codes the load touched, read once from the raw layer's
# files and kept in memory, then the codes among them with two due-date texts or more (found
# by a grouping on the code alone, not a window over every version's columns: a third of the
# time at 8M versions).
_TOUCHED_KEPT = f"""
WITH touched AS (
    SELECT DISTINCT MaHoSo FROM {_RAW} WHERE load_id = $load_id
),
touched_versions AS MATERIALIZED (
    SELECT MaHoSo, {_COLUMNS} FROM {_RAW} WHERE MaHoSo IN (SELECT MaHoSo FROM touched)
),
moving AS (
    SELECT {_DOSSIER} AS dossier_code FROM touched_versions
    GROUP BY ALL HAVING min(NgayHenTra) <> max(NgayHenTra)
),
candidates AS (
    SELECT {_DOSSIER} AS dossier_code, {_COLUMNS}
    FROM touched_versions WHERE {_DOSSIER} IN (SELECT dossier_code FROM moving)
),"""

# A bulk load touches most codes: a join against millions of touched codes did not fit a
# 256 MB limit with two threads (the check failed at 5M dossiers). One grouping by code text
# instead: whether the load touched it, and the range of its due-date texts as 64-bit hashes
# (fixed-size states that spill cheaply; equal texts hash equal, so only a hash collision
# could hide a second text); then the codes with two texts or more among the touched ones.
_TOUCHED_GROUPED = f"""
WITH texts AS (
    SELECT MaHoSo, bool_or(load_id = $load_id) AS touched,
           min(hash(NgayHenTra)) FILTER (WHERE NgayHenTra IS NOT NULL) AS lowest,
           max(hash(NgayHenTra)) FILTER (WHERE NgayHenTra IS NOT NULL) AS highest
    FROM {_RAW} GROUP BY MaHoSo
),
moving AS (
    SELECT {_DOSSIER} AS dossier_code FROM texts WHERE touched
    GROUP BY ALL HAVING min(lowest) <> max(highest)
),
candidates AS (
    SELECT {_DOSSIER} AS dossier_code, {_COLUMNS} FROM {_RAW}
    WHERE MaHoSo IN (SELECT MaHoSo FROM texts
                     WHERE touched AND {_DOSSIER} IN (SELECT dossier_code FROM moving))
),"""

# Both: a move needs two different due dates, hence two different texts, so only the candidates
# (the touched versions of codes with two texts or more) have their dates parsed (reading every
# version's dates costs seconds per 100k rows).
_STEPS = """
versions AS (
    SELECT dossier_code, cchc_instant(NgayCapNhat) AS version_at,
           (cchc_instant(NgayHenTra) + INTERVAL 7 HOUR)::DATE AS due_date, row_hash,
           load_id = $load_id AS of_load
    FROM candidates
    WHERE cchc_instant(NgayTiepNhan) IS NOT NULL
),
-- consecutive due dates with this load's versions (now) and without them (before it)
now_steps AS (
    SELECT dossier_code, due_date, lag(due_date) OVER w AS previous_due
    FROM versions WHERE due_date IS NOT NULL AND version_at IS NOT NULL
    WINDOW w AS (PARTITION BY dossier_code ORDER BY version_at, row_hash)
),
before_steps AS (
    SELECT dossier_code, due_date, lag(due_date) OVER w AS previous_due
    FROM versions WHERE due_date IS NOT NULL AND version_at IS NOT NULL AND NOT of_load
    WINDOW w AS (PARTITION BY dossier_code ORDER BY version_at, row_hash)
),
new_moves AS (
    SELECT dossier_code, previous_due, due_date FROM now_steps WHERE due_date > previous_due
    EXCEPT
    SELECT dossier_code, previous_due, due_date FROM before_steps WHERE due_date > previous_due
)
SELECT dossier_code, max(due_date - previous_due) AS days
FROM new_moves
GROUP BY dossier_code
ORDER BY dossier_code
"""


def moved_in_load_sql(keep_touched: bool) -> str:
    """The check's SQL (parameter ``$load_id``); both forms give the same rows."""
    return (_TOUCHED_KEPT if keep_touched else _TOUCHED_GROUPED) + _STEPS


def keep_touched(con: duckdb.DuckDBPyConnection, load_id: str) -> bool:
    """Keep the touched codes' versions in memory when the load brought under a tenth of the
    raw layer's versions (an increment: one read of the files, 0.6–0.9 s against 1.5–2.7 s at
    8M versions); a bulk load's would spill, so its touched codes are found by one grouping
    of the versions instead (:data:`_TOUCHED_GROUPED`)."""
    mine, every = con.execute(
        f"SELECT count(*) FILTER (WHERE load_id = $load_id), count(*) FROM {_RAW}",
        {"load_id": load_id}).fetchone()
    return mine * 10 < every


@dataclass(frozen=True)
class MovedInLoad:
    """Dossiers whose due date a load shows moved later, and by how many days at most."""

    dossiers: list[str]
    max_days: int

    @property
    def count(self) -> int:
        return len(self.dossiers)


def moved_in_load(wh: Warehouse, load_id: str) -> MovedInLoad:
    """The dossiers whose due date moved to a later day between a version of ``load_id`` and
    its neighbour in the raw layer."""
    sql = moved_in_load_sql(keep_touched(wh.con, load_id))
    rows = wh.con.execute(sql, {"load_id": load_id}).fetchall()
    return MovedInLoad([r[0] for r in rows], max((int(r[1]) for r in rows), default=0))


def findings(moved: MovedInLoad, load_id: str) -> list:
    """The alert findings (``warehouse.alerts.Finding``): one when any due date moved later."""
    if not moved.count:
        return []
    from warehouse.alerts import Finding

    sample = ", ".join(moved.dossiers[:5]) + (" …" if moved.count > 5 else "")
    return [Finding(
        key=FINDING_KEY,
        severity="warning",
        message=(f"{moved.count} hồ sơ bị lùi ngày hẹn trả sau khi đã tiếp nhận (lùi tối đa "
                 f"{moved.max_days} ngày), ví dụ: {sample}. Ngày hẹn lùi có thể che giấu hồ sơ "
                 "trễ hạn: kiểm tra lý do gia hạn; xem out_onestop__moved_due_dates và "
                 "cchc report form06 --due original."),
        message_en=(f"{moved.count} dossier(s) had their due date moved later after reception "
                    f"(by up to {moved.max_days} days), e.g. {sample}. A moved due date can hide "
                    "lateness: check the reasons; see out_onestop__moved_due_dates and "
                    "`cchc report form06 --due original`."),
        counts={"dossiers": moved.count, "max_days_moved": moved.max_days},
        load_id=load_id,
    )]


def check_moved_due_dates(wh: Warehouse, load_id: str, source_system: str = "onestop") -> list[str]:
    """Record the ``moved_due_date`` check of one load (opens, refreshes or resolves its alert);
    returns the ids of the alerts opened."""
    from warehouse.alerts import MOVED_DUE_DATE, record_check

    moved = moved_in_load(wh, load_id)
    return record_check(wh, MOVED_DUE_DATE, source_system, scope=SCOPE,
                        findings=findings(moved, load_id))
