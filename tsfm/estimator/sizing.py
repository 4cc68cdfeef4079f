"""Settings a fit chooses from the data where nobody chose them: the model's size for the
number of training windows, and the intervals a few conformal scores support."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from omegaconf import DictConfig

from tsfm.data.seasons import natural_seasons, resolve_season_length
from tsfm.estimator.guards import override_key
from tsfm.training.conformal import TooFewScores, supports
from tsfm.training.scoring import DEFAULT_LEVELS, tau_level

T = TypeVar("T")


def data_sized(est: Any, n_windows: int, freq: str | int, model: DictConfig) -> dict[str, Any]:
    """Model settings sized for the data where nobody chose them (no experiment, no parameter
    or override). iTransformer's width by the training windows per epoch W, d_model = d_ff =
    64 below 5,000, 128 below 50,000, 256 above (its constructor's 512 / 2048 are the paper's
    size for large benchmarks, hours per epoch on a laptop CPU for a long half-hourly series).
    S²IP-LLM keeps the official decomposition and patches where they fit the look-back L;
    where not, the trend window becomes L, the seasonal period the data's season
    (``season_length``, by default from the frequency, shorter than L: a period of the whole
    look-back would make its seasonal part the detrended look-back itself; with
    ``decomposition='stl'`` the longest natural season of at most L // 2, as STL needs two
    periods) and the patch L with stride L // 2."""
    if est.experiment is not None:
        return {}
    chosen = {*est.extra_params()} | {override_key(o) for o in est.overrides or []}
    chosen |= {name.removeprefix("model.") for name in chosen}
    if est.model == "itransformer" and not chosen & {"d_model", "d_ff"}:
        width = 64 if n_windows < 5_000 else 128 if n_windows < 50_000 else 256
        return {"model.d_model": width, "model.d_ff": width}
    if est.model != "s2ip_llm":
        return {}
    lookback = est.lookback
    season = resolve_season_length(est.extra_params().get("season_length"), freq, lookback)
    # STL's period spans at most half the look-back: the longest natural season that fits
    stl = est.extra_params().get("decomposition", model.decomposition) == "stl"
    longest = lookback // 2 if stl else lookback
    if stl and not 2 <= season <= longest:
        season = next((s for s in natural_seasons(freq) if s <= longest), season)
    elif not stl and season >= lookback:  # the metrics keep a season of the whole look-back
        season = next((s for s in natural_seasons(freq) if s < lookback), 1)
    sized = {
        "trend_length": lookback,
        "seasonal_length": season,
        "patch_len": lookback,
        "stride": max(1, lookback // 2),
    }
    sizing = {k for k in ("trend_length", "patch_len") if model[k] > lookback}
    sizing |= {"seasonal_length"} if model.seasonal_length > longest else set()
    sizing -= chosen
    if "patch_len" in sizing:  # the stride follows a patch sized here
        sizing.add("stride")
    return {f"model.{k}": sized[k] for k in sizing - chosen}


def calibration_defaults(est: Any, cfg: DictConfig, n: int) -> None:
    """Quantiles and levels left at their defaults, narrowed to what ``n`` conformal scores
    give (10 windows of one series: the 0.1-0.9 grid and 80 %), as a quantile model's default
    levels follow its quantiles; values the user set are kept (and refused if too wide)."""
    if not _chosen(est, "quantiles"):
        cfg.quantiles = [q for q in cfg.quantiles if supports(n, tau_level(q))]
    if cfg.get("levels") is None:
        levels = [v for v in DEFAULT_LEVELS if supports(n, v)]
        cfg.levels = levels or None  # none: the refusal names the windows needed


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
    return step()


def _chosen(est: Any, key: str) -> bool:
    """Whether the user set ``key`` (a parameter other than None, or an override)."""
    overrides = {override_key(o) for o in est.overrides or []}
    return est.extra_params().get(key) is not None or key in overrides
