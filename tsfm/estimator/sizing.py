"""Settings a fit chooses from the data where nobody chose them: the model's size for the
number of training windows, and the intervals a few conformal scores support."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from omegaconf import DictConfig

from tsfm.data.seasons import natural_seasons, resolve_season_length
from tsfm.estimator.guards import override_key
from tsfm.estimator.lookback import lookback_of
from tsfm.estimator.searched import searched as searched_names
from tsfm.models import model_class
from tsfm.models.sizing import SizingInputs
from tsfm.training.conformal import TooFewScores, needed_windows, supports
from tsfm.training.scoring import DEFAULT_LEVELS, tau_level

T = TypeVar("T")


def data_sized(
    est: Any, n_windows: int, freq: str | int, model: DictConfig, searched: bool = False
) -> dict[str, Any]:
    """Model settings sized for the data where nobody chose them (no experiment, no parameter
    or override): what the model class's ``data_sized`` hook returns (:mod:`tsfm.models.sizing`;
    iTransformer's width by the training windows, S²IP-LLM's decomposition and patches for
    the look-back), without the settings the user chose; nothing for a model without one.
    ``model`` is the composed model config (defaults and overrides). With ``searched``, the
    parameters a tuning search set (:mod:`tsfm.estimator.searched`) count as not chosen."""
    if est.experiment is not None:
        return {}
    hook = getattr(model_class(est.model), "data_sized", None)
    if hook is None:
        return {}
    extra = est.extra_params()
    drawn = searched_names(est) if searched else frozenset()
    chosen = {n for n in extra if n not in drawn} | {override_key(o) for o in est.overrides or []}
    chosen |= {name.removeprefix("model.") for name in chosen}
    given = {name.removeprefix("model__"): value for name, value in extra.items()}
    settings = {**model, **{k: v for k, v in given.items() if k in model}}
    data = SizingInputs(
        n_windows=n_windows,
        lookback=lookback_of(est),
        seasons=natural_seasons(freq),
        settings=settings,
        chosen=frozenset(chosen),
        resolve_season=lambda: resolve_season_length(
            extra.get("season_length"), freq, lookback_of(est)
        ),
    )
    sized = hook(data) or {}
    unknown = sorted(set(sized) - set(model))
    if unknown:  # the model's code, not the user's input
        raise TypeError(
            f"{model_class(est.model).__name__}.data_sized returned {unknown}, which are not "
            f"settings of model '{est.model}' ({sorted(model)})"
        )
    return {f"model.{k}": v for k, v in sized.items() if k not in chosen}


def calibration_defaults(est: Any, cfg: DictConfig, n: int) -> None:
    """Quantiles and levels left at their defaults, narrowed to what ``n`` conformal scores
    give (10 windows of one series: the 0.1-0.9 grid and 80 %), as a quantile model's default
    levels follow its quantiles; values the user set are kept (and refused if too wide)."""
    if not _chosen(est, "quantiles"):
        cfg.quantiles = [q for q in cfg.quantiles if supports(n, tau_level(q))]
    if cfg.get("levels") is None:
        levels = [v for v in DEFAULT_LEVELS if supports(n, v)]
        cfg.levels = levels or None  # none: the refusal names the windows needed
        if levels:
            warn_dropped(DEFAULT_LEVELS, levels, n, f"{n} calibration scores")


def within_scores(est: Any, cfgs: Sequence[DictConfig], step: Callable[[], T]) -> T:
    """``step()`` (a fit, or a check of calibration errors), which refuses intervals wider
    than the observed calibration scores give (:class:`~tsfm.training.conformal.TooFewScores`,
    before any training). Targets missing in the calibration windows leave fewer scores than
    the windows: then quantiles and levels left at their defaults are narrowed to the scores
    observed, in each of ``cfgs``, as :func:`calibration_defaults` narrows them to the windows'
    count, and ``step`` runs again. A refusal that narrowing cannot lift (levels the user set,
    or no default level within reach) says which levels are defaults and how to change them."""
    try:
        return step()
    except TooFewScores as err:
        n, levels = err.scores, [float(v) for v in cfgs[0].levels or []]
        if _chosen(est, "levels"):
            raise
        narrow = [v for v in levels if supports(n, v)]
        if not narrow:
            shown = "[" + ", ".join(f"{v:g}" for v in levels) + "]"
            raise TooFewScores(
                f"{err}. The levels {shown} are the defaults (levels unset): levels=[...] of "
                f"at most {100.0 * n / (n + 1):.1f} % fit {n} scores",
                n,
            ) from None
        before = [list(cfgs[0].quantiles), levels]
        for cfg in cfgs:
            calibration_defaults(est, cfg, n)
            cfg.levels = narrow
        if [list(cfgs[0].quantiles), narrow] == before:  # nothing to narrow: the user's values
            raise
        observed = f"{n} observed calibration scores (targets missing in the other windows)"
        warn_dropped(levels, narrow, n, observed)
    return step()


def warn_dropped(levels: Sequence[float], kept: Sequence[float], n: int, scores: str) -> None:
    """Warn that default ``levels`` (``levels`` unset) were narrowed to ``kept``, the
    intervals ``n`` calibration scores give (``scores``: what they are)."""
    dropped = [float(v) for v in levels if float(v) not in {float(k) for k in kept}]
    if not dropped:
        return
    from tsfm.data.user_warnings import warn_user

    shown = ", ".join(f"{v:g} %" for v in dropped)
    need = max(needed_windows(v) for v in dropped)
    warn_user(
        f"fit: levels left unset: the default {shown} interval{'s' if len(dropped) > 1 else ''}"
        f" left out, as {scores} give intervals up to {100.0 * n / (n + 1):.1f} % ({shown} needs "
        f"{need} scores); the fit scores levels={_shown(kept)} (config_.levels). Calibrate on more "
        f"windows (conformal_windows) for {shown}, or set levels={_shown(kept)} to keep these"
        " without this warning"
    )


def _shown(levels: Sequence[float]) -> str:
    return "[" + ", ".join(f"{float(v):g}" for v in levels) + "]"


def _chosen(est: Any, key: str) -> bool:
    """Whether the user set ``key`` (a parameter other than None, or an override)."""
    overrides = {override_key(o) for o in est.overrides or []}
    return est.extra_params().get(key) is not None or key in overrides
