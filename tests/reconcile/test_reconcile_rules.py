"""The comparison and its explanations, each on a small synthetic form (pure, fast)."""

from __future__ import annotations

import polars as pl
from reconcile_fixtures import counts, ours_frame, theirs_frame

from transforms.reconcile import (
    AGREES,
    EXPLAINED,
    TOTAL_KEY,
    UNEXPLAINED,
    agrees,
    published_keys,
    reconcile,
    unexplained,
)

BASE = counts(c4=10, c5=80, c6=10, c8=40, c9=40, c10=5, c12=10, c13=5)  # c3 100, c7 85, c11 15


def _facts(**per_key: dict[str, int]) -> pl.DataFrame:
    """Warehouse facts per key; the total's are the sum of the units' unless given."""
    if TOTAL_KEY not in per_key:
        names = {n for v in per_key.values() for n in v}
        per_key[TOTAL_KEY] = {n: sum(v.get(n, 0) for v in per_key.values()) for n in names}
    rows = [{"key": k, **v} for k, v in per_key.items()]
    return pl.DataFrame(rows).fill_null(0)


def _status(result: pl.DataFrame, key: str, figure: str) -> tuple[str, str | None]:
    row = result.filter((pl.col("key") == key) & (pl.col("figure") == figure)).row(0, named=True)
    return row["status"], row["explanation_code"]


def test_identical_forms_agree_on_every_figure() -> None:
    ours = ours_frame({"24076": BASE})
    result = reconcile(ours, theirs_frame({"24076": BASE, TOTAL_KEY: BASE}), None, "form")
    assert set(result["status"]) == {AGREES}
    assert result.height == 2 * 14  # c3…c13 and three rates, for the unit and the total


def test_no_due_date_counted_late_by_the_other_side_is_explained() -> None:
    ours = ours_frame({"24076": BASE}, {"24076": {"no_due_date": 3}, TOTAL_KEY: {"no_due_date": 3}})
    moved = BASE | {"c9": 37, "c10": 8}
    result = reconcile(ours, theirs_frame({"24076": moved, TOTAL_KEY: moved}), None, "form")
    for figure in ("c9", "c10", "on_time_rate_pct", "late_rate_pct"):
        assert _status(result, "24076", figure) == (EXPLAINED, "no_due_date"), figure
    assert unexplained(result).is_empty()


def test_a_difference_the_count_does_not_account_for_exactly_stays_unexplained() -> None:
    ours = ours_frame({"24076": BASE}, {"24076": {"no_due_date": 2}, TOTAL_KEY: {"no_due_date": 2}})
    moved = BASE | {"c9": 37, "c10": 8}  # 3 moved, but only 2 have no due date
    result = reconcile(ours, theirs_frame({"24076": moved, TOTAL_KEY: moved}), None, "form")
    assert _status(result, "24076", "c9") == (UNEXPLAINED, "unknown")
    assert _status(result, "24076", "on_time_rate_pct") == (UNEXPLAINED, "from_counts")


def test_closed_after_the_period_counted_resolved_is_explained() -> None:
    # 4 dossiers open at the period's end (3 within their due date, 1 overdue) closed later:
    # 2 before their due day, 2 after it. The other side counts them resolved.
    facts = {"closed_after_to": 4, "closed_after_to_c8": 2, "closed_after_to_c10": 2,
             "closed_after_to_c12": 3, "closed_after_to_c13": 1}  # fmt: skip
    theirs = BASE | {"c7": 89, "c8": 42, "c10": 7, "c11": 11, "c12": 7, "c13": 4}
    result = reconcile(ours_frame({"24076": BASE}), theirs_frame({"24076": theirs}),
                       _facts(**{"24076": facts}), "form")
    for figure in ("c7", "c8", "c10", "c11", "c12", "c13", "on_time_rate_pct"):
        assert _status(result, "24076", figure) == (EXPLAINED, "closed_after_to"), figure
    assert _status(result, "24076", "c9") == (AGREES, None)


def test_closed_after_the_period_left_out_breaks_their_identity_explainably() -> None:
    facts = {"closed_after_to": 4, "closed_after_to_c12": 3, "closed_after_to_c13": 1}
    theirs = BASE | {"c11": 11, "c12": 7, "c13": 4}  # c3 = 100 but c7 + c11 = 96
    result = reconcile(ours_frame({"24076": BASE}), theirs_frame({"24076": theirs}),
                       _facts(**{"24076": facts}), "form")
    check = result.filter(pl.col("figure") == "check: c3 = c7 + c11").row(0, named=True)
    assert (check["ours"], check["theirs"], check["status"], check["explanation_code"]) == (
        96, 100, EXPLAINED, "closed_after_to")
    assert _status(result, "24076", "c11") == (EXPLAINED, "closed_after_to")


