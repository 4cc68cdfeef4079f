"""Reading the files of a saved Forecaster, each refused with its name when it is not what
``save`` wrote: YAML without anchors or aliases (an alias bomb expands a few KB into GBs),
strict JSON, tensors loaded with ``weights_only=True`` and finite, and weights whose shapes
are those of the model the config describes (checked on the meta device, before the model
is built, so that a tampered config cannot allocate a huge model first).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from tsfm.errors import InputError
from tsfm.estimator.validation import SavedForecasterError
from tsfm.training.architectures import checked_architectures
from tsfm.training.checkpoint_files import load_checkpoint
from tsfm.training.conformal import ConformalScores
from tsfm.training.memory import check_memory, meta_model

MAX_CONFIG_BYTES = 1 << 20  # a saved config is a few KB


def _refuse(path: Path, problem: str) -> SavedForecasterError:
    return SavedForecasterError(f"{path}: {problem}")


def refuse_yaml_aliases(path: Path) -> str:
    """The text of a YAML file, refused if it is large or uses anchors/aliases (``&a``,
    ``*a``) or tags (``!!python/...``), which tsfm never writes; scanned event by event,
    nothing is built."""
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise _refuse(path, f"{size:,} bytes; a saved config is a few KB, tsfm refuses to read it")
    text = path.read_text()
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise _refuse(
                    path,
                    "uses YAML anchors or aliases (&name / *name), which tsfm never writes and "
                    "which can expand a small file into gigabytes; refused",
                )
            if getattr(event, "tag", None) is not None:  # !!python/object/apply:... and kin
                raise _refuse(
                    path,
                    f"uses the YAML tag {event.tag!r}, which tsfm never writes (a tag asks the "
                    "reader to build an object); it is not a tsfm file, refused",
                )
    except yaml.YAMLError as err:
        raise _refuse(path, f"is not valid YAML ({err})") from None
    return text


def _no_constants(token: str) -> Any:
    raise InputError(f"non-standard JSON number {token}")


def read_json(path: Path) -> Any:
    """Strict JSON (no NaN/Infinity tokens) from ``path``, with its name in every error."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the saved Forecaster is incomplete")
    try:
        return json.loads(path.read_text(), parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError) as err:
        raise _refuse(path, f"is not valid JSON ({err}); save the Forecaster again") from None


def checked_scaler(state: Any, n_columns: int, path: Path) -> dict[str, list[float]] | None:
    """A scaler's state: null, or a finite ``mean`` and positive finite ``std`` per variate."""
    if state is None:
        return None
    if not isinstance(state, dict) or set(state) != {"mean", "std"}:
        raise _refuse(path, "must hold exactly 'mean' and 'std' (or null)")
    for key in ("mean", "std"):
        values = state[key]
        if not isinstance(values, list) or len(values) != n_columns:
            raise _refuse(path, f"'{key}' must list one number per variate ({n_columns})")
        if not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in values
        ):
            raise _refuse(path, f"'{key}' holds a value that is not a finite number")
    if not all(v > 0 for v in state["std"]):
        raise _refuse(path, "'std' holds a value that is not positive")
    return state


def checked_scalers(state: Any, meta: dict[str, Any], path: Path) -> dict[str, Any]:
    """scaler.json as ``save`` writes it: the targets' and the inputs' scalers (joint mode;
    a file saved before covariates holds the targets' alone), or per-series statistics
    ``[S, C]`` (independent mode)."""
    n_targets = len(meta["columns"])
    n_inputs = len(meta.get("input_columns", meta["columns"]))
    if meta.get("mode", "joint") == "independent":
        if not isinstance(state, dict) or set(state) != {"series_mean", "series_std"}:
            raise _refuse(path, "must hold exactly 'series_mean' and 'series_std'")
        shape = (len(meta["series"]), n_inputs)
        arrays = {}
        for key in ("series_mean", "series_std"):
            try:
                array = np.asarray(state[key], dtype=np.float64)
            except (TypeError, ValueError):
                raise _refuse(path, f"'{key}' is not a table of numbers") from None
            if array.shape != shape or not np.isfinite(array).all():
                raise _refuse(path, f"'{key}' must be {shape} finite numbers")
            arrays[key] = array
        if not (arrays["series_std"] > 0).all():
            raise _refuse(path, "'series_std' holds a value that is not positive")
        return {"targets": None, "inputs": None, **arrays}
    if state is None or "mean" in state:  # saved before covariates: the targets' scaler
        state = {"targets": state, "inputs": state}
    if not isinstance(state, dict) or set(state) != {"targets", "inputs"}:
        raise _refuse(path, "must hold exactly 'targets' and 'inputs'")
    return {
        "targets": checked_scaler(state["targets"], n_targets, path),
        "inputs": checked_scaler(state["inputs"], n_inputs, path),
    }


