"""Scores from signals, computed by hand: re-weighting of missing components, points, bands."""

import datetime as dt
import textwrap

import numpy as np
import pandas as pd
import pytest

from sucesso.health.model import load_model
from sucesso.health.score import components_json, score

DAY = dt.date(2024, 6, 1)

WEIGHTED = """\
name: team
components:
  usage:
    weight: 3
    signals:
      active_days_30d: {scale: [[0, 0], [10, 50], [20, 100]]}
      usage_change_30d: {scale: [[-1, 0], [0, 100]], weight: 3}
  satisfaction:
    weight: 1
    signals:
      nps_last: {scale: [[0, 0], [10, 100]]}
variants:
  - name: tech
    when: {touch_model: tech}
    components:
      satisfaction: {weight: 0}
"""


def signals(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"account_id": [f"a{i}" for i in range(n)], "as_of": [DAY] * n, "touch_model": ["high"] * n,
            "segment": [None] * n, "plan": [None] * n, "country": [None] * n}
    return pd.DataFrame({**base, **columns})


def test_weighted_score_by_hand_and_a_missing_component_reweighted():
    s = signals(active_days_30d=[15.0, 15.0], usage_change_30d=[-0.5, np.nan], nps_last=[8.0, np.nan])
    got = score(s, load_model(WEIGHTED)).set_index("account_id")
    # a0: usage = (75·1 + 50·3) / 4 = 56.25; satisfaction = 80; score = (3·56.25 + 1·80) / 4 = 62.1875
    assert got.loc["a0", "usage"] == pytest.approx(56.25)
    assert got.loc["a0", "score"] == pytest.approx(62.1875)
    assert got.loc["a0", "usage__contribution"] + got.loc["a0", "satisfaction__contribution"] == pytest.approx(62.1875)
    assert got.loc["a0", "band"] == "yellow"
    # a1: usage_change missing → usage = 75 from active days alone; satisfaction missing → left out
    assert got.loc["a1", "usage"] == pytest.approx(75.0)
    assert np.isnan(got.loc["a1", "satisfaction"]) and got.loc["a1", "satisfaction__weight"] == 0
    assert got.loc["a1", "usage__weight"] == 1
    assert got.loc["a1", "score"] == pytest.approx(75.0)
    assert got.loc["a1", "band"] == "green"


def test_the_band_is_read_on_the_rounded_score():
    s = signals(active_days_30d=[10.0, 10.0, 14.0], usage_change_30d=[np.nan] * 3, nps_last=[np.nan] * 3)
    s.loc[1, "active_days_30d"] = 10.1   # 50.5 rounds to 51: yellow
    s.loc[2, "active_days_30d"] = 14.09  # 70.45 rounds to 70: still yellow
    got = score(s, load_model(WEIGHTED))
    assert list(got["rounded"]) == [50, 51, 70]
    assert list(got["band"]) == ["red", "yellow", "yellow"]


def test_a_variant_scores_its_accounts_and_the_history_json_marks_missing():
    s = signals(active_days_30d=[20.0, 20.0], usage_change_30d=[0.0, 0.0], nps_last=[0.0, np.nan])
    s.loc[1, "touch_model"] = "tech"
    got = score(s, load_model(WEIGHTED)).set_index("account_id")
    assert got.loc["a0", "model"] == "team" and got.loc["a0", "score"] == pytest.approx(75.0)
    assert got.loc["a1", "model"] == "tech" and got.loc["a1", "score"] == pytest.approx(100.0)
    assert list(components_json(got.reset_index())) == ['{"usage":100.0,"satisfaction":0.0}',
                                                        '{"usage":100.0,"satisfaction":null}']


def test_a_component_with_no_data_at_all_gives_no_score():
    s = signals(active_days_30d=[np.nan], usage_change_30d=[np.nan], nps_last=[np.nan])
    got = score(s, load_model(WEIGHTED))
    assert np.isnan(got.loc[0, "score"]) and got.loc[0, "band"] == "missing"


def test_points_model_adds_points_per_unit_capped_and_clipped():
    model = load_model(textwrap.dedent("""\
        kind: points
        base: 60
        rules:
          ticket: {signal: tickets_90d, points: -5, max_units: 3}
          promoter: {signal: promoters_180d, points: 10}
          detractor: {signal: detractors_180d, points: -50}
        """))
    s = signals(tickets_90d=[1, 10, 0], promoters_180d=[2, 0, 0], detractors_180d=[0, 0, 3])
    got = score(s, model).set_index("account_id")
    assert got.loc["a0", "score"] == 60 - 5 + 20           # 75
    assert got.loc["a1", "score"] == 60 - 15               # tickets capped at 3 units
    assert got.loc["a2", "score"] == 0                     # 60 − 150 clipped
    assert got.loc["a0", "ticket__contribution"] == -5
    assert list(got["band"]) == ["green", "red", "red"]
