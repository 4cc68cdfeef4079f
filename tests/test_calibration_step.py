"""The step between conformal calibration windows: by default one that spreads their origins
over the season (the horizon's step lines them up with it when the horizon is a multiple of
the season), the same on the command line and in the Forecaster; a given step kept, and a
warning when it lines them up."""

from __future__ import annotations

import warnings

import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.models import TINY
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.data.contract import ForecastDataModule
from tsfm.estimator import calibration
from tsfm.pipeline import fit_and_test
from tsfm.training.calibration_step import calibration_step, default_step

ALIGNED = "multiple of season_length=24"


def phases(step: int, windows: int, season: int) -> set[int]:
    return {(j * step) % season for j in range(windows)}


@pytest.mark.parametrize(
    ("horizon", "windows", "season"),
    [(48, 20, 48), (24, 20, 24), (24, 5, 24), (96, 29, 24), (96, 20, 96), (7, 20, 7), (12, 30, 12)],
)
def test_a_horizon_that_is_a_multiple_of_the_season_gets_a_step_through_its_phases(
    horizon, windows, season
):
    step = default_step(horizon, windows, season)
    assert len(phases(horizon, windows, season)) == 1  # the horizon's step: one phase
    assert len(phases(step, windows, season)) == min(windows, season)  # every window its own
    assert horizon - season // 2 <= step <= horizon  # no more rows; overlap under half a season


@pytest.mark.parametrize(
    ("horizon", "windows", "season"), [(24, 20, 1), (24, 1, 24), (1, 20, 24), (5, 30, 7)]
)
def test_the_horizon_is_kept_where_it_cannot_be_bettered(horizon, windows, season):
    # no season, one window, a one-step horizon, or a horizon co-prime with the season
    assert default_step(horizon, windows, season) == horizon


def test_a_given_step_is_kept_and_warns_only_when_it_lines_the_windows_up():
    with pytest.warns(UserWarning, match=f"{ALIGNED}: all 20 calibration windows start"):
        assert calibration_step(48, 48, 20, 24) == 48
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert calibration_step(23, 24, 20, 24) == 23  # not a multiple
        assert calibration_step(24, 24, 1, 24) == 24  # one window
        assert calibration_step(24, 24, 20, 1) == 24  # no season
        assert calibration_step(48, 48, 20, 24, warn=False) == 48
        warnings.filterwarnings("ignore", message="conformal step")  # as the README says
        assert calibration_step(48, 48, 20, 24) == 48


def test_the_command_line_default_spreads_the_calibration_origins(tmp_path):
    cfg = compose_config(
        *TINY_ITRANSFORMER,
        *TINY_RUN,
        "data.pred_len=24",  # hourly ETTh1, look-back 24: season_length 24
        "callbacks=none",
        "test=false",
        "conformal.windows=20",
    )
    result = fit_and_test(cfg, tmp_path)
    step = result.metrics["conformal_step"]
    assert result.module.hparams.season_length == 24
    assert step == default_step(24, 20, 24) and len(phases(step, 20, 24)) == 20
    # the scores are those of the windows `step` rows apart: the second last one's
    val, module = result.datamodule.datasets["val"], result.module.eval()
    window = val.__getitems__([val.n_windows - 1 - step])
    with torch.no_grad():
        error = (module(window).prediction - window["y"]).abs()[0]
    assert torch.allclose(module.conformal.scores[-2], error, atol=1e-5)


FRAME = synthetic_frame(400, 2)  # hourly: season_length 24
SETTINGS = {**TINY["itransformer"], "max_epochs": 1, "batch_size": 32, "verbose": 0}


def forecaster(**extra) -> Forecaster:
    return Forecaster("itransformer", horizon=24, lookback=24, **SETTINGS, **extra)


@pytest.fixture
def steps(monkeypatch) -> list[int]:
    """The steps the calibration windows are chosen with, on validation or training rows."""
    seen: list[int] = []
    on_validation = ForecastDataModule.calibration_indices
    refit = calibration.refit_residuals

    def indices(self, n_windows, step):
        seen.append(step)
        return on_validation(self, n_windows, step)

    def residuals(est, rows, windows, step, *args):
        seen.append(step)
        return refit(est, rows, windows, step, *args)

    monkeypatch.setattr(ForecastDataModule, "calibration_indices", indices)
    monkeypatch.setattr(calibration, "refit_residuals", residuals)
    return seen


def test_the_forecaster_gets_the_command_lines_default(steps):
    forecaster(conformal_windows=5).fit(FRAME.iloc[:260], FRAME.iloc[260:])  # validation rows
    forecaster(conformal_windows=5).fit(FRAME)  # the end of the training rows, with a refit
    assert steps == [default_step(24, 5, 24)] * 2 and len(phases(steps[0], 5, 24)) == 5


def test_the_forecaster_keeps_a_given_step_and_warns_once_when_it_lines_them_up(steps):
    with pytest.warns(UserWarning, match=ALIGNED) as caught:
        forecaster(conformal_windows=5, conformal_step=24).fit(FRAME.iloc[:260], FRAME.iloc[260:])
    assert steps == [24] and sum(ALIGNED in str(w.message) for w in caught) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        forecaster(conformal_windows=5, conformal_step=23).fit(FRAME)
    assert steps == [24, 23] and not [w for w in caught if ALIGNED in str(w.message)]


def test_a_saved_run_is_recalibrated_with_the_step_it_recorded():
    from tsfm.estimator.from_run import run_conformal

    cfg = compose_config("conformal.windows=20")
    assert run_conformal(cfg, {"conformal_step": 96}).step == 96  # a run left it to the default
    assert run_conformal(cfg, {}).step is None  # nothing recorded: the default
    given = compose_config("conformal.windows=20", "conformal.step=5")
    assert run_conformal(given, {"conformal_step": 96}).step == 5
