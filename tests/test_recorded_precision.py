"""The precision a fit ran in is resolved once, recorded (``fit_metrics_["precision"]``,
metrics.json, the saved model) and kept by predict, evaluate, ``load`` and
``from_run`` on any machine; a bf16 model loaded where bf16 is not native says so once."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from tests.helpers.estimator import tiny
from tests.test_from_run import ETTH1, cli_run
from tsfm import Forecaster
from tsfm.training import runtime
from tsfm.training.runtime import MachineWarning


@pytest.fixture
def bf16_cpu(monkeypatch):
    """Pretend the CPU has (True) or lacks (False) native bf16: another machine."""

    def pretend(native: bool) -> None:
        monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: native)

    return pretend


def machine_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, MachineWarning)]


def test_auto_fitted_in_bf16_keeps_bf16_where_loaded_without_it_and_says_so(
    frame, tmp_path, bf16_cpu
):
    bf16_cpu(True)  # the fitting machine: auto picks bf16-mixed
    model = tiny(precision="auto", threads=1, seed=0).fit(frame)
    assert model.fit_metrics_["precision"] == "bf16-mixed"
    assert model.config_.trainer.precision == "auto"  # the setting, for a refit elsewhere
    forecast, scores = model.predict(), model.evaluate(frame.iloc[-60:])
    model.save(tmp_path / "saved")
    saved = json.loads((tmp_path / "saved" / "forecaster.json").read_text())
    assert saved["fit_metrics"]["precision"] == "bf16-mixed"

    bf16_cpu(False)  # another machine, without native bf16
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = Forecaster.load(tmp_path / "saved")
        moved = machine_warnings(caught)
        again, rescored = loaded.predict(), loaded.evaluate(frame.iloc[-60:])
    assert len(moved) == 1 and machine_warnings(caught) == moved  # once, at load
    assert "fitted in bf16-mixed (trainer.precision=auto chose it" in moved[0]
    assert "this CPU has no native bf16" in moved[0] and "keep bf16-mixed" in moved[0]
    assert caught[0].filename == __file__  # the user's line
    pd.testing.assert_frame_equal(again, forecast)  # the fit's precision, not fp32
    assert rescored["mse"] == scores["mse"]


def test_auto_fitted_in_fp32_stays_fp32_where_loaded_with_native_bf16(frame, tmp_path, bf16_cpu):
    bf16_cpu(False)
    with pytest.warns(MachineWarning, match="uses fp32"):
        model = tiny(precision="auto", threads=1, seed=0).fit(frame)
    assert model.fit_metrics_["precision"] == "32-true"
    forecast = model.predict()
    model.save(tmp_path / "saved")
    bf16_cpu(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = Forecaster.load(tmp_path / "saved")
        again = loaded.predict()
    assert machine_warnings(caught) == []
    pd.testing.assert_frame_equal(again, forecast)  # not silently bf16


def test_a_save_without_the_record_resolves_auto_as_before_naming_the_users_line(
    frame, tmp_path, bf16_cpu
):
    bf16_cpu(True)
    tiny(precision="auto", threads=1, seed=0).fit(frame).save(tmp_path / "saved")
    meta_path = tmp_path / "saved" / "forecaster.json"
    meta = json.loads(meta_path.read_text())
    del meta["fit_metrics"]["precision"]  # as an earlier tsfm saved it
    meta_path.write_text(json.dumps(meta))
    bf16_cpu(False)
    loaded = Forecaster.load(tmp_path / "saved")
    with pytest.warns(MachineWarning, match="precision=auto: this CPU has no native bf16") as w:
        loaded.predict()  # today's behaviour: auto resolved on this machine (fp32)
    assert w[0].filename == __file__  # not contextlib.py


def test_a_runs_precision_is_recorded_and_from_run_forecasts_in_it(tmp_path, bf16_cpu):
    bf16_cpu(True)
    run_dir = cli_run(tmp_path, "trainer.precision=auto")
    assert json.loads((run_dir / "metrics.json").read_text())["precision"] == "bf16-mixed"
    bf16_cpu(False)  # the run read on a machine without native bf16
    with pytest.warns(MachineWarning, match="Forecaster.from_run: the model was fitted in bf16"):
        forecaster = Forecaster.from_run(run_dir)
    written = pd.read_parquet(run_dir / "forecasts.parquet")
    frame = pd.read_csv(ETTH1, parse_dates=["date"])
    cutoff = written.cutoff.unique()[0]
    predicted = forecaster.predict(frame[frame.date <= cutoff])
    rows = written[(written.cutoff == cutoff) & (written.series == "OT")].sort_values("ds")
    np.testing.assert_allclose(predicted["OT"], rows["forecast"], rtol=1e-5, atol=1e-5)
