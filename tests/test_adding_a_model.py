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
from tests.models import test_model_behaviour as model_behaviour
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

    # one head shared by every variate, which never meet: past covariates would be ignored
    CAPABILITIES = Capabilities(new_variates=True, channel_independent=True)
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


YEAR = r"(?:19|20)\d{2}\b"
PAPER = re.compile(
    r"arXiv[:\s]*\d{4}\.\d{4,5}"  # an arXiv id (arXiv:2205.13504, arXiv 2506.24124)
    r"|arxiv\.org/(?:abs|pdf)/\d{4}\.\d{4,5}"
    r"|\b10\.\d{4,9}/\S+"  # a DOI
    rf"|\b[A-Z][A-Za-z]*[A-Z][A-Za-z]*\s*{YEAR}"  # a venue and its year: AAAI 2023, NeurIPS 2022
    rf"|\b(?:Proceedings|Conference|Journal|Transactions|Symposium)\b[^.]{{0,120}}?\b{YEAR}"
)


def names_a_paper(doc: str) -> bool:
    """A paper reference: an arXiv id, a DOI, a venue with its year, or a link with a year."""
    return bool(PAPER.search(doc) or (re.search(r"https?://\S+", doc) and re.search(YEAR, doc)))


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('Zeng et al. "Are Transformers Effective for Time Series Forecasting?" AAAI 2023.', True),
        ("Wu et al., KDD 2022.", True),
        ("Published in JMLR 2021; TMLR 2024 for the follow-up.", True),
        ('Liu et al. "iTransformer" ICLR 2024.', True),
        ("NeurIPS 2023", True),
        ("arXiv:2310.06625", True),
        ("Dong et al. arXiv 2506.24124", True),
        ("doi: 10.1609/aaai.v37i9.26317", True),
        ("Paper (2023): https://openreview.net/forum?id=JePfAI8fah", True),
        ("Proceedings of the AAAI Conference on Artificial Intelligence 37(9), 2023", True),
        ("Journal of Machine Learning Research 22 (2021)", True),
        (
            "Reference: none, a test model (a real one names its paper: authors, title, venue, arXiv).",
            False,
        ),
        ("Vaswani et al., 2017, attention.", False),  # a year alone: no venue, id or link
        ("Official code: https://github.com/cure-lab/LTSF-Linear", False),  # code, no paper year
        ("trained on ETTh1 and M4 for 2000 steps", False),
    ],
)
def test_the_paper_check_takes_any_venue_and_refuses_no_reference(text, names):
    assert names_a_paper(text) == names


def test_every_registered_model_documents_its_arguments_and_paper():
    for name in REGISTRY:
        cls = model_class(name)
        doc = (inspect.getdoc(cls) or "") + (sys.modules[cls.__module__].__doc__ or "")
        assert "Args:" in doc and names_a_paper(doc), name
        undocumented = [p for p in default_hyperparameters(name) if p not in doc]
        assert not undocumented, f"{name} does not document {undocumented}"


def test_a_fourth_model_passes_the_contract(fourth_model, tmp_path):
    contract, behaviour = test_contract.TestContract(), model_behaviour.TestBehaviour()
    for check in (
        contract.test_output_shape_and_finite,
        contract.test_schema_mirrors_the_constructor,
        contract.test_unknown_setting_is_refused,
        contract.test_other_variate_counts_as_declared,
        behaviour.test_variates_meet_unless_declared_channel_independent,
        behaviour.test_a_window_is_forecast_alone_as_in_a_batch,
        behaviour.test_runs_without_calendar_features_or_refuses_them,
        behaviour.test_a_distribution_head_gets_horizon_times_k_steps,
        behaviour.test_the_forecast_follows_the_level_of_the_look_back,
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
