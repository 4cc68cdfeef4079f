"""What ``Forecaster.load`` accepts in ``forecaster.json``: exactly what ``save`` writes.

A saved Forecaster may come from someone else. Its metadata is checked field by field
before anything is built: the estimator's parameters by name and type (extra ones as
``set_params`` checks them), overrides that would point a refit at files, URLs or Hydra's
own settings refused, and the frame layout, frequency and dimensions against the config.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser

from tsfm.config import CONF_DIR
from tsfm.data.frames import Layout
from tsfm.data.frames.id_types import loaded_ids
from tsfm.errors import InputError
from tsfm.estimator.checks import flag, verbose_level
from tsfm.estimator.fit_metrics import fit_metric_value
from tsfm.estimator.fitted_record import saved_form
from tsfm.estimator.params import config_key
from tsfm.estimator.saved_layout import check_layout
from tsfm.estimator.saved_roles import check_roles
from tsfm.local_files import URL
from tsfm.models import REGISTRY
from tsfm.training.preflight import fits_type, readable_type

INSTANTIATION_KEYS = ("_target_", "_partial_", "_args_", "_convert_", "_recursive_")
META_KEYS = {"format", "params", "columns", "freq", "layout", "dims"}
OPTIONAL_META_KEYS = {
    "fit_metrics",
    "trained_until",
    "fitted_rows",
    "mode",
    "input_columns",
    "roles",
    "series",
    "static_encoder",
    "statics",
    "searched",
    "lookback",
    "fitted_params",  # the fit's, when training settings changed since (saved_params.py)
}
COUNT_DIMS = {"seq_len", "pred_len", "n_vars", "n_marks", "n_past", "n_future", "n_static_real"}
DIM_KEYS = COUNT_DIMS | {"static_cardinalities", "masked"}
# Settings that point a run at files, URLs or other runs; a saved Forecaster may not set them.
FILE_KEYS = ("ckpt_path", "resume", "data.path", "data.root", "tune.storage", "tune.dir")
FILE_PREFIXES = ("hydra", "hparams_search", "tune")
# The Forecaster's own parameters that its construction checks by value rather than by
# type hint (verbose=False is 0, warm_start=1 is True): load takes what construction takes.
OWN_CHECKS = {"verbose": (verbose_level, "0, 1 or 2"), "warm_start": (flag, "True or False")}


class SavedForecasterError(InputError):
    """A saved Forecaster's files are not what tsfm writes."""


def _refuse(path: Path, problem: str) -> typing.NoReturn:
    raise SavedForecasterError(f"{path} is not a Forecaster saved by tsfm: {problem}")


def _url_values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if URL.match(value) else []
    if isinstance(value, (list, tuple)):
        return [u for item in value for u in _url_values(item)]
    if isinstance(value, dict):
        return [u for item in value.values() for u in _url_values(item)]
    return []


def _plain_value(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_plain_value(v) for v in value)
    if isinstance(value, dict):  # no class to instantiate, as in config.yaml
        return all(
            isinstance(k, str) and k not in INSTANTIATION_KEYS and _plain_value(v)
            for k, v in value.items()
        )
    return False


def check_overrides(overrides: list[str], path: Path) -> None:
    """Hydra overrides a refit would compose: none may set a file, URL or Hydra setting."""
    parser = OverridesParser.create()
    for text in overrides:
        try:
            override = parser.parse_override(text)
        except Exception as err:
            _refuse(path, f"override {text!r} is not a Hydra override ({err})")
        key = override.key_or_group
        if key in FILE_KEYS or key.split(".")[0] in FILE_PREFIXES or override.package:
            _refuse(
                path,
                f"override {text!r} sets {key}, which points a run at files, URLs or Hydra's "
                "own settings; a saved Forecaster may not set it",
            )
        if _url_values(text.split("=", 1)[-1]):
            _refuse(path, f"override {text!r} names a URL")


def _forecaster_hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls.__init__)
    return {name: hints[name] for name in cls._get_param_names()}


def check_params(cls: type, params: Any, path: Path) -> dict[str, Any]:
    """The estimator's parameters: its own by name and type, the rest as ``set_params``
    checks them (a model hyperparameter, a common setting or a config key)."""
    if not isinstance(params, dict):
        _refuse(path, f"'params' is {type(params).__name__}, not an object")
    hints = _forecaster_hints(cls)
    for name, hint in hints.items():
        if name not in params:
            continue
        takes, wanted = OWN_CHECKS.get(name, (lambda v, h=hint: fits_type(v, h), None))
        if not takes(params[name]):
            wanted = wanted or readable_type(hint)
            _refuse(path, f"parameter {name}={params[name]!r} is not {wanted}")
    model = params.get("model")
    if model not in REGISTRY:
        _refuse(path, f"model {model!r} is not a registered tsfm model ({sorted(REGISTRY)})")
    for name in ("horizon", "lookback"):
        if params.get(name) is not None and params[name] < 1:  # lookback None: the data's
            _refuse(path, f"parameter {name}={params[name]} is not a positive number of steps")
    experiment = params.get("experiment")
    if experiment is not None and not (
        re.fullmatch(r"[A-Za-z0-9_]+", experiment)
        and (CONF_DIR / "experiment" / f"{experiment}.yaml").is_file()
    ):
        _refuse(path, f"experiment {experiment!r} is not a preset of conf/experiment/")
    check_overrides(params.get("overrides") or [], path)
    for name, value in params.items():
        if name in hints:
            continue
        try:
            key = config_key(model, name)
        except ValueError as err:
            _refuse(path, str(err))
        if key in FILE_KEYS or key.split(".")[0] in FILE_PREFIXES:
            _refuse(path, f"parameter {name} sets {key}, which a saved Forecaster may not set")
        if not _plain_value(value) or _url_values(value):
            _refuse(path, f"parameter {name}={value!r} is not a plain setting value")
    return params


