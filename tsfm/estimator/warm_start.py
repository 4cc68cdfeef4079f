"""``Forecaster.fit``: a fresh model, or with ``warm_start=True`` the fitted one trained further.

A warm start (scikit-learn's ``warm_start``; fine-tuning a model from ``Forecaster.load`` or
``from_run``) starts from the fitted weights instead of a fresh initialisation. Everything
else is a fit as usual: a fresh optimizer and learning-rate schedule, epochs counted from
zero, early stopping and the best epoch on this fit's validation rows. Pretrained parts are
not read from their source: they are built from the architectures the fitted model recorded
and the fitted weights replace theirs, except frozen parts that the fitted state leaves out
and training uses (TimesCLIP's frozen vision tower): those are read from their source as in a
fresh fit, and a source that is gone, or whose architecture is no longer the fitted one, is
refused before training.

What stays as fitted, so that the weights see inputs as they were trained on:

- the model: the parameters that shape it (sizes, loss, lengths, columns and their roles,
  frequency, overrides; :func:`~tsfm.estimator.checks.shapes_the_model`) must be those of the
  fit, and the frame must build the same model (same calendar features, covariates, static
  covariates, masks); anything else is refused naming it. Training settings (``lr``,
  ``max_epochs``, ``patience``, ``batch_size``, ``seed``, ``val_size``, ...) may change.
- the scaling: ``mode="joint"`` keeps the fitted scaler (the frame must hold the fitted
  columns, a wide frame's in the same order; a long frame's series are read in the fitted
  order): a value means what it meant in training, even when the new
  rows' level has moved. ``mode="independent"`` scales each series by its own training rows,
  as every independent fit does (the model learnt on each series standardised by itself), so
  any series may be fitted; static covariates keep the fitted encoding in both modes.

The record of fitted rows (``fitted_rows_``; :mod:`tsfm.estimator.fitted_record`) keeps every
fit's: the weights have seen them all, so evaluate warns of and backtest refuses any of them.

A refused or failed warm fit leaves the Forecaster fitted as it was.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback
from torch import Tensor

from tsfm.data.frames.gaps import empty_steps
from tsfm.data.frames.zones import text_times
from tsfm.errors import InputError
from tsfm.estimator.checks import flag, model_changes
from tsfm.estimator.fitted_record import merged, record
from tsfm.models.common import restoring_saved_weights
from tsfm.training.architectures import architectures_of

SCALER_BUFFERS = ("scale_mean", "scale_std")  # the data's scaling, not learnt weights
FRESH = "or warm_start=False for a fresh model"
DIMS = {
    "n_vars": "target variates",
    "n_marks": "calendar features (from the data's frequency)",
    "n_past": "past covariates",
    "n_future": "future covariates",
    "n_static_real": "numeric static covariates",
    "static_cardinalities": "categories per static covariate",
    "masked": "missing values given as masks (missing='mask' with NaN in the data)",
}


def fit_forecaster(est: Any, df: Any, val_df: Any = None, static_df: Any = None) -> None:
    """:meth:`~tsfm.Forecaster.fit`, warm when ``est.warm_start`` and fitted."""
    warm = warm_start_from(est)  # a failed fit is undone by Forecaster.fit (guards.guarded)
    if est.mode == "independent":
        from tsfm.estimator.panels import fit_panel

        fit_panel(est, df, val_df, static_df, warm=warm)
    else:
        table, val = read_frames(est, df, val_df, warm)
        est.fit_table(table, val, static_df=static_df, warm=warm)
        est.absent_steps_ = {None: empty_steps(table)}  # warned about once, here
    if warm is not None:  # the weights have seen the rows of the fits before too
        est.fitted_rows_ = merged(getattr(est, "fitted_rows_", None), warm.fitted_rows)


def read_frames(est: Any, df: Any, val_df: Any, warm: WarmStart | None) -> tuple[Any, Any]:
    """A joint fit's tables of ``df`` and ``val_df`` (None without one); a warm fit's in the
    fitted order, ``df``'s on the fitted clock."""
    series = None if warm is None else warm.series  # a warm fit keeps the fitted order
    table = est.read(df, series=series)
    if warm is not None:
        warm.check_zone(table.layout, text_times(df, table.layout.time_col))
    val = None if val_df is None else est.read(val_df, "val_df", series=series)
    return table, val


