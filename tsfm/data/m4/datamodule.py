"""The M4 short-term task as a LightningDataModule: the same batch dicts as the long-term data
layer (``x``, ``y``, ``index``, plus ``x_mask`` / ``y_mask``), so every model runs unchanged,
and an evaluation hook that scores forecasts the competition's way (sMAPE, MASE, OWA).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig

from tsfm.data.contract import ForecastDataModule, config_from
from tsfm.data.extreme_values import find_extreme_values
from tsfm.data.m4.files import (
    VALIDATION_MODES,
    M4DataConfig,
    M4Split,
    group_of,
    load_train,
    locate_m4,
)
from tsfm.data.m4.metrics import (
    GroupScores,
    mape,
    msis,
    naive2_forecasts,
    score_group,
    seasonal_naive_intervals,
)
from tsfm.data.m4.windows import M4ForecastWindows, M4TrainWindows
from tsfm.errors import InputError


def as_m4_config(config: M4DataConfig | DictConfig | dict | None) -> M4DataConfig:
    """Check the settings and fill in the derived ones (look-back, horizon, history size)."""
    cfg = config_from(M4DataConfig, config)
    group = group_of(cfg.name)
    if cfg.pred_len not in (0, group.horizon):
        raise InputError(
            f"M4 {group.name} is scored at horizon {group.horizon}; data.pred_len="
            f"{cfg.pred_len} is not allowed (leave it at {group.horizon})"
        )
    if cfg.lookback_multiple <= 0:
        raise InputError(f"data.lookback_multiple must be positive, got {cfg.lookback_multiple}")
    if cfg.validation not in VALIDATION_MODES:
        raise InputError(
            f"data.validation must be one of {VALIDATION_MODES}, not '{cfg.validation}'"
        )
    problems = {
        "features": cfg.features not in ("M", "S"),
        "scale": cfg.scale,
        "scaler": cfg.scaler != "standard",
        "time_features": cfg.time_features,
        "train_variates": cfg.train_variates is not None,
        "percent": cfg.percent != 100,
        "path": cfg.path is not None,
        "columns": cfg.columns is not None,
        "id_col": cfg.id_col is not None,
        "mode": cfg.mode != "joint",
        "cutoffs": cfg.cutoffs != "per_series",  # the competition's: each series' last horizon
    }
    bad = [name for name, wrong in problems.items() if wrong]
    if bad:
        raise InputError(
            f"data.{', data.'.join(bad)}: not available for M4 (univariate series without "
            "timestamps, not scaled globally: the models normalise each window; the files "
            "are found through data.root)"
        )
    seq_len = cfg.seq_len or round(cfg.lookback_multiple * group.horizon)
    history = group.history_size if cfg.history_size is None else cfg.history_size
    return dataclasses.replace(cfg, seq_len=seq_len, pred_len=group.horizon, history_size=history)


def m4_extreme_values(
    ids: list[str], series: list[np.ndarray], columns: list[str]
) -> list[dict[str, Any]]:
    """The extreme values of each series' training values (:mod:`tsfm.data.extreme_values`,
    per series, as every other data module's): no timestamps, so each is placed by its
    position in the series and the competition file's column (value 1 is in ``V2``)."""
    return find_extreme_values(
        [s[:, None] for s in series],
        columns,
        [None] * len(series),
        ids,
        lambda row: f"value {row + 1} (file column V{row + 2})",
    )


@dataclass
class _Evaluation:
    """What forecasts of one evaluation set are scored against."""

    histories: list[np.ndarray]
    targets: np.ndarray
    naive2: np.ndarray | None = None
    snaive: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # forecast, lower, upper


