"""A column constant in its observed training rows is found exactly (``constant_columns``),
whatever the array's memory layout: summed down a row-major array (the data module's table
after missing="mask" inserted absent steps), its mean carries rounding of 1e-15 of it and
more, which the float64-rounding check took for a spread, so the column was scaled by that
rounding (its values became -1 or 1, or a tiny constant was refused as varying below
float32). Varying columns keep numpy's statistics bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsfm.config import compose_config
from tsfm.data.panel_scaling import series_statistics
from tsfm.data.robust_scaling import RobustScaler
from tsfm.data.scaler import StandardScaler, constant_columns

CONSTANTS = (0.3, 3.7, -2e-4, 1234.5, 3e-25)
SCALES = (0.3, 1.0, 2e-4, 1.0, 3e-25)  # min(|c|, 1)


def table(order: str, rows: int = 1000) -> np.ndarray:
    rng = np.random.default_rng(0)
    varying = rng.normal(size=rows)
    varying[::7] = np.nan  # another column's masked values
    values = np.column_stack([varying, *[np.full(rows, c) for c in CONSTANTS]])
    values[[3, 500], 2] = np.nan  # and a constant column's own
    return np.asarray(values, order=order)


@pytest.mark.parametrize("order", ["C", "F"])
def test_a_constant_column_gets_its_value_and_magnitude_in_any_layout(order):
    values = table(order)
    names = ["x", *(f"c{k}" for k in range(len(CONSTANTS)))]
    scaler = StandardScaler().fit(values, names)  # 3e-25 was refused as varying below float32
    assert scaler.mean[1:].tolist() == list(CONSTANTS)  # exactly: the value itself
    assert scaler.std[1:].tolist() == list(SCALES)  # was the mean's rounding (4.6e-15, ...)
    scaled = scaler.transform(values)[:, 1:]
    assert np.nanmax(np.abs(scaled)) == 0.0  # was -1 or 1, as the rounding fell
    # the varying column: numpy's statistics of the table, as before
    assert scaler.mean[0] == np.nanmean(values, axis=0)[0]
    assert scaler.std[0] == np.nanstd(values, axis=0)[0]
    robust = RobustScaler().fit(values, names)  # the same check, shared
    assert robust.mean[1:].tolist() == list(CONSTANTS)
    assert robust.std[1:].tolist() == list(SCALES)


def test_constant_columns_compares_the_observed_values_exactly():
    values = np.array([[1.0, 0.3, np.nan, 2.0], [1.0, 0.3, np.nan, np.nextafter(2.0, 3.0)]])
    values[0, 1] = np.nan
    assert constant_columns(values).tolist() == [True, True, False, False]
    assert constant_columns(np.empty((0, 2))).tolist() == [False, False]


def test_a_panel_series_constant_over_many_rows_is_found():
    rows = 100_000  # the panel's 1e-12 tolerance is passed by the rounding of this many rows
    values = table("C", rows)
    mean, std = series_statistics([values, values[:50]], [rows, 50])
    assert mean[0, 1:].tolist() == list(CONSTANTS) and std[0, 1:].tolist() == list(SCALES)
    assert std[1, 1:].tolist() == list(SCALES)
    assert mean[0, 0] == np.nanmean(values, axis=0)[0]
    assert std[0, 0] == np.nanstd(values, axis=0)[0]


def test_the_data_module_scales_a_constant_column_to_zero(tmp_path):
    """missing="mask" with absent steps: the table is rebuilt row-major."""
    from tsfm.pipeline import build_datamodule

    rng = np.random.default_rng(0)
    n = 1200
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="h"),
            "y": np.sin(np.arange(n) / 4) + 0.1 * rng.normal(size=n),
            "c": 0.3,
        }
    ).drop(index=rng.choice(np.arange(100, 1100), 40, replace=False))
    frame.loc[frame.index[::13], "y"] = np.nan
    frame.to_csv(tmp_path / "flat.csv", index=False)
    cfg = compose_config(
        "data=custom",
        f"data.path={tmp_path / 'flat.csv'}",
        "data.target=y",
        "data.features=M",
        "data.missing=mask",
        "data.freq=h",
    )
    with pytest.warns(UserWarning, match="absent step"):
        dm = build_datamodule(cfg)
        dm.setup("fit")
    j = dm.table.columns.index("c")
    scaler = dm.input_scaler
    assert scaler.mean[j] == 0.3 and scaler.std[j] == 0.3  # std was 4.3e-15
    assert np.nanmax(np.abs(scaler.transform(dm.table.values)[:, j])) == 0.0  # was -1


def test_make_runs_etth1_statistics_are_numpys_bit_for_bit():
    """NaN-free data without a constant column is scaled exactly as before the check."""
    from tsfm.pipeline import build_datamodule

    dm = build_datamodule(compose_config("data=etth1"))
    dm.setup("fit")
    rows = dm.table.values[slice(*dm.borders.scaler)]
    assert not np.isnan(rows).any() and not constant_columns(rows).any()
    scaler = dm.input_scaler
    assert np.array_equal(scaler.mean, np.mean(rows, axis=0))
    assert np.array_equal(scaler.std, np.std(rows, axis=0))
    for order in ("C", "F"):  # either layout: numpy's own statistics of that layout
        again = StandardScaler().fit(np.asarray(rows, order=order))
        same = np.asarray(rows, order=order)
        assert np.array_equal(again.mean, np.mean(same, axis=0))
        assert np.array_equal(again.std, np.std(same, axis=0))
