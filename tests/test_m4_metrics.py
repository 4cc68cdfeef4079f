"""The M4 measures (sMAPE, MASE, OWA, Naive2) on hand-made cases and the published values,
and the masked training losses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from statsmodels.tsa.seasonal import seasonal_decompose
from statsmodels.tsa.stattools import acf

from tests.helpers.data import SHARED_DATA, needs_shared
from tsfm.data.m4.files import read_m4_file
from tsfm.data.m4.metrics import (
    GroupScores,
    autocorrelation,
    is_seasonal,
    mase,
    naive2,
    naive2_forecasts,
    score_group,
    seasonal_indices,
    smape,
    summarize,
)
from tsfm.training.losses import get_loss


def test_smape_and_mase_of_a_hand_made_case():
    forecast = np.array([[6.0, 8.0], [3.0, 0.0]])
    target = np.array([[6.0, 6.0], [1.0, 0.0]])
    # series 1: errors 0 and 200*2/14; series 2: 200*2/4 and 0/0 = 0
    np.testing.assert_allclose(smape(forecast, target), [100 / 7, 50.0])
    insamples = [np.array([1.0, 3, 2, 4, 3, 5]), np.array([2.0, 2, 4, 4])]
    # period 2: scales mean|x_t - x_{t-2}| = 1 and 2; mean absolute errors 1 and 1
    np.testing.assert_allclose(mase(forecast, target, insamples, period=2), [1.0, 0.5])
    # period 1: scale of series 1 = mean(2, 1, 2, 1, 2) = 1.6
    assert mase(forecast[:1], target[:1], insamples[:1], period=1)[0] == pytest.approx(1 / 1.6)


def test_mase_needs_more_history_than_the_period():
    with pytest.raises(ValueError, match="more than 4 in-sample points"):
        mase(np.ones((1, 2)), np.ones((1, 2)), [np.ones(4)], period=4)


def test_naive2_scores_an_owa_of_exactly_one_per_group_and_weighted():
    rng = np.random.default_rng(0)
    groups = {}
    for name, period, n in (("Monthly", 12, 7), ("Hourly", 24, 3)):
        histories = [100 + rng.gamma(2, 5, 200) for _ in range(n)]
        target = 100 + rng.gamma(2, 5, (n, 18))
        forecast = naive2_forecasts(histories, 18, period)
        groups[name] = score_group(forecast, target, histories, period)
        assert groups[name].owa == pytest.approx(1.0, abs=1e-12)
    rows = summarize(groups)
    assert list(rows) == ["Monthly", "Hourly", "Others", "Average"]
    assert all(r.owa == pytest.approx(1.0, abs=1e-12) for r in rows.values())


def test_others_and_average_are_weighted_by_series_count():
    yearly = GroupScores(3, smape=10.0, mase=2.0, naive2_smape=20.0, naive2_mase=4.0)
    weekly = GroupScores(1, smape=6.0, mase=1.0, naive2_smape=8.0, naive2_mase=1.0)
    daily = GroupScores(1, smape=2.0, mase=3.0, naive2_smape=4.0, naive2_mase=3.0)
    rows = summarize({"Weekly": weekly, "Yearly": yearly, "Daily": daily})
    assert list(rows) == ["Yearly", "Weekly", "Daily", "Others", "Average"]
    others, average = rows["Others"], rows["Average"]
    assert (others.n_series, others.smape, others.mase) == (2, 4.0, 2.0)
    assert others.owa == pytest.approx(0.5 * (2.0 / 2.0 + 4.0 / 6.0))
    assert (average.smape, average.naive2_smape) == (pytest.approx(7.6), pytest.approx(14.4))
    # OWA of the average comes from the weighted means, not from averaging the OWAs
    assert average.owa == pytest.approx(0.5 * (2.0 / 3.2 + 7.6 / 14.4))
    with pytest.raises(ValueError, match="unknown M4 group"):
        summarize({"Minutely": weekly})


def test_naive2_continues_a_multiplicative_seasonal_pattern():
    factors = np.array([0.8, 1.2, 1.1, 0.9])
    x = 50.0 * np.tile(factors, 10)  # constant level: decomposition recovers factors exactly
    assert is_seasonal(x, 4)
    np.testing.assert_allclose(naive2(x, 6, 4), 50.0 * factors[[0, 1, 2, 3, 0, 1]])


def test_naive2_is_the_last_value_when_not_seasonal():
    rng = np.random.default_rng(3)
    noise = 100 + rng.normal(size=120)
    assert not is_seasonal(noise, 12)
    assert np.all(naive2(noise, 5, 12) == noise[-1])
    assert np.all(naive2(np.arange(1.0, 30), 3, 1) == 29.0)  # period 1: never adjusted
    periodic = np.tile([1.0, 2.0, 3.0], 5)
    assert not is_seasonal(periodic[:8], 3)  # fewer than 3 periods of history
    # R's acf stops at floor(10 log10 n) lags: n = 100 gives 20 < 24, so never seasonal
    assert not is_seasonal(np.tile(np.r_[np.ones(12), 3 * np.ones(12)], 5)[:100], 24)
    assert is_seasonal(np.tile(np.r_[np.ones(12), 3 * np.ones(12)], 12), 24)


@pytest.mark.parametrize("period", [4, 7, 12])
def test_decomposition_and_autocorrelation_match_statsmodels(period):
    rng = np.random.default_rng(period)
    x = (50 + np.arange(10 * period)) * (1 + 0.3 * np.sin(np.arange(10 * period))) + rng.gamma(
        1, 1, 10 * period
    )
    expected = seasonal_decompose(x, model="multiplicative", period=period).seasonal
    np.testing.assert_allclose(seasonal_indices(x, period), expected, rtol=1e-12)
    np.testing.assert_allclose(
        autocorrelation(x, period), acf(x, nlags=period, fft=False)[1:], rtol=1e-10
    )


@needs_shared("m4/Hourly-train.csv", "m4/Hourly-test.csv", "m4/Weekly-train.csv")
@pytest.mark.parametrize(
    ("group", "period", "published"),
    [("Hourly", 24, (18.383, 2.395)), ("Weekly", 1, (9.161, 2.777))],
)
def test_naive2_reproduces_the_published_m4_benchmark(group, period, published):
    """Naive2's sMAPE / MASE in the M4 results (Makridakis et al. 2018/2020)."""
    _, train = read_m4_file(SHARED_DATA / "m4" / f"{group}-train.csv")
    _, test = read_m4_file(SHARED_DATA / "m4" / f"{group}-test.csv")
    target = np.stack(test)
    scores = score_group(naive2_forecasts(train, target.shape[1], period), target, train, period)
    assert (round(scores.smape, 3), round(scores.mase, 3)) == published
    assert scores.owa == 1.0


