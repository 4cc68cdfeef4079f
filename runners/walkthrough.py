"""A practitioner's walkthrough on real data nobody here wrote: vic_elec (half-hourly demand with
temperature and holidays) and aus_production (quarterly), end to end through the Forecaster.

    python runners/walkthrough.py --data-root ../shared/data          # both flows
    python runners/walkthrough.py --only aus_production

Each flow: hold out the last rows, fit (the default progress lines where a terminal watches),
evaluate the held-out rows per series beside the seasonal-naive baseline, backtest the fitted
model on rolling folds without retraining, plot the forecast with its 80/95 % conformal bands
(``<out>/<flow>.png``), save, load and check the loaded model forecasts the same numbers.
Prints what each step reports and how long it took; the README quotes the output.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from tsfm import Forecaster

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def timed(what: str):
    start = time.perf_counter()
    yield
    print(f"  [{time.perf_counter() - start:6.1f} s] {what}", flush=True)


def show(frame: pd.DataFrame, columns: list[str]) -> None:
    with pd.option_context("display.width", 120, "display.precision", 3):
        print(frame[columns].to_string(index=False))


def flow(
    name: str,
    data: pd.DataFrame,
    test_rows: int,
    forecaster: Forecaster,
    out: Path,
    known: list[str] | None = None,
) -> None:
    """``known``: the time column and the future covariates, for the horizon's rows."""
    print(f"\n== {name}: {len(data)} rows, the last {test_rows} held out", flush=True)
    train, test = data.iloc[:-test_rows], data.iloc[-(test_rows + forecaster.lookback) :]
    with timed("fit"):
        forecaster.fit(train)
    print(f"  fitted: freq {forecaster.freq_}, {forecaster.fit_metrics_.get('epochs')} epochs")
    with timed("evaluate(test, per_series=True): every window of the held-out rows"):
        table = forecaster.evaluate(test, per_series=True)
    table = table.to_pandas() if hasattr(table, "to_pandas") else table
    show(table, [table.columns[0], *[c for c in table.columns if c in PER_SERIES]])
    pooled = forecaster.evaluate(test)
    print(
        f"  pooled (scaled): mae {pooled['mae']:.3f}, seasonal naive {pooled['snaive_mae']:.3f}, "
        f"skill {pooled.get('skill_mae', float('nan')):+.2f}; coverage 80 % "
        f"{pooled.get('coverage_80', float('nan')):.2f}, 95 % "
        f"{pooled.get('coverage_95', float('nan')):.2f}"
    )
    folds = 3
    with timed(f"backtest(the rows after training, {folds} folds): no retraining"):
        _, metrics = forecaster.backtest(test, n_windows=folds)
    metrics = metrics.to_pandas() if hasattr(metrics, "to_pandas") else metrics
    show(metrics, [c for c in metrics.columns if c in FOLDS])
    with timed(f"plot -> {out / (name + '.png')}"):
        horizon = forecaster.horizon
        future = test.iloc[-horizon:][known] if known else None
        figure = forecaster.plot(test.iloc[:-horizon], actual=test, history=96, future_df=future)
        figure.savefig(out / f"{name}.png", dpi=90)
    with tempfile.TemporaryDirectory() as folder, timed("save, load, predict"):
        forecaster.save(Path(folder) / "model")
        loaded = Forecaster.load(Path(folder) / "model")
        same = loaded.evaluate(test) == pooled
    print(f"  the loaded model forecasts the same numbers: {same}")


PER_SERIES = ["series", "mae", "snaive_mae", "skill_mae", "mase", "smape", "windows"]
FOLDS = ["fold", "cutoff", "mae", "snaive_mae", "skill_mae", "mase", "coverage_80"]


def aus_production(root: Path, out: Path) -> None:
    frame = pd.read_csv(root / "extra" / "aus_production.csv").dropna()
    forecaster = Forecaster(
        horizon=8,
        lookback=16,
        val_size=0.2,
        conformal_windows=20,
        conformal_step=1,
        max_epochs=30,
        seed=0,
    )
    flow("aus_production", frame, 40, forecaster, out)


def vic_elec(root: Path, out: Path) -> None:
    raw = pd.read_csv(root / "extra" / "vic_elec.csv")
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(raw["Time"], utc=True),
            "Demand": raw["Demand"],
            "Temperature": raw["Temperature"],
            "Holiday": raw["Holiday"].astype(float),
        }
    )
    forecaster = Forecaster(
        horizon=48,
        lookback=336,
        targets=["Demand"],
        future_covariates=["Temperature", "Holiday"],
        val_size=0.1,
        conformal_windows=20,
        max_epochs=3,
        batch_size=128,
        seed=0,
    )
    flow("vic_elec", frame, 4 * 7 * 48, forecaster, out, ["time", "Temperature", "Holiday"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(REPO / "runners" / "results" / "walkthrough"))
    parser.add_argument("--only", choices=["aus_production", "vic_elec"])
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, run in (("aus_production", aus_production), ("vic_elec", vic_elec)):
        if args.only in (None, name):
            run(Path(args.data_root), out)


if __name__ == "__main__":
    main()