def checked_tensors(state: Any, path: Path, nan_allowed: tuple = ()) -> dict[str, torch.Tensor]:
    """A state dict of finite tensors (a NaN weight would forecast NaN); the tensors named in
    ``nan_allowed`` may hold NaN (conformal scores: a missing target), never inf."""
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise _refuse(path, "is not a state dict (names mapped to tensors)")
    for name, tensor in state.items():
        if name in nan_allowed:
            tensor = torch.nan_to_num(tensor, nan=0.0, posinf=torch.inf, neginf=-torch.inf)
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            count = int((~torch.isfinite(tensor)).sum())
            raise _refuse(path, f"tensor '{name}' holds {count} NaN or infinite value(s)")
    return state


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    return checked_tensors(load_checkpoint(path, "cpu", setting=path.name), path)


def load_history(
    path: Path, lookback: int, n_columns: int, n_series: int | None = None
) -> dict[str, torch.Tensor]:
    """history.pt: the last ``lookback`` rows, ``values [lookback, n_columns]`` and ``times``
    (independent panels: ``[n_series, lookback, ...]``), and ``before [n_columns]`` (each
    column's last value before them, if saved); NaN marks a missing value."""
    history = load_checkpoint(path, "cpu", setting=path.name)
    values, times = history.get("values"), history.get("times")
    lead = () if n_series is None else (n_series,)
    if (
        not {"values", "times"} <= set(history) <= {"values", "times", "before"}
        or not isinstance(values, torch.Tensor)
        or values.shape != (*lead, lookback, n_columns)
    ):
        raise _refuse(path, f"must hold 'values' {[*lead, lookback, n_columns]} and 'times'")
    before = history.get("before", torch.zeros(*lead, n_columns))
    if not isinstance(before, torch.Tensor) or before.shape != (*lead, n_columns):
        raise _refuse(path, f"'before' must be {[*lead, n_columns]} values")
    if torch.isinf(before).any():
        raise _refuse(path, "'before' holds an infinite value")
    if torch.isinf(values).any():
        raise _refuse(path, "'values' holds an infinite value")
    if not isinstance(times, torch.Tensor) or times.shape != (*lead, lookback):
        raise _refuse(path, f"'times' must be {[*lead, lookback]} int64 timestamps")
    if times.dtype != torch.int64:
        raise _refuse(path, f"'times' must be {[*lead, lookback]} int64 timestamps")
    if not (times[..., 1:] > times[..., :-1]).all():  # predict's dates follow the last one
        raise _refuse(path, "'times' are not increasing")
    return history


def check_weights_fit_config(
    model_cfg: dict[str, Any],
    dims: dict[str, int],
    weights: dict[str, torch.Tensor],
    path: Path,
    *,
    memory: bool,
) -> None:
    """The model of ``model_cfg`` (built on the meta device) has exactly the weights' shapes;
    with ``memory``, building it must also fit in the free memory."""
    model = meta_model(model_cfg, dims)
    if model is not None:
        for name, tensor in model.state_dict().items():
            saved = weights.get(f"model.{name}")
            if saved is None or tuple(saved.shape) != tuple(tensor.shape):
                shape = None if saved is None else tuple(saved.shape)
                raise _refuse(
                    path,
                    f"does not match config.yaml: the config's model has '{name}' of shape "
                    f"{tuple(tensor.shape)}, the weights {shape}",
                )
    if memory:
        check_memory(
            model_cfg,
            dims,
            accelerator="cpu",
            optimizer=None,
            override="Forecaster.load(path, check_memory=False)",
            model=model,
        )


def load_architectures(path: Path, settings: Any) -> dict[str, dict[str, Any]]:
    """architectures.json: the architecture config of each pretrained part, keyed by one of
    ``settings`` (those naming the model's pretrained sources); {} for a save written before
    tsfm recorded them (or of a model without pretrained parts)."""
    if not path.is_file():
        return {}
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise _refuse(path, f"{size:,} bytes; architecture configs are a few KB, refused")
    try:
        recorded = checked_architectures(read_json(path), path)
    except ValueError as err:
        raise SavedForecasterError(str(err)) from None
    unknown = sorted(set(recorded) - set(settings))
    if unknown:
        raise _refuse(
            path,
            f"records architectures for {unknown}, which name no pretrained part of this model "
            f"({sorted(settings)}); it is not this model's file",
        )
    return recorded


def load_conformal(path: Path, meta: dict[str, Any]) -> ConformalScores:
    """conformal.pt: calibration scores (tensors only, read by the one checkpoint loader),
    checked against the forecaster's horizon and targets."""
    state = load_checkpoint(path, "cpu", setting=path.name)
    state = checked_tensors(state, path, nan_allowed=("scores",))  # NaN: a missing target
    try:
        scores = ConformalScores.from_state_dict(state)
    except (KeyError, ValueError) as err:
        raise _refuse(path, f"is not a forecaster's conformal scores ({err})") from None
    _, steps, series = scores.scores.shape
    horizon, n = meta["params"]["horizon"], len(meta["columns"])
    joint = meta.get("mode", "joint") == "joint"
    if steps != horizon or (joint and series not in (1, n)):
        raise _refuse(
            path,
            f"holds scores for {steps} steps and {series} series; the forecaster forecasts "
            f"{horizon} steps of {n} series: the file is not this forecaster's",
        )
    return scores
