"""Values the models cannot compute with are refused up front, naming the column, the time and
the value: float32 holds up to 3.4e38, but the models square their inputs (a look-back's
variance), so a scaled value beyond 1.8e19 turned the forecast into NaN, which was blamed on
the weights (Forecaster) or ended the command line's test in a DivergedError with metrics.json
giving false reasons ("every observed actual is 0"). Infinite values are told to be replaced,
not masked (``missing='mask'`` refuses them too)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
from tsfm.data import TimeSeriesDataModule
from tsfm.errors import InputError
from tsfm.estimator.model_outputs import finite
from tsfm.training.series_logging import NON_FINITE, SeriesScores


@pytest.fixture(scope="module")
def fitted():
    frame = synthetic_frame(300, n_vars=2)
    return frame, tiny(verbose=0, future_covariates=["v0"]).fit(frame.iloc[:-8])


def test_a_huge_value_in_a_look_back_is_refused_naming_it(fitted):
    frame, model = fitted
    bad = frame.iloc[:-8].copy()
    bad.loc[bad.index[-3], "OT"] = 1e25  # float32 holds it; its square does not
    future = frame.iloc[-8:][["date", "v0"]]
    with pytest.raises(InputError, match=r"column 'OT' holds 1e\+25 at 2020-01-13 01:00:00: "):
        model.predict(bad, future_df=future)
    huge = future.assign(v0=np.where(np.arange(8) == 3, 1e30, future.v0))
    with pytest.raises(
        InputError, match=r"column 'v0' holds 1e\+30 at 2020-01-13 07:00:00: .* 1.8e\+19"
    ):
        model.predict(frame.iloc[:-8], future_df=huge)
    edge = frame.iloc[:-8].copy()
    edge.loc[edge.index[-3], "OT"] = 1e19 * model.scaler_.std[-1]  # within the limit
    assert np.isfinite(model.predict(edge, future_df=future)["OT"]).all()


def test_the_command_lines_data_module_refuses_it_before_training(tmp_path):
    frame = synthetic_frame(400)
    frame.loc[380, "OT"] = 1e25  # in the test split
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    data = TimeSeriesDataModule({"name": "custom", "path": str(path), "seq_len": 24, "pred_len": 8})
    with pytest.raises(InputError, match=r"column 'OT' holds 1e\+25 at row 380 \(2020-01-16 20:"):
        data.setup()


def test_a_panel_of_independent_series_refuses_it_too():
    long = to_long(synthetic_frame(200)[["date", "v0", "v1"]])
    late = long.copy()
    late.loc[(late.unique_id == "v1").to_numpy().nonzero()[0][-2], "y"] = 1e25
    refused = r"column 'y' holds 1e\+25 for series 'v1' at 2020-01-09 06:00:00: "
    with pytest.raises(InputError, match=refused):  # a validation row: the scaler's are before
        tiny(verbose=0, mode="independent", val_size=0.2).fit(late)
    model = tiny(verbose=0, mode="independent").fit(long)
    with pytest.raises(InputError, match=refused):
        model.predict(late)


def test_a_non_finite_forecast_blames_the_weights_only_when_they_are_not_finite():
    layer = torch.nn.Linear(2, 2)
    forecast = np.array([1.0, np.nan])
    with pytest.raises(RuntimeError, match="the inputs overflowed float32") as said:
        finite(forecast, "the forecast", layer)
    assert "weights" not in str(said.value)
    with torch.no_grad():
        layer.weight[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="the model's weights are not finite numbers; refit"):
        finite(forecast, "the forecast", layer)


def test_metrics_of_non_finite_forecasts_are_not_blamed_on_the_data():
    rng = np.random.default_rng(0)
    scores = SeriesScores(2, season_length=4)
    x = torch.tensor(rng.standard_normal((3, 8, 2)))
    y = torch.tensor(rng.standard_normal((3, 4, 2)))
    prediction = torch.tensor(rng.standard_normal((3, 4, 2)))
    prediction[..., 1] = float("nan")  # series b's forecasts
    scores.update(prediction, prediction, {"x": x, "y": y}, y, x)
    values = scores.compute(["a", "b"])
    assert {"a/mase", "a/mape", "b/snaive_mae_original"} <= set(values)
    for key in ("b/mase", "b/mape", "b/mae_original", "mase", "mape", "smape", "skill_mae"):
        assert scores.notes[key] == NON_FINITE, key
    assert not any("its scale is 0" in note for note in scores.warnings.values())


@pytest.mark.parametrize("missing", ["refuse", "mask"])
def test_an_infinite_value_is_not_told_to_be_masked(missing):
    frame = synthetic_frame(200)
    frame.loc[150, "v1"] = np.nan
    frame.loc[160, "OT"] = -np.inf
    with pytest.raises(InputError, match=r"column 'OT' has an infinite value at row 160") as said:
        tiny(verbose=0, missing=missing).fit(frame)
    assert "mask" not in str(said.value) and "replace them with finite values" in str(said.value)
