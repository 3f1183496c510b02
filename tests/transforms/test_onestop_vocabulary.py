"""The one-stop vocabulary is declared once: labels, checks and timeliness derive from it."""

from __future__ import annotations

from datetime import date

import polars as pl

from sources.onestop import vocabulary as v
from sources.onestop.tables import CORE_ONESTOP_DOSSIERS, RECEIVED
from transforms import labels
from transforms.timeliness import timeliness_expr

CODED = {
    "status": v.STATUS_LABELS,
    "channel": v.CHANNEL_LABELS,
    "service_level": v.SERVICE_LEVEL_LABELS,
    "applicant_type": v.APPLICANT_LABELS,
    "digitisation": v.DIGITISATION_LABELS,
    "rating": v.RATING_LABELS,
}


def test_status_groups_cover_every_status_once() -> None:
    groups = (v.NOT_RECEIVED, v.IN_PROGRESS, v.WITHDRAWN, v.FINISHED)
    together = [code for group in groups for code in group]
    assert sorted(together) == sorted(v.STATUS_LABELS)
    assert set(v.WAITING) <= set(v.IN_PROGRESS)
    assert set(v.ONLINE_CHANNELS) <= set(v.CHANNEL_LABELS)
    assert set(v.DIGITISED) <= set(v.DIGITISATION_LABELS)
    assert set(v.SATISFIED) <= set(v.RATING_LABELS)


def test_labels_module_uses_the_vocabulary_tables() -> None:
    assert labels.STATUS_LABELS is v.STATUS_LABELS
    assert labels.CHANNEL_LABELS is v.CHANNEL_LABELS
    assert labels.SERVICE_LEVEL_LABELS is v.SERVICE_LEVEL_LABELS
    assert labels.APPLICANT_LABELS is v.APPLICANT_LABELS
    assert labels.DIGITISATION_LABELS is v.DIGITISATION_LABELS
    assert labels.RATING_LABELS is v.RATING_LABELS
    assert labels.build_map(v.STATUS_LABELS) == labels.STATUS
    for code, names in v.STATUS_LABELS.items():
        assert labels.status(pl.Series(names)).to_list() == [code] * len(names)


def test_check_value_sets_and_received_condition_come_from_the_vocabulary() -> None:
    columns = {c.name: c for c in CORE_ONESTOP_DOSSIERS.columns}
    for name, vocabulary in CODED.items():
        sets = [c.values for c in columns[name].checks if c.kind == "in_set"]
        assert sets == [tuple(vocabulary)], name
    assert RECEIVED == "status not in [1, 3]"
    assert f"status not in {list(v.NOT_RECEIVED)}" == RECEIVED


def test_timeliness_classes_follow_the_groups() -> None:
    frame = pl.DataFrame(
        {"status": list(v.STATUS_LABELS)},
        schema={"status": pl.Int8},
    ).with_columns(
        due=pl.lit(date(2021, 3, 10)),
        finished=pl.lit(date(2021, 3, 9)),
    )
    out = frame.select(
        "status",
        cls=timeliness_expr(pl.col("status"), pl.col("due"), pl.col("finished"), date(2021, 3, 20)),
    )
    classes = dict(out.iter_rows())
    assert {s for s, c in classes.items() if c == "not_received"} == set(v.NOT_RECEIVED)
    assert {s for s, c in classes.items() if c == "withdrawn"} == set(v.WITHDRAWN)
    assert {s for s, c in classes.items() if c == "before_due"} == set(v.FINISHED)
    # overdue unless waiting (the clock is stopped)
    assert {s for s, c in classes.items() if c == "open_within"} == set(v.WAITING)
    assert {s for s, c in classes.items() if c == "open_overdue"} == set(v.IN_PROGRESS) - set(
        v.WAITING
    )