def warm_start_from(est: Any) -> WarmStart | None:
    """What a warm fit of ``est`` starts from (None: a fresh fit), checked before the fitted
    state is dropped."""
    value = getattr(est, "warm_start", False)
    if not flag(value):
        raise InputError(f"warm_start must be True or False, got {value!r}")
    if not value or not hasattr(est, "module_"):
        return None  # not fitted yet: the first fit is a fresh one
    changed = model_changes(est, lambda name, value: name == "freq" and fitted_freq(est, value))
    if changed:
        raise InputError(
            f"warm_start=True trains the fitted model further, but parameters that shape it "
            f"changed since its fit ({changed}): set them back, {FRESH}"
        )
    return WarmStart(est)


def fitted_freq(est: Any, freq: Any) -> bool:
    """Whether ``freq`` (a ``freq`` parameter) names the fitted frequency (``QS`` for an
    inferred ``QS-JAN``): the same model."""
    from tsfm.data.frames import same_freq

    fitted = getattr(est, "freq_", None)
    try:
        return freq is not None and fitted is not None and same_freq(freq, fitted)
    except ValueError:  # not a frequency: refused as a change
        return False


def building(warm: WarmStart | None) -> AbstractContextManager:
    """Where the model of a fit is built: a warm fit's takes the fitted model's weights and
    its backbones' architectures, so pretrained parts are not read from their source (as
    ``Forecaster.load``), except frozen ones the fitted state leaves out and training uses
    (TimesCLIP's frozen vision tower): those are read from their source, which must still
    have the fitted architecture."""
    if warm is None:
        return nullcontext()
    return restoring_saved_weights(warm.architectures, to_train=True)