def test_quarantined_dossiers_the_source_counts_are_explained() -> None:
    theirs = BASE | {"c3": 103, "c5": 83, "c7": 88, "c9": 43}
    result = reconcile(ours_frame({"24076": BASE}), theirs_frame({"24076": theirs}),
                       _facts(**{"24076": {"quarantined": 3}}), "form")
    for figure in ("c3", "c5", "c7", "c9"):
        assert _status(result, "24076", figure) == (EXPLAINED, "quarantine"), figure
    # the rates follow from those counts, all explained
    assert _status(result, "24076", "online_rate_pct") == (EXPLAINED, "from_counts")
    assert unexplained(result).is_empty()


def test_two_causes_together_explain_a_difference_neither_explains_alone() -> None:
    facts = {"quarantined": 2, "closed_after_to": 3, "closed_after_to_c9": 3,
             "closed_after_to_c12": 3}  # fmt: skip
    theirs = BASE | {"c7": 90, "c9": 43, "c11": 12, "c12": 7, "c3": 102, "c5": 82}
    theirs["c9"] += 2  # the 2 quarantined dossiers were resolved on time there
    result = reconcile(ours_frame({"24076": BASE}), theirs_frame({"24076": theirs}),
                       _facts(**{"24076": facts}), "form")
    assert _status(result, "24076", "c7") == (EXPLAINED, "closed_after_to+quarantine")


def test_a_unit_missing_from_the_other_side() -> None:
    ours = ours_frame({"24076": BASE, "24079": counts(c5=5, c9=5), "24082": counts()})
    total = {k: BASE[k] for k in BASE}
    result = reconcile(ours, theirs_frame({"24076": BASE, TOTAL_KEY: total}), None, "form")
    assert _status(result, "24079", "c3") == (UNEXPLAINED, "unit_missing")
    assert _status(result, TOTAL_KEY, "c3") == (UNEXPLAINED, "unit_missing")
    assert _status(result, TOTAL_KEY, "c4") == (AGREES, None)
    # a unit with nothing to report may be left out
    assert set(result.filter(pl.col("key") == "24082")["status"]) == {AGREES}


def test_a_unit_only_the_other_side_has() -> None:
    result = reconcile(ours_frame({"24076": BASE}),
                       theirs_frame({"24076": BASE, "?Xã Lạ": counts(c5=2, c9=2),
                                     TOTAL_KEY: BASE | {"c3": 102, "c5": 82, "c7": 87, "c9": 42}}),
                       None, "form")
    assert _status(result, "?Xã Lạ", "c3") == (UNEXPLAINED, "unit_missing")
    assert _status(result, TOTAL_KEY, "c9") == (UNEXPLAINED, "unit_missing")


def _published(**values: str) -> pl.DataFrame:
    rows = [{"indicator": k, "value": v, "scope": "637", "source_row": i}
            for i, (k, v) in enumerate(values.items(), start=2)]
    return published_keys(pl.DataFrame(rows), ["637", "64"])


def test_published_rates_compare_at_the_precision_published() -> None:
    assert agrees(98.5176, 98.5, 1) and agrees(98.5176, 98.52, 2)
    assert not agrees(98.5176, 98.6, 1) and not agrees(98.5176, 98.51, 2)
    ours = ours_frame({"24076": BASE})  # on time 80 / 85 = 94.12 %
    result = reconcile(ours, _published(resolved_total="85", resolved_on_time="80",
                                        on_time_rate_pct="94.1"), None, "published")
    assert set(result["status"]) == {AGREES}


def test_a_published_rate_that_does_not_follow_from_its_own_counts_stays_unexplained() -> None:
    ours = ours_frame({"24076": BASE})  # online 10 / 90 = 11.11 %
    result = reconcile(ours, _published(received_online="10", received_counter_postal="80",
                                        online_rate_pct="11.5"), None, "published")
    assert _status(result, TOTAL_KEY, "online_rate_pct") == (UNEXPLAINED, "own_inconsistency")
    assert "11.11" in result.filter(pl.col("figure") == "online_rate_pct")["explanation"][0]
    assert unexplained(result).height == 1


def test_published_counts_that_do_not_add_up_are_their_own_error() -> None:
    ours = ours_frame({"24076": BASE})
    result = reconcile(ours, _published(resolved_total="85", resolved_on_time="80",
                                        resolved_late="6"), None, "published")
    assert _status(result, TOTAL_KEY, "check: resolved_total = resolved_on_time + resolved_late"
                   ) == (UNEXPLAINED, "own_inconsistency")
    assert _status(result, TOTAL_KEY, "resolved_late") == (UNEXPLAINED, "unknown")
