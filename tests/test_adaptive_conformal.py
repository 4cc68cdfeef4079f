"""Adaptive conformal inference (tsfm.training.adaptive_conformal): the algorithm, and its
wiring into the command line's test pass and the Forecaster's evaluate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import Tensor

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test
from tsfm.training.adaptive_conformal import aci_radii, adaptive_quantiles
from tsfm.training.conformal import ConformalScores

STEPS, SERIES = 6, 2


def _shifted(windows: int, seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """Calibration errors twice as large as the forecast windows' (a shift split conformal
    cannot see), zero point forecasts and standard-normal targets."""
    g = torch.Generator().manual_seed(seed)
    calibration = 2.0 * torch.randn(300, STEPS, SERIES, generator=g).abs()
    target = torch.randn(windows, STEPS, SERIES, generator=g)
    return calibration, torch.zeros_like(target), target


def _coverage(quantiles, target) -> Tensor:
    """Coverage per step and series of the interval between the first and last quantile."""
    inside = (target >= quantiles[..., 0]) & (target <= quantiles[..., -1])
    return inside.double().mean(0)


def test_rate_zero_is_split_conformal_exactly():
    calibration, point, target = _shifted(50)
    for scores in (calibration, calibration[:10]):  # per series, and pooled (10 < 19 windows)
        split = ConformalScores(scores)
        adaptive = ConformalScores(scores, adaptive_rate=0.0)
        taus = [0.05, 0.1, 0.5, 0.9, 0.95]
        expected = split.quantiles(point + 0.3, taus)
        found = adaptive_quantiles(adaptive, point + 0.3, target, taus, torch.arange(50))
        torch.testing.assert_close(found, expected.double())


def test_missing_calibration_targets_count_as_in_split_conformal():
    calibration, point, target = _shifted(50)
    calibration[torch.rand(calibration.shape, generator=torch.Generator().manual_seed(1)) < 0.2] = (
        float("nan")
    )  # a fifth of the calibration targets missing: each interval counts its own scores
    for scores in (calibration, calibration[:10]):  # per series, and pooled
        taus = [0.1, 0.5, 0.9]
        expected = ConformalScores(scores).quantiles(point, taus)
        found = adaptive_quantiles(ConformalScores(scores), point, target, taus, torch.arange(50))
        torch.testing.assert_close(found, expected.double())
        full = ConformalScores(torch.nan_to_num(scores)).quantiles(point, taus)  # NaN as 0
        assert not torch.equal(expected, full)


def test_adaptive_coverage_returns_to_nominal_within_the_aci_bound():
    """Gibbs and Candès's bound, with delayed feedback: the level moves by ``rate * sum(alpha
    - miss)`` and stays in [0, 1], so over the ``W - S`` windows whose outcomes were all fed
    back coverage is within ``1 / (rate (W - S))`` of nominal; the last ``S`` windows add at
    most ``S / W``."""
    windows, rate = 2000, 0.02
    calibration, point, target = _shifted(windows)
    tolerance = 1.0 / (rate * (windows - STEPS)) + STEPS / windows
    origins = torch.arange(windows)
    split = adaptive_quantiles(ConformalScores(calibration), point, target, [0.1, 0.9], origins)
    assert (_coverage(split, target) - 0.8).abs().min() > 0.15  # split conformal over-covers
    scores = ConformalScores(calibration, adaptive_rate=rate)
    found = adaptive_quantiles(scores, point, target, [0.1, 0.9], origins)
    assert ((_coverage(found, target) - 0.8).abs() <= tolerance).all()
    assert (found[..., 1] - found[..., 0]).mean() < (split[..., 1] - split[..., 0]).mean()


def test_a_window_sees_only_outcomes_observed_before_its_origin():
    calibration, point, target = _shifted(40, seed=1)
    origins = 3 * torch.arange(40)  # windows three rows apart
    sorted_scores = calibration.sort(0).values
    radii = aci_radii(sorted_scores, target.abs(), origins, [80.0], rate=0.1)
    w = 20
    unseen = target.clone()
    for k in range(40):  # every target at or after window w's first target row
        for h in range(STEPS):
            if origins[k] + h >= origins[w]:
                unseen[k, h] = 100.0
    changed = aci_radii(sorted_scores, unseen.abs(), origins, [80.0], rate=0.1)
    torch.testing.assert_close(changed[: w + 1], radii[: w + 1])
    seen = target.clone()
    seen[w - 2, 0] = 100.0  # observed (row origins[w] - 6) before window w: it counts
    assert not torch.equal(aci_radii(sorted_scores, seen.abs(), origins, [80.0], 0.1), radii)


def test_intervals_stay_nested_while_each_level_adapts_on_its_own():
    """Every target between the split 80 % and 95 % radii: the 80 % level misses and widens,
    the 95 % one hits and narrows, until the 80 % radius passes the 95 % one; the reported
    95 % radius is then the 80 % one, and each level's recursion is its own."""
    calibration = torch.rand(300, STEPS, SERIES, generator=torch.Generator().manual_seed(0))
    split = ConformalScores(calibration)
    target = (0.5 * (split.radius(80) + split.radius(95))).expand(80, STEPS, SERIES)
    origins, table = torch.arange(80), calibration.sort(0).values
    alone = {v: aci_radii(table, target, origins, [v], 0.2)[:, 0] for v in (80.0, 95.0)}
    assert (alone[80.0] > alone[95.0]).any()  # the levels' own radii cross
    joint = aci_radii(table, target, origins, [95.0, 80.0], 0.2)  # any order of levels
    torch.testing.assert_close(joint[:, 1], alone[80.0])
    torch.testing.assert_close(joint[:, 0], torch.maximum(alone[80.0], alone[95.0]))
    taus = [0.025, 0.1, 0.5, 0.9, 0.975]
    scores = ConformalScores(calibration, adaptive_rate=0.2)
    found = adaptive_quantiles(scores, torch.zeros_like(target), target, taus, origins)
    assert (found.diff(dim=-1) >= 0).all()  # lo-95 <= lo-80 <= median <= hi-80 <= hi-95


