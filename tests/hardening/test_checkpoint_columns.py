"""``train=false ckpt_path=...`` with a model that has a weight per variate (no
``new_variates``): the tested data's columns are matched to the checkpoint's by name, in any
order, and other names are refused; models with ``new_variates`` are tested as they are."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config, register_configs
from tsfm.errors import InputError
from tsfm.models import REGISTRY
from tsfm.pipeline import fit_and_test

NAME = "per_variate_linear"
WINDOWS = ["data=custom", "data.seq_len=24", "data.pred_len=8", *TINY_RUN]


@pytest.fixture
def per_variate_model(monkeypatch):
    """tests/helpers/fixture_models.py's PerVariateLinear, registered for this test only."""
    monkeypatch.setitem(REGISTRY, NAME, "tests.helpers.fixture_models:PerVariateLinear")
    register_configs()
    yield NAME
    monkeypatch.undo()
    register_configs()


def _files(tmp_path) -> dict[str, str]:
    frame = synthetic_frame(600, 3)  # date, v0, v1, OT: other shapes and levels
    paths = {}
    for kind, table in {
        "same": frame,
        "reversed": frame[["date", "OT", "v1", "v0"]],
        "renamed": frame.rename(columns={"v1": "w1"}),
    }.items():
        paths[kind] = str(tmp_path / f"{kind}.csv")
        table.to_csv(paths[kind], index=False)
    return paths


def _test(model: list[str], ckpt: str, path: str, run_dir, *extra: str) -> dict:
    cfg = compose_config(
        *model, *WINDOWS, f"data.path={path}", "train=false", f"ckpt_path={ckpt}", *extra
    )
    return fit_and_test(cfg, run_dir).metrics


def _trained(model: list[str], path: str, run_dir) -> str:
    return fit_and_test(
        compose_config(*model, *WINDOWS, f"data.path={path}"), run_dir
    ).best_checkpoint


@pytest.mark.parametrize(
    "settings, targets",
    [([], ["v0", "v1", "OT"]), (["data.features=MS", "data.target=OT"], ["OT"])],
    ids=["M", "MS"],
)
def test_a_per_variate_model_is_tested_on_its_columns_by_name(
    per_variate_model, tmp_path, settings, targets
):
    """Under MS the other columns are past covariates, which it weighs one by one too."""
    files, model = _files(tmp_path), [f"model={per_variate_model}", *settings]
    ckpt = _trained(model, files["same"], tmp_path / "train")
    same = _test(model, ckpt, files["same"], tmp_path / "same")
    for scaler in ("data", "checkpoint"):
        moved = _test(model, ckpt, files["reversed"], tmp_path / scaler, f"test_scaler={scaler}")
        for series in targets:  # each column through its own weights
            key = f"test/{series}/mse_original"
            assert moved[key] == pytest.approx(same[key], rel=1e-5), (scaler, series)
    with pytest.raises(InputError, match=r"missing: \['v1'\]; not in the checkpoint's: \['w1'\]"):
        _test(model, ckpt, files["renamed"], tmp_path / "renamed")
    if settings:  # without data.target, the reversed file's target is its last column, v0
        roles = [f"model={per_variate_model}", "data.features=MS"]
        with pytest.raises(InputError, match=r"other roles: targets \['v0'\]"):
            _test(roles, ckpt, files["reversed"], tmp_path / "roles")


def test_a_checkpoint_without_column_names_is_tested_with_a_warning(
    per_variate_model, tmp_path, caplog
):
    files, model = _files(tmp_path), [f"model={per_variate_model}"]
    ckpt = _trained(model, files["same"], tmp_path / "train")
    state = torch.load(ckpt, weights_only=False)
    for key in ("tsfm_columns", "tsfm_input_scaler"):  # as written before the record
        del state[key]
    torch.save(state, tmp_path / "old.ckpt")
    with caplog.at_level(logging.WARNING, logger="tsfm.training.test_columns"):
        _test(model, str(tmp_path / "old.ckpt"), files["reversed"], tmp_path / "old")
    assert "records no column names" in caplog.text


def test_a_model_for_any_variates_is_tested_on_other_columns(tmp_path):
    files, model = _files(tmp_path), ["model=itransformer", *TINY_ITRANSFORMER]
    ckpt = _trained(model, files["same"], tmp_path / "train")
    metrics = _test(model, ckpt, files["renamed"], tmp_path / "renamed")
    assert "test/w1/mse_original" in metrics
