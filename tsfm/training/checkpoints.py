"""The one way tsfm reads a checkpoint: a local file, loaded with ``weights_only=True``.

A pickle can run any code while it is read. ``torch.load(..., weights_only=True)`` only
rebuilds tensors and plain containers, whatever torch's default is (torch 2.4 and 2.5 default
to full unpickling) and whatever an environment variable says; Lightning, left alone, turns
``weights_only`` off for ``http...`` paths. So every checkpoint tsfm reads (``ckpt_path``,
``resume``, the best checkpoint before testing, a saved Forecaster's ``weights.pt`` and
``history.pt``) goes through :func:`load_checkpoint`, and Lightning's own loading goes
through :class:`SafeCheckpointIO`, which calls it. URLs are refused: download the file, look
at where it came from, and pass the local path. The reading itself is
:mod:`tsfm.training.checkpoint_files` (torch only; re-exported here); this module adds
Lightning's side and the training module a checkpoint holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from tsfm.errors import InputError
from tsfm.models import ADDED, with_added_settings
from tsfm.models.common import restoring_saved_weights
from tsfm.training.architectures import architecture_changes, recorded_in
from tsfm.training.checkpoint_files import (
    load_checkpoint,
    local_checkpoint,  # noqa: F401 (re-exported)
)
from tsfm.training.module import ForecastingModule


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint reader, through :func:`load_checkpoint` (saving is unchanged)."""

    def load_checkpoint(
        self, path: Any, map_location: Any = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        return load_checkpoint(path, map_location if map_location is not None else "cpu")


def restore_module(path: str | Path, map_location: Any = "cpu") -> ForecastingModule:
    """The :class:`~tsfm.training.module.ForecastingModule` a Lightning checkpoint of tsfm
    holds (its hyperparameters are plain values, so it is rebuilt from the registry)."""
    return module_of(load_checkpoint(path, map_location), path)


def module_of(checkpoint: Any, path: str | Path) -> ForecastingModule:
    """The module of a checkpoint already read with :func:`load_checkpoint` (from ``path``)."""
    if not isinstance(checkpoint, dict) or not {"hyper_parameters", "state_dict"} <= set(
        checkpoint
    ):
        raise InputError(f"{path} is not a checkpoint of a tsfm run (no hyperparameters)")
    # settings added since it was written: the values it was trained with (in place, so that
    # a caller comparing the recorded settings reads them too)
    with_added_settings(checkpoint["hyper_parameters"].get("model"))
    # the state dict holds every weight, the checkpoint its pretrained parts' architectures
    # (a checkpoint written before tsfm recorded them: read from their source)
    with restoring_saved_weights(recorded_in(checkpoint, path)):
        module = ForecastingModule(**checkpoint["hyper_parameters"])
    module.load_state_dict(checkpoint["state_dict"])
    return module


# How a checkpoint's recorded sizes are named to the user (others: "the data's <name>").
_DIM_SETTINGS = {"seq_len": "data.seq_len", "pred_len": "data.pred_len"}


def _recorded_differences(saved: dict[str, Any], module: ForecastingModule) -> list[str]:
    """The weight-shaping settings of ``module`` that differ from a checkpoint's ``saved``
    hyperparameters, as ``"<setting> is <now> but the checkpoint was trained with <then>"``."""
    now = module.hparams
    pairs = [
        (f"model.{k}", now["model"].get(k), v)
        for k, v in (saved.get("model") or {}).items()
        if k != "name"
    ]
    pairs.insert(0, ("model.name", now["model"]["name"], (saved.get("model") or {}).get("name")))
    pairs += [
        (_DIM_SETTINGS.get(k, f"the data's {k}"), now["dims"].get(k), v)
        for k, v in (saved.get("dims") or {}).items()
    ]
    pairs += [(k, now.get(k), saved.get(k)) for k in ("loss", "quantiles")]
    return [
        f"{key} is {mine!r} but the checkpoint was trained with {theirs!r}"
        for key, mine, theirs in pairs
        if mine != theirs and not (isinstance(mine, (list, tuple)) and list(mine) == theirs)
    ]


def refuse_added_settings(
    saved: dict[str, Any], module: ForecastingModule, path: str | Path, setting: str
) -> None:
    """Refuse a checkpoint with future covariates written before a model setting of
    :data:`~tsfm.models.ADDED` existed, when this run's value computes otherwise than the
    checkpoint was trained to (the weights would be read another way)."""
    model = saved.get("model") if isinstance(saved.get("model"), dict) else {}
    if not (saved.get("dims") or {}).get("n_future"):
        return
    now = module.hparams["model"]
    differ = {
        k: v for k, v in ADDED.get(now.get("name"), {}).items() if k not in model and now[k] != v
    }
    if differ:
        fix = " ".join(f"model.{k}={v}" for k, v in differ.items())
        raise InputError(
            f"{setting}: {path} was trained before the setting(s) {sorted(differ)} existed, "
            f"as {fix} computes, and this run sets "
            f"{', '.join(f'{k}={now[k]!r}' for k in differ)}: run with {fix} to use it"
        )


def check_checkpoint_fits(path: str | Path, module: ForecastingModule, setting: str) -> None:
    """Refuse a checkpoint whose weights do not fit ``module`` (the run's model), naming the
    settings it was trained with that differ; ``setting`` says how the run chose the file."""
    checkpoint = load_checkpoint(path, "cpu", setting, mmap=True)
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise InputError(f"{setting}: {path} is not a checkpoint of a tsfm run (no state_dict)")
    refuse_added_settings(checkpoint.get("hyper_parameters") or {}, module, path, setting)
    saved = checkpoint["state_dict"]
    mine = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in saved.items() if isinstance(v, torch.Tensor)}
    if mine == theirs:
        changes = architecture_changes(recorded_in(checkpoint, path), module)
        if changes:  # same shapes, another model (e.g. a backbone config.json edited since)
            settings = sorted({change.split(":")[0] for change in changes})
            raise InputError(
                f"{setting}: {path} was trained with other backbone architectures than this "
                f"run builds from their sources (saved -> now: {'; '.join(changes[:4])}). "
                f"Point {', '.join(settings)} at the source the checkpoint was trained from"
            )
        return
    differences = _recorded_differences(checkpoint.get("hyper_parameters") or {}, module)
    if not differences:  # the recorded settings agree: name the first weight that does not
        name = next(k for k in sorted(mine.keys() | theirs.keys()) if mine.get(k) != theirs.get(k))
        differences = [f"weight '{name}' has shape {mine.get(name)} here, {theirs.get(name)} there"]
    raise InputError(
        f"{setting}: {path} does not fit this run's model: {'; '.join(differences)}. Run with "
        "the settings the checkpoint was trained with (its run's config.yaml), or train anew"
    )
