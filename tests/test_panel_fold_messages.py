"""Series of an independent panel too short for the folds: cross_validate and backtest name
the series, its length, fold 0's cutoff in it and what that fold trains on, and offer the
fixes that fit folds (each checked to work); a plain fit's refusal speaks of val_size, never
of the command line's split, whose own refusal keeps data.train_ratio."""

from __future__ import annotations

import pytest

from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster
from tsfm.data import make_datamodule

pytestmark = pytest.mark.filterwarnings("ignore:folds. :UserWarning")  # metric notes
LENGTHS, HORIZON, LOOKBACK = (120, 90, 60), 6, 24


@pytest.fixture(scope="module")
def panel():
    return panel_frame(lengths=LENGTHS)[["unique_id", "ds", "y"]]


def _forecaster(**extra) -> Forecaster:
    sizes = {"horizon": HORIZON, "lookback": LOOKBACK, "mode": "independent"}
    return Forecaster(**{**sizes, **TINY_IT, "max_epochs": 1, **extra})


def _refusal(call) -> str:
    with pytest.raises(ValueError, match="are too short for the folds") as refused:
        call()
    return str(refused.value)


def test_a_series_validation_leaves_too_few_rows_in_fold_zero_is_named_with_the_fold(panel):
    est = _forecaster(val_size=24)
    # s2: 60 rows; fold 0 of 3, 12 apart, cuts it at 60 - 6 - 2 * 12 = 30 rows, 24 of which
    # validate: 6 to train on, one short of horizon + 1 (the fit alone takes all 60)
    message = _refusal(lambda: est.cross_validate(panel, n_windows=3, step=12, refit=False))
    assert message.startswith("series ['s2'] are too short for the folds: fold 0 (the first ")
    assert "of 3, 12 steps apart) has its cutoff in series 's2' at ds=2021-01-02 19:00:00, " in (
        message
    )
    assert "row 30 of 60: that fold trains on 6 of those 30 (val_size=24 holds out the " in message
    assert "last 24 to validate, at least one horizon), fewer than horizon + 1 = 7" in message
    # 31 rows before the first cutoff (7 + 24): 60 - 6 - 31 = 23 to step over
    assert "need 61 rows: 31 before the first cutoff (horizon + 1 = 7 rows to train on plus " in (
        message
    )
    assert "Use n_windows=2 (the most that fit 12 steps apart), step=11 (the largest " in message
    assert "val_size=None (no rows held out to validate, no early stopping), df without the " in (
        message
    )
    assert "series ['s2'] or series of at least 61 rows" in message
    for wrong in ("data.train_ratio", "to test", "8 of its"):
        assert wrong not in message
    # what it offers fits: the largest step (its fold 0 trains on 32 - 24 = 8 rows of s2),
    # no validation, the panel without s2
    assert len(est.cross_validate(panel, n_windows=3, step=11, refit=False).metrics) == 3
    unvalidated = _forecaster().cross_validate(panel, n_windows=3, step=12, refit=False)
    assert len(unvalidated.metrics) == 3
    others = panel[panel.unique_id != "s2"]
    assert len(est.cross_validate(others, n_windows=3, step=12, refit=False).metrics) == 3


def test_a_share_of_validation_and_every_short_series_are_counted(panel):
    est = _forecaster(val_size=0.5)  # half a fold's rows, at least one horizon, validate
    # fold 0 of 4, 14 apart: s2 cut at 60 - 6 - 42 = 12 rows, 6 of which validate
    message = _refusal(lambda: est.cross_validate(panel, n_windows=4, step=14))
    assert "has its cutoff in series 's2' at ds=2021-01-02 01:00:00, row 12 of 60" in message
    assert "trains on 6 of those 12 (val_size=0.5 holds out the last 6 to validate" in message
    # 13 rows before a cutoff leave 13 - max(6, round(6.5)) = 7 to train on: 60 - 6 - 13 = 41
    # to step over, 41 // 14 + 1 = 3 folds or steps of 41 // 3 = 13
    assert "need 61 rows: 13 before the first cutoff (horizon + 1 = 7 rows to train on plus " in (
        message
    )
    assert "the 6 validation rows of val_size=0.5)" in message
    assert "Use n_windows=3 (the most that fit 14 steps apart), step=13 (the largest " in message
    shorter = panel[panel.groupby("unique_id").cumcount() < 20]  # every series 20 rows
    everyone = _refusal(lambda: est.cross_validate(shorter, n_windows=3))  # cut at 2 rows
    assert "series ['s0', 's1', 's2'] are too short" in everyone
    assert "2 more series are too short for it" in everyone
    assert "df without" not in everyone and "val_size=None" not in everyone  # neither fits


def test_a_fold_cut_before_a_series_starts_and_a_backtest_say_where_the_cutoff_falls(panel):
    message = _refusal(lambda: _forecaster().cross_validate(panel, n_windows=10, step=8))
    # s2: 60 - 6 - 9 * 8 = -18: its fold 0 cutoff falls 19 rows before its first
    assert "fold 0 (the first of 10, 8 steps apart) has its cutoff 19 row(s) before " in message
    assert "series 's2' starts (60 rows): nothing to train on" in message
    fitted = _forecaster().fit(panel)  # the folds are checked first
    backtest = _refusal(lambda: fitted.backtest(panel, n_windows=9))
    assert "has its cutoff in series 's2' at ds=2021-01-01 19:00:00, row 6 of 60: 6 row(s) " in (
        backtest
    )
    assert "to forecast from, no more than horizon = 6" in backtest


def test_a_plain_fit_names_val_size_and_the_command_line_names_its_ratios(panel, tmp_path):
    short = panel_frame(lengths=(120, 30), categories=("a", "b"))[["unique_id", "ds", "y"]]
    with pytest.raises(ValueError, match="'s1' trains on 6 of its 30 rows") as refused:
        _forecaster(horizon=24, lookback=4, val_size=0.2).fit(short)
    message = str(refused.value)
    assert "the other 24 are held out to validate (val_size, at least one horizon); a " in message
    assert "smaller val_size, or None, holds out less" in message
    assert "data.train_ratio" not in message and "to test" not in message
    path = tmp_path / "panel.csv"
    short.to_csv(path, index=False)
    settings = {
        "name": "custom", "path": str(path), "id_col": "unique_id", "date_col": "ds",
        "target": "y", "mode": "independent", "seq_len": 4, "pred_len": 12,
    }  # fmt: skip
    with pytest.raises(ValueError, match="'s1' trains on 6 of its 30 rows") as refused:
        make_datamodule(settings)  # 12 rows test, 12 validate
    message = str(refused.value)
    assert "held out to validate and to test (at least one horizon each); a larger " in message
    assert "data.train_ratio holds out less" in message and "val_size" not in message


def test_a_series_too_short_for_one_fold_is_not_told_to_shorten_the_lookback(panel):
    # a panel's series are padded to the look-back: only a shorter horizon fits more folds
    short = panel[panel["unique_id"] != "s2"].copy()
    short = short[(short["unique_id"] != "s1") | (short.groupby("unique_id").cumcount() < 12)]
    message = _refusal(lambda: _forecaster(val_size=None).cross_validate(short, n_windows=2))
    assert "too few for even one fold" in message and "shorten horizon" in message
    assert "lookback" not in message.split("too few for even one fold")[1]
