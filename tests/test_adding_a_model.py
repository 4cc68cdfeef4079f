"""The README's "Adding a model" paragraph is exactly what a new model needs: a fourth model,
defined here with only those pieces, passes the model contract, trains through the CLI config
and the Forecaster, and saves and loads."""

from __future__ import annotations

import inspect
import re
import sys

import pandas as pd
import pytest
import torch
from torch import Tensor, nn

from tests.helpers.data import REPO, synthetic_frame
from tests.models import test_contract  # not its class: pytest would run it here again
from tsfm import Forecaster
from tsfm.config import compose_config, register_configs
from tsfm.models import REGISTRY, Capabilities, InstanceNorm, default_hyperparameters, model_class
from tsfm.models.common import patchify


class PatchLinear(nn.Module):
    """A linear forecaster over patch means, the smallest model that takes part in everything.

    Reference: none, a test model (a real one names its paper: authors, title, venue, arXiv).

    Args:
        seq_len, pred_len: look-back and horizon (from the data).
        patch_len: patch length.
        stride: distance between patch starts.
    """

    CAPABILITIES = Capabilities(new_variates=True)  # one head shared by every variate
    SMOKE_SETTINGS = {"patch_len": 4, "stride": 2}  # what the model tests build it with

    def __init__(self, seq_len: int, pred_len: int, patch_len: int = 4, stride: int = 2):
        super().__init__()
        self.patch_len, self.stride = patch_len, stride
        n_patches = patchify(torch.zeros(seq_len), patch_len, stride).shape[0]
        self.head = nn.Linear(n_patches, pred_len)

    def forward(self, x: Tensor, **_: object) -> Tensor:
        norm = InstanceNorm(x)
        series = norm.normalize(x).transpose(1, 2)  # [B, N, L]
        means = patchify(series, self.patch_len, self.stride).mean(-1)  # [B, N, Np]
        return norm.denormalize(self.head(means).transpose(1, 2))


NAME = "patch_linear"


@pytest.fixture
def fourth_model(monkeypatch):
    # the registry line (tsfm/models/__init__.py); no test file names the model
    monkeypatch.setitem(REGISTRY, NAME, f"{__name__}:PatchLinear")
    register_configs()
    yield NAME
    monkeypatch.undo()
    register_configs()


def readme_section(title: str) -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(rf"^### {re.escape(title)}\n(.*?)(?=^#)", text, flags=re.M | re.S)
    assert match, f"README.md has no '### {title}' section"
    return match.group(1)


def test_the_readme_lists_the_pieces_this_test_adds():
    section = readme_section("Adding a model")
    for piece in (
        "tsfm/models/<name>.py",
        "REGISTRY",
        "conf/model/<name>.yaml",
        "SMOKE_SETTINGS",
        "CAPABILITIES",
        "docstring",
    ):
        assert piece in section, f"the README's 'Adding a model' no longer mentions {piece}"


def test_every_registered_model_documents_its_arguments_and_paper():
    for name in REGISTRY:
        cls = model_class(name)
        doc = (inspect.getdoc(cls) or "") + (sys.modules[cls.__module__].__doc__ or "")
        assert "Args:" in doc and re.search(r"arXiv|ICLR|ICML|NeurIPS", doc), name
        undocumented = [p for p in default_hyperparameters(name) if p not in doc]
        assert not undocumented, f"{name} does not document {undocumented}"


def test_a_fourth_model_passes_the_contract(fourth_model, tmp_path):
    contract = test_contract.TestContract()
    for check in (
        contract.test_output_shape_and_finite,
        contract.test_schema_mirrors_the_constructor,
        contract.test_unknown_setting_is_refused,
        contract.test_any_number_of_variates_at_predict_time,
    ):
        check(fourth_model)
    contract.test_state_dict_round_trip(fourth_model, tmp_path)


def test_a_fourth_model_is_configured_trained_saved_and_loaded(fourth_model, tmp_path):
    cfg = compose_config(f"model={fourth_model}", "model.patch_len=6")  # derived schema
    assert cfg.model.name == fourth_model and cfg.model.stride == 2
    frame = synthetic_frame(200, 3)
    est = Forecaster(fourth_model, horizon=8, lookback=24, patch_len=6, max_epochs=1)
    forecast = est.fit(frame).predict()
    assert forecast.shape == (8, 4) and est.config_.model.patch_len == 6
    loaded = Forecaster.load(est.save(tmp_path / "saved"))
    pd.testing.assert_frame_equal(loaded.predict(), forecast)
