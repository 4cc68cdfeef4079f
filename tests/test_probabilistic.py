"""Probabilistic heads, scores and conformal intervals, checked against hand computations,
``torch.distributions`` and sampling theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, StudentT

from tsfm.data.m4.metrics import msis, seasonal_naive_intervals
from tsfm.training import distributions as dist
from tsfm.training.conformal import ConformalScores
from tsfm.training.heads import NormalHead, QuantileHead, StudentTHead, make_head
from tsfm.training.interval_metrics import IntervalMetrics
from tsfm.training.scoring import DEFAULT_QUANTILES, default_levels, lookback_spread, run_levels

GRID = (0.1, 0.5, 0.9)


def test_pinball_loss_matches_a_hand_computation():
    head = QuantileHead(GRID)
    # one forecast step, two variates; quantiles (already sorted) at 0.1, 0.5, 0.9
    params = torch.tensor([[[[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]]])
    target = torch.tensor([[[2.5, -1.0]]])
    # variate 0, y = 2.5: 0.1*1.5, 0.5*0.5, (1-0.9)*0.5; variate 1, y = -1: 0.9*1, 0.5*1, 0.1*2
    by_hand = [0.15, 0.25, 0.05, 0.9, 0.5, 0.2]
    assert head.loss(params, target).item() == pytest.approx(sum(by_hand) / 6)
    mask = torch.tensor([[[1.0, 0.0]]])  # masked elements count as zero, the mean keeps them
    assert head.loss(params, target, mask).item() == pytest.approx(sum(by_hand[:3]) / 6)


@pytest.mark.parametrize("head", [QuantileHead(DEFAULT_QUANTILES), NormalHead(), StudentTHead()])
def test_quantiles_never_cross_on_random_inputs(head):
    g = torch.Generator().manual_seed(0)
    steps, n_vars = 5, 3
    for scale in (1e-3, 1.0, 1e3):
        raw = torch.randn(8, steps * head.size, n_vars, generator=g) * scale
        x = torch.randn(8, 12, n_vars, generator=g) * scale
        quantiles = head.quantiles(head.params(raw, x), DEFAULT_QUANTILES)
        assert quantiles.shape == (8, steps, n_vars, len(DEFAULT_QUANTILES))
        assert (quantiles.diff(dim=-1) >= 0).all()
        median = quantiles[..., DEFAULT_QUANTILES.index(0.5)]
        assert torch.allclose(head.point(head.params(raw, x)), median, rtol=1e-5, atol=1e-6)


def test_distribution_nll_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    loc, target = torch.randn(200, generator=g), torch.randn(200, generator=g) * 3
    scale = torch.rand(200, generator=g) * 2 + 0.05
    df = torch.rand(200, generator=g) * 30 + 2.01
    normal = -Normal(loc, scale).log_prob(target)
    student = -StudentT(df, loc, scale).log_prob(target)
    assert torch.allclose(dist.normal_nll(loc, scale, target), normal, rtol=1e-5, atol=1e-6)
    assert torch.allclose(dist.student_t_nll(loc, scale, df, target), student, rtol=1e-5, atol=1e-5)
    # the heads' loss is the mean NLL of their parameters
    raw, x = torch.randn(4, 2 * 6, 3, generator=g), torch.randn(4, 10, 3, generator=g)
    y = torch.randn(4, 6, 3, generator=g)
    params = NormalHead().params(raw, x)
    expected = -Normal(params[..., 0], params[..., 1]).log_prob(y).mean()
    assert NormalHead().loss(params, y).item() == pytest.approx(expected.item(), rel=1e-5)
    params = StudentTHead().params(torch.randn(4, 3 * 6, 3, generator=g), x)
    loc, scale, df = params.unbind(-1)
    expected = -StudentT(df, loc, scale).log_prob(y).mean()
    assert StudentTHead().loss(params, y).item() == pytest.approx(expected.item(), rel=1e-5)


def test_distribution_quantiles_match_closed_forms():
    taus = torch.tensor([0.025, 0.3, 0.5, 0.9])
    loc, scale = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 3.0])
    expected = Normal(loc[:, None], scale[:, None]).icdf(taus)
    assert torch.allclose(dist.normal_quantiles(loc, scale, taus), expected, atol=1e-5)
    # Student-t with 2 degrees of freedom: Q(p) = (2p - 1) / sqrt(2 p (1 - p))
    two = dist.student_t_quantiles(loc, scale, torch.tensor([2.0, 2.0]), taus)
    standard = (2 * taus - 1) / torch.sqrt(2 * taus * (1 - taus))
    assert torch.allclose(two, loc[:, None] + scale[:, None] * standard, atol=1e-5)


def _standardised_lookback(g: torch.Generator) -> torch.Tensor:
    base = torch.randn(3, 16, 2, generator=g)
    return (base - base.mean(1, keepdim=True)) / lookback_spread(base)  # spread 1, mean 0


def test_quantiles_follow_the_models_de_normalisation():
    """Outputs ``z * s + m`` with the look-back's own mean and spread give the quantiles of
    ``z`` shifted by ``m`` and scaled by ``s``."""
    g = torch.Generator().manual_seed(2)
    head, base = QuantileHead(GRID), _standardised_lookback(g)
    x = base * torch.tensor([0.3, 25.0]) + torch.tensor([5.0, -40.0])
    s, m = lookback_spread(x), x.mean(1, keepdim=True)
    z = torch.randn(3, 4 * head.size, 2, generator=g)
    expected = head.quantiles(head.params(z, base), GRID) * s.unsqueeze(-1) + m.unsqueeze(-1)
    assert torch.allclose(head.quantiles(head.params(z * s + m, x), GRID), expected, atol=1e-3)


@pytest.mark.parametrize("head", [NormalHead(), StudentTHead()])
def test_distribution_parameters_under_the_models_de_normalisation(head):
    """The location follows ``z * s + m``; the scale ignores the shift ``m`` and grows in
    proportion to a large spread; the degrees of freedom ignore both."""
    g = torch.Generator().manual_seed(2)
    base = _standardised_lookback(g)
    z = torch.randn(3, 4 * head.size, 2, generator=g)
    z[:, 4:8] = z[:, :4] + 2.0  # out_1 - out_0 = 2 s: softplus in its linear range for large s
    reference = head.params(z * 1000.0, base * 1000.0)
    for shift in (0.0, 7.0, -300.0):
        x = base * 1000.0 + shift
        params = head.params(z * 1000.0 + shift, x)
        assert torch.allclose(params[..., 0], reference[..., 0] + shift, atol=1e-2)
        assert torch.allclose(params[..., 1:], reference[..., 1:], rtol=1e-4)
    doubled = head.params(z * 2000.0, base * 2000.0)
    assert torch.allclose(doubled[..., 1], 2 * reference[..., 1], rtol=1e-3)
    if head.size == 3:
        assert torch.allclose(doubled[..., 2], reference[..., 2], rtol=1e-4)
    flat = head.params(torch.zeros(1, 4 * head.size, 2), torch.zeros(1, 16, 2))
    assert (flat[..., 1] > 0.5).all()  # a flat look-back does not make the scale vanish


def test_crps_of_a_point_forecast_equals_its_mae():
    g = torch.Generator().manual_seed(3)
    point, target = torch.randn(6, 4, 2, generator=g), torch.randn(6, 4, 2, generator=g)
    metric = IntervalMetrics(DEFAULT_QUANTILES, (80, 95))
    metric.update(point.unsqueeze(-1).expand(*point.shape, len(metric.taus)), target)
    assert metric.compute()["crps"].item() == pytest.approx((point - target).abs().mean().item())


def test_interval_metrics_by_hand_and_independent_of_batching():
    metric = IntervalMetrics(GRID, (80,))
    quantiles = torch.tensor([[[[0.0, 1.0, 2.0]], [[0.0, 1.0, 2.0]]]])  # [1, 2 steps, 1, 3]
    target = torch.tensor([[[1.5], [3.0]]])
    metric.update(quantiles, target, scale=torch.tensor([[2.0]]))
    result = metric.compute()
    assert result["coverage_80"].item() == 0.5 and result["width_80"].item() == 2.0
    assert "msis" not in result  # MSIS is the 95 % interval's score
    g = torch.Generator().manual_seed(4)
    values = torch.randn(50, 3, 2, 5, generator=g).sort(-1).values
    target, scale = torch.randn(50, 3, 2, generator=g), torch.rand(50, 2, generator=g) + 0.1
    whole, parts = IntervalMetrics(GRID, (80, 95)), IntervalMetrics(GRID, (80, 95))
    whole.update(values, target, scale)
    for chunk in torch.arange(50).split(7):
        parts.update(values[chunk], target[chunk], scale[chunk])
    for key, value in whole.compute().items():
        assert parts.compute()[key].item() == pytest.approx(value.item(), rel=1e-12), key


def test_msis_matches_the_m4_definition():
    lower, upper = np.array([[1.0, 1.0]]), np.array([[3.0, 2.0]])
    target = np.array([[0.0, 2.5]])
    history = [np.array([1.0, 2.0, 4.0, 3.0])]  # lag-1 scale: (1 + 2 + 1) / 3
    # width 2 + 40 * 1 (below), width 1 + 40 * 0.5 (above); mean 31.5
    assert msis(lower, upper, target, history, period=1)[0] == pytest.approx(31.5 / (4 / 3))


def test_seasonal_naive_intervals_repeat_the_season_with_in_sample_error_bands():
    season = np.array([1.0, 5.0, 3.0])
    periodic = np.tile(season, 10)
    forecast, lower, upper = seasonal_naive_intervals([periodic], horizon=5, period=3)
    assert np.allclose(forecast[0], [1, 5, 3, 1, 5]) and np.allclose(upper - lower, 0)
    noisy = periodic + np.r_[np.zeros(29), 2.0]  # one in-sample error of 2 at lead 1, lag 3
    _, lower, upper = seasonal_naive_intervals([noisy], horizon=3, period=3, level=50)
    assert np.allclose(upper - lower, 0)  # the median error is 0
    _, lower, upper = seasonal_naive_intervals([noisy], horizon=3, period=3, level=99)
    assert np.allclose((upper - lower)[0], 4.0)  # rank 27 of 27 errors: the largest, 2


def test_bad_losses_quantiles_and_levels_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="unknown loss 'quantlie'.*'quantile'"):
        make_head("quantlie")
    with pytest.raises(
        ValueError,
        match=r"in increasing order, got \[0.5, 0.1, 0.9\]: give quantiles=\[0.1, 0.5, 0.9\]",
    ):
        make_head("quantile", [0.5, 0.1, 0.9])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        make_head("quantile", [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="needs the median 0.5"):
        make_head("quantile", [0.1, 0.9], levels=[80])
    with pytest.raises(ValueError, match=r"levels has 95.*\[0.025, 0.975\]"):
        make_head("quantile", [0.1, 0.5, 0.9], levels=[80, 95])
    with pytest.raises(ValueError, match="80 for an 80 % interval, not 0.8"):
        make_head("mse", levels=[0.8])
    assert make_head("quantile", [0.1, 0.5, 0.9], levels=[80]).size == 3


def test_unset_levels_follow_what_the_quantiles_can_score():
    assert default_levels("mse", [0.5]) == (80.0, 95.0)
    assert default_levels("normal", [0.1, 0.5, 0.9]) == (80.0, 95.0)  # any level
    assert default_levels("quantile", DEFAULT_QUANTILES) == (80.0, 95.0)
    assert default_levels("quantile", [0.1, 0.5, 0.9]) == (80.0,)
    assert default_levels("quantile", [0.05, 0.1, 0.25, 0.5, 0.75, 0.9]) == (80.0,)
    assert default_levels("quantile", [0.25, 0.5, 0.75]) == (50.0,)
    assert default_levels("quantile", [0.05, 0.25, 0.5, 0.75, 0.95]) == (50.0, 90.0)
    assert default_levels("quantile", [0.5, 0.9]) == ()  # no central interval: none scored
    assert make_head("quantile", [0.1, 0.5, 0.9]).size == 3  # levels unset: 80 only
    assert run_levels("quantile", [0.1, 0.5, 0.9], [80]) == (80.0,)  # given: kept, checked
    with pytest.raises(ValueError, match="not 0.8"):
        run_levels("quantile", [0.1, 0.5, 0.9], [0.8])


def _coverage_tolerance(n_scores: int, level: float, cells: int, tests: int) -> tuple[float, float]:
    """Expected coverage of split conformal with ``n_scores`` per cell, and 4 standard
    deviations of the observed coverage: the conditional coverage of one cell is
    Beta(r, n + 1 - r) (r the rank), averaged over ``cells`` independent cells, plus the
    binomial noise of ``tests`` test values per cell."""
    r = math.ceil((n_scores + 1) * level)
    mean = r / (n_scores + 1)
    beta_var = r * (n_scores + 1 - r) / ((n_scores + 1) ** 2 * (n_scores + 2))
    var = beta_var / cells + mean * (1 - mean) / (cells * tests)
    return mean, 4 * math.sqrt(var)


@pytest.mark.parametrize("normalize", [False, True])
def test_conformal_coverage_on_gaussian_noise_is_within_sampling_tolerance(normalize):
    """Forecast = the true mean, noise Gaussian (with ``normalize``, its standard deviation
    proportional to each window's look-back spread): coverage of the 80 % and 95 % intervals
    lands within four standard deviations of split conformal's exact expectation."""
    rng = np.random.default_rng(2023)
    k, steps, n_series, n_test, lookback = 60, 12, 4, 400, 16

    def windows(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        level = rng.uniform(0.2, 3.0, size=(n, 1, n_series)) if normalize else 1.0
        x = torch.from_numpy(rng.standard_normal((n, lookback, n_series)) * level).float()
        sigma = lookback_spread(x).double().numpy() if normalize else 0.7
        y = torch.from_numpy(rng.standard_normal((n, steps, n_series)) * sigma).float()
        return x, y

    x_cal, y_cal = windows(k)
    scores = y_cal.abs() / (lookback_spread(x_cal) if normalize else 1.0)
    conformal = ConformalScores(scores, normalized=normalize)
    assert conformal.per_series
    x_test, y_test = windows(n_test)
    point = torch.zeros_like(y_test)
    spread = lookback_spread(x_test) if normalize else None
    quantiles = conformal.quantiles(point, [0.025, 0.1, 0.9, 0.975], spread=spread)
    for level, (lo, hi) in ((0.8, (1, 2)), (0.95, (0, 3))):
        inside = (y_test >= quantiles[..., lo]) & (y_test <= quantiles[..., hi])
        expected, tolerance = _coverage_tolerance(k, level, steps * n_series, n_test)
        assert abs(inside.double().mean().item() - expected) < tolerance, (level, tolerance)


def test_conformal_ranks_pooling_and_refusal():
    scores = torch.arange(1.0, 20.0).reshape(19, 1, 1).repeat(1, 2, 1)  # 1 .. 19 per step
    conformal = ConformalScores(scores)
    assert conformal.radius(95.0).flatten().tolist() == [19.0, 19.0]  # rank ceil(20 * 0.95)
    assert conformal.radius(80.0).flatten().tolist() == [16.0, 16.0]  # rank ceil(20 * 0.8)
    few = ConformalScores(torch.rand(10, 3, 1))
    with pytest.raises(ValueError, match="at least 19 calibration scores"):
        few.radius(95.0)
    pooled = ConformalScores(torch.rand(10, 3, 4))  # 10 windows < 19: pooled over 4 series
    assert not pooled.per_series and pooled.radius(95.0).shape == (3, 1)
    state = ConformalScores.from_state_dict(pooled.state_dict())
    assert torch.equal(state.radius(95.0), pooled.radius(95.0))
    with pytest.raises(ValueError, match="finite and >= 0"):
        ConformalScores(torch.tensor([[[float("inf")]]]))


def test_missing_targets_give_no_conformal_score_and_each_interval_counts_its_own():
    scores = torch.arange(1.0, 21.0).reshape(20, 1, 1).repeat(1, 2, 2)  # 1 .. 20 per cell
    scores[-1, 0, 0] = float("nan")  # step 0 of series 0 lost its last window: 19 scores
    scores[:5, 1, 1] = float("nan")  # step 1 of series 1: 15 scores, 6 .. 20
    conformal = ConformalScores(scores)
    assert conformal.counts.tolist() == [[19, 20], [20, 15]]
    assert conformal.radius(80.0).tolist() == [[16.0, 17.0], [17.0, 18.0]]  # ceil((n+1) 0.8)
    with pytest.raises(ValueError, match=r"needs at least 19 .* give 15 observed"):
        conformal.radius(95.0)  # 15 observed scores give at most 93.75 %
    pooled = ConformalScores(torch.where(torch.rand(6, 3, 2) < 0.3, float("nan"), 1.0))
    assert not pooled.per_series and pooled.counts.shape == (3, 1)
    assert (pooled.counts.flatten() == (~pooled.scores.isnan()).sum(dim=(0, 2))).all()


def test_interval_metrics_leave_unobserved_targets_out():
    g = torch.Generator().manual_seed(5)
    values = torch.randn(20, 4, 2, 5, generator=g).sort(-1).values
    target, scale = torch.randn(20, 4, 2, generator=g), torch.rand(20, 2, generator=g) + 0.1
    mask = torch.rand(20, 4, 2, generator=g) > 0.3
    masked, subset = IntervalMetrics(GRID, (80, 95)), IntervalMetrics(GRID, (80, 95))
    masked.update(values, torch.where(mask, target, 1e6), scale, mask.float())
    scale_per_element = scale.unsqueeze(1).expand_as(target)
    for i, j, k in mask.nonzero().tolist():  # the observed elements one at a time
        subset.update(
            values[i, j, k].view(1, 1, 1, -1),
            target[i, j, k].view(1, 1, 1),
            scale_per_element[i, j, k].view(1, 1),
        )
    for key, value in subset.compute().items():
        assert masked.compute()[key].item() == pytest.approx(value.item(), rel=1e-9), key
