"""A loaded model forecasts without importing Lightning (nor what Lightning brings).

``Forecaster.load`` followed by ``predict`` is what a process started per request runs
(serverless, a CLI wrapper, a cron job), where importing Lightning (torchmetrics, torchvision,
transformers, matplotlib) took most of the seconds. Each test runs the calls in a fresh
interpreter and lists the heavy packages it ended up with.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from tests.helpers.data import REPO, synthetic_frame
from tests.helpers.estimator import tiny, to_long

HEAVY = ("lightning", "torchmetrics", "torchvision", "transformers", "open_clip", "optuna",
         "matplotlib")  # fmt: skip

PROBE = """
import json, pickle, sys
from tsfm import Forecaster, InputError
folder = sys.argv[1]
inputs = pickle.load(open(f"{folder}/inputs.pkl", "rb"))
f = Forecaster.load(f"{folder}/conformal")
out = {"plain": f.predict(), "frame": f.predict(inputs["later"]),
       "level": f.predict(level=[80, 95])}
out["future"] = Forecaster.load(f"{folder}/covariates").predict(future_df=inputs["future"])
panel = Forecaster.load(f"{folder}/panel")
out["panel"], out["panel_frame"] = panel.predict(), panel.predict(inputs["panel"])
try:
    Forecaster.load(f"{folder}/tampered")
    refused = ""
except InputError as err:
    refused = str(err)
pickle.dump(out, open(f"{folder}/forecasts.pkl", "wb"))
heavy = sorted(m for m in sys.argv[2].split(",") if m in sys.modules)
print(json.dumps({"heavy": heavy, "refused": refused}))
"""


# as many threads as this process forecasts with: another count sums in another order, and
# the forecasts compared bit for bit would differ in their last bits
THREADS = torch.get_num_threads()


def run_fresh(probe: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(THREADS)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_load_and_predict_import_neither_lightning_nor_what_it_brings(tmp_path):
    frame = synthetic_frame(240, 3)
    conformal = tiny(conformal_windows=10, conformal_step=2, seed=3).fit(frame.iloc[:200])
    conformal.save(tmp_path / "conformal")
    n = 200
    demand = pd.DataFrame({
        "date": pd.date_range("2021-01-01", periods=n, freq="h"),
        "y": np.sin(np.arange(n) / 4), "temp": np.cos(np.arange(n) / 7),
    })  # fmt: skip
    covariates = tiny(future_covariates=["temp"]).fit(demand)
    covariates.save(tmp_path / "covariates")
    long = to_long(frame)
    panel = tiny(mode="independent", id_col="unique_id", time_col="ds").fit(long.iloc[:600])
    panel.save(tmp_path / "panel")
    conformal.save(tmp_path / "tampered")  # a Trainer argument Lightning does not have
    config = yaml.safe_load((tmp_path / "tampered" / "config.yaml").read_text())
    config["trainer"]["max_epochz"] = 3
    (tmp_path / "tampered" / "config.yaml").write_text(yaml.safe_dump(config))
    later = synthetic_frame(300, 3, seed=4).tail(40)
    future = covariates.make_future_dataframe().assign(temp=0.5)
    with open(tmp_path / "inputs.pkl", "wb") as file:
        pickle.dump({"later": later, "future": future, "panel": long.iloc[100:]}, file)
    found = run_fresh(PROBE, str(tmp_path), ",".join(HEAVY))
    assert found["heavy"] == [], found
    assert "does not fit the run config schema" in found["refused"], found
    assert "max_epochz" in found["refused"], found
    forecasts = pickle.loads((tmp_path / "forecasts.pkl").read_bytes())
    expected = {
        "plain": conformal.predict(),
        "frame": conformal.predict(later),
        "level": conformal.predict(level=[80, 95]),
        "future": covariates.predict(future_df=future),
        "panel": panel.predict(),
        "panel_frame": panel.predict(long.iloc[100:]),
    }  # the fitted models' own forecasts, bit for bit
    for key, forecast in expected.items():
        pd.testing.assert_frame_equal(forecasts[key], forecast, check_exact=True)


PRETRAINED_PROBE = """
import json, sys
from tsfm import Forecaster
Forecaster.load(sys.argv[1]).predict()
print(json.dumps({"heavy": [m for m in ("lightning", "torchmetrics") if m in sys.modules]}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["s2ip_llm", "timesclip"])
def test_a_loaded_pretrained_model_forecasts_without_lightning(name, tmp_path):
    # transformers (GPT-2) and open_clip are the models' own: only Lightning stays out
    est = tiny(name).fit(synthetic_frame(240, 3))
    found = run_fresh(PRETRAINED_PROBE, str(est.save(tmp_path / name)))
    assert found["heavy"] == [], found
