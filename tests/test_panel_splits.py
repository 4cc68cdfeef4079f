"""``data.cutoffs`` of a long file of independent series on the command line: ``shared`` cuts
every series' validation and test rows at the panel's timestamps, so that no series' test
score depends on another series' rows at or after its test start; ``per_series`` (the
default) splits each series from its own end and warns where the calendars overlap."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm import CalendarOverlapWarning
from tsfm.config import compose_config
from tsfm.data import make_datamodule
from tsfm.pipeline import fit_and_test

HORIZON = 8
SETTINGS = {
    "name": "custom", "id_col": "unique_id", "date_col": "ds", "target": "y",
    "mode": "independent", "seq_len": 24, "pred_len": HORIZON,
}  # fmt: skip


def driven_panel(spans=((0, 240), (0, 205), (30, 150))) -> pd.DataFrame:
    """Hourly series sharing one driver (a random walk), each over its own rows of it: they
    start and end on different dates."""
    rng = np.random.default_rng(0)
    driver = np.cumsum(rng.normal(size=max(end for _, end in spans)))
    stamps = pd.date_range("2021-01-01", periods=len(driver), freq="h")
    parts = [
        pd.DataFrame(
            {
                "unique_id": f"s{j}",
                "ds": stamps[a:b],
                "y": driver[a:b] * (1 + 0.3 * j) + rng.normal(scale=0.1, size=b - a),
            }
        )  # fmt: skip
        for j, (a, b) in enumerate(spans)
    ]
    return pd.concat(parts, ignore_index=True)


def split_of(frame: pd.DataFrame, tmp_path, **settings):
    path = tmp_path / "panel.csv"
    frame.to_csv(path, index=False)
    datamodule = make_datamodule({**SETTINGS, "path": str(path), **settings})
    starts = {  # each series' first validation and test timestamp
        name: (times[n] if n < len(times) else None, times[len(times) - k] if k else None)
        for name, times, n, k in zip(
            datamodule.names,
            datamodule.times,
            datamodule.n_train,
            datamodule.n_test,
            strict=True,
        )  # fmt: skip
    }
    return datamodule, starts


def test_shared_cutoffs_cut_every_series_at_the_calendars_split(tmp_path):
    frame = driven_panel()
    datamodule, starts = split_of(frame, tmp_path, cutoffs="shared")
    calendar = np.sort(frame.ds.unique())  # 240 hours: 48 test, 24 validation
    assert {v for v, _ in starts.values() if v is not None} == {calendar[168]}
    assert {t for _, t in starts.values() if t is not None} == {calendar[192]}
    assert datamodule.n_test == [48, 13, 0]  # s2 ends before the test start: not tested
    assert datamodule.untested_series() == [2]
    aligned = frame[frame.unique_id == "s0"].assign(unique_id="a")
    both = pd.concat([aligned, aligned.assign(unique_id="b")])  # one calendar: as per_series
    shared, _ = split_of(both, tmp_path, cutoffs="shared")
    own, _ = split_of(both, tmp_path, cutoffs="per_series")
    assert (shared.n_train, shared.n_test) == (own.n_train, own.n_test) == ([168, 168], [48, 48])


def test_per_series_cutoffs_warn_once_of_the_overlapping_calendars(tmp_path):
    with pytest.warns(CalendarOverlapWarning, match=r"series 's2' is tested from 2021-01-06 "
                      r"06:00:00 while the model trains on rows of series 's0' up to 2021-01-07 "
                      r"23:00:00.*data.cutoffs=shared"):  # fmt: skip
        datamodule, starts = split_of(driven_panel(), tmp_path)  # the default: per_series
    assert datamodule.n_test == [48, 41, 24]  # each series' own last 20%
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalendarOverlapWarning)
        split_of(driven_panel(), tmp_path, cutoffs="shared")  # no calendar overlap to warn of


def test_cutoffs_settings_are_checked_with_the_fix(tmp_path):
    with pytest.raises(ValueError, match="data.cutoffs must be one of \\('per_series', 'shared'"):
        split_of(driven_panel(), tmp_path, cutoffs="common")
    late = driven_panel(((0, 200), (135, 200)))  # s1 starts 5 hours before validation
    with pytest.raises(ValueError, match=r"series \['s1'\] have fewer than horizon \+ 1 = 9 rows "
                       r"before the panel's validation start.*data.cutoffs=per_series"):  # fmt: skip
        split_of(late, tmp_path, cutoffs="shared")
    with pytest.warns(UserWarning, match=r"series \['s2'\] end before a whole horizon"):
        split_of(driven_panel(), tmp_path, cutoffs="shared")


def perturbed_scores(tmp_path, frame: pd.DataFrame, *extra: str) -> tuple[dict, dict]:
    """Series s1's test scores, then again with the other series' rows at or after s1's test
    start changed (rows a leak-free split never trains on when it tests s1)."""
    _, starts = split_of(frame, tmp_path, **dict(e.split("=") for e in extra))
    changed = frame.copy()
    later = (changed.unique_id != "s1") & (changed.ds >= starts["s1"][1])
    changed.loc[later, "y"] = changed.loc[later, "y"].to_numpy()[::-1] * 2
    scores = []
    for name, data in (("a", frame), ("b", changed)):
        path = tmp_path / f"{name}.csv"
        data.to_csv(path, index=False)
        overrides = [
            f"data.{k}={v}" for k, v in SETTINGS.items() if k not in ("seq_len", "pred_len")
        ]
        cfg = compose_config(
            "data=custom", *overrides, f"data.path={path}", *TINY_ITRANSFORMER, *TINY_RUN,
            "trainer.limit_test_batches=1.0", *[f"data.{e}" for e in extra],
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            metrics = fit_and_test(cfg, tmp_path / f"run_{name}").metrics
        scores.append({k: v for k, v in metrics.items() if k.startswith("test/s1/")})
    return scores[0], scores[1]


def test_no_series_test_score_depends_on_other_series_rows_after_its_test_start(tmp_path):
    before, after = perturbed_scores(tmp_path, driven_panel(), "cutoffs=shared")
    assert before and before == after  # to the bit: those rows are not trained on
    before, after = perturbed_scores(tmp_path, driven_panel())  # the default: per_series
    assert before["test/s1/mae_original"] != after["test/s1/mae_original"]  # the leak