class M4DataModule(ForecastDataModule):
    """One M4 group (``data.name = m4_<group>``); see :class:`M4DataConfig` for the settings.

    Stages: ``train`` draws random windows from each series (minus its last horizon under the
    default honest validation); ``val`` forecasts that held-out horizon (or, with
    ``validation=test``, the test set); ``test`` forecasts the test file's horizon from the
    last window of each whole training series. The test file is read only for testing
    (and at set-up under ``validation=test``). Its evaluation hook scores every forecast the
    competition's way (``scores_forecasts``).
    """

    scores_forecasts = True
    mask_option = None  # the files refuse NaN (files.read_m4_file)
    forecast_scores = (
        *(f.name for f in dataclasses.fields(GroupScores)),
        *("owa", "mape", "msis", "snaive_msis", "snaive_coverage_95"),  # evaluate_forecasts'
    )

    def __init__(self, config: M4DataConfig | DictConfig | dict | None = None):
        super().__init__()
        self.config = as_m4_config(config)
        self.group = group_of(self.config.name)
        self.split: M4Split | None = None
        self._evaluations: dict[str, _Evaluation] = {}

    @property
    def legacy_validation(self) -> bool:
        return self.config.validation == "test"

    # ------------------------------------------------------------------ loading
    def setup(self, stage: str | None = None) -> None:
        cfg, horizon = self.config, self.group.horizon
        if self.split is None:
            self.split = load_train(self.group, locate_m4(self.group, cfg.root))
            if self.legacy_validation:
                fit_series = self.split.train
            else:
                fit_series = self._holdout_histories()
                targets = np.stack([s[-horizon:] for s in self.split.train])
                self._add_evaluation("val", fit_series, targets)
            self.extreme_values = m4_extreme_values(self.split.ids, fit_series, self.columns)
            self.datasets["train"] = M4TrainWindows(
                fit_series, cfg.seq_len, horizon, cfg.history_size, cfg.samples_per_series
            )
        if "test" not in self.datasets and (stage in ("test", "predict") or self.legacy_validation):
            test = self.split.read_test(locate_m4(self.group, cfg.root).test)
            self._add_evaluation("test", self.split.train, test)
            if self.legacy_validation:
                self.datasets["val"] = self.datasets["test"]
                self._evaluations["val"] = self._evaluations["test"]

    def _holdout_histories(self) -> list[np.ndarray]:
        horizon, period = self.group.horizon, self.group.period
        need = horizon + max(2, period + 1)
        short = [i for i, s in zip(self.split.ids, self.split.train, strict=True) if len(s) < need]
        if short:
            raise InputError(
                f"{len(short)} {self.group.name} series (e.g. {short[:3]}) are shorter than "
                f"{need} points, too short to hold out their last {horizon} for validation; "
                "use data.validation=test (the official protocol) for such data"
            )
        return [s[:-horizon] for s in self.split.train]

    def _add_evaluation(self, stage: str, histories: list[np.ndarray], targets: np.ndarray):
        self.datasets[stage] = M4ForecastWindows(histories, targets, self.config.seq_len)
        self._evaluations[stage] = _Evaluation(histories, targets)

    # ------------------------------------------------------------------ evaluation hook
    def evaluate_forecasts(
        self,
        stage: str,
        index: torch.Tensor,
        forecast: torch.Tensor,
        interval: torch.Tensor | None = None,
    ) -> dict[str, float]:
        """sMAPE, MASE and OWA (with Naive2's sMAPE/MASE and the series count), and MAPE, of the
        forecasts ``[B, H, 1]`` of the series ``index [B]`` of an evaluation stage; with the
        95 % intervals ``interval [B, H, 1, 2]`` also their MSIS, beside the MSIS and
        coverage of the seasonal-naive interval baseline on the same series
        (``snaive_msis``, ``snaive_coverage_95``).

        Called by the training module at the end of each validation and test epoch; series
        seen twice (DDP padding) count once.
        """
        self.setup(stage)
        evaluation = self._evaluations[stage]
        rows, first = np.unique(index.cpu().numpy(), return_index=True)
        predicted = forecast.detach().float().cpu().numpy()[first, :, 0]
        if evaluation.naive2 is None:
            evaluation.naive2 = naive2_forecasts(
                evaluation.histories, self.group.horizon, self.group.period
            )
        scores = score_group(
            predicted,
            evaluation.targets[rows],
            [evaluation.histories[i] for i in rows],
            self.group.period,
            evaluation.naive2[rows],
        )
        result = {k: float(v) for k, v in scores.as_dict().items()}
        percent = mape(predicted, evaluation.targets[rows])  # beside sMAPE; not in the OWA
        if np.isfinite(percent).any():
            result["mape"] = float(np.nanmean(percent))
        if interval is not None:
            result.update(self._interval_scores(evaluation, rows, first, interval))
        return result

    def _interval_scores(
        self, evaluation: _Evaluation, rows: np.ndarray, first: np.ndarray, interval: torch.Tensor
    ) -> dict[str, float]:
        bounds = interval.detach().double().cpu().numpy()[first, :, 0]
        period, targets = self.group.period, evaluation.targets[rows]
        histories = [evaluation.histories[i] for i in rows]
        if evaluation.snaive is None:
            evaluation.snaive = seasonal_naive_intervals(
                evaluation.histories, self.group.horizon, period
            )
        _, lower, upper = (part[rows] for part in evaluation.snaive)
        inside = (targets >= lower) & (targets <= upper)
        return {
            "msis": float(msis(bounds[..., 0], bounds[..., 1], targets, histories, period).mean()),
            "snaive_msis": float(msis(lower, upper, targets, histories, period).mean()),
            "snaive_coverage_95": float(inside.mean()),
        }

    # ------------------------------------------------------------------ what the rest needs
    @property
    def n_vars(self) -> int:
        return 1

    @property
    def n_marks(self) -> int:
        return 0

    @property
    def columns(self) -> list[str]:
        return [self.group.name]

    def long_target(self) -> str:
        """The group's name (``nonnegative=[Hourly]``) marks every series, as the forecasts'
        one column: forecasts.parquet names the series by id (``H1``, ...)."""
        return self.group.name

    def window_series(self, stage: str, window: int) -> str:
        """Evaluation window ``i`` is series ``ids[i]``'s last horizon."""
        self.setup()
        return str(self.split.ids[window])

    def window_name(self, stage: str, window: int) -> str:
        return f"series {self.window_series(stage, window)}"

    def season_period(self) -> int:
        return self.group.period

    def window_counts(self) -> dict[str, int]:
        """Samples per epoch / evaluation (one per series in evaluation)."""
        self.setup()
        n = len(self.split.ids)
        return {"train": len(self.datasets["train"]), "val": n, "test": n}

    def protocol(self) -> dict[str, Any]:
        """The M4 settings every result depends on, stored in metrics.json."""
        cfg = self.config
        return {
            **super().protocol(),
            "m4_group": self.group.name,
            "lookback_multiple": cfg.seq_len / cfg.pred_len,
            "history_size": cfg.history_size,
            "samples_per_series": cfg.samples_per_series,
            "validation": (
                "TEST SET (official-code protocol; checkpoint and early stopping saw the test data)"
                if self.legacy_validation
                else f"holdout: last {self.group.horizon} points of each training series"
            ),
            "validation_on_test": self.legacy_validation,
        }
