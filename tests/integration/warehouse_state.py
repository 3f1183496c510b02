"""What the kill and half-load tests compare: the state of the one-stop tables, in one tuple."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from cchc.config import load_settings
from warehouse.form06 import form06
from warehouse.reader import open_snapshot

# Counts and an order-free hash of the keys and versions: equal tuples, equal content.
FINGERPRINT = """
SELECT (SELECT count(*) FROM core_onestop__dossiers),
       (SELECT coalesce(sum(hash(dossier_code || '|' || row_hash)), 0) FROM core_onestop__dossiers),
       (SELECT count(*) FROM raw_onestop__dossier_versions),
       (SELECT count(*) FROM quarantine_onestop__dossiers)
"""


def published_figures(data: Path, date_from: date, date_to: date) -> tuple:
    """The fingerprint and the form-06 total row of the snapshot published under ``data``."""
    os.environ["CCHC_DATA_DIR"] = str(data)
    try:
        con = open_snapshot(load_settings())
    finally:
        del os.environ["CCHC_DATA_DIR"]
    try:
        total = form06(con, date_from, date_to).tail(1).rows()  # "Tổng cộng"
        return con.execute(FINGERPRINT).fetchone(), total
    finally:
        con.close()
