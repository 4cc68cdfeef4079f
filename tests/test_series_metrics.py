"""Per-series metrics, scale-free metrics and seasonal-naive baselines: the formulas, the
default season length, and what the CLI's metrics.json reports."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, untrained_test_metrics
from tsfm.config import compose_config
from tsfm.data.m4.metrics import mase, smape
from tsfm.data.seasons import default_season_length, resolve_season_length
from tsfm.pipeline import fit_and_test
from tsfm.report import metrics_table
from tsfm.training.artifacts import metrics_json
from tsfm.training.scoring import seasonal_naive, seasonal_naive_error, smape_terms
from tsfm.training.series_metrics import SeriesMetrics
from tsfm.training.undefined_metrics import defined


@pytest.mark.parametrize(
    ("freq", "lookback", "expected"),
    [("h", 96, 24), ("30min", 96, 48), ("15min", 336, 96), ("15min", 95, 4), ("D", 30, 7),
     ("W", 104, 52), ("W", 24, 1), ("MS", 36, 12), ("QS", 16, 4), ("YS", 10, 1), (None, 96, 1),
     # a look-back of exactly one season keeps it: the seasonal naive repeats the look-back
     ("QS", 4, 4), ("MS", 12, 12), ("h", 24, 24), ("15min", 96, 96), ("MS", 11, 1)],
)  # fmt: skip
def test_the_default_season_length_follows_the_frequency(freq, lookback, expected):
    assert default_season_length(freq, lookback) == expected
    assert resolve_season_length(None, freq, lookback) == expected


def test_a_season_length_that_does_not_fit_is_refused_with_the_fix():
    assert resolve_season_length(24, "h", 24) == 24  # one season of look-back: kept
    with pytest.raises(ValueError, match="at most the look-back"):
        resolve_season_length(25, "h", 24)
    with pytest.raises(ValueError, match="whole number"):
        resolve_season_length(2.5, "h", 24)


def _windows(seed: int = 0, size: int = 5, lookback: int = 12, horizon: int = 6, n: int = 2):
    g = np.random.default_rng(seed)
    return (
        g.normal(10, 3, (size, horizon, n)),
        g.normal(10, 3, (size, horizon, n)),
        g.normal(10, 3, (size, lookback, n)),
    )


def test_per_series_metrics_equal_the_hand_computation_and_m4s_formulas():
    forecast, actual, lookback = _windows()
    metric = SeriesMetrics(2, season_length=4)
    metric.update(*(torch.from_numpy(a) for a in (forecast, actual, lookback)))
    values = {k: v.numpy() for k, v in metric.per_series().items()}
    for j in range(2):
        f, y, x = forecast[..., j], actual[..., j], lookback[..., j]
        snaive = x[:, [8, 9, 10, 11, 8, 9]]  # one season (4) before each step
        assert values["mae"][j] == pytest.approx(np.abs(f - y).mean())
        assert values["mse"][j] == pytest.approx(((f - y) ** 2).mean())
        assert values["smape"][j] == pytest.approx(smape(f, y).mean())  # M4's own sMAPE
        assert values["mase"][j] == pytest.approx(mase(f, y, list(x), 4).mean())
        assert values["snaive_mae"][j] == pytest.approx(np.abs(snaive - y).mean())
        assert values["naive_mae"][j] == pytest.approx(np.abs(x[:, -1:] - y).mean())
        skill = 1 - np.abs(f - y).mean() / np.abs(snaive - y).mean()
        assert values["skill_mae"][j] == pytest.approx(skill)


def test_the_sums_do_not_depend_on_how_windows_are_batched():
    arrays = [torch.from_numpy(a) for a in _windows(seed=3, size=9)]
    whole, parts = SeriesMetrics(2, 3), SeriesMetrics(2, 3)
    whole.update(*arrays)
    for chunk in (slice(0, 1), slice(1, 5), slice(5, 9)):
        parts.update(*(a[chunk] for a in arrays))
    for key, value in whole.compute().items():
        torch.testing.assert_close(parts.compute()[key], value, rtol=1e-12, atol=0)
        assert value.dtype == torch.float64


@pytest.mark.parametrize("horizon", [8, 6])  # a whole number of seasons (broadcast) or not
def test_the_seasonal_naive_error_and_smape_shortcuts_equal_the_plain_formulas(horizon):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(5, 12, 3, generator=g).double(), torch.randn(5, horizon, 3).double()
    plain = (seasonal_naive(x, horizon, 4) - y).abs()
    assert torch.equal(seasonal_naive_error(x, y, 4), plain)
    f = y.clone()
    f[0, 0, 0], f[1, 1, 1], y[1, 1, 1] = float("nan"), 0.0, 0.0
    terms = smape_terms(f, y)
    assert terms[0, 0, 0].isnan() and terms[1, 1, 1] == 0.0  # NaN stays, 0 / 0 is 0
    assert torch.equal(smape_terms(f, y, (f - y).abs()).nan_to_num(), terms.nan_to_num())


def test_an_exact_seasonal_naive_forecast_has_zero_error_and_no_skill_or_mase():
    pattern = np.array([1.0, 5.0, 2.0, 8.0])  # quarterly, the 4th quarter the peak
    lookback = np.tile(pattern, 3)[None, :, None]  # 12 steps
    actual = np.tile(pattern, 2)[None, :, None]
    flat = np.full_like(actual, pattern.mean())  # a model that misses the peak
    metric = SeriesMetrics(1, season_length=4)
    metric.update(*(torch.from_numpy(a) for a in (flat, actual, lookback)))
    values = {k: float(v[0]) for k, v in metric.per_series().items()}
    assert values["snaive_mae"] == 0.0 and values["mae"] == pytest.approx(2.5)
    assert values["naive_mae"] == pytest.approx(np.abs(8.0 - actual).mean())
    kept, left_out = defined(values)
    assert set(left_out) == {"mase", "skill_mae", "skill_mse"}
    assert "exact" in left_out["skill_mae"] and "seasonal variation" in left_out["mase"]
    assert all(np.isfinite(v) for v in kept.values())


def test_a_baseline_from_padding_is_none_and_the_skill_pairs_windows_that_have_one():
    forecast, actual, lookback = _windows(size=3, n=1)  # look-back 12, season 4
    seen = np.ones_like(lookback, dtype=bool)
    seen[1, :9] = False  # padded up to step 9: its season-earlier value (step 8) is padding
    seen[2] = False  # nothing observed: no naive forecast either
    metric = SeriesMetrics(1, season_length=4)
    tensors = (torch.from_numpy(a) for a in (forecast, actual, lookback))
    metric.update(*tensors, lookback_observed=torch.from_numpy(seen))
    values = {k: float(v[0]) for k, v in metric.per_series().items()}
    snaive = np.abs(seasonal_naive(torch.from_numpy(lookback), 6, 4).numpy() - actual)
    naive = np.abs(lookback[:, -1:] - actual)
    error = np.abs(forecast - actual)
    assert values["snaive_mae"] == pytest.approx(snaive[0].mean())  # window 0's only
    assert values["naive_mae"] == pytest.approx(naive[:2].mean())
    assert values["mae"] == pytest.approx(error.mean())  # the model is scored on every window
    assert values["skill_mae"] == pytest.approx(1 - error[0].mean() / snaive[0].mean())
    metric.reset()
    metric.update(*(torch.from_numpy(a[2:]) for a in (forecast, actual, lookback)),
                  lookback_observed=torch.from_numpy(seen[2:]))  # fmt: skip
    _, left_out = defined({k: float(v[0]) for k, v in metric.per_series().items()})
    assert {"snaive_mae", "naive_mae", "skill_mae", "mase"} <= set(left_out)
    assert "padding is not a value" in left_out["snaive_mae"]
    assert "no pair of observed values" in left_out["mase"]


def _custom_cfg(tmp_path, *extra):
    path = tmp_path / "series.csv"
    synthetic_frame(400).to_csv(path, index=False)
    return compose_config(*TINY_ITRANSFORMER, *TINY_RUN, "data=custom", f"data.path={path}", *extra)


def test_metrics_json_has_scale_free_metrics_baselines_and_each_target(tmp_path):
    cfg = _custom_cfg(tmp_path, "data.seq_len=48")
    metrics = fit_and_test(cfg, tmp_path / "run").metrics
    assert metrics["season_length"] == 24  # hourly data, look-back 48
    for key in ("smape", "mase", "snaive_mae", "naive_mae", "skill_mae", "skill_mse"):
        assert np.isfinite(metrics[f"test/{key}"]), key
    assert metrics["test/skill_mae"] == pytest.approx(
        1 - metrics["test/mae"] / metrics["test/snaive_mae"]
    )
    for column in ("v0", "v1", "OT"):
        for key in ("mae_original", "mse_original", "smape", "mase", "skill_mae"):
            assert np.isfinite(metrics[f"test/{column}/{key}"]), (column, key)
    per_column = [metrics[f"test/{c}/mae_original"] for c in ("v0", "v1", "OT")]
    assert metrics["test/mae_original"] == pytest.approx(np.mean(per_column))  # equal counts
    assert '"status": "ok"' in metrics_json(metrics)
    table = metrics_table(metrics)
    assert "SMAPE" not in table  # not mistaken for an M4 run
    snaive_row = next(line for line in table.splitlines() if line.startswith("seasonal naive"))
    assert f"{metrics['test/snaive_mae']:.4f}" in snaive_row and "season 24" in snaive_row
    assert f"MAE {metrics['test/skill_mae']:+.1%}" in table  # the skill the console shows


def _test_stage(tmp_path, eval_batch: int) -> dict:
    cfg = _custom_cfg(
        tmp_path,
        f"data.eval_batch_size={eval_batch}",
        "trainer.limit_test_batches=1.0",
        "callbacks=none",
    )
    return untrained_test_metrics(cfg, tmp_path)


def test_the_modules_series_metrics_do_not_depend_on_the_eval_batch_size(tmp_path):
    small, large = _test_stage(tmp_path, 3), _test_stage(tmp_path, 1000)
    keys = [k for k in small if "mase" in k or "skill" in k or "smape" in k or "/OT/" in k]
    assert len(keys) > 10
    for key in keys:
        assert small[key] == pytest.approx(large[key], rel=1e-5), key


def test_the_console_leaves_mape_out_when_the_actuals_change_sign():
    from tsfm.report import baseline_lines

    metrics = {"test/snaive_mse": 0.5, "test/snaive_mae": 0.4, "test/skill_mae": 0.1}
    metrics.update({"test/smape": 38.1, "test/mape": 5.2e7, "test/mase": 1.14})
    assert "MAPE 52000000.000" in baseline_lines(metrics)[-1]
    metrics["test/warnings/sign_changes"] = "'OT' changes sign"
    last = baseline_lines(metrics)[-1]
    assert "MAPE 5" not in last and "sMAPE 38.100" in last and "MASE 1.140" in last
    assert "actuals change sign" in last


def test_the_console_says_why_mase_is_missing_and_what_gives_it():
    from tsfm.report import baseline_lines

    metrics = {"test/snaive_mse": 0.5, "test/snaive_mae": 0.4, "test/smape": 44.9}
    metrics.update({"seq_len": 96, "season_length": 96, "mase_scale": "lookback"})
    assert not any("MASE" in line for line in baseline_lines(metrics))
    metrics["test/undefined/mase"] = "every window's scale ..."
    last = baseline_lines(metrics)[-1]
    assert last.startswith("MASE: undefined (a look-back of 96 rows holds no pair")
    assert "season_length=96" in last and "mase_scale=history" in last
    metrics["seq_len"] = 192  # then the look-back is not the reason: metrics.json says why
    assert baseline_lines(metrics)[-1] == (
        "MASE: undefined (metrics.json's test/undefined/mase says why)"
    )