def test_smape_loss_is_masked_and_detaches_the_forecast_in_the_denominator():
    loss = get_loss("smape")
    prediction = torch.tensor([[2.0, 5.0]], requires_grad=True)
    target, mask = torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]])
    value = loss(prediction, target, mask)
    assert value.item() == pytest.approx(200 * (1 / 3) / 2)  # masked element counts as 0
    value.backward()
    # d/dp 200 |p - t| / (|p|.detach + |t|) / numel, for the unmasked element only
    torch.testing.assert_close(prediction.grad, torch.tensor([[200 / 3 / 2, 0.0]]))
    zero = torch.zeros(1, 2, requires_grad=True)
    loss(zero, torch.zeros(1, 2)).backward()  # 0/0 counts as 0, with a finite gradient
    assert torch.isfinite(zero.grad).all()


@pytest.mark.parametrize("name", ["mse", "mae", "huber"])
def test_masked_losses_ignore_masked_targets(name):
    loss = get_loss(name)
    prediction, target = torch.randn(4, 6, 1), torch.randn(4, 6, 1)
    mask = (torch.arange(6) < 4).float().view(1, 6, 1).expand(4, 6, 1)
    garbage = torch.where(mask.bool(), target, torch.full_like(target, 1e6))
    assert loss(prediction, garbage, mask) == pytest.approx(loss(prediction, target, mask).item())
    assert loss(prediction, target, torch.ones_like(mask)) == pytest.approx(
        loss(prediction, target).item()
    )