class WarmStart(Callback):
    """The fitted state a warm fit keeps; as a callback, it loads the fitted weights into the
    fit's fresh model before training (and before a model caches features of its frozen
    parts), after checking the data builds the same model."""

    def __init__(self, est: Any):
        self.input_columns = [str(c) for c in est.input_columns_]
        self.series = [str(c) for c in est.columns_]  # a joint model's targets, in its order
        self.input_scaler = getattr(est, "input_scaler_", None)
        self.static_encoder = getattr(est, "static_encoder_", None)
        self.dims: dict[str, Any] = dict(est.dims_)
        self.lookback = est.lookback_  # a warm fit's (the weights are sized by it)
        self.model_settings = dict(est.config_.model)  # its data-sized values are kept
        self.weights: dict[str, Tensor] = est.module_.state_dict()  # the fit builds a new one
        self.architectures = architectures_of(est.module_)  # its backbones', as built
        self.fitted_rows = record(est)  # every fit's rows so far, its series named
        self.freq = getattr(est, "freq_", None)
        self.asked_freq = getattr(est, "freq", None)  # the freq parameter of this fit
        self.time_type = dict(est.layout_.time_type)

    def check_freq(self, freq: Any, at: Any = None) -> None:
        """The frame steps at the fitted frequency (``at``: its first timestamp): the weights
        learnt steps of that length and its calendar features."""
        from tsfm.data.frames import same_freq

        if self.freq is None or same_freq(freq, self.freq, at=at):
            return
        raise InputError(
            f"warm_start=True continues a model fitted on {self.freq!r} data, but this frame's "
            f"frequency is {freq!r}: its steps and calendar features are not the ones the "
            f"weights learnt. Resample the frame to {self.freq!r}, {FRESH}"
        )

    def check_zone(self, layout: Any, text: bool = False) -> None:
        """The frame's timestamps are in the fitted zone, or naive as the fitted ones: a warm
        fit continues the model on the clock its calendar features and fitted rows read (a
        later frame is converted to it; a fit's frame decides the model's zone). ``text``: the
        frame's are text (with UTC offsets where read as UTC instants or as their dates)."""
        from tsfm.data.frames.zones import zone_mismatch

        kinds = {self.time_type.get("kind"), layout.time_type.get("kind")}
        zone, given = self.time_type.get("tz"), layout.time_type.get("tz")
        if "int" in kinds or None in kinds or zone == given:
            return
        index = layout.time_index and layout.library == "pandas"
        column = layout.time_col
        offsets = text and bool(given or layout.time_type.get("wall"))  # they name no zone
        if zone and (given or offsets):
            pandas = layout.library == "pandas"
            if offsets:
                held = "are text with UTC offsets"
                fix = (
                    f"pd.to_datetime(df['{column}'], utc=True).dt.tz_convert('{zone}')"
                    if pandas
                    else f"pl.col('{column}').str.to_datetime().dt.convert_time_zone('{zone}')"
                )
            else:
                held, ref = f"are in {given}", "df.index" if index else f"df['{column}'].dt"
                fix = (
                    f"{ref}.tz_convert('{zone}')"
                    if pandas
                    else f"pl.col('{column}').dt.convert_time_zone('{zone}')"
                )
            message = (
                f"df's timestamps {held} but the fitted frame's are in {zone}: "
                f"give them in {zone} ({fix})"
            )
        else:
            wall = bool(self.time_type.get("wall"))  # naive dates are its dates, but zoneless
            message = zone_mismatch("df", given, zone, column, layout.library, index, text, wall)
        raise InputError(
            f"warm_start=True continues the fitted model on its clock (its calendar features and "
            f"fitted rows): {message}; {FRESH}"
        )

    def check_columns(self, columns: tuple[str, ...] | list[str]) -> None:
        """A joint model's time-varying columns (targets, then covariates) are the fitted ones
        in the fitted order: the kept scaler and the weights are per column."""
        columns = [str(c) for c in columns]
        if columns == self.input_columns:
            return
        missing = [c for c in self.input_columns if c not in columns]
        new = [c for c in columns if c not in self.input_columns]
        detail = f"missing {missing}, new {new}" if missing or new else "in another order"
        raise InputError(
            f"warm_start=True continues a model fitted on the columns {self.input_columns}; "
            f"this frame's are {columns} ({detail}): fit a frame with the fitted columns, "
            f"{FRESH} (mode='independent' warm-starts on any series)"
        )

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        datamodule = getattr(trainer, "datamodule", None)
        if datamodule is not None:
            self.check_dims(datamodule.dims())
        own = pl_module.state_dict()
        keys = [k for k in own if k not in SCALER_BUFFERS]
        weights = {k: v for k, v in self.weights.items() if k not in SCALER_BUFFERS}
        differ = sorted(
            {k for k in keys if k not in weights or weights[k].shape != own[k].shape}
            | {k for k in weights if k not in own}
        )
        if differ:
            raise InputError(
                f"warm_start=True: the fitted weights do not fit the model this fit builds "
                f"({', '.join(differ[:5])}{' ...' if len(differ) > 5 else ''}); {FRESH}"
            )
        pl_module.load_state_dict({**own, **weights})

    def check_dims(self, dims: dict[str, Any]) -> None:
        """The data builds the fitted model (its dimensions, as the model is built from them)."""
        changed = [  # lengths are parameters (checked before); a key saved before it existed
            f"{DIMS.get(k, k)}: {self.dims[k]!r} -> {dims[k]!r}"  # is left to the weights' check
            for k in sorted(self.dims)
            if k in dims and k not in ("seq_len", "pred_len") and self.dims[k] != dims[k]
        ]
        if changed:
            spelt = self.asked_freq is not None and str(self.asked_freq) != str(self.freq)
            if spelt and "n_marks" in dims and self.dims.get("n_marks") != dims["n_marks"]:
                raise InputError(
                    f"warm_start=True: freq={self.asked_freq!r} names the fitted frequency "
                    f"{self.freq!r} in other units, and the calendar features follow the units "
                    f"the frequency is written in ({'; '.join(changed)}): give "
                    f"freq={self.freq!r} (or leave freq unset to read it from the data)"
                )
            raise InputError(
                f"warm_start=True needs this frame to build the fitted model, but it changes "
                f"{'; '.join(changed)}: fit data like the fitted model's, {FRESH}"
            )
