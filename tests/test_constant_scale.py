"""A series constant in its training rows is scaled by min(|mean|, 1) (1 at 0), not a unit
std, so it comes back as its constant rather than with the models' noise in absolute units
(a constant 1e-8 was forecast as about 8e-4: MAPE in the millions of percent)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsfm.data.panel_scaling import series_statistics
from tsfm.data.scaler import StandardScaler

L, H = 96, 24


def test_a_constant_column_is_scaled_by_its_magnitude_below_one():
    rng = np.random.default_rng(3)
    varying = rng.standard_normal((100, 1)) * 3 + 7
    columns = [np.full((100, 1), c) for c in (1e-8, 0.3, 1e6, 0.0, -2e-4)]
    values = np.hstack([varying, *columns])
    scaler = StandardScaler().fit(values)
    assert scaler.std[0] == np.nanstd(values, axis=0)[0]  # bit-identical when varying
    assert scaler.std[1:] == pytest.approx([1e-8, 0.3, 1.0, 1.0, 2e-4], rel=1e-12)
    assert np.abs(scaler.transform(values)[:, 1:]).max() < 1e-14  # rounding of the mean
    # a scaler saved before (std 1 for a constant) loads and scales as it did
    old = StandardScaler.from_state_dict({"mean": [1e-8], "std": [1.0]})
    assert old.inverse_transform(np.array([[1e-3]]))[0, 0] == 1e-3 + 1e-8
    mean, std = series_statistics([np.full((50, 1), 1e-8), varying], [50, 100])
    assert (
        std[0, 0] == pytest.approx(1e-8, rel=1e-12)
        and std[1, 0] == np.nanstd(varying[:100], axis=0)[0]
    )


@pytest.mark.slow
def test_a_tiny_constant_series_is_forecast_as_itself():
    from tsfm import Forecaster

    n = 400
    frame = pd.DataFrame(
        {"ds": pd.date_range("2024-01-01", periods=n, freq="h"), "y": np.full(n, 1e-8)}
    )
    f = Forecaster("itransformer", horizon=H, lookback=L, d_model=16, d_ff=16, max_epochs=1)
    forecast = f.set_params(verbose=0, threads=1).fit(frame).predict()["y"].to_numpy()
    assert np.abs(forecast / 1e-8 - 1).max() < 0.01  # was off by ~8e-4 absolute: 8e4 times
