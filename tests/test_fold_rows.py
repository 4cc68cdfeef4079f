"""A fold's ``train_rows`` and ``val_rows`` are the rows its model trained and validated on:
fewer than the rows before the cutoff with ``val_size``, and a fold that is not refitted
reports the model it reuses (the rows before an earlier cutoff), in both modes and in
backtests."""

from __future__ import annotations

import pytest

import tsfm.estimator.fitting as fitting
import tsfm.estimator.panels as panels
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, tiny
from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster

N_ROWS, N_WINDOWS, STEP, VAL = 160, 4, 6, 16
pytestmark = pytest.mark.filterwarnings("ignore:folds:UserWarning")  # sign changes, MASE
CUTOFFS = [N_ROWS - HORIZON - (N_WINDOWS - 1 - k) * STEP for k in range(N_WINDOWS)]


@pytest.fixture
def joint_fits(monkeypatch) -> list[tuple[int, int]]:
    """``(training rows, validation rows)`` of every joint fit, as its split made them."""
    seen: list[tuple[int, int]] = []
    split = fitting.estimator_split

    def spy(n_rows, n_train, seq_len, validate):
        seen.append((n_train, n_rows - n_train if validate else 0))
        return split(n_rows, n_train, seq_len, validate)

    monkeypatch.setattr(fitting, "estimator_split", spy)
    return seen


@pytest.fixture
def panel_fits(monkeypatch) -> list[tuple[int, int]]:
    """``(training rows, validation rows)`` of every panel fit, summed over its series."""
    seen: list[tuple[int, int]] = []
    module = panels.PanelDataModule

    def spy(cfg, values, times, roles, n_train, validate, *args, **kwargs):
        held = sum(len(v) - n for v, n in zip(values, n_train, strict=True)) if validate else 0
        seen.append((sum(n_train), held))
        return module(cfg, values, times, roles, n_train, validate, *args, **kwargs)

    monkeypatch.setattr(panels, "PanelDataModule", spy)
    return seen


def test_folds_report_the_rows_their_model_trained_on(joint_fits):
    frame = synthetic_frame(N_ROWS, 2)
    cv = tiny(val_size=VAL).cross_validate(frame, n_windows=N_WINDOWS, step=STEP, refit=2)
    metrics = cv.metrics
    assert metrics.refitted.tolist() == [True, False, True, False]
    assert joint_fits == [(CUTOFFS[0] - VAL, VAL), (CUTOFFS[2] - VAL, VAL)]
    used = [joint_fits[k // 2] for k in range(N_WINDOWS)]  # folds 1 and 3 reuse 0's and 2's
    assert metrics.train_rows.tolist() == [train for train, _ in used]
    assert metrics.val_rows.tolist() == [VAL] * N_WINDOWS
    assert list(metrics.columns[:5]) == ["fold", "cutoff", "train_rows", "val_rows", "refitted"]


def test_a_backtest_reports_the_fitted_model_rows(joint_fits):
    frame = synthetic_frame(N_ROWS, 2)
    model = tiny(val_size=VAL).fit(frame[: CUTOFFS[0]])
    metrics = model.backtest(frame, n_windows=N_WINDOWS, step=STEP).metrics
    assert metrics.train_rows.tolist() == [CUTOFFS[0] - VAL] * N_WINDOWS == [joint_fits[0][0]] * 4
    assert metrics.val_rows.tolist() == [VAL] * N_WINDOWS
    del model.fit_metrics_["train_rows"], model.fit_metrics_["val_rows"]  # a model saved before
    metrics = model.backtest(frame, n_windows=N_WINDOWS, step=STEP).metrics
    assert metrics.train_rows.isna().all() and metrics.val_rows.isna().all()


def test_panel_folds_report_the_rows_their_model_trained_on(panel_fits):
    lengths = (120, 90, 60)
    panel = panel_frame(lengths=lengths).drop(columns=["store"])
    est = Forecaster(
        horizon=6, lookback=24, mode="independent", future_covariates=["promo"], val_size=12,
        **TINY_IT,
    )  # fmt: skip
    metrics = est.cross_validate(panel, n_windows=3, step=6, refit=False).metrics
    before = [n - 6 - 2 * 6 for n in lengths]  # each series' rows before its fold 0 cutoff
    assert panel_fits == [(sum(before) - 3 * 12, 3 * 12)]
    assert metrics.train_rows.tolist() == [sum(before) - 3 * 12] * 3
    assert metrics.val_rows.tolist() == [3 * 12] * 3
