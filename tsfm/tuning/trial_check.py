"""Whether a trial of a run config would fail before training, judged on PyTorch's meta
device from the config alone (:func:`trial_error`), and which searched values no trial can
run with (:class:`TrialCheck`), for the checks before a study's first trial
(:mod:`tsfm.tuning.checks`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsfm.errors import ArchitectureError

# Keys (and groups) whose values change what is built: the model, the optimizer, the lengths
# and the head (its outputs per step).
BUILT_FROM = ("model", "optim", "data.seq_len", "data.pred_len", "loss", "quantiles", "levels")

Configure = Callable[[dict[str, Any]], DictConfig]


def builds(key: str) -> bool:
    """Whether the values of search-space ``key`` change the model or optimizer built."""
    return any(key == base or key.startswith(f"{base}.") for base in BUILT_FROM)


def trial_error(cfg: DictConfig, build: bool = True) -> str | None:
    """Why a trial of the run config ``cfg`` would fail before training (None if it would
    not): the run's preflight checks, and with ``build`` its model and optimizer, built from
    the config alone (the lengths are ``data.seq_len`` and ``data.pred_len``, other data
    dimensions keep the model's defaults, pretrained parts their architecture)."""
    err = trial_exception(cfg, build)
    return None if err is None else f"{type(err).__name__}: {err}"


def trial_exception(cfg: DictConfig, build: bool = True) -> Exception | None:
    """What :func:`trial_error` describes: the exception itself."""
    import torch

    from tsfm.models import build_model
    from tsfm.training.artifacts import built_dims
    from tsfm.training.optim import OptimConfig, build_optimizer
    from tsfm.training.preflight import check_run

    try:
        check_run(cfg)
        if not build:
            return None
        settings = OmegaConf.to_container(cfg.model, resolve=True)
        if "pretrained" in settings:  # nothing is read on the meta device
            settings["pretrained"] = False
            for weights in ("clip_weights", "vision_weights"):  # none to read (and random
                if settings.get(weights) is not None:  # weights refuse a file to read)
                    settings[weights] = None
        dims = built_dims(cfg, {"seq_len": cfg.data.seq_len, "pred_len": cfg.data.pred_len})
        with torch.device("meta"):
            build_model(settings, dims)
            weight = torch.nn.Parameter(torch.empty(1))
        optim = OmegaConf.to_container(cfg.optim, resolve=True)
        build_optimizer([{"params": [weight]}], OptimConfig(**optim))
    except Exception as err:  # the check's, the model's, torch's or the optimizer's message
        return err
    return None


class TrialCheck:
    """Refusals of search-space values every trial would fail on before training.

    A value is refused only when no trial could run with it: not with the other entries at
    the base config's values, nor with any one entry that changes the model or optimizer at
    one of its own values (so a ``d_model`` that only some searched ``n_heads`` divide
    passes). Judged against the base config, or when that fails here, against the nearest
    trial that builds (:meth:`usable`): when none does (a backbone whose architecture is not
    at hand, say), nothing is refused and the trials tell, unless the error is an
    :class:`~tsfm.errors.ArchitectureError`, which no source of weights mends."""

    def __init__(self, configure: Configure, space: Mapping[str, Any]):
        from tsfm.tuning.space import candidate_values

        self.configure = configure
        self.others = {k: candidate_values(v) for k, v in space.items() if builds(k)}
        self._usable: bool | None = None
        self.base: dict[str, Any] = {}  # searched values every value is judged with

    def usable(self) -> bool:
        """Whether values can be judged: some trial builds. Its searched values (none when
        the base config builds) become the base every value is judged against: the run's
        own trend window may exceed a look-back and its ``n_layers`` the backbone while
        searched ones fit (:meth:`_nearest_trial`). When no trial is found, a config whose
        error no source of weights mends (:class:`~tsfm.errors.ArchitectureError`) is
        refused at once; any other (an architecture not at hand offline, say) is left to
        the trials."""
        if self._usable is None:
            error = self._nearest_trial()
            self._usable = error is None
            if isinstance(error, ArchitectureError):
                raise ArchitectureError(
                    f"every trial would fail before training: {error} (no value of the "
                    "search space changes that)"
                )
        return self._usable

    def _nearest_trial(self) -> Exception | None:
        """Searched values with which the run config builds, into ``self.base``; the error
        left. Each error is mended by a value of an entry it names (``trend_length=96 ...``
        names ``model.trend_length``) that gives no error, or one of a kind not met before
        (its message without numbers); where none does, by any one value that builds."""
        error = self._exception({})
        seen = {_kind(error)}
        for _ in range(len(self.others)):
            if error is None:
                return None
            named = [k for k in self.others if k.rsplit(".", 1)[-1] in str(error)]
            mended = False
            for key in named:
                for value in self.others[key]:
                    tried = self._exception({**self.base, key: value})
                    if tried is None or _kind(tried) not in seen:
                        self.base[key], error, mended = value, tried, True
                        seen.add(_kind(tried))
                        break
                if mended:
                    break
            if not mended:
                for key, values in self.others.items():
                    for value in values:
                        if self._exception({**self.base, key: value}) is None:
                            self.base[key] = value
                            return None
                return error
        return error

    def _exception(self, values: dict[str, Any]) -> Exception | None:
        try:
            return trial_exception(self.configure(values))
        except Exception as err:  # refused on its own: its own check says so
            return err

    def error(self, key: str, value: Any, context: dict[str, Any]) -> str | None:
        """Why ``key: value`` (in the group choice ``context``) cannot be tried; the
        configuring raises what the schema refuses."""
        cfg = self.configure({**context, key: value})  # raises what the schema refuses
        if not self.usable():
            return None
        if self.base:  # the nearest base config that builds, where the run's own does not
            cfg = self.configure({**self.base, **context, key: value})
        first = trial_error(cfg, builds(key))
        if first is None:
            return None
        for other, values in self.others.items():
            if other == key or other in context:
                continue
            for companion in values:
                try:
                    cfg = self.configure({**self.base, **context, other: companion, key: value})
                except Exception:  # refused on its own: its own check says so
                    continue
                if trial_error(cfg, builds(key)) is None:
                    return None
        return f"every trial with it would fail: {first}"


def _kind(error: Exception | None) -> str:
    """An error's type and message without its numbers: trend_length=96 and =192 refused
    for a look-back of 48 are one kind."""
    return type(error).__name__ + ": " + re.sub(r"\d+", "#", str(error))
