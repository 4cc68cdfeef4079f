"""Warm fits of a TimesCLIP with a frozen pretrained vision tower: saved weights leave the
tower out, so a warm fit (in memory, after ``load``, after ``from_run``) reads it from its
source and goes on from the fitted weights; a source that is gone, or that no longer describes
the architecture the fitted model recorded, is refused before training, naming it, while
forecasting still works without it."""

from __future__ import annotations

import json
import shutil
import warnings

import pandas as pd
import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.models import TINY
from tests.helpers.runs import TINY_RUN
from tests.test_warm_start import TINY_LR, _close, _weights
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.data.sources import BUNDLED_DIR
from tsfm.models.common import restoring_saved_weights
from tsfm.models.timesclip.clip_backbones import CONFIG_DIR
from tsfm.models.timesclip.model import TimesCLIP
from tsfm.run import run

ETTH1 = BUNDLED_DIR / "ETTh1.csv"


def _clip_file(path, seed: int = 5):
    """A tiny CLIP checkpoint (random weights, seeded) at ``path``."""
    import open_clip

    from tsfm.models.timesclip.clip_backbones import resolve_architecture

    torch.manual_seed(seed)
    torch.save(open_clip.create_model(resolve_architecture("tsfm-tiny-clip")).state_dict(), path)
    return path


def _tower(est: Forecaster) -> dict[str, torch.Tensor]:
    model = est.module_.model
    assert not model.placeholder_vision
    return {k: v.clone() for k, v in model.tower.encoder.state_dict().items()}


def _mse(est: Forecaster, frame: pd.DataFrame) -> float:
    with warnings.catch_warnings():  # in-sample rows, a tiny frame: scores to compare only
        warnings.simplefilter("ignore")
        return est.evaluate(frame)["mse"]


def _warm_fit_keeps(est: Forecaster, frame: pd.DataFrame, tower: dict) -> None:
    """A warm fit with a learning rate too small to move a weight: it trains (the alignment
    loss draws through the frozen tower, read from its source) and forecasts as before."""
    weights, before = _weights(est), est.predict(frame)
    est.set_params(warm_start=True, lr=TINY_LR, verbose=0).fit(frame)
    assert _close(weights, _weights(est))  # went on from the fitted weights
    pd.testing.assert_frame_equal(est.predict(frame), before)
    assert _close(tower, _tower(est))  # the tower is the source's, not a random one


def test_a_frozen_tower_timesclip_warm_fits_in_memory_and_after_load(tmp_path):
    weights = _clip_file(tmp_path / "clip.pt")
    frame = synthetic_frame(n_rows=160, n_vars=2)
    settings = {"pretrained": True, "clip_weights": str(weights), "backbone_lr": None}
    est = tiny("timesclip", **settings).fit(frame)  # backbone_lr=None: lr moves every weight
    assert est.module_.model.align and est.module_.model.freeze_vision
    tower = _tower(est)
    est.save(tmp_path / "model")
    _warm_fit_keeps(est, frame, tower)

    loaded = Forecaster.load(tmp_path / "model")
    assert loaded.module_.model.placeholder_vision  # loading reads no CLIP weights
    _warm_fit_keeps(loaded, frame, tower)
    loaded.set_params(lr=1e-2).fit(frame)  # and it trains
    assert not _close(_weights(est), _weights(loaded))


def test_a_frozen_tower_timesclip_run_warm_fits_after_from_run(tmp_path):
    weights = _clip_file(tmp_path / "clip.pt")
    model = {**TINY["timesclip"], "pretrained": True, "clip_weights": str(weights)}
    cfg = compose_config(
        "model=timesclip", *[f"model.{k}={v}" for k, v in model.items()],
        "model.backbone_lr=null", "data.seq_len=24", "data.pred_len=8", "data.batch_size=16",
        *TINY_RUN,
    )  # fmt: skip
    run(cfg, tmp_path / "run")
    est = Forecaster.from_run(tmp_path / "run")
    assert est.module_.model.placeholder_vision
    tower = TimesCLIP(24, 8, **model).tower.encoder.state_dict()  # the CLIP file's, at 32 px
    est.set_params(val_size=None)  # the run's validation share would be rows it was fitted on
    _warm_fit_keeps(est, pd.read_csv(ETTH1, parse_dates=["date"]).iloc[:300], tower)


def test_a_warm_fit_whose_clip_file_is_gone_is_refused_and_forecasts_go_on(tmp_path):
    weights = _clip_file(tmp_path / "clip.pt")
    frame = synthetic_frame(n_rows=160, n_vars=2)
    est = tiny("timesclip", pretrained=True, clip_weights=str(weights), warm_start=True)
    est.fit(frame).save(tmp_path / "model")
    before, scores = est.predict(), _mse(est, frame)
    weights.unlink()

    loaded = Forecaster.load(tmp_path / "model")
    pd.testing.assert_frame_equal(loaded.predict(), before)  # forecasting needs no tower
    assert _mse(loaded, frame) == scores
    loaded.set_params(warm_start=True)
    for fitted in (est, loaded):
        with pytest.raises(FileNotFoundError) as refused:
            fitted.fit(frame)
        message = str(refused.value)
        assert "warm_start=True" in message and "frozen vision tower" in message
        assert f"clip_weights={str(weights)!r}" in message and "no file is there" in message
        assert f"Put that checkpoint back at {weights.resolve()}" in message
        assert "warm_start=False" in message and "predict and evaluate" in message
        pd.testing.assert_frame_equal(fitted.predict(), before)  # still fitted as it was


