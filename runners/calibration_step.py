"""The default conformal step, measured: per-step coverage with calibration windows lined up
with the day (the horizon's step, the old default) against the default step.

    python runners/calibration_step.py --data-root ../shared/data \
        > runners/results/probabilistic/calibration_step.md

Forecaster fits (iTransformer, ``d_model=32``, 2 epochs, one torch thread) on vic_elec
(half-hourly demand with the temperature and holiday as future-known covariates, the last
12,000 rows: 8,000 training, 2,000 validation, the rest the test) and ETTh1 (hourly, 7
variates, 12 / 4 / 4 months). Within each block the point forecasts are the same (checked):
only the calibration windows differ. Per-step coverage: the 80 % coverage of each horizon
step over every test window (every origin); by origin hour: over the windows whose cutoff
falls in each hour of the day.
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tsfm import Forecaster
from tsfm.training.calibration_step import calibration_step, origin_spread

REPO = Path(__file__).resolve().parents[1]
HEADER = (
    "| setting | step | origin phases | coverage 80 | coverage 95 | width 80 | per-step "
    "coverage 80 (sd) | by origin hour (sd) |\n|---|---|---|---|---|---|---|---|"
)
TINY = {"d_model": 32, "d_ff": 32, "max_epochs": 2, "verbose": 0, "threads": 1}


def vic_elec(root: Path) -> tuple[dict, tuple, int, list]:
    """Forecaster settings, (training, validation, test) frames, season, calibrations."""
    v = pd.read_csv(root / "extra" / "vic_elec.csv")
    v["Time"], v["Holiday"] = pd.to_datetime(v["Time"]), v["Holiday"].astype(float)
    v = v[["Time", "Demand", "Temperature", "Holiday"]].iloc[-12000:].reset_index(drop=True)
    frames = v.iloc[:8000], v.iloc[8000:10000], v.iloc[10000 - 96 :]
    base = {"horizon": 48, "lookback": 96, "targets": ["Demand"]}
    base["future_covariates"] = ["Temperature", "Holiday"]
    settings = [
        ("20 windows", {"conformal_windows": 20}),
        ("20 windows, normalised", {"conformal_windows": 20, "conformal_normalize": True}),
        ("40 windows", {"conformal_windows": 40}),
        ("300 windows, step 5 (reference)", {"conformal_windows": 300, "conformal_step": 5}),
    ]
    return base, frames, 48, settings


def etth1(root: Path, horizon: int, windows: tuple[int, ...]) -> tuple[dict, tuple, int, list]:
    e = pd.read_csv(root / "ETTh1.csv", parse_dates=["date"])
    n_train, n_val = 12 * 30 * 24, 4 * 30 * 24
    frames = (
        e.iloc[:n_train],
        e.iloc[n_train : n_train + n_val],
        e.iloc[n_train + n_val - 96 : n_train + 2 * n_val],
    )
    settings = [(f"{k} windows", {"conformal_windows": k}) for k in windows]
    every = n_val - 96 - horizon + 1  # windows one row apart over the validation months
    reference = {"conformal_windows": every, "conformal_step": 1}
    settings.append((f"{every} windows, step 1 (reference)", reference))
    return {"horizon": horizon, "lookback": 96}, frames, 24, settings


def row(name: str, step: int, windows: int, season: int, metrics: dict, w) -> str:
    inside = (w.y >= w["forecast-lo-80"]) & (w.y <= w["forecast-hi-80"])
    per_step, by_hour = inside.groupby(w.step).mean(), inside.groupby(w.cutoff.dt.hour).mean()
    hit = origin_spread(step, windows, season)[1]
    return (
        f"| {name} | {step} | {hit} | {100 * metrics['coverage_80']:.1f} | "
        f"{100 * metrics['coverage_95']:.1f} | {metrics['width_80']:.3f} | "
        f"{per_step.min():.2f}-{per_step.max():.2f} ({per_step.std():.3f}) | "
        f"{by_hour.min():.2f}-{by_hour.max():.2f} ({by_hour.std():.3f}) |"
    )


def block(title: str, base: dict, frames: tuple, season: int, settings: list) -> None:
    train, valid, test = frames
    print(f"\n**{title}**\n\n{HEADER}", flush=True)
    point = None
    for name, kw in settings:
        windows = kw["conformal_windows"]
        default = calibration_step(None, base["horizon"], windows, season)
        steps = [("horizon (before)", base["horizon"]), ("default", None)]
        if "conformal_step" in kw:  # a reference: that step only
            steps = [("", kw["conformal_step"])]
        for label, step in steps:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                params = {**base, **TINY, **kw, "conformal_step": step}
                est = Forecaster("itransformer", **params)
                est.fit(train, valid)
                metrics, w = est.evaluate(test, return_forecasts=True)
            if point is not None and np.abs(point - w.forecast.to_numpy()).max() > 1e-6:
                raise RuntimeError("the point forecasts differ between settings")
            point = w.forecast.to_numpy()
            title = f"{name}, {label}" if label else name
            print(row(title, step or default, windows, season, metrics, w), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    root = Path(parser.parse_args().data_root)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    block("vic_elec, half-hourly, horizon 48, season 48", *vic_elec(root))
    block("ETTh1, hourly, horizon 24, season 24", *etth1(root, 24, (20,)))
    block("ETTh1, hourly, horizon 96, season 24", *etth1(root, 96, (20, 29)))


if __name__ == "__main__":
    main()
