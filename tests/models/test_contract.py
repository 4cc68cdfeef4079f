"""The contract every registered model must pass (a new model declares its tiny settings as
SMOKE_SETTINGS on its class and passes these, and tests/models/test_model_behaviour.py), and
the shared blocks of tsfm/models/common.py."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.declared_inputs import build, declared_batch, forecast
from tests.helpers.models import DIMS, TINY, batch, make, predict
from tsfm.errors import InputError
from tsfm.models import REGISTRY, as_output, build_model, capabilities, config_schema
from tsfm.models.common import Dropout, cpu_dropout_mask
from tsfm.training.checkpoints import load_checkpoint


def test_every_registered_model_has_tiny_settings():
    assert set(TINY) == set(REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
class TestContract:
    def test_output_shape_and_finite(self, name):
        model = make(name).eval()
        out = predict(model, batch())
        assert out.shape == (4, DIMS["pred_len"], 3) and torch.isfinite(out).all()

    def test_schema_mirrors_the_constructor(self, name):
        schema = config_schema(name)
        defaults = schema()
        assert defaults.name == name
        assert set(TINY[name]) <= {f for f in defaults.__dataclass_fields__}

    def test_auxiliary_losses_are_the_declared_ones(self, name):
        """They are logged as train/<name>, which a run may monitor (checked beforehand)."""
        b = batch()
        output = as_output(make(name).train()(**{k: v for k, v in b.items() if k != "y"}))
        assert set(output.aux_losses) <= set(capabilities(name).aux_losses)

    def test_unknown_setting_is_refused(self, name):
        with pytest.raises(ValueError, match="has no setting"):
            build_model({"name": name, "no_such_knob": 1}, DIMS)

    def test_one_batch_overfits(self, name):
        model = make(name).train()
        b = batch(size=8)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        first = None
        for _ in range(150):
            loss = torch.nn.functional.mse_loss(predict(model, b), b["y"])
            first = first if first is not None else loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        assert loss.item() < 0.2 * first

    def test_state_dict_round_trip(self, name, tmp_path):
        """Every weight a forecast depends on is in the state dict: a clone drawn with
        another seed forecasts exactly the same once it is loaded."""
        model, b = build(name), declared_batch(name)
        torch.save(model.state_dict(), tmp_path / "w.pt")
        clone = build(name, seed=1)
        clone.load_state_dict(load_checkpoint(tmp_path / "w.pt"))
        assert torch.equal(forecast(model, b), forecast(clone.eval(), b)), (
            f"{name} loaded into a clone built with another seed forecasts otherwise: a "
            "weight it uses is not saved (a plain tensor attribute instead of a parameter or "
            "buffer?)"
        )

    def test_other_variate_counts_as_declared(self, name):
        """``new_variates``: any count of variates at predict time; without it, the count it
        was built for only, others refused with an InputError (the front doors rely on it)."""
        model, steps = make(name).eval(), DIMS["pred_len"]
        for n in (5, 1):
            if capabilities(name).new_variates:
                try:
                    out = predict(model, batch(n_vars=n))
                except Exception as err:
                    raise AssertionError(
                        f"{name} declares new_variates but fails on {n} variates: {err}"
                    ) from err
                assert out.shape == (4, steps, n), f"{name}: {n} variates in, {out.shape} out"
                continue
            try:
                predict(model, batch(n_vars=n))
            except InputError:
                continue
            except Exception as err:
                raise AssertionError(
                    f"{name} (new_variates=False) refuses {n} variates with "
                    f"{type(err).__name__} ({err}), not an InputError naming the fix"
                ) from err
            raise AssertionError(f"{name} declares new_variates=False but forecasts {n} variates")
        if not capabilities(name).new_variates:  # what it is built for, it forecasts
            wider = make(name, dims=DIMS | {"n_vars": 5}).eval()
            assert predict(wider, batch(n_vars=5)).shape == (4, steps, 5)


def test_cpu_dropout_keeps_the_right_share_and_rescales():
    torch.manual_seed(0)
    mask = cpu_dropout_mask(torch.Size([200, 500]), 0.1)
    assert abs(mask.float().mean().item() - 0.9) < 0.005
    layer = Dropout(0.25).train()
    x = torch.ones(1000, 100)
    y = layer(x)
    assert y.unique().tolist() == pytest.approx([0.0, 1 / 0.75])
    assert abs((y == 0).float().mean().item() - 0.25) < 0.01
    assert torch.equal(layer.eval()(x), x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
def test_cpu_dropout_is_the_mask_product_to_the_bit_both_ways(dtype):
    """The faster products (the scale folded into an fp32/fp64 mask) change no bit of the
    output or the gradient: fp32 results stay those of the official-code comparisons."""
    x = torch.randn(32, 11, 256).to(dtype).requires_grad_()
    grad = torch.randn(32, 11, 256).to(dtype)
    torch.manual_seed(3)
    y = Dropout(0.1).train()(x)
    y.backward(grad)
    torch.manual_seed(3)
    keep = cpu_dropout_mask(x.shape, 0.1)
    reference = x.detach() * keep * (1 / 0.9)
    assert y.dtype == dtype and torch.equal(y, reference)
    assert torch.equal(x.grad, grad * (1 / 0.9) * keep)
