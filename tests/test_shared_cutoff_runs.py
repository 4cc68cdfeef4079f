"""Runs of a panel split at shared calendar cutoffs (``data.mode=independent
data.cutoffs=shared``): ``Forecaster.from_run`` refuses them (a Forecaster's fit validates each
series on its own last rows, so a refit would not repeat the run's split), ``python -m
tsfm.tune`` ranks trials on the shared split, and a search over the split itself is refused."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
from omegaconf import OmegaConf

from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tests.test_covariates import panel_frame
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.errors import InputError
from tsfm.pipeline import build_datamodule
from tsfm.run import run
from tsfm.tuning.config_study import tune


def panel_settings(tmp_path, cutoffs: str = "shared") -> list[str]:
    """A panel whose series start and end at different times (150, 100 and 60 hours)."""
    path = tmp_path / "panel.csv"
    if not path.is_file():
        panel_frame(lengths=(150, 100, 60)).drop(columns=["store", "promo"]).to_csv(
            path, index=False
        )
    return [
        "data=custom", f"data.path={path}", "data.id_col=unique_id", "data.date_col=ds",
        "data.target=y", "data.mode=independent", "data.train_ratio=0.6",
        f"data.cutoffs={cutoffs}",
    ]  # fmt: skip


def validation_rows(cfg) -> list[int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dm = build_datamodule(cfg)
    return [len(t) - a - b for t, a, b in zip(dm.times, dm.n_train, dm.n_test, strict=True)]


def test_from_run_refuses_a_run_split_at_shared_cutoffs_naming_why_and_what_to_do(tmp_path):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, *panel_settings(tmp_path))
    # the run validated 30, 17 and 0 rows of its series; val_size, a share of each series'
    # own rows, would validate 30, 25 and 15 of the 120, 100 and 60 a refit is given
    assert validation_rows(cfg) == [30, 17, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(cfg, tmp_path / "run")
    with pytest.raises(
        InputError, match=r"^this run split its panel at shared calendar cut"
    ) as err:
        Forecaster.from_run(tmp_path / "run")
    message = str(err.value)
    assert "validates each series on its own trailing val_size rows" in message
    assert "data.cutoffs=per_series" in message and "val_df)" not in message  # R19
    # its T = 150 hours: the last max(8, 0.2 T) = 30 tested, the 30 before them validated
    assert "tested the last max(8, 0.2 T) and validated the max(8, 0.2 T) before" in message
    advised = "Forecaster(..., mode='independent', val_size=<that number of validated"
    assert advised in message and "cross_validate(df, cutoffs='shared')" in message


def test_the_advice_for_a_run_split_at_shared_cutoffs_runs(tmp_path):
    """What from_run's refusal advises runs (R19: it advised fit(df, val_df), which a panel
    fit refuses), and the fit validates the series that reach the test start on the run's
    validation rows."""
    cfg = compose_config(*TINY_ITRANSFORMER, *panel_settings(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dm = build_datamodule(cfg)
    df = pd.read_csv(cfg.data.path, parse_dates=["ds"])
    test_start = df.ds.drop_duplicates().sort_values().iloc[-30]  # the first tested hour
    assert dm.times[0][len(dm.times[0]) - dm.n_test[0]] == test_start  # s0's, the run's
    est = tiny(mode="independent", id_col="unique_id", time_col="ds", target_col="y")
    est.set_params(val_size=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(df[df.ds < test_start])
        folds = est.cross_validate(df, n_windows=1, cutoffs="shared")
    assert est.fitted_rows_.validation[0] == dm.times[0][dm.n_train[0]]  # s0 reaches it
    assert len(folds.metrics) == 1


def test_a_study_of_a_panel_at_shared_cutoffs_ranks_its_trials_on_the_shared_split(tmp_path):
    overrides = [
        *TINY_ITRANSFORMER, *panel_settings(tmp_path), "trainer.max_epochs=1", "logger=none",
        "trainer.enable_progress_bar=false", "tune.n_trials=2", "tune.plots=false",
        f"tune.dir={tmp_path / 'study'}",
    ]  # fmt: skip
    cfg = compose_config(*overrides)
    cfg.tune.params = {"optim.lr": "tag(log, interval(1e-4, 1e-2))"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study, _ = tune(cfg, overrides)
        per_series = compose_config(*TINY_ITRANSFORMER, *panel_settings(tmp_path, "per_series"))
        windows = {
            cutoffs: build_datamodule(c).window_counts()["val"]
            for cutoffs, c in (("shared", cfg), ("per_series", per_series))
        }
    assert windows["shared"] != windows["per_series"]
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    for trial in ("0000", "0001"):
        metrics = json.loads((tmp_path / "study" / "trials" / trial / "metrics.json").read_text())
        assert metrics["windows/val"] == windows["shared"]
    preset = next((tmp_path / "study" / "experiment").glob("*.yaml"))
    assert OmegaConf.load(preset).data.cutoffs == "shared"


def test_a_search_over_the_cutoffs_is_refused_before_any_trial(tmp_path):
    overrides = [*TINY_ITRANSFORMER, *panel_settings(tmp_path), f"tune.dir={tmp_path / 's'}"]
    cfg = compose_config(*overrides)
    cfg.tune.params = {"data.cutoffs": "choice(per_series, shared)"}
    with pytest.raises(InputError, match="the search space holds data.cutoffs, which changes"):
        tune(cfg, overrides)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("key", "values"),
    [("data.train_ratio", "choice(0.6, 0.7)"), ("data.test_ratio", "interval(0.1, 0.3)")],
)
def test_a_search_over_the_ratio_split_is_refused_and_one_value_is_kept(key, values):
    """The ratio split's shares move the validation rows, so trials would be ranked on other
    rows; a space holding one value of them searches nothing and is accepted."""
    from tsfm.tuning.checks import refuse_split_changes
    from tsfm.tuning.space import parse_space

    with pytest.raises(InputError, match=f"the search space holds {key}, which changes"):
        refuse_split_changes(parse_space({key: values}))
    refuse_split_changes(parse_space({key: "choice(0.7)"}))