def test_missing_targets_leave_the_level_where_it_is():
    calibration, point, target = _shifted(60)
    scores = ConformalScores(calibration, adaptive_rate=0.05)
    origins = torch.arange(60)
    none_seen = torch.zeros_like(target, dtype=torch.bool)
    found = adaptive_quantiles(scores, point, target, [0.1, 0.9], origins, observed=none_seen)
    split = ConformalScores(calibration).quantiles(point, [0.1, 0.9])
    torch.testing.assert_close(found, split.double())
    with_nan = target.clone()
    with_nan[:30] = float("nan")  # NaN targets are missing ones too
    late = adaptive_quantiles(scores, point, with_nan, [0.1, 0.9], origins)
    torch.testing.assert_close(late[:31], split[:31].double())


def test_channel_independent_windows_adapt_per_series_in_origin_order():
    calibration, point, target = _shifted(30)
    scores = ConformalScores(calibration, adaptive_rate=0.05)
    joint = adaptive_quantiles(scores, point, target, [0.1, 0.9], torch.arange(30))
    # the same windows as one-variate samples, variate-major and shuffled
    flat_point = point.permute(2, 0, 1).reshape(-1, STEPS, 1)
    flat_target = target.permute(2, 0, 1).reshape(-1, STEPS, 1)
    columns, origins = torch.arange(SERIES).repeat_interleave(30), torch.arange(30).repeat(SERIES)
    order = torch.randperm(len(columns), generator=torch.Generator().manual_seed(0))
    found = adaptive_quantiles(
        scores,
        flat_point[order],
        flat_target[order],
        [0.1, 0.9],
        origins[order],
        columns=columns[order],
    )
    back = torch.empty_like(found)
    back[order] = found
    torch.testing.assert_close(back.reshape(SERIES, 30, STEPS, 2).permute(1, 2, 0, 3), joint)


def test_bad_rates_are_refused_with_the_fix(tmp_path):
    with pytest.raises(ValueError, match=r"adaptive_rate must be a number in \[0, 1\]"):
        ConformalScores(torch.ones(20, 2, 1), adaptive_rate=1.5)
    with pytest.raises(ValueError, match="set conformal_windows"):
        tiny(conformal_adaptive_rate=0.01).fit(synthetic_frame(200, 2))
    with pytest.raises(ValueError, match=r"conformal.adaptive_rate must be a number"):
        fit_and_test(
            compose_config(
                *TINY_ITRANSFORMER,
                *TINY_RUN,
                "conformal.windows=20",
                "conformal.adaptive_rate=-0.1",
            ),
            tmp_path,
        )


def test_scores_keep_their_rate_through_a_state_dict():
    scores = ConformalScores(torch.rand(20, 3, 2), normalized=True, adaptive_rate=0.01)
    back = ConformalScores.from_state_dict(scores.state_dict())
    assert back.adaptive_rate == 0.01 and back.normalized
    old = {k: v for k, v in scores.state_dict().items() if k != "adaptive_rate"}
    assert ConformalScores.from_state_dict(old).adaptive_rate == 0.0  # saves before the rate


def _cli_run(tmp_path, eval_batch: int):
    cfg = compose_config(
        *TINY_ITRANSFORMER,
        *TINY_RUN,
        "callbacks=none",
        "trainer.limit_test_batches=1.0",
        f"data.eval_batch_size={eval_batch}",
        "conformal.windows=40",
        "conformal.step=3",
        "conformal.adaptive_rate=0.05",
        "mase_scale=history",  # a day of look-back is one season: MSIS from the history
    )
    return fit_and_test(cfg, tmp_path)


