"""tsfm.Forecaster: scikit-learn conventions, frames in and out, new series, persistence."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from torch import nn

import tsfm
from tests.helpers.data import REPO, synthetic_frame
from tests.helpers.estimator import HORIZON, LOOKBACK, tiny
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.models import REGISTRY
from tsfm.training.checkpoints import load_checkpoint


@pytest.fixture(scope="module")
def fitted() -> dict[str, Forecaster]:
    """One tiny fitted forecaster per registered model (wide pandas input, hourly)."""
    frame = synthetic_frame(240, 3)
    return {name: tiny(name).fit(frame) for name in sorted(REGISTRY)}


# ---------------------------------------------------------------------- scikit-learn protocol
def test_parameters_are_stored_untouched_and_clone_copies_them():
    overrides = ["optim=adamw_cosine"]
    est = Forecaster("itransformer", horizon=12, lookback=48, overrides=overrides, d_model=16)
    params = est.get_params()
    assert params["overrides"] is overrides and params["d_model"] == 16
    assert params["horizon"] == 12 and params["val_size"] is None
    twin = clone(est)
    assert twin is not est and twin.get_params() == params
    assert twin.set_params(d_model=32, max_epochs=3) is twin
    assert twin.get_params()["d_model"] == 32 and est.get_params()["d_model"] == 16
    with pytest.raises(ValueError, match="unknown parameter 'd_modle'"):
        twin.set_params(d_modle=8, max_epochs=5)
    assert twin.get_params()["max_epochs"] == 3  # nothing changed by the refused call
    per_call = "'mase_scale' is an argument of evaluate, backtest and cross_validate, not"
    with pytest.raises(ValueError, match=f"{per_call} .*f.evaluate\\(df, mase_scale='history'"):
        Forecaster(horizon=12, mase_scale="history").fit(synthetic_frame(100))
    with pytest.raises(ValueError, match="'n_windows' is an argument of cross_validate and"):
        twin.set_params(n_windows=3)
    with pytest.raises(ValueError, match="lookback"):
        twin.set_params(data__seq_len=12)
    with pytest.raises(ValueError, match="val_size"):  # the command line's split, not fit's
        twin.set_params(data__train_ratio=0.8)
    with pytest.raises(ValueError, match="sets from the frame you fit"):  # was ignored
        twin.set_params(data__percent=10)
    with pytest.raises(ValueError, match="override 'data.percent=10' sets data.percent"):
        tiny(overrides=["data.percent=10"]).fit(synthetic_frame(120))
    assert "d_model=16" in repr(est)


def test_unfitted_use_raises_not_fitted_error(tmp_path):
    est = tiny()
    for call in (
        est.predict,
        lambda: est.evaluate(synthetic_frame(80)),
        lambda: est.save(tmp_path),
    ):
        with pytest.raises(NotFittedError):
            call()


def test_forecaster_and_plot_forecast_are_exported_lazily():
    from tsfm.estimator.plotting import plot_forecast

    assert tsfm.Forecaster is Forecaster and "Forecaster" in dir(tsfm)
    assert tsfm.plot_forecast is plot_forecast and "plot_forecast" in dir(tsfm)


def test_importing_the_forecaster_loads_no_torch_lightning_hydra_or_matplotlib():
    heavy = "('torch', 'lightning', 'hydra', 'optuna', 'matplotlib')"
    probe = (
        "import sys; from tsfm import Forecaster; "
        f"print(sorted(m for m in {heavy} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


# ---------------------------------------------------------------------- every registered model
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_fit_predict_gives_the_next_horizon_with_real_timestamps(fitted, name):
    est = fitted[name]
    frame = synthetic_frame(240, 3)
    forecast = est.predict()
    assert isinstance(forecast, pd.DataFrame) and list(forecast.columns) == list(frame.columns)
    expected = pd.date_range(frame.date.iloc[-1], periods=HORIZON + 1, freq="h")[1:]
    assert (forecast.date.to_numpy() == expected.to_numpy()).all()
    assert np.isfinite(forecast[["v0", "v1", "OT"]].to_numpy()).all()
    assert est.freq_ == "h" and est.columns_ == ["v0", "v1", "OT"] and est.n_variates_ == 3
    # after a new frame: the horizon after *its* end, on its scale
    later = synthetic_frame(300, 3).tail(60)
    after = est.predict(later)
    assert after.date.iloc[0] == later.date.iloc[-1] + pd.Timedelta(hours=1)
    assert abs(after.OT.mean() - later.OT.mean()) < 5 * later.OT.std()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_save_load_predict_gives_identical_forecasts(fitted, name, tmp_path):
    est = fitted[name]
    path = est.save(tmp_path / "model")
    state = load_checkpoint(path / "weights.pt")
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    loaded = Forecaster.load(path)
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())
    later = synthetic_frame(300, 3, seed=4).tail(40)
    pd.testing.assert_frame_equal(loaded.predict(later), est.predict(later))
    assert loaded.get_params() == est.get_params()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        est.save(path)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_fitted_forecaster_pickles_and_joblib_dumps(fitted, name, tmp_path):
    est = fitted[name]
    twin = pickle.loads(pickle.dumps(est))
    pd.testing.assert_frame_equal(twin.predict(), est.predict())
    assert twin.config_ == est.config_ and twin.get_params() == est.get_params()
    loaded = Forecaster.load(twin.save(tmp_path / "model"))
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())
    joblib = pytest.importorskip("joblib")
    joblib.dump(est, tmp_path / "model.joblib")
    pd.testing.assert_frame_equal(joblib.load(tmp_path / "model.joblib").predict(), est.predict())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda text: text.replace("name: itransformer", "name: os:system"), "not a registered"),
        (
            lambda text: text.replace("model:\n", "model:\n  _target_: subprocess.Popen\n", 1),
            "import path",
        ),
    ],
)
def test_loading_refuses_a_config_naming_a_foreign_class(fitted, tmp_path, edit, message):
    path = fitted["itransformer"].save(tmp_path / "model")
    config = path / "config.yaml"
    config.write_text(edit(config.read_text()))
    with pytest.raises(ValueError, match=message):
        Forecaster.load(path)


def test_a_forecaster_saved_under_the_old_setting_names_still_loads(fitted, tmp_path):
    est = fitted["itransformer"]
    path = est.save(tmp_path / "model")
    config = path / "config.yaml"
    config.write_text(config.read_text().replace("  n_layers:", "  e_layers:"))
    pd.testing.assert_frame_equal(Forecaster.load(path).predict(), est.predict())
    with pytest.raises(ValueError, match="'e_layers' of model 'itransformer' is now 'n_layers'"):
        Forecaster("itransformer").set_params(e_layers=2)


# ---------------------------------------------------------------------- new series
class PerIndexLinear(nn.Module):
    """A model with one head per variate position: it cannot take other variates."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int):
        super().__init__()
        self.heads = nn.ModuleList(nn.Linear(seq_len, pred_len) for _ in range(n_vars))

    def forward(self, x, **_):
        return torch.stack([h(x[..., j]) for j, h in enumerate(self.heads)], dim=-1)


