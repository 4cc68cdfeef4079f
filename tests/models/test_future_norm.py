"""iTransformer's future covariates: a flag flat over the look-back that steps to 1 in the
horizon (a holiday, a promotion) reaches the model at its own size (``future_norm="window"``,
the default), not divided by the look-back's near-zero std (``"lookback"``, tsfm before)."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.models import DIMS, batch, make
from tsfm.errors import InputError

L, H = DIMS["seq_len"], DIMS["pred_len"]
NO, YES = -0.1, 10.0  # a rare flag, globally scaled: 0 a little below the mean, 1 far above


def flag(horizon: float, in_lookback: bool = False) -> torch.Tensor:
    """``[2, L + H, 1]``: NO over the look-back (its last 8 steps YES if ``in_lookback``)."""
    values = torch.full((2, L + H, 1), NO)
    values[:, L:] = horizon
    if in_lookback:
        values[:, L - 8 : L] = YES
    return values


def model(seed: int = 0, **settings):
    return make("itransformer", seed=seed, dims={**DIMS, "n_vars": 1, "n_future": 1}, **settings)


def embedded(net, future: torch.Tensor) -> torch.Tensor:
    """What ``future_embedding`` receives for ``future`` (one forward pass)."""
    seen = []
    hook = net.future_embedding.register_forward_hook(lambda m, i, o: seen.append(i[0]))
    b = batch(n_vars=1, size=2)
    with torch.no_grad():
        net.eval()(b["x"], b["x_mark"], future_covariates=future)
    hook.remove()
    return seen[0]


def test_a_flag_flat_over_the_lookback_reaches_the_embedding_at_its_own_size():
    net = model()
    assert embedded(net, flag(YES)).abs().max() < 3  # sqrt(L / H) = 1.73 for a 0/1 flag
    assert net.future_norm == "window"
    old = model(future_norm="lookback")
    assert embedded(old, flag(YES)).abs().max() > 1000  # (YES - NO) / sqrt(eps)


def test_the_flag_moves_the_forecast_about_as_much_as_when_the_lookback_holds_it():
    for seed in range(3):
        net = model(seed).eval()
        b = batch(n_vars=1, size=2)

        def change(in_lookback: bool, net=net, b=b) -> float:
            with torch.no_grad():
                on = net(b["x"], b["x_mark"], future_covariates=flag(YES, in_lookback))
                off = net(b["x"], b["x_mark"], future_covariates=flag(NO, in_lookback))
            return (on - off).abs().max().item()

        assert change(False) < 3 * change(True), seed  # lookback's rule: 13x to 40x


def test_future_norm_choices():
    flat = torch.full((2, L + H, 1), 0.7)  # flat over look-back and horizon: no information
    assert embedded(model(), flat).abs().max() < 1e-3  # 0 up to the rounding of the mean
    torch.testing.assert_close(embedded(model(future_norm="none"), flag(YES)), flag(YES).mT)
    with pytest.raises(InputError, match=r"future_norm must be one of .*'window'.*got 'horizon'"):
        model(future_norm="horizon")


def test_unobserved_future_values_leave_the_window_statistics_alone():
    net = make("itransformer", dims={**DIMS, "n_vars": 1, "n_future": 1, "masked": True})
    mask = torch.ones(2, L + H, 1)
    mask[:, 3] = mask[:, L + 2] = 0  # not observed (filled): their values must not count
    poisoned = flag(YES)
    poisoned[:, 3] = poisoned[:, L + 2] = 1e6
    seen = []
    hook = net.future_embedding.register_forward_hook(lambda m, i, o: seen.append(i[0]))
    b = batch(n_vars=1, size=2)
    with torch.no_grad():
        for future in (flag(YES), poisoned):
            net.eval()(b["x"], b["x_mark"], future_covariates=future, future_covariates_mask=mask)
    hook.remove()
    observed = mask.mT.bool()
    torch.testing.assert_close(seen[0][observed], seen[1][observed])
