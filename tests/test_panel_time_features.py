"""Calendar features of a panel are computed once over its timestamps, not once per series,
with values identical to the per-series computation: mixed starts and lengths, missing
rows, daylight-saving zones, calendar steps (months, quarters, years), irregular rows; and
predict's forecasts of a panel, computed a chunk of series at a time, equal one pass's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsfm.data.timefeatures as timefeatures
from tsfm.data.config import DataConfig
from tsfm.data.frames import future_times, future_times_each
from tsfm.data.frames.table import Layout
from tsfm.data.panel import PanelDataModule
from tsfm.data.roles import ColumnRoles
from tsfm.data.timefeatures import series_time_features, time_features


def stamps(start: str, rows: int, freq: str) -> np.ndarray:
    return pd.date_range(start, periods=rows, freq=freq).values


def per_series(times: list[np.ndarray], freq: str, zone: str | None = None) -> np.ndarray:
    return np.concatenate([time_features(t, freq, zone) for t in times])


GAPPED = np.delete(stamps("2021-03-27", 80, "h"), [3, 4, 40])  # missing rows
CASES = {
    "hourly, mixed starts and lengths": (
        [stamps("2021-01-01", 50, "h"), stamps("2021-01-01 07:00", 1, "h"), GAPPED], "h", None
    ),
    "hourly, one grid with gaps and mixed starts": (
        [stamps("2021-03-26", 50, "h"), stamps("2021-03-27 07:00", 1, "h"), GAPPED], "h", None
    ),
    "the same across Berlin's spring-forward": (
        [stamps("2021-03-26", 50, "h"), stamps("2021-03-27 07:00", 1, "h"), GAPPED],
        "h",
        "Europe/Berlin",
    ),
    "15-minute rows, hourly features": (
        [stamps("2021-01-01", 300, "15min"), stamps("2021-01-02 00:45", 9, "15min")], "h", None
    ),
    "daylight saving (UTC instants, Berlin's clock)": (
        [stamps("2021-03-27", 72, "h"), stamps("2021-10-30 12:00", 40, "h"), GAPPED],
        "h",
        "Europe/Berlin",
    ),
    "wall-clock hours skipping the spring-forward hour": (
        [np.delete(stamps("2021-03-28", 6, "h"), 2), stamps("2021-03-27 22:00", 3, "h")],
        "h",
        None,
    ),
    "month starts": ([stamps("2019-11-01", 30, "MS"), stamps("2020-02-01", 7, "MS")], "MS", None),
    "month ends": ([stamps("2019-11-30", 30, "ME"), stamps("2021-01-31", 2, "ME")], "M", None),
    "quarters": ([stamps("2000-01-01", 12, "QS"), stamps("2001-07-01", 5, "QS")], "QS", None),
    "years (no features)": ([stamps("2000-01-01", 5, "YS")], "YS", None),
    "weeks": ([stamps("2020-01-05", 20, "W-SUN"), stamps("2020-03-01", 4, "W-SUN")], "W", None),
    "business days": ([stamps("2020-01-01", 40, "B"), stamps("2020-02-03", 3, "B")], "B", None),
    "irregular rows": (
        [np.sort(np.datetime64("2020-01-01") + np.random.default_rng(0).integers(0, 10**6, 50)
                 * np.timedelta64(1, "s")), stamps("2020-01-01", 3, "D")],
        "s",
        None,
    ),
    "series decades apart (no shared grid)": (
        [stamps("1990-01-01", 30, "h"), stamps("2020-06-01", 30, "h")], "h", None
    ),
    "one-row series only": ([stamps("2020-01-01", 1, "h"), stamps("2020-05-01", 1, "h")], "h", None),
    "microsecond and nanosecond timestamps": (
        [stamps("2020-01-01", 30, "h").astype("datetime64[us]"), stamps("2020-01-01", 9, "h")],
        "h",
        None,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_panel_features_equal_the_per_series_computation(name):
    times, freq, zone = CASES[name]
    expected = per_series(times, freq, zone)
    got = series_time_features(times, freq, zone)
    assert got.dtype == expected.dtype == np.float32
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)


def test_future_times_each_equal_one_call_per_series():
    lasts = [np.datetime64("2020-01-31"), np.datetime64("2020-02-29"), np.datetime64("2020-01-31")]
    for freq in ("MS", "ME", "D"):
        expected = np.stack([future_times(t, freq, 4) for t in lasts])
        assert np.array_equal(future_times_each(lasts, freq, 4), expected)
    integers = [np.int64(3), np.int64(10), np.int64(3)]
    assert np.array_equal(future_times_each(integers, 2, 3), [[5, 7, 9], [12, 14, 16], [5, 7, 9]])


def panel_module(times: list[np.ndarray], freq: str, zone: str | None) -> PanelDataModule:
    rng = np.random.default_rng(1)
    values = [rng.normal(size=(len(t), 1)) for t in times]
    layout = Layout("long", "pandas", "ds", "unique_id", "y", time_type={"tz": zone})
    config = DataConfig(mode="independent", seq_len=6, pred_len=2, freq=freq)
    n_train = [len(t) for t in times]
    names = [f"s{j}" for j in range(len(times))]
    return PanelDataModule(config, values, times, ColumnRoles(("y",)), n_train, False, freq,
                           names, layout=layout)  # fmt: skip


@pytest.mark.parametrize(
    "times, freq, zone",
    [
        ([stamps("2021-03-27", 30, "h"), stamps("2021-03-28 05:00", 9, "h"), GAPPED], "h", "Europe/Berlin"),
        ([stamps("2019-11-01", 20, "MS"), stamps("2020-02-01", 5, "MS")], "MS", None),
    ],
)  # fmt: skip
def test_panel_setup_computes_the_calendar_once(times, freq, zone, monkeypatch):
    calls = []
    original = timefeatures.time_features
    monkeypatch.setattr(timefeatures, "time_features", lambda *a: calls.append(a) or original(*a))
    module = panel_module(times, freq, zone)
    module.setup()
    assert len(calls) == 1  # once for the panel, not once per series
    padded = [module._padded_times(j) for j in range(len(times))]
    for t, p in zip(times, padded, strict=True):  # the steps each series would have had
        assert np.array_equal(
            p, np.concatenate([t[0] - (future_times(t[0], freq, 6) - t[0])[::-1], t])
        )
    expected = per_series(padded, freq, zone)  # padded steps before each start included
    assert np.array_equal(module.storage["marks"].numpy(), expected)


def hourly_panel() -> pd.DataFrame:
    """Three hourly series, Berlin time, different starts and lengths (one across DST)."""
    rows = []
    for k, (start, n) in enumerate(
        [("2021-03-25", 90), ("2021-03-26 05:00", 60), ("2021-03-27", 70)]
    ):
        t = np.arange(n)
        ds = pd.date_range(start, periods=n, freq="h", tz="Europe/Berlin")
        y = 10 + k + np.sin(2 * np.pi * t / 24) + 0.1 * np.random.default_rng(k).normal(size=n)
        rows.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return pd.concat(rows, ignore_index=True)


def test_panel_forecasts_equal_per_series_calendar_features(monkeypatch):
    import tsfm.estimator.panel_inputs as panel_inputs
    import tsfm.estimator.panel_predict as panel_predict
    from tests.test_covariates import TINY_IT
    from tsfm import Forecaster

    df = hourly_panel()
    est = Forecaster(horizon=6, lookback=12, mode="independent", **{**TINY_IT, "max_epochs": 1})
    est.fit(df)
    fast, fast_given = est.predict(), est.predict(df.iloc[5:])
    monkeypatch.setattr(panel_inputs, "series_time_features", lambda t, f, z: per_series(t, f, z))
    monkeypatch.setattr(
        panel_predict,
        "future_times_each",
        lambda lasts, f, h: np.stack([future_times(t, f, h) for t in lasts]),
    )
    pd.testing.assert_frame_equal(est.predict(), fast, check_exact=True)
    pd.testing.assert_frame_equal(est.predict(df.iloc[5:]), fast_given, check_exact=True)


def test_panel_predict_forecasts_a_chunk_of_series_at_a_time(monkeypatch):
    import tsfm.estimator.window_chunks as window_chunks
    from tests.test_covariates import TINY_IT
    from tsfm import Forecaster

    df = pd.concat([hourly_panel().assign(unique_id=lambda d, k=k: d.unique_id + f"-{k}")
                    for k in range(3)], ignore_index=True)  # 9 series  # fmt: skip
    est = Forecaster(horizon=6, lookback=12, mode="independent", loss="quantile",
                     quantiles=[0.1, 0.5, 0.9], **{**TINY_IT, "max_epochs": 1})  # fmt: skip
    est.fit(df)
    est.config_.data.eval_batch_size = 2
    one_pass = est.predict(level=[80])
    calls, forward = [], est.module_.forward
    monkeypatch.setattr(est.module_, "forward", lambda b: calls.append(len(b["x"])) or forward(b))
    monkeypatch.setattr(window_chunks, "CHUNK_VALUES", 1)  # one eval batch per chunk
    # the same forecasts to float rounding: in inference iTransformer's last layer multiplies
    # one row per series, and the kernel a product takes depends on its row count
    chunked = est.predict(level=[80])
    pd.testing.assert_frame_equal(chunked, one_pass, check_exact=False, rtol=1e-6, atol=1e-9)
    assert calls == [2, 2, 2, 2, 1]
