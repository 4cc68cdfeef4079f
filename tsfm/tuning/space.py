"""Search spaces in Hydra's sweeper grammar, turned into Optuna distributions.

The expressions are parsed by Hydra's own override parser, so a space written for
``hydra-optuna-sweeper`` (``hydra.sweeper.params``) means the same here:

=================================  ==========================================================
``choice(a, b, c)``                categorical
``range(start, stop[, step])``     integers (or floats) from start, stop excluded, as Python
``interval(low, high)``            uniform float
``int(interval(low, high))``       uniform integer
``tag(log, interval(low, high))``  log-uniform (float, or integer with ``int(...)``)
a plain value                      fixed (not searched)
=================================  ==========================================================

From Python (``Forecaster.tune(search_space=...)``) an entry may also be a list (a choice) or
an Optuna distribution, and its key a Forecaster parameter name (``d_model``, ``lr``).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from tsfm.errors import InputError

GRAMMAR_HINT = (
    "use choice(a, b, ...), range(start, stop, step), interval(low, high), "
    "int(interval(low, high)) or tag(log, interval(low, high))"
)


def searched_entries(params: Mapping[str, Any]) -> dict[str, Any]:
    """A config's ``tune.params`` without the entries set to null: that is how the command
    line drops an entry of a search space (``'tune.params={model.dropout:null}'``); a fixed
    null is written as a string, ``"null"``."""
    return {key: value for key, value in params.items() if value is not None}


def parse_space(params: Mapping[str, Any]) -> dict[str, Any]:
    """``{config key: expression}`` -> ``{config key: optuna distribution or fixed value}``.

    An expression is a string in the grammar above; from Python it may also be an Optuna
    distribution (used as given) or a list of values (a choice); any other value is fixed.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from optuna.distributions import BaseDistribution, CategoricalDistribution

    parser = OverridesParser.create()
    space = {}
    for key, expression in params.items():
        if isinstance(expression, BaseDistribution):
            space[key] = expression
            continue
        if isinstance(expression, tuple):
            raise InputError(
                f"search space entry {key}: {expression!r} is ambiguous; a list is a choice "
                f"({list(expression)!r}), a range is 'interval(low, high)' or an Optuna "
                "distribution such as "
                "optuna.distributions.FloatDistribution(low, high, log=True)"
            )
        if isinstance(expression, Sequence) and not isinstance(expression, str):
            if not len(expression):
                raise InputError(f"search space entry {key}: an empty list has nothing to choose")
            space[key] = CategoricalDistribution(list(expression))
            continue
        if not isinstance(expression, str):
            space[key] = expression  # a fixed value
            continue
        try:
            value = parser.parse_override(f"{key}={expression}").value()
        except Exception as err:
            raise InputError(
                f"search space entry {key}: cannot parse {expression!r} ({err}); {GRAMMAR_HINT}"
            ) from None
        space[key] = to_distribution(key, value)
    return space


def to_distribution(key: str, value: Any) -> Any:
    from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    tags = set(getattr(value, "tags", ()) or ())
    unknown = tags - {"log"}
    if unknown:
        raise InputError(f"search space entry {key}: unknown tag(s) {sorted(unknown)}; only 'log'")
    log = "log" in tags
    if isinstance(value, ChoiceSweep):
        if log:
            raise InputError(f"search space entry {key}: tag(log, ...) applies to intervals only")
        if not value.list:
            raise InputError(f"search space entry {key}: choice() needs at least one value")
        return CategoricalDistribution(list(value.list))
    if isinstance(value, IntervalSweep):
        low, high = value.start, value.end
        if not low < high:
            raise InputError(f"search space entry {key}: interval({low}, {high}) is empty")
        if log and low <= 0:
            raise InputError(f"search space entry {key}: a log interval needs low > 0, got {low}")
        if isinstance(low, int) and isinstance(high, int):
            return IntDistribution(low, high, log=log)
        return FloatDistribution(float(low), float(high), log=log)
    if isinstance(value, RangeSweep):
        return _range(key, value, log)
    if isinstance(value, (list, dict)) or tags:
        raise InputError(f"search space entry {key}: {value!r} is not a search expression")
    return value  # a fixed value