def test_itransformer_forecasts_other_and_more_variates_than_it_was_trained_on(fitted):
    est = fitted["itransformer"]
    other = synthetic_frame(100, 5, seed=3).rename(columns=lambda c: f"new_{c}")
    other = other.rename(columns={"new_date": "date"})
    forecast = est.predict(other)
    assert list(forecast.columns) == list(other.columns) and len(forecast) == HORIZON
    single = est.predict(other[["date", "new_v2"]])
    assert list(single.columns) == ["date", "new_v2"]
    # known variates in another order: the same forecasts, in the frame's order
    frame = synthetic_frame(240, 3)
    shuffled = est.predict(frame[["date", "OT", "v0", "v1"]])
    np.testing.assert_allclose(shuffled[["v0", "v1", "OT"]], est.predict(frame)[["v0", "v1", "OT"]])


def test_a_model_without_the_capability_refuses_new_variates(monkeypatch):
    monkeypatch.setitem(REGISTRY, "per_index", "tests.test_estimator:PerIndexLinear")
    frame = synthetic_frame(150, 3)
    est = Forecaster("per_index", horizon=HORIZON, lookback=LOOKBACK, max_epochs=1).fit(frame)
    reordered = est.predict(frame[["date", "OT", "v1", "v0"]])
    np.testing.assert_allclose(
        reordered[["v0", "v1", "OT"]], est.predict(frame)[["v0", "v1", "OT"]]
    )
    with pytest.raises(ValueError, match="can only forecast those"):
        est.predict(frame[["date", "v0", "OT"]])


# ---------------------------------------------------------------------- scoring, presets, noise
def test_evaluate_scores_every_window_and_matches_predict(fitted):
    est = fitted["itransformer"]
    frame = synthetic_frame(300, 3, seed=5).tail(LOOKBACK + HORIZON + 9)
    metrics = est.evaluate(frame)
    assert metrics["windows"] == 10 and est.score(frame) == -metrics["mse"]
    one = frame.head(LOOKBACK + HORIZON)
    forecast = est.predict(one.head(LOOKBACK))[["v0", "v1", "OT"]].to_numpy()
    actual = one.tail(HORIZON)[["v0", "v1", "OT"]].to_numpy()
    expected = float(np.mean((forecast - actual) ** 2))
    assert est.evaluate(one)["mse_original"] == pytest.approx(expected, rel=1e-5)


def test_from_experiment_builds_the_run_config_of_python_m_tsfm_run():
    est = Forecaster.from_experiment("itransformer_etth1_96", d_model=16, d_ff=16, max_epochs=1)
    params = est.get_params()
    assert (params["model"], params["horizon"], params["lookback"]) == ("itransformer", 96, 96)
    frame = pd.read_csv(REPO / "datasets" / "ETTh1.csv").head(400)
    est.set_params(trainer__limit_train_batches=2).fit(frame)
    preset = compose_config("experiment=itransformer_etth1_96")
    assert est.config_.model.n_layers == preset.model.n_layers
    assert est.config_.optim.lr == preset.optim.lr and est.config_.data.freq == preset.data.freq
    assert est.config_.model.d_model == 16 and est.config_.trainer.limit_train_batches == 2
    assert len(est.predict()) == 96


