"""Saved models and checkpoints of pretrained-backbone models load without the backbone's
pretrained source (its weights file gone, no network): their own weights replace it."""

from __future__ import annotations

import shutil

import pytest
import torch

from tests.helpers.backbones import tiny_backbone_dir
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.models import TINY
from tests.helpers.runs import TINY_RUN
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.data import TimeSeriesDataModule
from tsfm.pipeline import fit_and_test
from tsfm.training.checkpoints import module_of


def _equal_states(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        torch.testing.assert_close(sa[key], sb[key], rtol=0, atol=0)


def test_s2ip_llm_loads_after_its_backbone_weights_are_gone(tmp_path, monkeypatch):
    backbone = tmp_path / "gpt2"
    shutil.copytree(tiny_backbone_dir("gpt2"), backbone)
    frame = synthetic_frame(n_rows=160, n_vars=2)
    est = tiny("s2ip_llm", backbone=str(backbone)).fit(frame)
    before = est.predict()
    est.save(tmp_path / "model")
    checkpoint = {
        "hyper_parameters": dict(est.module_.hparams),
        "state_dict": est.module_.state_dict(),
    }

    weights = [p for p in backbone.iterdir() if p.name != "config.json"]
    assert weights, "the tiny backbone folder should hold weights besides its config"
    for path in weights:
        path.unlink()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    loaded = Forecaster.load(tmp_path / "model")
    _equal_states(loaded.module_, est.module_)
    after = loaded.predict()
    assert after.equals(before)
    _equal_states(module_of(checkpoint, "memory"), est.module_)
    # the settings still name the pretrained source: a refit loads it, and says it is missing
    assert loaded.get_params()["backbone"] == str(backbone)
    with pytest.raises(OSError, match="holds config.json but no weights"):
        loaded.fit(frame)


def test_timesclip_loads_after_its_clip_checkpoint_is_gone(tmp_path):
    import open_clip

    from tsfm.models.timesclip.clip_backbones import resolve_architecture

    torch.manual_seed(5)
    clip = open_clip.create_model(resolve_architecture("tsfm-tiny-clip"))
    weights = tmp_path / "clip.pt"
    torch.save(clip.state_dict(), weights)
    frame = synthetic_frame(n_rows=160, n_vars=2)
    est = tiny("timesclip", pretrained=True, clip_weights=str(weights)).fit(frame)
    assert est.module_.model.align  # trained with the frozen tower's images
    before = est.predict()
    est.save(tmp_path / "model")
    weights.unlink()

    loaded = Forecaster.load(tmp_path / "model")
    _equal_states(loaded.module_, est.module_)
    assert loaded.predict().equals(before)
    series = torch.randn(2, 24, 2)
    with pytest.raises(RuntimeError, match="loaded from saved weights.*cannot draw"):
        loaded.module_.model.encode_images(series, torch.arange(2).expand(2, -1))
    with pytest.raises(FileNotFoundError, match="model.clip_weights: no checkpoint file"):
        loaded.fit(frame)


def test_a_checkpoint_tests_without_its_backbone_weights(tmp_path, monkeypatch):
    backbone = tmp_path / "gpt2"
    shutil.copytree(tiny_backbone_dir("gpt2"), backbone)
    settings = {**TINY["s2ip_llm"], "backbone": str(backbone)}
    common = [
        "model=s2ip_llm",
        *[f"model.{k}={v}" for k, v in settings.items()],
        "data.seq_len=24",
        "data.pred_len=8",
        "data.batch_size=16",
        *[o for o in TINY_RUN if not o.startswith("trainer.limit_test")],
    ]
    frame = synthetic_frame(n_rows=300)
    cfg = compose_config(*common)
    trained = fit_and_test(
        cfg, tmp_path / "train", datamodule=TimeSeriesDataModule(cfg.data, frame=frame)
    )
    for path in backbone.iterdir():
        if path.name != "config.json":
            path.unlink()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    best = tmp_path / "train" / "checkpoints" / "best.ckpt"
    cfg = compose_config(*common, "train=false", f"ckpt_path={best}")
    data = TimeSeriesDataModule(cfg.data, frame=frame)
    tested = fit_and_test(cfg, tmp_path / "test", datamodule=data)
    assert tested.metrics["test/mse"] == pytest.approx(trained.metrics["test/mse"], rel=1e-6)
    assert tested.metrics["windows/test"] == trained.metrics["windows/test"] > 0
