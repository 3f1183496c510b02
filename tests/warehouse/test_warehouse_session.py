"""``Warehouse.session``: one open (one schema check, seeds and views) for a whole step."""

from __future__ import annotations

import threading
from pathlib import Path

from cchc.config import Settings
from warehouse.writer import Warehouse


def test_opens_inside_a_session_reuse_it_and_prepare_once(settings: Settings, units_csv: Path,
                                                         monkeypatch) -> None:
    prepared = []
    original = Warehouse._prepare
    monkeypatch.setattr(Warehouse, "_prepare",
                        lambda self, csv: (prepared.append(1), original(self, csv))[1])
    with Warehouse.session(settings, admin_units_csv=units_csv) as outer:
        with Warehouse.open(settings) as inner, Warehouse.open(settings) as again:
            assert inner is outer and again is outer
        assert outer.con.execute("SELECT 1").fetchone() == (1,)  # still open after inner exits
        with Warehouse.session(settings) as nested:
            assert nested is outer
    assert len(prepared) == 1
    with Warehouse.open(settings, admin_units_csv=units_csv) as after:  # session over: a new one
        assert after is not outer
    assert len(prepared) == 2


def test_a_session_is_not_shared_with_other_threads_or_files(settings: Settings,
                                                            units_csv: Path, tmp_path) -> None:
    other = Settings(data_dir=tmp_path / "other")
    with Warehouse.session(settings, admin_units_csv=units_csv) as outer:
        with Warehouse.open(other, admin_units_csv=units_csv) as elsewhere:
            assert elsewhere is not outer
        seen = []
        thread = threading.Thread(target=lambda: seen.append(_session_of(settings)))
        thread.start()
        thread.join()
        assert seen == [None]


def _session_of(settings: Settings):
    from warehouse.writer import _session_warehouse

    return _session_warehouse(settings)