def test_feedback_is_one_line_per_epoch_where_someone_watches(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    frame = synthetic_frame(120, 2)
    tiny(val_size=0.2).fit(frame).predict()  # verbose=1, but nobody watches a test's stderr
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert list(tmp_path.iterdir()) == []  # no lightning_logs, checkpoints or other files
    monkeypatch.setattr("tsfm.training.progress.watched", lambda stream=None: True)
    tiny(val_size=0.2, max_epochs=2).fit(frame)
    out, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if line.startswith("epoch ")]
    assert lines[0].startswith("epoch 1/2") and lines[-1].startswith("epoch 2/2")
    assert "val " in lines[-1] and "ETA" in lines[0] and "GPU available" not in out + err
    tiny(verbose=0, max_epochs=1).fit(frame)
    assert capfd.readouterr() == ("", "")
    tiny(verbose=2).fit(frame)  # Lightning's own output
    out, err = capfd.readouterr()
    assert "Epoch 1/1" in out + err and "Params" in out + err  # its bar counts 1..N here too
    with pytest.raises(ValueError, match="verbose must be 0"):
        tiny(verbose=3).fit(frame)


def test_a_frame_of_fewer_windows_than_a_batch_is_an_info_notice_that_verbose_0_keeps_quiet(
    caplog,
):
    with caplog.at_level(logging.INFO, logger="tsfm"):
        tiny(verbose=0).fit(synthetic_frame(60, 2))  # 29 windows, batch 32
    [notice] = [r for r in caplog.records if "fewer than one batch" in r.getMessage()]
    # Python's last-resort handler prints WARNING and above to stderr when nothing is set up
    assert notice.levelno == logging.INFO and "29 training windows" in notice.getMessage()


def test_validation_picks_the_best_epoch_and_val_df_must_continue_df():
    frame = synthetic_frame(200, 2)
    est = tiny(max_epochs=2).fit(frame.head(160), frame.tail(40))
    assert est.fit_metrics_["val/best_loss"] > 0
    assert est.predict().date.iloc[0] == frame.date.iloc[-1] + pd.Timedelta(hours=1)
    with pytest.raises(ValueError, match="must continue df"):
        tiny().fit(frame.head(100), frame.tail(40))


def test_frequencies_are_checked(fitted):
    with pytest.raises(ValueError, match="frequency is '15min'"):
        fitted["itransformer"].predict(synthetic_frame(60, 3, freq="15min"))
    with pytest.raises(ValueError, match="frequency 'D' puts"):
        tiny(freq="D").fit(synthetic_frame(100))


def test_model_size_follows_the_data_unless_chosen():
    small = Forecaster(horizon=8, lookback=24, max_epochs=1).fit(synthetic_frame(200, 2))
    assert (small.config_.model.d_model, small.config_.model.d_ff) == (64, 64)
    chosen = Forecaster(horizon=8, lookback=24, max_epochs=1, d_model=32, d_ff=16)
    assert chosen.fit(synthetic_frame(200, 2)).config_.model.d_model == 32


def test_s2ip_llm_keeps_the_official_decomposition_where_it_fits_the_lookback():
    from tsfm.estimator.params import build_config

    def model(lookback: int, freq: str = "D", **extra):
        est = Forecaster("s2ip_llm", horizon=4, lookback=lookback, **extra)
        cfg = build_config(est, freq=freq, has_dates=True, time_col="date", n_windows=100)
        return tuple(
            cfg.model[k] for k in ("trend_length", "seasonal_length", "patch_len", "stride")
        )

    assert model(200) == (96, 96, 16, 8)  # the official values fit: kept
    assert model(16) == (16, 7, 16, 8)  # trend window the look-back, period the data's week
    # the look-back holds no two weeks: no seasonal period (1), the patch the look-back
    assert model(12) == (12, 1, 12, 6)
    assert model(12, season_length=3) == (12, 3, 12, 6)  # the season the metrics use
    # a week of look-back: the metrics keep the week, the decomposition a shorter period
    assert model(7) == (7, 1, 7, 3) and model(14, season_length=14)[1] == 7
    assert model(12, trend_length=6, seasonal_length=2) == (6, 2, 12, 6)  # chosen: kept
    assert model(12, overrides=["model.patch_len=4"]) == (12, 1, 4, 8)
    assert model(16, experiment="s2ip_llm_etth1_96")[0] == 96  # a preset is the paper's
    # STL's period spans at most half the look-back: the longest natural season that does
    assert model(150, decomposition="stl") == (96, 7, 16, 8)  # the official 96 > 150 // 2
    assert model(100, freq="15min", decomposition="stl")[1] == 4  # an hour, not a day (96)
    assert model(48, freq="h", decomposition="stl")[1] == 24
    assert model(20, decomposition="stl")[1] == 7
    assert model(30, freq="h", decomposition="stl")[1] == 1  # none fits: refused at build