def test_a_warm_build_reads_only_the_frozen_tower_it_trains_with(tmp_path):
    clip = tmp_path / "clip.pt"  # never written: the CLIP's weights come from the state dict
    tower = _clip_file(tmp_path / "tower.pt", seed=9)
    settings = {
        **TINY["timesclip"], "pretrained": True, "clip_weights": str(clip),
        "vision": "open_clip:tsfm-tiny-clip", "vision_weights": str(tower),
    }  # fmt: skip
    fresh_settings = {**settings, "clip_weights": str(_clip_file(tmp_path / "other.pt"))}
    expected = TimesCLIP(24, 8, **fresh_settings).tower.encoder.state_dict()
    with restoring_saved_weights(to_train=True):
        warm = TimesCLIP(24, 8, **settings)
    assert not warm.placeholder_vision
    assert _close(expected, warm.tower.encoder.state_dict())
    with restoring_saved_weights():  # to forecast: nothing is read, the tower a placeholder
        assert TimesCLIP(24, 8, **settings).placeholder_vision


def test_a_warm_fit_whose_pretrained_tag_cannot_be_read_says_so(monkeypatch):
    import open_clip

    def offline(name, pretrained=None, **kwargs):
        if pretrained:
            raise OSError("cannot reach the Hugging Face Hub (offline)")
        raise AssertionError("a warm fit reads the frozen tower's pretrained weights")

    monkeypatch.setattr(open_clip, "create_model", offline)
    # the Hub answers tsfm's check; reading the tag itself fails (without a network, that
    # check fails first and the message says so: tests/models/test_hub_access.py)
    monkeypatch.setattr("tsfm.models.hub_access.unreachable_reason", lambda: None)
    settings = {**TINY["timesclip"], "pretrained": True, "clip": "ViT-B-32"}
    with restoring_saved_weights(to_train=True), pytest.raises(RuntimeError) as refused:
        TimesCLIP(24, 8, clip_weights="openai", **settings)
    message = str(refused.value)
    assert "warm_start=True" in message and "clip_weights='openai' (CLIP ViT-B-32)" in message
    assert "reading it failed: could not load the CLIP weights" in message
    assert "offline" in message and "Hugging Face cache" in message


def _head_width(path, width: int) -> None:
    """The CLIP JSON at ``path`` with another vision head width: the same weight shapes, a
    tower with other heads. open_clip reads the file again, as a new process would."""
    import open_clip

    config = json.loads(path.read_text())
    config["vision_cfg"]["head_width"] = width
    path.write_text(json.dumps(config))
    open_clip.add_model_config(path)


@pytest.mark.parametrize("tower", ["clip", "open_clip"])
def test_a_warm_fit_whose_source_architecture_changed_is_refused(tmp_path, tower):
    frame = synthetic_frame(n_rows=160, n_vars=2)
    config = tmp_path / "myclip.json"
    shutil.copy(CONFIG_DIR / "tsfm-tiny-clip.json", config)
    weights = _clip_file(tmp_path / "clip.pt")
    settings = {"pretrained": True, "backbone_lr": None}
    if tower == "clip":  # the frozen tower is the CLIP's own, from clip + clip_weights
        settings.update(clip=str(config), clip_weights=str(weights))
        field = f"model.clip='{config}'"
    else:  # an open_clip: tower, from vision + vision_weights
        settings.update(clip_weights=str(_clip_file(tmp_path / "text.pt", seed=7)))
        settings.update(vision=f"open_clip:{config}", vision_weights=str(weights))
        field = f"model.vision='{config}'"
    est = tiny("timesclip", **settings).fit(frame)
    fitted_tower = _tower(est)
    est.save(tmp_path / "model")
    before = est.predict(frame)

    _head_width(config, 8)  # 16 -> 8: two heads -> four
    loaded = Forecaster.load(tmp_path / "model")
    for fitted in (est, loaded):
        fitted.set_params(warm_start=True, lr=TINY_LR, verbose=0)
        with pytest.raises(ValueError) as refused:
            fitted.fit(frame)
        message = str(refused.value)
        assert f"{field} is not the CLIP architecture this model was saved with" in message
        assert "vision_cfg.head_width: 16 -> 8" in message and "warm_start=False" in message
        pd.testing.assert_frame_equal(fitted.predict(frame), before)  # fitted as it was

    _head_width(config, 16)  # the config as fitted: the warm fit reads the tower again
    _warm_fit_keeps(loaded, frame, fitted_tower)


def test_a_warm_fit_after_load_reads_the_tower_where_load_was_told_it_moved(tmp_path):
    frame = synthetic_frame(n_rows=160, n_vars=2)
    weights = _clip_file(tmp_path / "clip.pt")
    settings = {"pretrained": True, "clip_weights": str(weights), "backbone_lr": None}
    est = tiny("timesclip", **settings).fit(frame)
    tower = _tower(est)
    est.save(tmp_path / "model")
    moved = tmp_path / "moved.pt"
    shutil.move(weights, moved)
    loaded = Forecaster.load(tmp_path / "model", clip_weights=str(moved))
    _warm_fit_keeps(loaded, frame, tower)
    assert loaded.get_params()["clip_weights"] == str(moved)
