"""A fitted Forecaster as a directory (written by :mod:`tsfm.estimator.saving`), and back.

::

    config.yaml      the resolved run config (what python -m tsfm.run would use)
    weights.pt       the module's state_dict (tensors only: torch.load(weights_only=True))
    scaler.json      per-variate mean and std, fitted on the training rows
    history.pt       the last look-back rows (values and timestamps), for predict()
    forecaster.json  the estimator's parameters, variates, frequency and frame layout (and the
                     parameters it was fitted with, where training settings changed since:
                     :mod:`tsfm.estimator.saved_params`)
    conformal.pt     conformal calibration scores, when fitted with conformal_windows (tensors:
                     torch.load(weights_only=True))
    architectures.json  the architecture config of each pretrained backbone (S2IP-LLM's
                     config.json, TimesCLIP's open_clip configs), which loading builds from:
                     a save loads without the backbone's files (saves from before it: read
                     from the backbone's source, as the settings name it)
    versions.json    versions of tsfm (git commit), its libraries, python; precision, threads

The output head (``loss``) and its quantile levels (``quantiles``) are part of config.yaml.

Loading builds only tsfm's own classes: the model named in the config must be in the
registry, and a config asking for any other class (``_target_`` and the like) is refused.
Every file is checked against what ``save`` writes before anything is built (see
:mod:`tsfm.estimator.validation` and :mod:`tsfm.estimator.saved_files`): a YAML anchor, a
parameter or override pointing a refit at files or URLs, a weight that is NaN or does not
fit the config's model, a model too large for the free memory are all refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from tsfm.data.frames import SeriesTable
from tsfm.data.roles import ColumnRoles
from tsfm.data.scaler import StandardScaler
from tsfm.data.statics import StaticEncoder
from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError
from tsfm.estimator.checks import remember_fitted_params
from tsfm.estimator.fitted_record import FittedRows
from tsfm.estimator.moved_sources import apply_sources, missing_source, source_settings
from tsfm.estimator.none_values import restoring
from tsfm.estimator.panel_history import PanelHistory
from tsfm.estimator.params import param_name
from tsfm.estimator.saved_files import (
    check_weights_fit_config,
    checked_scalers,
    load_architectures,
    load_conformal,
    load_history,
    load_weights,
    read_json,
    refuse_yaml_aliases,
)
from tsfm.estimator.saved_params import check_saved_params, fitted_params
from tsfm.estimator.saved_versions import naming_the_saving_version
from tsfm.estimator.saving import FORMAT
from tsfm.estimator.searched import mark_searched
from tsfm.estimator.validation import INSTANTIATION_KEYS, SavedForecasterError, check_metadata
from tsfm.local_files import local_path
from tsfm.models import REGISTRY, RENAMED, with_added_settings
from tsfm.models.common import restoring_saved_weights
from tsfm.training.artifacts import built_dims, module_from_config
from tsfm.training.heads import KNOWN_LOSSES
from tsfm.training.runtime import fitted_precision, warn_moved_precision

FILES = ("config.yaml", "weights.pt", "scaler.json", "history.pt", "forecaster.json")


def _foreign_keys(node: Any, where: str = "") -> list[str]:
    if isinstance(node, dict):
        found = [f"{where}{k}" for k in node if k in INSTANTIATION_KEYS]
        for key, value in node.items():
            found += _foreign_keys(value, f"{where}{key}.")
        return found
    if isinstance(node, list):
        return [k for i, item in enumerate(node) for k in _foreign_keys(item, f"{where}{i}.")]
    return []


def _interpolations(node: Any, where: str = "") -> list[str]:
    if isinstance(node, dict):
        return [k for key, v in node.items() for k in _interpolations(v, f"{where}{key}.")]
    if isinstance(node, list):
        return [k for i, v in enumerate(node) for k in _interpolations(v, f"{where}{i}.")]
    return [f"{where[:-1]}={node}"] if isinstance(node, str) and "${" in node else []


def checked_config(
    path: Path, data_files: bool = False, added: list[str] | None = None
) -> DictConfig:
    """config.yaml, refused unless it asks for tsfm's registered classes only (and holds no
    YAML anchors or aliases, nor a checkpoint or data path); ``data_files``: a command-line
    run's config, which names the data it read (and any checkpoint it resumed from). Model
    settings added since it was written get the values it computed with (``added``, when
    given, collects their names)."""
    raw = OmegaConf.to_container(OmegaConf.create(refuse_yaml_aliases(path)), resolve=False)
    if not isinstance(raw, dict):
        raise InputError(f"{path} does not hold a run config (a mapping)")
    if not data_files and _interpolations(raw):  # save writes the config resolved
        raise SavedForecasterError(
            f"{path}: holds interpolations ({', '.join(_interpolations(raw)[:3])}), which "
            "save() never writes (it resolves the config) and which could read the "
            "environment; it is not a tsfm file or was edited, refused"
        )
    foreign = _foreign_keys(raw)
    if foreign:
        raise InputError(
            f"{path} asks for classes by import path ({', '.join(foreign)}); tsfm only builds "
            f"its own registered models ({sorted(REGISTRY)}) and refuses to load it"
        )
    model = raw.get("model") or {}
    name = model.get("name") if isinstance(model, dict) else None
    for old_key, new_key in RENAMED.get(name, {}).items():  # saved before the rename
        if old_key in model and new_key not in model:
            model[new_key] = model.pop(old_key)
    filled = with_added_settings(model)  # saved before a setting existed: as it computed
    if added is not None:
        added.extend(filled)
    if name not in REGISTRY:
        raise InputError(
            f"{path} names model {name!r}, which is not a registered tsfm model "
            f"({sorted(REGISTRY)}); tsfm only builds its own classes and refuses to load it"
        )
    if raw.get("loss") not in KNOWN_LOSSES:
        raise InputError(
            f"{path} names loss {raw.get('loss')!r}; known losses: {list(KNOWN_LOSSES)}"
        )
    data = raw.get("data")
    if isinstance(data, dict) and "local_calendar" not in data:
        data["local_calendar"] = False  # saved before: its calendar features read UTC's clock
    if data_files and isinstance(data, dict) and "cutoffs" not in data:
        data["cutoffs"] = "per_series"  # a run from before data.cutoffs: split so
    cfg = structured_config(raw, str(path))
    if data_files:  # a run's: what it read and resumed from; nothing a refit would reuse
        return cfg
    pointers = {k: cfg.get(k) for k in ("ckpt_path", "resume")} | {
        f"data.{k}": cfg.data.get(k) for k in ("path", "root")
    }
    if any(pointers.values()) or cfg.data.name != "custom":
        raise InputError(
            f"{path} points at files or a registered dataset ({pointers}, data.name="
            f"{cfg.data.name!r}); a Forecaster's config never does, so it is refused"
        )
    return cfg


def structured_config(raw: dict[str, Any], where: str) -> DictConfig:
    """A plain run config (of a registered model) merged into its typed schema, as a fit
    builds it; ``where`` names it in the error."""
    from tsfm.config import RunConfig, register_configs
    from tsfm.models import config_schema

    register_configs()
    schema = OmegaConf.structured(RunConfig)
    schema.model = OmegaConf.structured(config_schema(raw["model"]["name"]))
    try:
        return OmegaConf.merge(schema, raw)
    except Exception as err:
        raise InputError(f"{where} does not fit the run config schema: {err}") from None


def load(
    cls: type, path: str | Path, check_memory: bool = True, sources: dict[str, Any] | None = None
) -> Any:
    """``sources``: where pretrained parts are now (:mod:`moved_sources`). ``~`` is the home
    folder; a refusal names the tsfm that saved the folder (:mod:`saved_versions`)."""
    path = local_path(path, "path", "saved Forecasters")
    if not path.is_dir():
        raise FileNotFoundError(f"{path} does not exist or is not a folder: no saved Forecaster")
    with naming_the_saving_version(path), restoring():  # saved Nones: the next fit refuses
        return _load(cls, path, check_memory, sources)


def _load(cls: type, path: Path, check_memory: bool, sources: dict[str, Any] | None) -> Any:
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{path} is not a saved Forecaster: {missing} missing")
    added: list[str] = []
    cfg = checked_config(path / "config.yaml", added=added)
    meta = read_json(path / "forecaster.json")
    if not isinstance(meta, dict):
        raise SavedForecasterError(
            f"{path / 'forecaster.json'} holds {type(meta).__name__}, not the object save() "
            "writes: it is not a tsfm file or is damaged"
        )
    form = meta.get("format")
    if form != FORMAT:
        newer = isinstance(form, int) and not isinstance(form, bool) and form > FORMAT
        raise InputError(
            f"{path}: forecaster.json has format {form!r}, "
            + (f"newer than format {FORMAT}, which this tsfm reads" if newer else "unknown")
        )
    meta = check_metadata(cls, meta, cfg, path / "forecaster.json")
    if added and meta["dims"].get("n_future"):  # a refit or warm fit keeps what it computed
        filled = {param_name(cfg.model.name, f"model.{k}"): cfg.model[k] for k in added}
        for params in (meta["params"], meta.get("fitted_params") or {}):
            params.update(filled)
    mode = meta.get("mode", "joint")
    input_columns = meta.get("input_columns", meta["columns"])
    series = meta.get("series")
    scalers = checked_scalers(read_json(path / "scaler.json"), meta, path / "scaler.json")
    target_scaling = scalers["targets"]
    if mode == "independent":
        n = len(meta["columns"])
        mean, std = scalers["series_mean"], scalers["series_std"]
        target_scaling = {"mean": mean[:, :n].tolist(), "std": std[:, :n].tolist()}
    weights = load_weights(path / "weights.pt")
    model = cfg.model.name
    recorded = load_architectures(path / "architectures.json", source_settings(model))
    if sources:  # where pretrained sources are now: in the settings a refit reads
        apply_sources(model, cfg.model, sources, recorded, "Forecaster.load")
        named = {param_name(model, f"model.{k}"): v for k, v in sources.items()}
        for params in (meta["params"], meta.get("fitted_params") or {}):
            params.update(named)
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    model_dims = built_dims(cfg, meta["dims"])
    # weights.pt holds every weight, architectures.json the backbones' architectures: no
    # pretrained source is read (saves from before architectures.json: their configs are)
    with restoring_saved_weights(recorded):
        check_weights_fit_config(model_cfg, model_dims, weights, path, memory=check_memory)
        check_saved_params(cls, meta, cfg, path)  # and with the fit's (saved_params.py)
        try:
            module = module_from_config(cfg, meta["dims"], target_scaling, training=False)
        except FileNotFoundError as err:  # a save from before architectures.json
            raise missing_source(err, model, "Forecaster.load") from None
    try:
        module.load_state_dict(weights)
    except RuntimeError as err:
        raise InputError(f"{path / 'weights.pt'} does not fit the model: {err}") from None
    if (path / "conformal.pt").is_file():
        module.conformal = load_conformal(path / "conformal.pt", meta)
    panel = len(series) if mode == "independent" else None
    lookback = int(meta.get("lookback") or cfg.data.seq_len)  # the fit's (lookback=None: chosen)
    history = load_history(path / "history.pt", lookback, len(input_columns), panel)
    layout = meta["layout"]
    integer_time = layout.time_type.get("kind") == "int"
    times = history["times"].numpy().astype(np.int64 if integer_time else "datetime64[ns]")
    est = cls(**meta["params"])
    mark_searched(est, meta.get("searched") or ())  # what tune's search set
    est.config_ = cfg
    est.lookback_ = lookback
    est.module_ = module.eval()
    est.mode_ = mode
    est.columns_ = meta["columns"]
    est.input_columns_ = input_columns
    roles = {k: tuple(v) for k, v in meta.get("roles", {}).items()}
    if not roles.get("targets"):  # saved before roles: every column a target (as checked)
        roles["targets"] = tuple(est.columns_)
    est.roles_ = ColumnRoles(**roles)
    est.n_variates_ = len(est.columns_)
    est.series_ = series
    encoder = meta.get("static_encoder")
    est.static_encoder_ = StaticEncoder(encoder) if encoder else None
    dtypes = {"static_real": torch.float32, "static_cat": torch.long}
    est.statics_ = {k: torch.tensor(v, dtype=dtypes[k]) for k, v in meta.get("statics", {}).items()}
    est.freq_ = meta["freq"]
    est.layout_ = layout
    values = history["values"].numpy()
    before = history["before"].numpy() if "before" in history else None
    if before is None and values.ndim == 2 and np.isnan(values[0]).any():  # (panels pad)
        warn_user(
            f"{path} was saved by an earlier tsfm, without the values observed before its "
            "look-back, which starts with missing values: predict() fills them with the "
            "column's mean, where training and predict(frame) carry the last value before "
            "them; predict from a frame (or fit again and save) for the model's own forecast"
        )
    if mode == "independent":
        est.series_mean_, est.series_std_ = mean, std
        est.scaler_ = est.input_scaler_ = None
        est.history_ = PanelHistory(values, times, before)
    else:
        est.scaler_ = from_state(scalers["targets"])
        est.input_scaler_ = from_state(scalers["inputs"])
        own = {str(s): s for s in series or []}  # a long frame's targets: its series' ids
        columns = [own.get(c, c) for c in est.input_columns_]
        est.history_ = SeriesTable(values, times, columns, layout, before=before)
    est.dims_ = meta["dims"]
    est.fit_metrics_ = meta.get("fit_metrics", {})  # the precision it used, kept (or warned)
    chosen = cfg.trainer.get("precision")
    warn_moved_precision(fitted_precision(est), chosen, module.device, "Forecaster.load")
    if meta.get("trained_until") is not None:
        est.trained_until_ = np.asarray(meta["trained_until"]).astype(times.dtype)[()]
    if meta.get("fitted_rows") is not None:
        saved = series if mode == "independent" else None  # a record saved without ids
        est.fitted_rows_ = FittedRows.from_state(meta["fitted_rows"], times.dtype, saved)
    remember_fitted_params(est)
    if meta.get("fitted_params") is not None:  # training settings set after the fit
        est.fitted_params_ = fitted_params(cls, meta["fitted_params"])
    return est


def from_state(state: dict | None) -> StandardScaler | None:
    return StandardScaler.from_state_dict(state) if state else None