def _range(key: str, value: Any, log: bool) -> Any:
    from optuna.distributions import FloatDistribution, IntDistribution

    start, stop, step = value.start, value.stop, value.step
    if step is None or step <= 0 or not start < stop:
        raise InputError(
            f"search space entry {key}: range({start}, {stop}, {step}) is empty; it needs "
            "start < stop and a positive step"
        )
    count = math.ceil((stop - start) / step)
    if all(isinstance(v, int) for v in (start, stop, step)):
        return IntDistribution(start, start + (count - 1) * step, step=step, log=log and step == 1)
    high = round(start + (count - 1) * step, 12)
    return FloatDistribution(float(start), float(high), step=None if log else float(step), log=log)


def fixed_values(space: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``space`` that are not searched: every trial runs with them, so the best
    settings hold them beside the best trial's ``params`` (which Optuna keeps alone)."""
    from optuna.distributions import BaseDistribution

    return {k: v for k, v in space.items() if not isinstance(v, BaseDistribution)}


def in_space(params: Mapping[str, Any], space: Mapping[str, Any]) -> bool:
    """Whether a trial's ``params`` are a draw of ``space``: one value per searched key, each
    among the choices or within the bounds."""
    from optuna.distributions import BaseDistribution, CategoricalDistribution

    searched = {k: v for k, v in space.items() if isinstance(v, BaseDistribution)}
    if set(params) != set(searched):
        return False
    for key, dist in searched.items():
        value = params[key]
        if isinstance(dist, CategoricalDistribution):
            if value not in dist.choices:
                return False
        elif not dist.low <= value <= dist.high:
            return False
    return True


def suggest(trial: Any, space: Mapping[str, Any]) -> dict[str, Any]:
    """Draw one value per entry from ``trial`` (fixed values pass through)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    values = {}
    for key, dist in space.items():
        if isinstance(dist, CategoricalDistribution):
            values[key] = trial.suggest_categorical(key, dist.choices)
        elif isinstance(dist, IntDistribution):
            values[key] = trial.suggest_int(key, dist.low, dist.high, step=dist.step, log=dist.log)
        elif isinstance(dist, FloatDistribution):
            values[key] = trial.suggest_float(
                key, dist.low, dist.high, step=dist.step, log=dist.log
            )
        else:
            values[key] = dist
    return values


def candidate_values(dist: Any) -> list[Any]:
    """Values that stand for an entry when it is checked against the config before the first
    trial: every choice, both ends of a range or interval, or the fixed value."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, (IntDistribution, FloatDistribution)):
        return [dist.low, dist.high]
    return [dist]


def leaf_keys(node: Any, prefix: str = "") -> list[str]:
    """Every dotted key of a (nested) config."""
    from omegaconf import DictConfig

    if isinstance(node, DictConfig):
        return [leaf for key in node for leaf in leaf_keys(node._get_node(key), f"{prefix}{key}.")]
    return [prefix.rstrip(".")]


def space_error(key: str, value: Any, error: str, cfg: Any, where: str) -> str:
    """Why ``key: value`` of a search space cannot be tried on the run config ``cfg``: a key
    that is not in it (with the nearest keys that are), or the config's own complaint."""
    from omegaconf import OmegaConf

    if OmegaConf.select(cfg, key, default=KeyError) is KeyError:
        close = difflib.get_close_matches(key, leaf_keys(cfg), n=3, cutoff=0.8)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return f"search space key '{key}' is not in {where}{hint}"
    first_line = error.strip().splitlines()[0] if error.strip() else error
    return f"search space entry {key}: {value!r} does not fit {where} ({first_line})"


def format_override(key: str, value: Any) -> str:
    """``key=value`` in Hydra's override syntax (strings quoted when they need it)."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = repr(value)
    elif isinstance(value, str):
        plain = value.replace("_", "").replace("-", "").replace(".", "").replace("/", "")
        text = value if plain.isalnum() else "'" + value.replace("'", "\\'") + "'"
    else:
        raise TypeError(f"cannot write {key}={value!r} as an override")
    return f"{key}={text}"