def _check_columns(columns: Any, path: Path) -> None:
    names = isinstance(columns, list) and all(
        isinstance(c, (str, int)) and not isinstance(c, bool) for c in columns
    )
    if not names or not columns or len({str(c) for c in columns}) != len(columns):
        _refuse(path, "'columns' must be a list of distinct names")


def _check_freq(freq: Any, layout: Layout, path: Path) -> None:
    """An integer step for integer time, else a pandas frequency."""
    if layout.time_type.get("kind") == "int":
        if not fits_type(freq, int) or freq < 1:
            _refuse(path, f"freq {freq!r} is not a positive step of the integer time column")
        return
    from pandas.tseries.frequencies import to_offset

    try:
        to_offset(freq)
    except (ValueError, TypeError):
        _refuse(path, f"freq {freq!r} is not a pandas frequency")


def _check_dims(dims: Any, params: dict[str, Any], cfg: Any, path: Path) -> None:
    ok = isinstance(dims, dict) and not set(dims) - DIM_KEYS
    ok = ok and all(fits_type(dims[k], int) and dims[k] >= 0 for k in COUNT_DIMS & set(dims))
    cardinalities = dims.get("static_cardinalities", []) if ok else None
    ok = ok and isinstance(cardinalities, list) and all(fits_type(c, int) for c in cardinalities)
    ok = ok and isinstance(dims.get("masked", False), bool)
    if not ok:
        _refuse(path, f"'dims' must map {sorted(DIM_KEYS)} to counts (and flags)")
    for key, param in (("seq_len", "lookback"), ("pred_len", "horizon")):
        value = cfg.data[key]
        given = params.get(param, value)
        if dims.get(key) != value or (given != value and not (given is None and key == "seq_len")):
            _refuse(path, f"{key} differs between forecaster.json and config.yaml ({value})")


def check_metadata(cls: type, meta: Any, cfg: Any, path: Path) -> dict[str, Any]:
    """forecaster.json, field by field, against what ``save`` writes and the saved config;
    returns it with its layout as a :class:`Layout`."""
    if not isinstance(meta, dict):
        _refuse(path, "forecaster.json does not hold an object")
    missing, unknown = META_KEYS - set(meta), set(meta) - META_KEYS - OPTIONAL_META_KEYS
    if missing or unknown:
        _refuse(path, f"forecaster.json lacks {sorted(missing)} / has unknown {sorted(unknown)}")
    params = check_params(cls, meta["params"], path)
    if params["model"] != cfg.model.name:
        _refuse(path, f"model {params['model']!r} but config.yaml says {cfg.model.name!r}")
    _check_columns(meta["columns"], path)
    try:
        layout = check_layout(meta["layout"])
    except ValueError as err:
        _refuse(path, str(err))
    _check_freq(meta["freq"], layout, path)
    _check_dims(meta["dims"], params, cfg, path)
    try:
        check_roles(meta)  # mode, roles, series and statics
    except ValueError as err:
        _refuse(path, str(err))
    fit_metrics = meta.get("fit_metrics", {})
    if not isinstance(fit_metrics, dict) or not all(
        isinstance(k, str) and fit_metric_value(k, v) for k, v in fit_metrics.items()
    ):
        _refuse(path, "'fit_metrics' must map names to numbers (and how training stopped)")
    lookback = meta.get("lookback", cfg.data.seq_len)  # the fit's (lookback=None: chosen)
    if lookback != cfg.data.seq_len:
        _refuse(
            path, f"lookback {lookback!r} but config.yaml's data.seq_len is {cfg.data.seq_len!r}"
        )
    marks = meta.get("searched", [])
    if not isinstance(marks, list) or not all(isinstance(n, str) and n in params for n in marks):
        _refuse(path, f"'searched' must list parameters of 'params', got {marks!r}")
    until = meta.get("trained_until")
    count = len(meta.get("series") or []) if isinstance(until, list) else 1
    if until is not None and not _times(until if isinstance(until, list) else [until], count):
        _refuse(path, f"'trained_until' must be a time (one per series) as integers, got {until!r}")
    rows = meta.get("fitted_rows")
    count = len(meta.get("series") or []) if meta.get("mode") == "independent" else 1
    if rows is not None and not saved_form(rows, count, _times):
        _refuse(
            path,
            f"'fitted_rows' must hold start, validation and end times (and the series' ids), "
            f"one entry per fit, got {rows!r}",
        )
    try:  # decimal, date and datetime ids are saved as text or integers (id_types.py)
        series = loaded_ids(meta.get("series"), layout.id_dtype)
        if isinstance(rows, list):
            rows = [{**fit, "series": loaded_ids(fit["series"], layout.id_dtype)} for fit in rows]
    except ValueError as err:
        _refuse(path, str(err))
    return {**meta, "layout": layout, "series": series, "fitted_rows": rows}


def _times(values: Any, count: int) -> bool:
    """Whether ``values`` are ``count`` times as integers (int64)."""
    return (
        isinstance(values, list)
        and len(values) == count
        and all(
            isinstance(t, int) and not isinstance(t, bool) and -(2**63) <= t < 2**63 for t in values
        )
    )
