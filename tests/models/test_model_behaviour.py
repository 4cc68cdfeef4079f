"""What every registered model must do with its inputs, driven by what it declares
(``CAPABILITIES``): read its masks, use the covariates it takes, let its variates meet
unless it declares them channel-independent, forecast each window on its own, run without calendar features, size its output for a distribution head, and follow
the level of its look-back. tests/models/test_contract_catches.py shows that each check
fails for a model that gets that wrong; tests/test_adding_a_model.py runs them on a fourth
model."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.declared_inputs import build, declared_batch, declared_dims, forecast, rows
from tests.helpers.models import DIMS, make
from tsfm.errors import InputError
from tsfm.models import REGISTRY, capabilities
from tsfm.training.heads import head_dims

MASKED = {"x": "x_mask", "past_covariates": "past_covariates_mask"} | {
    "future_covariates": "future_covariates_mask"
}


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(REGISTRY))
class TestBehaviour:
    def test_masks_reach_the_forecast(self, name):
        """A model that declares missing values is given masks (1: observed) beside the
        filled values; it must read them: hiding observed steps (values unchanged) moves its
        forecast. What fills a gap is the data layer's choice (the last observation), so the
        filled values may inform the forecast too."""
        if not capabilities(name).missing_values:
            pytest.skip(f"{name} declares no missing values (it is given filled inputs)")
        model, b = build(name), declared_batch(name)
        base = forecast(model, b)
        g = torch.Generator().manual_seed(7)
        for key, mask_key in MASKED.items():
            if key not in b:
                continue
            moved = b[key] + 3 * torch.randn(b[key].shape, generator=g)
            if key != "x" and _close(forecast(model, b | {key: moved}), base):
                continue  # a covariate it ignores: the covariates check's failure, not this one's
            hidden = b[mask_key].clone()
            hidden[:, : DIMS["seq_len"] // 2] = 0  # the older half of the look-back
            out = forecast(model, b | {mask_key: hidden})
            assert not _close(out, base), (
                f"{name} declares missing values, but hiding steps of {key} behind "
                f"{mask_key} = 0 leaves its forecast unchanged: it never reads the mask"
            )

    def test_declared_covariates_change_the_forecast(self, name):
        caps = capabilities(name)
        if not (caps.past_covariates or caps.future_covariates or caps.static_covariates):
            pytest.skip(f"{name} declares no covariates")
        model, b = build(name), declared_batch(name)
        base = forecast(model, b)
        g = torch.Generator().manual_seed(8)
        changes = {}
        if caps.past_covariates:
            past = b["past_covariates"]
            changes["past covariates"] = {"past_covariates": past + 3 * torch.randn_like(past)}
        if caps.future_covariates:
            future = b["future_covariates"].clone()
            future[:, DIMS["seq_len"] :] += 3 * torch.randn(future[:, DIMS["seq_len"] :].shape)
            changes["future covariates (over the horizon)"] = {"future_covariates": future}
        if caps.static_covariates:
            real, cat = b["static_real"], b["static_cat"]
            changes["numeric static covariates"] = {
                "static_real": real + 3 * torch.randn(real.shape, generator=g)
            }
            cardinalities = declared_dims(name)["static_cardinalities"]
            other = torch.stack([cat[..., j] % c + 1 for j, c in enumerate(cardinalities)], -1)
            changes["categorical static covariates"] = {"static_cat": other}
        for what, change in changes.items():
            out = forecast(model, b | change)
            assert not _close(out, base), (
                f"{name} declares {what.split(' (')[0]}, but its forecast does not change when "
                f"the {what} do"
            )

    def test_variates_meet_unless_declared_channel_independent(self, name):
        """A channel-independent model (past covariates refused: they would never reach a
        target) forecasts each variate from its own look-back; any other model without
        native past covariates gets them as extra variates, which must reach the others."""
        caps = capabilities(name)
        if caps.past_covariates and not caps.channel_independent:
            pytest.skip(f"{name} takes past covariates natively")
        model, b = build(name), declared_batch(name)
        base = forecast(model, b)
        x = b["x"].clone()
        x[..., 0] += 3 * torch.randn(x[..., 0].shape, generator=torch.Generator().manual_seed(5))
        moved = forecast(model, b | {"x": x})
        others_moved = not _close(moved[..., 1:], base[..., 1:])
        if caps.channel_independent:
            assert not others_moved, f"{name} declares channel_independent, but variates meet"
        else:
            assert others_moved, (
                f"{name} does not declare channel_independent, but its variates never meet: "
                "past covariates given as extra variates would be ignored"
            )

    def test_a_window_is_forecast_alone_as_in_a_batch(self, name):
        """No statistic over the batch axis: evaluation's batch size never changes a score."""
        model, b = build(name), declared_batch(name, size=5)
        whole = forecast(model, b)
        for i in range(5):
            alone = forecast(model, rows(b, i))
            assert _close(alone[0], whole[i]), (
                f"{name}'s forecast of window {i} depends on the other windows of its batch "
                f"(differs by up to {(alone[0] - whole[i]).abs().max():.3g})"
            )

    def test_runs_without_calendar_features_or_refuses_them(self, name):
        """Data without timestamps (integer time, M4) has no calendar features: the model is
        built with ``n_marks=0`` and given no ``x_mark``. It forecasts, or refuses the data
        with an InputError."""
        b = declared_batch(name)
        del b["x_mark"]
        try:
            out = forecast(build(name, n_marks=0), b)
        except InputError:
            return
        except Exception as err:
            raise AssertionError(
                f"{name} fails without calendar features ({type(err).__name__}: {err}); a "
                "model that needs them must refuse such data with an InputError"
            ) from err
        assert out.shape == (4, DIMS["pred_len"], 3) and torch.isfinite(out).all(), (
            f"{name} without calendar features forecasts {tuple(out.shape)}, not finite or "
            "not [4, pred_len, 3]"
        )

    def test_a_distribution_head_gets_horizon_times_k_steps(self, name):
        """A head of K outputs per step builds the model with ``pred_len = horizon x K``
        while its future inputs still cover the ``horizon``."""
        k = 3
        model = make(name, dims=head_dims(declared_dims(name), k)).eval()
        out = forecast(model, declared_batch(name))
        assert out.shape == (4, DIMS["pred_len"] * k, 3), (
            f"{name} built with pred_len={DIMS['pred_len'] * k} (horizon {DIMS['pred_len']} "
            f"x {k} outputs) forecasts {tuple(out.shape)}"
        )

    def test_the_forecast_follows_the_level_of_the_look_back(self, name):
        """Raising the whole look-back by 100 (scaled units) must move the forecast: one
        that does not (a model normalising each window and forgetting to de-normalise)
        forecasts every series at the same level. Only the level is checked; whether the
        scale is restored too depends on a normalisation no capability declares."""
        model, b = build(name), declared_batch(name)
        moved = forecast(model, b | {"x": b["x"] + 100.0}) - forecast(model, b)
        assert moved.abs().mean() > 1.0, (
            f"{name}'s forecast moves by {moved.abs().mean():.3g} on average when the "
            "look-back rises by 100: is its output de-normalised?"
        )
