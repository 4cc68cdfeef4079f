"""A long panel whose series have two targets each, end to end on real data: the four EPF
markets (BE, FR, NP, PJM; hourly, their own dates), each with its price (``OT``) and its
day-ahead load forecast (``System load forecast``, NP's ``Grid load forecast``) as targets, in
``Forecaster(mode="independent", targets=["price", "load"])``: one model, each market one
2-variate sample, scaled per market and target. Fitted on each market's rows before its last
``--test`` hours, then ``backtest`` over those hours (the fitted model, daily cutoffs) and
``predict()``, with the seasonal-naive forecast's scores beside the model's.

    python runners/epf_panel_targets.py --data-root ../shared/data          # tiny fit
    python runners/epf_panel_targets.py --data-root ../shared/data --rows 4000 --epochs 5
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

from tsfm import CalendarOverlapWarning, Forecaster

LOAD = {"BE": "System load forecast", "FR": "System load forecast",
        "NP": "Grid load forecast", "PJM": "System load forecast"}  # fmt: skip
HORIZON, LOOKBACK = 24, 96


def epf_panel(root: Path, rows: int) -> pd.DataFrame:
    """The last ``rows`` hours of every market: unique_id, ds, price, load."""
    frames = []
    for market, load in LOAD.items():
        frame = pd.read_csv(root / "epf" / f"{market}.csv", skipinitialspace=True)
        frame = frame.rename(columns=lambda c: c.strip()).tail(rows)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": market,
                    "ds": pd.to_datetime(frame["date"], format="%Y/%m/%d %H:%M"),
                    "price": frame["OT"].to_numpy(float),
                    "load": frame[load].to_numpy(float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--rows", type=int, default=1500, help="hours per market")
    parser.add_argument("--test", type=int, default=168, help="last hours backtested")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=CalendarOverlapWarning)  # markets end apart
    panel = epf_panel(Path(args.data_root), args.rows)
    rank = panel.groupby("unique_id").cumcount(ascending=False)
    model = Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, mode="independent", targets=["price", "load"],
        d_model=32, d_ff=32, max_epochs=args.epochs, val_size=HORIZON, seed=0, verbose=0,
    )  # fmt: skip
    started = time.perf_counter()
    model.fit(panel[rank >= args.test])
    print(f"fitted on {sum(rank >= args.test)} rows of {panel.unique_id.nunique()} markets "
          f"({args.rows - args.test} hours each) in {time.perf_counter() - started:.1f} s")  # fmt: skip
    folds = model.backtest(panel, n_windows=args.test // HORIZON, step=HORIZON)
    windows = folds.forecasts
    print(f"backtest: {folds.metrics.shape[0]} daily folds x 4 markets, the fitted model")
    print("target  market      mae   snaive_mae")
    for target in ("price", "load"):
        error = (windows[f"{target}-forecast"] - windows[target]).abs()
        naive = (windows[f"{target}-snaive"] - windows[target]).abs()
        for market, rows in windows.groupby("unique_id").groups.items():
            print(f"{target:6}  {market:6} {error[rows].mean():8.2f}  {naive[rows].mean():8.2f}")
    print(f"pooled (both targets, scaled): mae {folds.metrics['mae'].mean():.3f}, "
          f"snaive {folds.metrics['snaive_mae'].mean():.3f}")  # fmt: skip
    forecast = model.predict(panel)
    print(f"predict(panel): columns {list(forecast.columns)}, {len(forecast)} rows")
    print(forecast.groupby("unique_id").head(2).to_string(index=False))


if __name__ == "__main__":
    main()
