"""S2IP-LLM's decomposition: the torch version against independent references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsfm.models.s2ip_llm.decomposition import (
    decompose,
    moving_average_decomposition,
    stl_decomposition,
)


def reference(row: np.ndarray, trend_length: int, seasonal_length: int):
    """The official algorithm written out with loops in numpy (float64)."""
    length, left = len(row), trend_length // 2
    trend = np.full(length, np.nan)
    for t in range(length):
        start = t - left
        if start >= 0 and start + trend_length <= length:
            trend[t] = row[start : start + trend_length].mean()
    valid = np.flatnonzero(~np.isnan(trend))
    trend[: valid[0]] = trend[valid[0]]  # backward fill
    trend[valid[-1] + 1 :] = trend[valid[-1]]  # then forward fill
    detrended = row - trend
    seasonal = np.empty(length)
    for phase in range(seasonal_length):
        seasonal[phase::seasonal_length] = detrended[phase::seasonal_length].mean()
    return trend, seasonal, row - trend - seasonal


def official_pandas(row: np.ndarray, trend_length: int, seasonal_length: int):
    """The official ``decompose`` (pandas), with ``fillna(method=...)`` spelt as bfill/ffill."""
    df = pd.DataFrame(row)
    trend = df.rolling(window=trend_length, center=True).mean().bfill().ffill()
    detrended = df - trend
    seasonal = detrended.groupby(detrended.index % seasonal_length).transform("mean")
    seasonal = seasonal.bfill().ffill()
    return trend[0].to_numpy(), seasonal[0].to_numpy(), (df - trend - seasonal)[0].to_numpy()


SETTINGS = [(512, 96, 96), (512, 192, 48), (512, 25, 24), (100, 24, 7), (60, 1, 1), (37, 4, 12)]


@pytest.mark.parametrize(("length", "trend_length", "seasonal_length"), SETTINGS)
def test_torch_decomposition_matches_the_numpy_reference(length, trend_length, seasonal_length):
    rng = np.random.default_rng(length + trend_length)
    t = np.arange(length)
    rows = np.sin(2 * np.pi * t / 24) + 0.01 * t + rng.standard_normal((5, length))
    parts = moving_average_decomposition(
        torch.tensor(rows, dtype=torch.float32), trend_length, seasonal_length
    )
    for i, row in enumerate(rows):
        for ours, expected in zip(
            parts, reference(row, trend_length, seasonal_length), strict=True
        ):
            np.testing.assert_allclose(ours[i].numpy(), expected, rtol=1e-4, atol=2e-5)
    trend, seasonal, residual = parts
    torch.testing.assert_close(trend + seasonal + residual, torch.tensor(rows, dtype=torch.float32))


@pytest.mark.parametrize(("length", "trend_length", "seasonal_length"), SETTINGS[:4])
def test_the_numpy_reference_is_the_official_pandas_code(length, trend_length, seasonal_length):
    row = np.random.default_rng(0).standard_normal(length).cumsum()
    for ours, official in zip(
        reference(row, trend_length, seasonal_length),
        official_pandas(row, trend_length, seasonal_length),
        strict=True,
    ):
        np.testing.assert_allclose(ours, official, rtol=1e-10, atol=1e-10)


def test_edges_are_flat_and_unit_lengths_switch_the_decomposition_off():
    x = torch.randn(3, 4, 64)
    trend, _, _ = moving_average_decomposition(x, 10, 8)
    assert trend.shape == x.shape  # any leading dimensions
    assert torch.all(trend[..., :5] == trend[..., 5:6]) and torch.all(
        trend[..., -4:] == trend[..., -5:-4]
    )
    trend, seasonal, residual = moving_average_decomposition(x, 1, 1)
    torch.testing.assert_close(trend, x)
    assert seasonal.abs().max() < 1e-6 and residual.abs().max() < 1e-6


def test_decomposition_stays_in_float32_under_autocast():
    x = torch.randn(4, 96)
    expected = moving_average_decomposition(x, 24, 12)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = moving_average_decomposition(x, 24, 12)
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b)


def test_stl_alternative_sums_to_the_input_and_matches_statsmodels():
    statsmodels = pytest.importorskip("statsmodels.tsa.seasonal")
    t = torch.arange(96, dtype=torch.float32)
    x = torch.stack([torch.sin(2 * torch.pi * t / 12) + 0.02 * t, torch.cos(t / 3)])
    trend, seasonal, residual = decompose(x, "stl", trend_length=0, seasonal_length=12)
    torch.testing.assert_close(trend + seasonal + residual, x, rtol=1e-5, atol=1e-5)
    fit = statsmodels.STL(x[0].double().numpy(), period=12).fit()
    np.testing.assert_allclose(trend[0].numpy(), fit.trend, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="two periods"):
        stl_decomposition(x[:, :20], 12)


def test_bad_lengths_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="trend_length"):
        moving_average_decomposition(torch.randn(2, 30), 31, 4)
    with pytest.raises(ValueError, match=">= 1"):
        moving_average_decomposition(torch.randn(2, 30), 4, 0)
    with pytest.raises(ValueError, match="unknown decomposition"):
        decompose(torch.randn(2, 30), "fourier", 4, 4)
