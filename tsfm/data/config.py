"""The data layer's settings (the ``data.`` node of every run)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DataConfig:
    """Where the series comes from, how it is split, scaled and cut into windows.

    Attributes:
        name: a registered dataset (``etth1``, ``etth2``, ``ettm1``, ``ettm2``, ``weather``,
            ``electricity``, ``traffic``, ``exchange_rate``, ``illness``) or ``custom``.
        root: folder searched for a registered dataset's file; default ``$TSFM_DATA``, then
            the bundled ``datasets/`` (never for ``path``).
        path: the file of a ``custom`` dataset (CSV, CSV.gz or Parquet); a relative path is
            read from the working directory. ``path``, ``id_col`` and ``mode`` are settings
            of custom data, refused with a registered dataset (which would ignore them).
        id_col: the series id column of a long file (one row per series and time: the id,
            ``date_col``, the ``target`` value and covariates), read jointly as the
            Forecaster's ``mode="joint"`` does: one multivariate series whose targets are the
            series, covariate ``c`` of series ``s`` the column ``c[s]``; static covariates
            are columns constant per series. Null: a wide file (a column per variate).
        mode: how a long file's series are read: ``joint`` (above) or ``independent``: each
            series its own sample, with its own dates, length, covariates and scaling, split
            by its own rows (:mod:`tsfm.data.panel_files`), as the Forecaster's
            ``mode="independent"``.
        cutoffs: where ``mode=independent`` cuts each series' validation and test rows
            (:mod:`tsfm.data.panel_splits`): ``per_series`` (default, as the Forecaster's folds
            and neuralforecast's) each series by its own rows from its own end (calendar time
            leaks across series that end on different dates: warned); ``shared`` at the same
            timestamps for every series (the ratio split of the panel's calendar), so that the
            model never trains on rows after any series' test start (a series starting too
            late to train before them is refused). A wide or joint file has one time index: its split is shared
            either way.
        date_col: the timestamp column (null: no timestamps, no calendar features).
        target: the target variate; moved last. Default ``OT`` for the benchmarks and the
            last column for custom data.
        columns: the variates to use (custom data); default every numeric column.
        features: ``M`` (all variates in and out), ``S`` (target only) or ``MS`` (all in,
            loss and metrics on the target), defined over the roles below (see
            :mod:`tsfm.data.roles`): M = every column without another role is a target, S =
            the target only, MS = the target, every other column a past covariate.
        targets: the columns to forecast (default: from ``features``); with
            ``mode=independent`` each series' target columns, several per series (each series
            one multivariate sample, scaled per series and target), given instead of ``target``.
        future_covariates: columns known over the horizon too (calendar, holidays, day-ahead
            forecasts); the model sees them over look-back + horizon.
        past_covariates: columns observed up to the forecast origin only.
        static_covariates: one value per series (panels only).
        static_categorical: static covariates read as categories (an embedding each) though
            numeric: integer codes (text, booleans and categoricals are categories anyway).
        missing: ``refuse`` (default: a NaN is an error naming the column and row) or
            ``mask``: NaN accepted, masked targets never enter the loss or any metric,
            masked inputs are filled (last observation) and the model is given the mask;
            absent timestamps of custom data become missing rows (``data.freq``, else the
            usual step; :mod:`tsfm.data.frames.gaps`).
        seq_len, pred_len: look-back and horizon.
        freq: frequency of the calendar features; null uses the data's own (the registry's
            for a benchmark, else inferred from the timestamps). It must describe the data's
            steps (same calendar unit: ``15min`` data takes ``15min`` or ``t``); benchmarks
            also take ``h``, which the official scripts use for all of them, as the presets do.
        time_features: compute calendar features at all.
        local_calendar: calendar features of zone-aware sub-daily timestamps (held as UTC
            instants) read the zone's clock: the hour and day a demand follows (false: UTC's,
            as tsfm computed them before; saved models and runs from then keep it).
        allow_irregular: accept timestamps with missing or uneven steps (refused by default,
            with or without calendar features: windows would run across the gaps).
        train_ratio, test_ratio: the ``ratio`` split (validation gets the rest); with
            ``mode=independent`` the share of each series' own rows.
        scale: standardise with statistics of the training rows.
        scaler: those statistics (:mod:`tsfm.data.robust_scaling`): ``standard`` (default:
            mean and standard deviation) or ``robust`` (median and interquartile range /
            1.349, falling back to wider quantile ranges, then the standard deviation, where
            it is 0): for training rows holding outliers, which blow up the standard
            deviation and squash every other value. Independent series each get their own.
        percent: few-shot training on the first ``percent`` % of training windows.
        scaler_on_subset: with ``percent`` < 100, fit the scaler on the few-shot rows only
            (the official code fits it on the whole training split).
        channel_independent: one sample per (window, variate) pair.
        train_variates: sample this many variates per training batch (iTransformer's
            efficient training); evaluation always uses all of them.
        batch_size: training batch size; eval_batch_size: validation/test batch size (it
            never changes the metrics: evaluation keeps every window).
        drop_last: drop the last incomplete training batch (never done for evaluation).
    """

    name: str = "etth1"
    root: str | None = None
    path: str | None = None
    id_col: str | None = None
    mode: str = "joint"
    cutoffs: str = "per_series"
    date_col: str | None = "date"
    target: str | None = None
    columns: list[str] | None = None
    features: str = "M"
    targets: list[str] | None = None
    future_covariates: list[str] = field(default_factory=list)
    past_covariates: list[str] = field(default_factory=list)
    static_covariates: list[str] = field(default_factory=list)
    static_categorical: list[str] = field(default_factory=list)
    missing: str = "refuse"
    seq_len: int = 96
    pred_len: int = 96
    freq: str | None = None
    time_features: bool = True
    local_calendar: bool = True
    allow_irregular: bool = False
    train_ratio: float = 0.7
    test_ratio: float = 0.2
    scale: bool = True
    scaler: str = "standard"
    percent: float = 100.0
    scaler_on_subset: bool = False
    channel_independent: bool = False
    train_variates: int | None = None
    batch_size: int = 32
    eval_batch_size: int = 256
    num_workers: int = 0
    drop_last: bool = True
    pin_memory: bool = False
