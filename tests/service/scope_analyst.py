"""The analyst of the two-worker test: asks the published lake again and again while the
districts load, and writes every answer (rows per loaded file) as a JSON line.

Run as a script: ``python scope_analyst.py OUT STOP`` with the lake's CCHC_CONFIG; stops once
the file STOP exists."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cchc.config import load_settings
from sources.registry import source
from warehouse.reader import SnapshotUnavailable, open_snapshot

ANSWER_SQL = (
    "SELECT l.source, count(*) FROM {core} c JOIN etl_loads l USING (load_id) "
    "GROUP BY l.source ORDER BY l.source")


def answer(settings) -> dict[str, int] | None:
    """Rows per loaded file in the published state (None before the first publish)."""
    try:
        con = open_snapshot(settings)
    except SnapshotUnavailable:
        return None
    try:
        core = source("onestop").core_table.name
        return dict(con.execute(ANSWER_SQL.format(core=core)).fetchall())
    finally:
        con.close()


def main(out: Path, stop: Path) -> None:
    settings = load_settings()
    with out.open("a", encoding="utf-8") as fh:
        while not stop.exists():
            try:
                rows = answer(settings)
            except Exception as exc:  # a failed read is an answer too: the test shows it
                fh.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
            else:
                if rows is not None:
                    fh.write(json.dumps({"rows": rows}) + "\n")
            fh.flush()
            time.sleep(0.2)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
