"""What a study's trial values mean: recorded with a new study, compared when one resumes.

Two trials rank each other only if they trained on the same data with the same settings,
drew from the same search space and report the same metric. :func:`study_problem` lists
those (the run config's every setting the search leaves alone, but for how the data is
found and loaded and how a run is shown or evaluated), and :func:`check_problem` refuses
to resume a study recorded with another list, naming the differences.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from tsfm.errors import InputError

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
# The data's SHA-256 (of the frame, or of the file as read): a study recorded without one (by
# a tsfm before the command line recorded it) resumes, and records it then.
DIGEST_KEYS = ("data_sha256", "static_df_sha256")
SHOWN_DIGEST = 12
RECORD_SETTLE_SECONDS = 0.5  # workers opening a new study together: their writes land


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
    differ = [
        f"{key}: {_shown(old, key)} there, {_shown(new, key)} here"
        for old, new, key in _differing(recorded, problem)
    ]
    more = len(differ) - MAX_LISTED
    return "; ".join(differ[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")


def data_change(recorded: str, problem: Mapping[str, Any]) -> str | None:
    """When only the data differs from the ``recorded`` problem (a file rewritten in place,
    another frame): ``SHA-256 <old>... there, <new>... here`` (of each digest that differs)."""
    differing = _differing(recorded, problem)
    if not differing or any(key not in DIGEST_KEYS for _, _, key in differing):
        return None
    return "; ".join(
        f"{'' if key == 'data_sha256' else 'static_df '}SHA-256 {_shown(old, key)} there, "
        f"{_shown(new, key)} here"
        for old, new, key in differing
    )


def _differing(recorded: str, problem: Mapping[str, Any]) -> list[tuple[dict, dict, str]]:
    """``(old, new, key)`` of each key that differs; a digest the old record lacks does not."""
    old, new = json.loads(recorded), json.loads(problem_text(problem))

    def differs(key: str) -> bool:
        if key not in old:
            return key not in DIGEST_KEYS
        return key not in new or old[key] != new[key]

    return [(old, new, key) for key in sorted(old.keys() | new.keys()) if differs(key)]


def _shown(problem: Mapping[str, Any], key: str) -> str:
    if key not in problem:
        return "(not recorded)"
    if key in DIGEST_KEYS and isinstance(problem[key], str):
        return "+".join(f"{part[:SHOWN_DIGEST]}..." for part in problem[key].split("+"))
    return repr(problem[key])


def check_problem(
    study: Any, problem: dict[str, Any], where: str, rename: str = "tune.study_name=..."
) -> None:
    """Record ``problem`` with ``study``, or refuse it when the study recorded another one;
    ``rename``: the settings that name a new study (where the storage is given, only its
    name does: another folder holds no other study)."""
    text = problem_text(problem)
    recorded = recorded_problem(study, text)
    differences = problem_differences(recorded, problem)
    if not differences:
        if recorded != text:  # recorded before the data's digest was: record it now
            study.set_user_attr("problem", text)
        return
    data = data_change(recorded, problem)
    if data is not None:
        raise InputError(
            f"study '{study.study_name}' in {where} was run on other data ({data}): the data "
            "changed since its trials trained (a file rewritten in place, rows added or "
            "edited, or another file under the same name), so its trials cannot rank trials "
            "on this data. Give it the data it was run on, or name a new study for this data "
            f"({rename})"
        )
    raise InputError(
        f"study '{study.study_name}' in {where} was run on another problem "
        f"({differences}), so its trials cannot rank this one. Name a new study ({rename}), "
        "or delete that study to start over"
    )


def recorded_problem(study: Any, text: str) -> str:
    """The problem ``study`` records, ``text`` where it records none yet. Workers that open
    a new study together each write theirs: the record that stands (read back a moment
    later, from the storage) is what each compares its own with."""
    from tsfm.tuning.storage import in_memory

    recorded = study.user_attrs.get("problem")
    if recorded is not None:
        return recorded
    study.set_user_attr("problem", text)
    if in_memory(study):
        return text  # no other worker
    time.sleep(RECORD_SETTLE_SECONDS)  # another worker's write under way lands first
    return study.user_attrs["problem"]


def recorded_check(
    study: Any, problem: Mapping[str, Any], where: str, rename: str = "tune.study_name=..."
) -> Callable[[], None] | None:
    """What a worker runs before and after each trial of a stored ``study`` it opened with
    ``problem``: one read of the study's record, refused where it no longer holds this
    worker's problem. Optuna has no atomic insert, so two workers opening a new study together
    may both record theirs (:func:`recorded_problem`), the later write standing; the other
    worker stops at its next trial at the latest, its trial under way failed, never ranked.
    None for a study in memory (no other worker)."""
    from tsfm.tuning.storage import in_memory

    if in_memory(study):
        return None
    text = problem_text(problem)

    def check() -> None:
        recorded = study.user_attrs.get("problem")
        if recorded is None or recorded == text:
            return
        data = data_change(recorded, problem)
        what = (
            f"other data ({data})"
            if data
            else f"another problem ({problem_differences(recorded, problem)})"
        )
        raise InputError(
            f"study '{study.study_name}' in {where} now records {what}: another worker opened "
            "it at the same time with its own, and its record stands, so this worker's trials "
            "would not rank with the study's; this worker stops. Name a new study for this "
            f"worker's {'data' if data else 'problem'} ({rename}), or run it with the study's"
        )

    return check
