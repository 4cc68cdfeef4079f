"""Writing a fitted Forecaster's directory (see :mod:`tsfm.estimator.persistence` for its
files): every file is written into a temporary sibling folder, which then takes the place of
``path``, so a save that fails leaves the previous one as it was and no partial folder."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf

from tsfm.data.frames.id_types import saved_ids
from tsfm.data.scaler import StandardScaler
from tsfm.estimator.searched import searched
from tsfm.training.architectures import architectures_of
from tsfm.training.environment import versions
from tsfm.training.runtime import fitted_precision

FORMAT = 1
# What save writes; overwrite=True replaces a folder holding these only.
WRITTEN = {
    "config.yaml",
    "weights.pt",
    "scaler.json",
    "history.pt",
    "forecaster.json",
    "conformal.pt",
    "versions.json",
    "architectures.json",
}


def _plain(value: Any) -> Any:
    """A value JSON cannot store as it is, as the plain value it stands for."""
    import pandas as pd

    if isinstance(value, (np.generic, np.ndarray, pd.Index)):  # targets=df.columns[1:]
        return value.tolist()
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    if isinstance(value, Path):  # work_dir: the path as text, which fit reads the same
        return str(value)
    if isinstance(value, timedelta):  # max_time: seconds, as the config holds it
        return value.total_seconds()
    raise TypeError(f"{value!r} ({type(value).__name__}) has no plain JSON form")


def storable_params(est: Any) -> dict[str, Any]:
    """The estimator's parameters as JSON values, or a TypeError naming the one that is not."""
    return storable(est.get_params(deep=False))


def storable(values: dict[str, Any]) -> dict[str, Any]:
    """Parameters as JSON values, or a TypeError naming the one that is not."""
    params = {}
    for name, value in values.items():
        try:
            params[name] = json.loads(json.dumps(value, default=_plain, allow_nan=False))
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"cannot save parameter {name}={value!r}: {err}. save() stores parameters in "
                "forecaster.json as numbers, strings, lists and mappings of them; set it to "
                f"such a value (set_params({name}=...)) and fit again"
            ) from None
    return params


def metadata(est: Any) -> dict[str, Any]:
    encoder = est.static_encoder_
    meta = {
        "format": FORMAT,
        "params": storable_params(est),
        "mode": est.mode_,
        "columns": list(est.columns_),
        "input_columns": list(est.input_columns_),
        "roles": est.roles_.to_dict(),
        "series": saved_ids(est.series_, est.layout_.id_dtype),  # ids in JSON (id_types.py)
        "static_encoder": encoder.state_dict() if encoder is not None else None,
        "statics": {k: v.tolist() for k, v in est.statics_.items()},
        "freq": est.freq_,
        "lookback": int(est.lookback_),  # the fit's, chosen by the data where lookback=None
        "layout": est.layout_.to_dict(),
        "dims": est.dims_,
        "fit_metrics": est.fit_metrics_,
    }
    fitted = getattr(est, "fitted_params_", None)
    if fitted is not None and storable(fitted) != meta["params"]:  # training settings set
        meta["fitted_params"] = storable(fitted)  # since fit: the model's (saved_params.py)
    if searched(est):  # the parameters tune's search set (estimator/searched.py)
        meta["searched"] = sorted(searched(est))
    if getattr(est, "trained_until_", None) is not None:  # Forecaster.from_run's
        meta["trained_until"] = np.asarray(est.trained_until_).astype(np.int64).tolist()
    if getattr(est, "fitted_rows_", None) is not None:  # what evaluate warns of scoring
        ids = est.layout_.id_dtype  # every fit's record, its series' ids as JSON (id_types.py)
        meta["fitted_rows"] = est.fitted_rows_.to_state(lambda s: saved_ids(s, ids))
    return meta


def scaler_states(est: Any) -> dict[str, Any]:
    """Every fitted scaling, as JSON: the targets' and the inputs' scalers (joint mode) or
    the per-series statistics (independent mode)."""

    def state(scaler: StandardScaler | None) -> dict | None:
        return scaler.state_dict() if scaler is not None else None

    if est.mode_ == "independent":
        return {"series_mean": est.series_mean_.tolist(), "series_std": est.series_std_.tolist()}
    return {"targets": state(est.scaler_), "inputs": state(est.input_scaler_)}


def write_files(est: Any, folder: Path, meta_text: str) -> None:
    OmegaConf.save(est.config_, folder / "config.yaml", resolve=True)
    state = {k: v.detach().cpu() for k, v in est.module_.state_dict().items()}
    torch.save(state, folder / "weights.pt")
    (folder / "scaler.json").write_text(json.dumps(scaler_states(est)))
    history = est.history_
    saved = {
        "values": torch.from_numpy(history.values.copy()),
        "times": torch.from_numpy(history.times.astype(np.int64)),
    }
    if history.before is not None:  # the last values before the look-back (missing values)
        saved["before"] = torch.from_numpy(np.asarray(history.before, dtype=np.float64).copy())
    torch.save(saved, folder / "history.pt")
    (folder / "forecaster.json").write_text(meta_text)
    if est.module_.conformal is not None:
        torch.save(est.module_.conformal.state_dict(), folder / "conformal.pt")
    architectures = architectures_of(est.module_)  # the backbones' configs: loads build them
    if architectures:
        (folder / "architectures.json").write_text(json.dumps(architectures, indent=2))
    record = versions(fitted_precision(est), est.config_.get("threads"))  # the fit's
    (folder / "versions.json").write_text(json.dumps(record, indent=2))


def _replaceable(path: Path, overwrite: bool) -> bool:
    """Whether ``path`` holds a folder to replace (refused when it may not be replaced)."""
    if not path.exists():
        return False
    if not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a folder; save to a folder path")
    content = {p.name for p in path.iterdir()}
    if content and not overwrite:
        raise FileExistsError(f"{path} exists and is not empty; pass overwrite=True to replace it")
    if content - WRITTEN:  # overwrite replaces the whole folder: never someone's other files
        raise FileExistsError(
            f"{path} holds files that save() does not write ({sorted(content - WRITTEN)[:5]}); "
            "overwrite=True replaces a saved Forecaster only: save to another folder"
        )
    return True


def _sibling(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}.{kind}-{uuid.uuid4().hex[:12]}"


def save(est: Any, path: str | Path, overwrite: bool = False) -> Path:
    path = Path(path).expanduser()  # ~: the home folder, as for load
    target = path.resolve()
    replace = _replaceable(target, overwrite)
    meta_text = json.dumps(metadata(est), indent=2, allow_nan=False)  # refused before any file
    target.parent.mkdir(parents=True, exist_ok=True)
    staging, aside = _sibling(target, "saving"), _sibling(target, "replaced")
    staging.mkdir()  # (mkdir, not mkdtemp: the folder gets the usual permissions)
    try:
        write_files(est, staging, meta_text)
        if replace:
            target.rename(aside)
        try:
            staging.rename(target)
        except BaseException:
            if aside.exists():  # the previous save goes back where it was
                aside.rename(target)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # (gone once it is the target)
        if target.exists():  # the new save in place, or the previous one put back
            shutil.rmtree(aside, ignore_errors=True)
    return path