def test_the_cli_test_pass_scores_every_window_in_order_whatever_the_batch(tmp_path):
    small = _cli_run(tmp_path / "small", 7)
    assert small.metrics["conformal_adaptive_rate"] == 0.05
    # the same intervals computed by hand from the test windows' forecasts, in order
    module, test = small.module.eval(), small.datamodule.datasets["test"]
    with torch.no_grad():
        batch = test.__getitems__(list(range(len(test))))
        point = module(batch).prediction
    taus = module.interval_metrics["test"].taus
    origins = torch.arange(len(test)) * test.stride
    quantiles = adaptive_quantiles(module.conformal, point, batch["y"], taus, origins)
    lo, hi = taus.index(0.1), taus.index(0.9)
    inside = (batch["y"] >= quantiles[..., lo]) & (batch["y"] <= quantiles[..., hi])
    assert small.metrics["test/coverage_80"] == pytest.approx(float(inside.double().mean()))
    large = _cli_run(tmp_path / "large", 1000)
    for key in (
        "test/crps",
        "test/coverage_80",
        "test/width_95",
        "test/msis",
        "test/crps_original",
    ):
        assert np.isfinite(small.metrics[key]), key
        assert small.metrics[key] == pytest.approx(large.metrics[key], rel=1e-6), key


def test_m4_refuses_an_adaptive_rate(tmp_path):
    from tests.helpers.m4 import write_m4_files

    write_m4_files(tmp_path, "Hourly")
    cfg = compose_config(
        "experiment=itransformer_m4_hourly",
        *TINY_ITRANSFORMER[:4],
        *TINY_RUN,
        f"data.root={tmp_path}",
        "conformal.windows=1",
        "conformal.adaptive_rate=0.01",
    )
    with pytest.raises(ValueError, match="one window per series"):
        fit_and_test(cfg, tmp_path / "run")


def test_evaluate_adapts_the_forecasters_intervals(tmp_path):
    frame = synthetic_frame(320, 2)
    train, later = frame.iloc[:220], frame.iloc[220:]
    plain = tiny(conformal_windows=20, conformal_step=2, seed=3).fit(train, later.iloc[:50])
    adaptive = tiny(
        conformal_windows=20, conformal_step=2, conformal_adaptive_rate=0.2, seed=3
    ).fit(train, later.iloc[:50])
    assert adaptive.module_.conformal.adaptive_rate == 0.2
    # predict has no outcomes to adapt to: the split-conformal intervals
    assert adaptive.predict(level=[80]).equals(plain.predict(level=[80]))
    split, moved = plain.evaluate(later), adaptive.evaluate(later)
    assert split["mse"] == moved["mse"]
    assert split["coverage_80"] != moved["coverage_80"]
    assert split["width_80"] != moved["width_80"]
    restored = Forecaster.load(adaptive.save(tmp_path / "adaptive"))
    assert restored.module_.conformal.adaptive_rate == 0.2
    assert restored.evaluate(later) == pytest.approx(moved)


def test_predict_after_a_history_reads_the_level_aci_reached_along_it():
    frame = synthetic_frame(320, 2)
    est = tiny(conformal_windows=20, conformal_step=2, seed=3).fit(frame.iloc[:220], frame[220:270])
    calibrated = est.module_.conformal.scores

    def width(scores: Tensor, rate: float, df) -> float:
        est.module_.conformal = ConformalScores(scores, adaptive_rate=rate)
        bands = est.predict(df, level=[80])
        return float(
            (bands.filter(like="-hi-80").values - bands.filter(like="-lo-80").values).mean()
        )

    history = frame.iloc[150:]
    for factor, wider in ((10.0, False), (0.01, True)):  # scores far too wide, far too narrow
        split, adapted = (
            width(calibrated * factor, 0.0, history),
            width(calibrated * factor, 0.2, history),
        )
        assert (adapted > split) == wider, factor
    # a frame without a complete window has no outcome to adapt to: the split intervals
    short = frame.iloc[-est.lookback :]
    assert width(calibrated, 0.2, short) == pytest.approx(width(calibrated, 0.0, short))


def test_predict_nests_the_bounds_over_the_metrics_levels_whatever_it_is_asked():
    frame = synthetic_frame(320, 2)
    est = tiny(conformal_windows=20, conformal_step=2, seed=3).fit(frame.iloc[:220], frame[220:270])
    scores = est.module_.conformal.scores.clone()
    scores[:16], scores[16:] = 1e-3, 100.0  # the 20 % level misses, the 95 % one hits: they cross
    est.module_.conformal = ConformalScores(scores, adaptive_rate=0.1)
    for end in range(200, 321, 10):  # histories ending where the levels' own radii cross or not
        # 20 % is a level of the default quantile grid: nested with 95 % whether asked or not
        alone = est.predict(frame.iloc[150:end], level=[95])
        both = est.predict(frame.iloc[150:end], level=[20, 95])
        pd.testing.assert_frame_equal(alone, both[alone.columns], obj=str(end))
        assert (both.filter(like="-hi-95").values >= both.filter(like="-hi-20").values).all()
