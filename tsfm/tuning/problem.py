"""What a study's trial values mean: recorded with a new study, compared when one resumes.

Two trials rank each other only if they trained on the same data with the same settings,
drew from the same search space and report the same metric. :func:`study_problem` lists
those (the run config's every setting the search leaves alone, but for how the data is
found and loaded and how a run is shown or evaluated), and :func:`check_problem` refuses
to resume a study recorded with another list, naming the differences.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

# Settings a study's workers may set differently: where the data lies and how it is loaded
# (a GPU node's loader workers, a larger evaluation batch), the machine, what is shown or
# logged, and what is evaluated after training; none of them changes a trial's value.
NOT_RESULT_KEYS = frozenset({
    "data.root", "data.num_workers", "data.pin_memory", "data.eval_batch_size",
    "trainer.accelerator", "trainer.enable_progress_bar", "trainer.enable_model_summary",
    "trainer.log_every_n_steps", "trainer.profiler", "trainer.limit_test_batches",
    "trainer.limit_predict_batches", "trainer.enable_autolog_hparams", "trainer.model_registry",
    "task_name", "test", "threads", "check_memory", "reuse_freed_memory",
    "release_freed_memory", "levels", "season_length", "mase_scale",
})  # fmt: skip
NOT_RESULT_GROUPS = ("tune.", "hydra.", "logger.", "output.", "conformal.")
MAX_LISTED = 8


def plain(value: Any) -> Any:
    """``value`` as JSON would hold it (numpy numbers and tuples as Python's)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def describe_space(space: Mapping[str, Any]) -> dict[str, Any]:
    """``{"search_space.<key>": description}`` of the searched entries (a distribution's kind
    and bounds or choices); a fixed entry under its own key, as any other setting."""
    from optuna.distributions import BaseDistribution

    described = {}
    for key, dist in space.items():
        if isinstance(dist, BaseDistribution):
            fields = {name: plain(v) for name, v in sorted(vars(dist).items())}
            dist = f"{type(dist).__name__}({json.dumps(fields, sort_keys=True, default=str)})"
            key = f"search_space.{key}"
        described[key] = plain(dist)
    return described


def flat(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists are values)."""
    if not isinstance(node, dict) or not node:
        return {prefix[:-1]: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(flat(value, f"{prefix}{key}."))
    return out


def flat_settings(cfg: DictConfig) -> dict[str, Any]:
    """Every leaf of ``cfg`` by dotted key, resolved (but for :data:`NOT_RESULT_GROUPS`)."""
    settings: dict[str, Any] = {}
    for key in cfg:
        if not f"{key}.".startswith(NOT_RESULT_GROUPS):
            node = cfg[key]
            node = OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node
            settings.update(flat(node, f"{key}."))
    return plain(settings)


def study_problem(cfg: DictConfig, space: Mapping[str, Any], metric: str) -> dict[str, Any]:
    """What a study's trials rank: the search space, the metric, and every setting of the
    run config ``cfg`` the search leaves alone (a searched config group's keys vary with
    it) that changes a trial's value."""
    groups = tuple(f"{key}." for key in space if "." not in key)
    settings = {
        key: value
        for key, value in flat_settings(cfg).items()
        if key not in space
        and key not in NOT_RESULT_KEYS
        and not key.startswith((*NOT_RESULT_GROUPS, *groups))
    }
    return {"metric": metric, **describe_space(space), **settings}


def problem_text(problem: Mapping[str, Any]) -> str:
    return json.dumps(plain(problem), sort_keys=True, default=str)


def problem_differences(recorded: str, problem: Mapping[str, Any]) -> str:
    """``key: old there, new here; ...`` for the keys that differ (the first few)."""
    old, new = json.loads(recorded), json.loads(problem_text(problem))
    differ = [
        f"{key}: {_shown(old, key)} there, {_shown(new, key)} here"
        for key in sorted(old.keys() | new.keys())
        if key not in old or key not in new or old[key] != new[key]
    ]
    more = len(differ) - MAX_LISTED
    return "; ".join(differ[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")


def _shown(problem: Mapping[str, Any], key: str) -> str:
    return repr(problem[key]) if key in problem else "(not recorded)"
