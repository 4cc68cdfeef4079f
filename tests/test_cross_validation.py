"""Rolling-origin cross-validation never lets a fold see rows at or after its cutoff."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, tiny
from tsfm.data.scaler import StandardScaler

N_ROWS, N_WINDOWS, STEP = 160, 3, 10
CUTOFFS = [N_ROWS - HORIZON - (N_WINDOWS - 1 - k) * STEP for k in range(N_WINDOWS)]  # 132,142,152


@pytest.fixture
def scaler_fits(monkeypatch) -> list[np.ndarray]:
    """Every array a StandardScaler is fitted on, in order."""
    seen: list[np.ndarray] = []
    fit = StandardScaler.fit

    def spy(self, values, *args, **kwargs):
        seen.append(np.array(values, copy=True))
        return fit(self, values, *args, **kwargs)

    monkeypatch.setattr(StandardScaler, "fit", spy)
    return seen


def test_each_fold_refits_its_scaler_on_rows_before_its_cutoff(scaler_fits):
    frame = synthetic_frame(N_ROWS, 3)
    values = frame[["v0", "v1", "OT"]].to_numpy()
    forecasts, metrics = tiny().cross_validate(frame, n_windows=N_WINDOWS, step=STEP)
    assert len(scaler_fits) == N_WINDOWS
    for cutoff, fitted_on in zip(CUTOFFS, scaler_fits, strict=True):
        np.testing.assert_array_equal(fitted_on, values[:cutoff])
    assert metrics.fold.tolist() == [0, 1, 2] and metrics.train_rows.tolist() == CUTOFFS
    assert (metrics.cutoff == frame.date.iloc[[c - 1 for c in CUTOFFS]].to_numpy()).all()
    assert len(forecasts) == N_WINDOWS * 3 * HORIZON
    columns = ["unique_id", "date", "cutoff", "step", "y", "forecast", "snaive"]
    assert list(forecasts.columns) == columns
    assert (forecasts.date > forecasts.cutoff).all()
    for cutoff, fold in zip(CUTOFFS, forecasts.groupby("cutoff", sort=True), strict=True):
        assert fold[1].date.min() == frame.date.iloc[cutoff]
    last = forecasts[forecasts.cutoff == forecasts.cutoff.max()]
    actual = last.pivot(index="date", columns="unique_id", values="y")[["v0", "v1", "OT"]]
    np.testing.assert_allclose(actual.to_numpy(), values[-HORIZON:])
    mse = ((last.forecast - last.y) ** 2).mean()
    assert metrics.mse_original.iloc[-1] == pytest.approx(mse, rel=1e-6)


def test_changing_the_future_does_not_change_earlier_folds():
    frame = synthetic_frame(N_ROWS, 3)
    changed = frame.copy()
    changed.loc[CUTOFFS[1] :, ["v0", "v1", "OT"]] *= 100.0
    first, _ = tiny().cross_validate(frame, n_windows=N_WINDOWS, step=STEP)
    second, _ = tiny().cross_validate(changed, n_windows=N_WINDOWS, step=STEP)
    cutoffs = sorted(first.cutoff.unique())
    for k, cutoff in enumerate(cutoffs):
        a = first[first.cutoff == cutoff].forecast.to_numpy()
        b = second[second.cutoff == cutoff].forecast.to_numpy()
        if k < 2:  # folds 0 and 1 were trained and forecast from rows before CUTOFFS[1]
            np.testing.assert_array_equal(a, b)
        else:
            assert not np.allclose(a, b)


def test_refit_false_and_every_second_fold(scaler_fits):
    frame = pl.from_pandas(synthetic_frame(N_ROWS, 2))
    forecasts, metrics = tiny().cross_validate(frame, n_windows=N_WINDOWS, step=STEP, refit=False)
    assert isinstance(forecasts, pl.DataFrame) and isinstance(metrics, pl.DataFrame)
    assert len(scaler_fits) == 1 and metrics["refitted"].to_list() == [True, False, False]
    assert len(scaler_fits[0]) == CUTOFFS[0]
    tiny().cross_validate(frame, n_windows=N_WINDOWS, step=STEP, refit=2)
    assert [len(v) for v in scaler_fits[1:]] == [CUTOFFS[0], CUTOFFS[2]]
    with pytest.raises(ValueError, match="20 fold.* need .* rows: .* before the first cutoff"):
        tiny().cross_validate(frame, n_windows=20, step=STEP)
    with pytest.raises(ValueError, match="refit must be"):
        tiny().cross_validate(frame, refit=0)


def test_each_folds_epoch_lines_name_the_fold(monkeypatch, capfd):
    monkeypatch.setattr("tsfm.training.progress.watched", lambda stream=None: True)
    frame = synthetic_frame(N_ROWS, 3)
    tiny(max_epochs=2, val_size=0.2).cross_validate(frame, n_windows=2, step=STEP)
    lines = [line for line in capfd.readouterr().err.splitlines() if "epoch " in line]
    starts = [line.split("  ")[:2] for line in lines]
    assert starts == [
        ["fold 1/2", "epoch 1/2"], ["fold 1/2", "epoch 2/2"],
        ["fold 2/2", "epoch 1/2"], ["fold 2/2", "epoch 2/2"],
    ]  # fmt: skip
    tiny(max_epochs=1, val_size=0.2).fit(frame)  # a fit of its own: no fold
    assert [line for line in capfd.readouterr().err.splitlines() if "fold" in line] == []
