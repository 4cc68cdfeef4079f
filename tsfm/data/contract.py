"""The data-module contract: what the pipeline, the training module and the front doors read
from a data module, and the loader code every data module shares.

A data module declares what it can do instead of being recognised by its name:
``scores_forecasts`` says that :meth:`ForecastDataModule.evaluate_forecasts` scores whole
evaluation sets (M4's sMAPE/MASE/OWA), and :meth:`ForecastDataModule.training_windows` says
whether the training split has fixed windows (a model may cache per-window features).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

import lightning as L
import polars as pl
from omegaconf import DictConfig, OmegaConf
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from tsfm.data.batch import batch_to
from tsfm.data.eval_sharding import eval_shard_sampler
from tsfm.data.loader import Loader
from tsfm.data.scaler import StandardScaler
from tsfm.errors import InputError

log = logging.getLogger(__name__)
ConfigT = TypeVar("ConfigT")


def config_from(cls: type[ConfigT], config: Any) -> ConfigT:
    """A ``cls`` dataclass from an instance, a dict or a DictConfig; unknown keys are refused."""
    if config is None:
        return cls()
    if isinstance(config, cls):
        return config
    if isinstance(config, DictConfig):
        config = OmegaConf.to_container(config, resolve=True)
    if not isinstance(config, dict):
        raise TypeError(f"expected a {cls.__name__}, a dict or a DictConfig, got {type(config)}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise InputError(f"unknown data setting(s) {unknown}; known: {sorted(known)}")
    return cls(**config)


@dataclass(frozen=True)
class FixedWindows:
    """A split whose window ``i`` is always ``values[i * stride : i * stride + seq_len]``."""

    values: Tensor  # [T, N] scaled
    seq_len: int
    stride: int
    n_windows: int
    source: str  # what the values come from (a dataset name), part of cache keys


def passthrough_collate(batch: Any) -> Any:
    """The datasets return whole batches (``__getitems__``); nothing is left to collate."""
    return batch


class ForecastDataModule(L.LightningDataModule):
    """Base of every data module: the attributes the rest of tsfm reads, and shared loaders.

    Subclasses set ``config`` (a :class:`~tsfm.data.config.DataConfig` or subclass),
    ``scaler`` and ``datasets`` (``train``/``val``/``test`` datasets returning whole
    :class:`~tsfm.data.batch.Batch` dicts from ``__getitems__``) in ``setup``, and define
    ``n_vars``, ``n_marks`` and ``columns``. Evaluation batches should carry the targets as
    read (``x_original``, ``y_original``: :class:`~tsfm.data.batch.Batch`); without them
    original-unit metrics and forecasts.parquet's ``y`` unscale the scaled targets.
    """

    scores_forecasts: ClassVar[bool] = False
    # the names evaluate_forecasts may return (logged as <stage>/<name>)
    forecast_scores: ClassVar[tuple[str, ...]] = ()
    # samples are windows of many independent series (panels): conformal scores pool them
    pools_series: ClassVar[bool] = False
    # the setting that masks a value set to NaN, as the extreme-values warning advises it
    # (None: the data refuses NaN, so the warning says to correct the value)
    mask_option: ClassVar[str | None] = "data.missing=mask"

    def __init__(self) -> None:
        super().__init__()
        self.scaler: StandardScaler | None = None
        self.datasets: dict[str, Dataset] = {}
        self._digest: tuple[list, str] | None = None  # (the data it was computed of, digest)
        # values far outside the rest of their column's training rows, set by the modules
        # that look (tsfm.data.extreme_values): what the pipeline records in the metrics
        self.extreme_values: list[dict] = []

    # ------------------------------------------------------------------ what models need
    @property
    def n_vars(self) -> int:
        """Variates per sample as the model sees them."""
        raise NotImplementedError

    @property
    def n_marks(self) -> int:
        """Calendar features per time step."""
        raise NotImplementedError

    @property
    def columns(self) -> list[str]:
        raise NotImplementedError

    def series_names(self) -> list[str]:
        """What the test's per-series metrics are named by: the target columns."""
        return list(self.columns)

    def dims(self) -> dict[str, int]:
        """The data-derived arguments a model may take."""
        return {
            "seq_len": self.config.seq_len,
            "pred_len": self.config.pred_len,
            "n_vars": self.n_vars,
            "n_marks": self.n_marks,
        }

    def window_counts(self) -> dict[str, int]:
        """Samples per epoch (training) and windows scored (evaluation)."""
        self.setup()
        return {name: len(ds) for name, ds in self.datasets.items()}

    def protocol(self) -> dict[str, Any]:
        """The data settings every reported number depends on, stored in metrics.json."""
        cfg = self.config
        return {
            "data": cfg.name,
            "seq_len": cfg.seq_len,
            "pred_len": cfg.pred_len,
            "features": cfg.features,
            "eval_drop_last": False,
            # the scaled metrics' units: "standard" (the papers'), "robust" or "none"
            "scaler": getattr(cfg, "scaler", "standard") if cfg.scale else "none",
            **{f"windows/{stage}": n for stage, n in self.window_counts().items()},
        }

    def cached_digest(self, data: list, compute: Callable[[], str]) -> str:
        """``compute()``, the digest of the objects ``data``, once while they stay the same
        objects (the preflight and the run's record both ask; data replaced: computed anew)."""
        known = getattr(self, "_digest", None)
        if (
            known is None
            or len(known[0]) != len(data)
            or any(a is not b for a, b in zip(known[0], data, strict=True))
        ):
            self._digest = known = (list(data), compute())
        return known[1]

    def season_freq(self) -> str | None:
        """The frequency the default ``season_length`` follows: the data's sampling when the
        module found it (ETTm1: 15min, though its calendar features use ``h``), else
        ``data.freq``."""
        return getattr(self, "sampling", None) or getattr(self.config, "freq", None)

    def season_period(self) -> int | None:
        """The seasonal period the data's own scores use (M4's MASE: the group's period),
        which is then the default ``season_length`` too; None: follow :meth:`season_freq`."""
        return None

    def history_scale(self, stage: str, batch: Any, lag: int, original: bool = False) -> Tensor:
        """MASE's and MSIS's scale under ``mase_scale="history"``, ``[B, N]`` like the batch's
        targets (scaled values; ``original``: of the values as read, in their units): for
        each window of ``batch`` (a batch of ``stage``), the mean absolute difference of its
        series' observed values ``lag`` apart over every row before the window's origin
        (training rows included), 0 where there is no such pair
        (:func:`tsfm.training.scoring.history_scale`)."""
        raise InputError(
            f"{type(self).__name__} cannot score against each series' history "
            "(mase_scale=history); use mase_scale=lookback"
        )

    def scaler_state(self) -> dict[str, list] | None:
        """The targets' scaling, as the training module undoes it for original-scale metrics
        and forecasts (None: the data is not scaled)."""
        return self.scaler.state_dict() if self.scaler is not None else None

    def training_windows(self) -> FixedWindows | None:
        """The training split as fixed windows, or None when its windows are drawn afresh."""
        return None

    def time_type(self) -> dict[str, Any] | None:
        """How the data's timestamps were given (:class:`~tsfm.data.frames.Layout`'s
        ``time_type``: time zone, unit), for writing ``window_times`` back in kind; None:
        the data has no dates or the module does not know."""
        return None

    def window_times(self, stage: str, window: int) -> Any:
        """The times of window ``window`` of ``stage``, look-back then horizon: ``datetime64``
        dates or the data's integer steps, or None without a time column (plots and
        forecasts.parquet then count steps from the window's start)."""
        return None

    def window_series(self, stage: str, window: int) -> str | None:
        """The series window ``window`` of ``stage`` belongs to where each window is one
        series' (M4, panels of independent series); None where a window holds every target."""
        return None

    def series_ids(self) -> pl.Series | None:
        """The series ids of a long file or frame, in the type they were read in (integer ids
        stay integers), for the outputs that name series by id (forecasts.parquet); None where
        the series are named by column names."""
        return None

    def long_target(self) -> str | None:
        """The target column whose name marks every series (``nonnegative=[name]``) where the
        targets are the series of one value column, each named by its id (a long file's, a
        one-target panel's): the ``series`` of ``forecasts.parquet`` are then ids; None where
        ``series`` names the target columns, or a panel of several targets per series has a
        ``target`` column naming them."""
        return None

    def fitted_targets(self) -> list[tuple[Any, Any, Any]]:
        """``(series, values [T, N], times [T] or None)`` of the targets (columns in
        ``columns``' order) over the rows the run trains and validates on: one entry
        (``series`` None) for a table, one per series for a panel; empty where nothing is to
        check (M4, whose series are positive). ``nonnegative`` refuses negatives among them."""
        return []

    def window_name(self, stage: str, window: int) -> str:
        """How a plot names window ``window`` of ``stage``."""
        return f"{stage} window {window}"

    def calibration_indices(self, n_windows: int, step: int) -> list[int]:
        """Samples of the validation split for conformal calibration: its last ``n_windows``
        windows, ``step`` rows apart (each dataset's ``rolling_origin`` says which)."""
        self.setup("validate")
        dataset = self.datasets.get("val")
        if dataset is None or len(dataset) == 0:
            raise InputError(
                "conformal calibration needs a validation split, and this data has none"
            )
        if not hasattr(dataset, "rolling_origin"):
            raise InputError(
                f"{type(self).__name__}'s validation windows do not support conformal "
                "calibration; use a probabilistic loss (quantile, normal, student_t) instead"
            )
        return dataset.rolling_origin(n_windows, step)

    def evaluate_forecasts(
        self, stage: str, index: Tensor, forecast: Tensor, interval: Tensor | None = None
    ) -> dict[str, float]:  # pragma: no cover - only for modules with scores_forecasts
        """Scores of a whole evaluation set from every original-scale forecast ``[n, S, N]``
        of the epoch and the ``index`` of each; used when ``scores_forecasts`` is true. A
        model with intervals also passes its 95 % interval ``[n, S, N, 2]`` (lower, upper)."""
        raise NotImplementedError

    def transfer_batch_to_device(self, batch: Any, device: Any, dataloader_idx: int) -> Any:
        """A :class:`~tsfm.data.batch.Batch` on ``device`` (:func:`~tsfm.data.batch.batch_to`:
        the float64 targets as read in float32 on MPS, which has no float64)."""
        if isinstance(batch, dict):
            return batch_to(batch, device)
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    # ------------------------------------------------------------------ loaders
    def _loader(self, stage: str, *, train: bool) -> DataLoader:
        self.setup(stage)
        cfg, dataset = self.config, self.datasets[stage]
        batch_size = cfg.batch_size if train else cfg.eval_batch_size
        drop_last = train and cfg.drop_last and len(dataset) >= batch_size
        if train and cfg.drop_last and not drop_last:  # a notice, nothing to fix: info
            log.info(
                "only %d training windows, fewer than one batch: keeping them all", len(dataset)
            )
        # Under DDP, Lightning's DistributedSampler pads evaluation sets with repeated windows;
        # an unpadded shard per rank counts every window exactly once.
        sampler = None if train else eval_shard_sampler(dataset, getattr(self, "trainer", None))
        return Loader(  # the same random numbers with and without workers
            dataset,
            batch_size=batch_size,
            shuffle=train,
            sampler=sampler,
            drop_last=drop_last,
            collate_fn=passthrough_collate,
            num_workers=cfg.num_workers,
            persistent_workers=cfg.num_workers > 0,
            pin_memory=cfg.pin_memory,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)
