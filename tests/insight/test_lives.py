import datetime as dt

import pandas as pd

from sucesso.insight.lives import churned_between, merge_spans


def T(day: str) -> pd.Timestamp:
    return pd.Timestamp(day)


def spans(*rows):
    return pd.DataFrame(rows, columns=["account_id", "started_at", "ended_at"])


def test_plan_changes_and_overlaps_make_one_life_and_a_gap_starts_another():
    paid = spans(
        ("a", T("2024-01-01"), T("2024-03-01")),   # plan change on Mar 1st: same life
        ("a", T("2024-03-01"), T("2024-05-01")),
        ("a", T("2024-04-01"), T("2024-04-15")),   # add-on inside the life
        ("a", T("2024-07-01"), None),              # back after a gap: second life, still paying
        ("b", T("2024-02-10"), T("2024-02-20")),
    )
    got = merge_spans(paid)
    assert list(got["account_id"]) == ["a", "a", "b"]
    assert list(got["life"]) == [1, 2, 1]
    assert list(got["started_at"]) == [T("2024-01-01"), T("2024-07-01"), T("2024-02-10")]
    assert got["ended_at"].iloc[0] == T("2024-05-01") and pd.isna(got["ended_at"].iloc[1])


def test_churned_between_uses_the_just_before_convention():
    lives = merge_spans(spans(
        ("ends_at_T", T("2024-01-01"), T("2024-03-01")),     # customer at T (just before), churns after
        ("ends_inside", T("2024-01-01"), T("2024-04-10")),
        ("ends_at_U", T("2024-01-01"), T("2024-05-30")),     # still paying just before U
        ("starts_after_T", T("2024-03-05"), T("2024-04-01")),  # not a customer at T
        ("ended_before_T", T("2023-01-01"), T("2024-02-01")),
        ("comes_back", T("2024-01-01"), T("2024-03-20")),
        ("comes_back", T("2024-04-01"), None),
    ))
    got = set(churned_between(lives, dt.datetime(2024, 3, 1), dt.datetime(2024, 5, 30)))
    assert got == {"ends_at_T", "ends_inside", "comes_back"}
