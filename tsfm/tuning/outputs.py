"""What a study leaves behind: the best overrides as an experiment file, a results table, plots."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from omegaconf import OmegaConf
from optuna.trial import TrialState

from tsfm.config import CONF_DIR
from tsfm.tuning.pruning import pruned_in_metric_units
from tsfm.tuning.study import FINISHED


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and a rename: workers finishing together never mix files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it a normal file's mode
    os.replace(tmp, path)


def best_trial(
    study: optuna.Study, space: Mapping[str, Any] | None = None
) -> optuna.trial.FrozenTrial | None:
    """The complete trial of lowest value (with ``space``: of those drawn from it); a
    non-finite value never counts (studies written before diverged trials were failed may
    hold some)."""
    from tsfm.tuning.space import in_space

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if space is not None:
        complete = [t for t in complete if in_space(t.params, space)]
    finite = [t for t in complete if t.value is not None and math.isfinite(t.value)]
    return min(finite, key=lambda t: t.value) if finite else None


def experiment_text(groups: Mapping[str, str], values: Mapping[str, Any], header: list[str]) -> str:
    """A ``conf/experiment/``-style file: group overrides, then nested values."""
    node = OmegaConf.create({})
    for key, value in values.items():
        value = value.item() if isinstance(value, np.generic) else value  # np.int64(16)
        OmegaConf.update(node, key, value, force_add=True)
    lines = ["# @package _global_", *(f"# {h}" for h in header)]
    if groups:
        lines.append("defaults:")
        lines += [f"  - override /{group}: {choice}" for group, choice in groups.items()]
    body = OmegaConf.to_yaml(node) if values else ""
    return "\n".join(lines) + "\n\n" + body


def write_best_experiment(
    study: optuna.Study,
    path: Path,
    groups: Mapping[str, str],
    base_values: Mapping[str, Any],
    metric: str,
    notes: Sequence[str] = (),
) -> Path | None:
    """The best trial's values on top of ``base_values``, ready for ``experiment=<name>``;
    ``notes`` go into its header."""
    best = best_trial(study)
    if best is None:
        return None
    values = {**base_values, **best.params}
    chosen = {k: str(v) for k, v in values.items() if (CONF_DIR / k).is_dir()}  # config groups
    groups = {**groups, **chosen}  # a searched group is a defaults override, not a value
    values = {k: v for k, v in values.items() if k not in chosen}
    header = [
        f"Best of {len(study.get_trials(deepcopy=False, states=FINISHED))} finished trials of "
        f"study '{study.study_name}': trial {best.number}, {metric} = {best.value:.6g}.",
        "Written by tsfm.tune. Use it with: python -m tsfm.run experiment=<this file's name>",
        "after copying it into conf/experiment/, or add "
        f"hydra.searchpath=[file://{path.parent.parent.resolve()}]",
        *notes,
    ]
    _atomic_write(path, experiment_text(groups, values, header))
    return path


def results_frame(study: optuna.Study):
    """One row per trial: number, state, value (the metric, of a complete trial), pruned value
    (a pruned trial's value at its last epoch, of what trials are pruned on: another value
    than the metric, so never in its column), epochs trained, seconds, worker, parameters."""
    import pandas as pd

    rows = []
    for t in study.get_trials(deepcopy=False):
        pruned = t.state == TrialState.PRUNED
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name.lower(),
                "value": None if pruned else t.value,
                "pruned_value": t.value if pruned else None,
                "epochs": len(t.intermediate_values),
                "seconds": t.duration.total_seconds() if t.duration else None,
                "worker": t.user_attrs.get("worker"),
                **t.params,
            }
        )
    return pd.DataFrame(rows)


def results_table(study: optuna.Study, top: int = 10) -> str:
    """The best ``top`` finished trials as a fixed-width table: complete trials by value,
    then pruned ones by their pruned value."""
    frame = results_frame(study)
    if frame.empty:
        return "no trials"
    done = frame[frame.state.isin(["complete", "pruned"])]
    ordered = done.sort_values(["value", "pruned_value"], na_position="last").head(top)
    counts = frame.state.value_counts().to_dict()
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    if done.empty:
        return f"study '{study.study_name}': {summary}; no trial finished"
    return f"study '{study.study_name}': {summary}\n" + ordered.drop(columns="worker").to_string(
        index=False, float_format=lambda v: f"{v:.4g}"
    )


def write_plots(study: optuna.Study, directory: Path, metric: str = "value") -> dict[str, Any]:
    """history.png and importance.png; a reason instead of a path when one cannot be drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Any] = {}
    finished = sorted(study.get_trials(deepcopy=False, states=FINISHED), key=lambda t: t.number)
    complete = [t for t in finished if t.state == TrialState.COMPLETE]
    if not complete:
        return {"history": "no complete trial yet", "importance": "no complete trial yet"}

    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    pruned = [t for t in finished if t.state == TrialState.PRUNED and t.value is not None]
    if not pruned_in_metric_units(metric):  # pruned on a validation value: another axis
        pruned = []
    ax.scatter([t.number for t in complete], [t.value for t in complete], s=22, label="complete")
    if pruned:
        ax.scatter(
            [t.number for t in pruned],
            [t.value for t in pruned],
            marker="x",
            s=22,
            color="0.55",
            label="pruned (value at its last epoch)",
        )
    best, running = float("inf"), []
    for t in finished:
        best = min(best, t.value) if t.state == TrialState.COMPLETE else best
        running.append(best)
    ax.step([t.number for t in finished], running, where="post", color="tab:red", label="best")
    ax.set(xlabel="trial", ylabel=metric, title=f"study {study.study_name}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    written["history"] = _save(fig, directory / "history.png")

    if len(complete) < 2:
        written["importance"] = f"needs two complete trials (have {len(complete)})"
        return written
    try:
        importance = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError) as err:
        written["importance"] = f"not computed: {err}"
        return written
    names = list(importance)[::-1]
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(names) + 1.2))
    ax.barh(names, [importance[n] for n in names], color="tab:blue")
    ax.set(xlabel="importance (fANOVA, complete trials)", title="parameter importances")
    fig.tight_layout()
    written["importance"] = _save(fig, directory / "importance.png")
    return written


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def write_outputs(
    study: optuna.Study,
    directory: Path,
    experiment_name: str,
    groups: Mapping[str, str],
    base_values: Mapping[str, Any],
    metric: str,
    plots: bool = True,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything at once: ``experiment/<name>.yaml``, ``trials.csv``, ``results.txt``, PNGs."""
    directory = Path(directory)
    outputs: dict[str, Any] = {}
    outputs["experiment"] = write_best_experiment(
        study,
        directory / "experiment" / f"{experiment_name}.yaml",
        groups,
        base_values,
        metric,
        notes,
    )
    frame = results_frame(study)
    _atomic_write(directory / "trials.csv", frame.to_csv(index=False))
    table = results_table(study)
    _atomic_write(directory / "results.txt", table + "\n")
    outputs["table"] = table
    if plots:
        outputs.update(write_plots(study, directory, metric))
    return outputs
