"""Checks made before a study's first trial, of settings every trial would fail on: the
metric to minimise, and each value of the search space against the run's own preflight
checks and the model and optimizer it builds (on PyTorch's meta device, from the run config
alone: no data is read, no weight allocated, nothing trained)."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsfm.errors import InputError
from tsfm.tuning.trial_check import Configure, TrialCheck

# What a trial's run reports that the objective can minimise (a trial never tests); a
# checkpoint monitoring another value than val/loss reports best/<monitor> instead of
# val/best_loss (tsfm.training.last_checkpoint.best_scores).
TRIAL_METRICS = {
    "val/best_loss": "the best epoch's validation loss (the default)",
    "fit_seconds": "the training's seconds",
    "epochs": "the epochs trained",
}
# Data settings that only batch what setup made: searching them leaves every trial's data alike.
LOADER_KEYS = {
    f"data.{name}"
    for name in ("batch_size", "eval_batch_size", "num_workers", "drop_last", "pin_memory")
}


def check_metric(metric: Any, name: str, monitor: str = "val/loss") -> None:
    """Refuse a ``metric`` no trial reports (``name``: the caller's name of the setting),
    which would fail every trial after its training; ``monitor``: what the trials' best
    checkpoint is chosen by (``callbacks.checkpoint.monitor``)."""
    reported = dict(TRIAL_METRICS)
    if monitor != "val/loss":
        if metric == "val/best_loss":
            raise InputError(
                f"{name}='val/best_loss' is the validation loss of the best checkpoint, but "
                f"callbacks.checkpoint.monitor={monitor} chooses the best checkpoint by "
                f"{monitor}, so no trial reports it; set {name}=best/{monitor} to rank the "
                f"trials by the best {monitor}, or monitor val/loss"
            )
        del reported["val/best_loss"]
        reported[f"best/{monitor}"] = f"the best checkpoint's {monitor}"
    if metric in reported:
        return
    close = difflib.get_close_matches(str(metric), list(reported), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    test = (
        " (a trial never tests: the test split is not used)"
        if str(metric).startswith("test/")
        else ""
    )
    known = "; ".join(f"{key}: {what}" for key, what in reported.items())
    raise InputError(
        f"{name}={metric!r} is not a value a trial reports{test}, so every trial would fail "
        f"after training; {hint}a trial reports {known}"
    )


def refused_values(
    space: Mapping[str, Any],
    configure: Configure,
    groups: Mapping[str, list[Any]],
    skip: tuple[str, ...] = (),
) -> dict[str, list[tuple[Any, str]]]:
    """``{key: [(value, why), ...]}``: the values of ``space`` no trial can run with.

    Each choice, or both ends of a range, of each entry (but ``skip``) must give a config
    (``configure(values)``: the trial's run config with ``values`` set; it raises the
    schema's or Hydra's message), in some choice of its searched group (``groups``: group ->
    its choices), that passes the run's checks and builds (:class:`TrialCheck`; it raises
    when no trial can build for a reason no source of weights mends, :meth:`TrialCheck.usable`)."""
    from tsfm.tuning.space import candidate_values

    checks = TrialCheck(configure, space)
    checks.usable()  # before any value: its refusal is the run's, not a value's
    refused: dict[str, list[tuple[Any, str]]] = {}
    for key, dist in space.items():
        if key in skip:
            continue
        group = key.split(".")[0]
        contexts = [{}]
        if "." in key and group in groups:
            contexts = [{group: choice} for choice in groups[group]]
        for value in candidate_values(dist):
            errors = []
            for context in contexts:
                try:
                    error = checks.error(key, value, context)
                except Exception as err:  # the schema's or Hydra's own message
                    error = str(err)
                if error is None:
                    break
                errors.append(error)
            else:
                refused.setdefault(key, []).append((value, errors[0]))
    return refused


# Settings that change the units of the validation loss trials are ranked by.
RANKING_UNITS = {
    "data.scale": "the validation loss is on the scaled values with it on, in standard "
    "deviations, and on the values as read with it off, in the data's own units",
    "data.scaler": "the validation loss is on the scaled values, in standard deviations or "
    "in robust ones",
}
UNSCALED_METRICS = ("fit_seconds", "epochs")  # no scaling changes them
ORIGINAL = "_original"  # a metric of the forecasts in the data's own units (epoch_logging)


def unscaled(metric: str) -> bool:
    """Whether no scaling changes ``metric``'s units, so trials with other scalings rank by
    it: seconds, epochs, or the best checkpoint's original-scale error
    (``best/val/mae_original``)."""
    metric = str(metric)
    return metric in UNSCALED_METRICS or (metric.startswith("best/") and metric.endswith(ORIGINAL))


def refuse_unit_changes(
    space: Mapping[str, Any],
    setting: Callable[[str], str] = lambda key: f"{key}=... on the command line",
    metric: str = "val/best_loss",
    ranking: str = "callbacks.checkpoint.monitor=val/mae_original tune.metric=best/val/"
    "mae_original",
) -> None:
    """Refuse a search over a :data:`RANKING_UNITS` setting (an entry with more than one
    value) where the trials rank by a ``metric`` in the scaled units (:func:`unscaled`): its
    trials' scores are in different units, so the study cannot rank them. ``setting(key)``:
    how the caller sets it outside the search (the command line's ``data.scale=...``, a
    Forecaster's parameter); ``ranking``: how it ranks by an original-scale error."""
    if unscaled(metric):
        return
    for key in searched(space, RANKING_UNITS):
        why = RANKING_UNITS[key]
        raise InputError(
            f"the search space holds {key}, which changes the units of what trials are "
            f"ranked by ({why}; the metric is {metric}): the study would compare numbers "
            f"in different units. Rank the trials by an error in the data's own units "
            f"instead ({ranking}), which every scaling shares; or choose the scaling "
            f"outside the search ({setting(key)}), leaving {key} out of the space"
        )


def searched(space: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    """Those of ``keys`` that ``space`` searches (an entry with more than one value)."""
    from tsfm.tuning.space import candidate_values

    return [k for k in keys if k in space and len(set(candidate_values(space[k]))) > 1]


# Settings that change which rows trials validate on.
RANKING_ROWS = {
    "data.cutoffs": "per_series validates each series on its own last rows, shared every "
    "series from one calendar timestamp; where the series end on different dates, "
    "per_series' validation rows lie before rows other series train on and its losses are "
    "optimistic, so the study would favour it for leaking, not for forecasting better",
    "data.train_ratio": "the ratio split puts the validation rows after the training share, "
    "so each share validates on other rows",
    "data.test_ratio": "the ratio split ends validation where the test share starts, so each "
    "share validates on other rows",
}


def refuse_split_changes(space: Mapping[str, Any]) -> None:
    """Refuse a search over a :data:`RANKING_ROWS` setting (an entry with more than one
    value): its trials validate on other rows, so the study cannot rank them."""
    for key in searched(space, RANKING_ROWS):
        why = RANKING_ROWS[key]
        raise InputError(
            f"the search space holds {key}, which changes the rows trials are ranked on "
            f"({why}): the study would compare validation losses of different rows. "
            f"Choose the split outside the search ({key}=... on the command line), "
            f"leaving {key} out of the space"
        )


# describe(key, value, why, fitting values of a choice or None, shipped) -> the refusal
Describe = Callable[[str, Any, str, "list[Any] | None", bool], str]


def fit_space(
    space: Mapping[str, Any],
    configure: Configure,
    groups: Mapping[str, list[Any]],
    shipped: Collection[str],
    describe: Describe,
    skip: tuple[str, ...] = (),
) -> dict[str, Any]:
    """``space`` with the values no trial can run with (:func:`refused_values`) dropped from
    the choices of the ``shipped`` entries (those the user did not write; an entry none of
    whose choices fit is not searched: trials keep the run config's value), with one warning
    naming them; any other such value (the user's, or an end of a shipped range) raises
    ``ValueError(describe(...))``; a search over the split is refused
    (:func:`refuse_split_changes`; the caller refuses a search over the scaling first, where
    its metric is scaled: :func:`refuse_unit_changes`). The result depends on the config
    alone, so
    a rerun narrows the same way (and the study's problem hash matches)."""
    from optuna.distributions import CategoricalDistribution

    from tsfm.data.user_warnings import warn_user

    refuse_split_changes(space)
    fitted = dict(space)
    dropped = []
    for key, refused in refused_values(space, configure, groups, skip).items():
        dist = space[key]
        bad = [value for value, _ in refused]
        fitting = None
        if isinstance(dist, CategoricalDistribution):
            fitting = [v for v in dist.choices if not any(v == b for b in bad)]
        if key in shipped and fitting is not None:
            why = refused[0][1].removeprefix("every trial with it would fail: ")
            why = why.strip().splitlines()[0] if why.strip() else why
            if fitting:
                fitted[key] = CategoricalDistribution(fitting)
                kept = f"searching {', '.join(map(repr, fitting))}"
            else:  # the run config's own value builds (TrialCheck judges against it)
                del fitted[key]
                kept = "not searched: trials keep the run config's value"
            dropped.append(f"{key}: dropped {', '.join(map(repr, bad))}, {kept} ({why})")
            continue
        raise InputError(describe(key, refused[0][0], refused[0][1], fitting, key in shipped))
    if dropped:
        warn_user(
            "the default search space has values no trial of this run can use: "
            + "; ".join(dropped)
        )
    return fitted


# Data keys that only cut the data read into windows: the rows read are the same for each value.
WINDOW_KEYS = {"data.seq_len", "data.pred_len", "data.label_len"}


def check_data(cfg: DictConfig, space: Mapping[str, Any]) -> str | None:
    """Read and split the run's data once before the first trial, when no searched key
    changes it: a file every trial would refuse (a text column, a missing path, too few
    rows) is then refused once, with its own message, instead of failing every trial.

    Returns the SHA-256 of the data read (what each trial's metrics.json records as
    ``data_sha256``; read with the smallest searched windows where ``data.seq_len`` or
    ``data.pred_len`` is searched), which the study records; None where the trials read
    other data (a searched ``data`` group or reading setting) or the data records none (M4).
    """
    from tsfm.pipeline import build_datamodule
    from tsfm.training.data_record import data_record
    from tsfm.tuning.space import candidate_values

    searched = [k for k in space if k == "data" or k.startswith("data.") and k not in LOADER_KEYS]
    if any(key not in WINDOW_KEYS for key in searched):
        return None  # the data differ between trials; each trial reads its own
    if searched:  # the rows read are each trial's: read them with the smallest windows
        cfg = copy.deepcopy(cfg)
        for key in searched:
            OmegaConf.update(cfg, key, min(candidate_values(space[key])), merge=False)
    record = data_record(build_datamodule(cfg))
    return None if record is None else record["data_sha256"]


def checkpoint_monitor(cfg: DictConfig) -> str:
    """What the run's best checkpoint is chosen by (val/loss without a checkpoint: the
    objective then falls back to the last validation loss)."""
    checkpoint = cfg.callbacks.checkpoint
    return str(checkpoint.monitor) if checkpoint.enabled else "val/loss"
