"""``tsfm.Forecaster``: every registered model behind scikit-learn's conventions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tsfm.estimator.checks import check_fitted, refuse_step_count
from tsfm.estimator.frame_reading import FrameReading
from tsfm.estimator.guards import check_run_only, guarded
from tsfm.estimator.none_values import refuse_none_values
from tsfm.estimator.other_names import other_method, refuse_other_parameters, refuses_other_names
from tsfm.estimator.persistence_methods import PersistenceMethods
from tsfm.estimator.pickling import PicklableConfig
from tsfm.estimator.scoring_methods import ScoringMethods
from tsfm.estimator.sklearn_protocol import EstimatorProtocol

if TYPE_CHECKING:
    from tsfm.data.frames import SeriesTable

# torch, Lightning, Hydra and the frame libraries are imported by the methods that need them,
# so that `from tsfm import Forecaster` stays fast (runners/bench_import.py).


class Forecaster(
    PersistenceMethods, ScoringMethods, FrameReading, PicklableConfig, EstimatorProtocol
):
    """Fit, forecast, score, cross-validate, save and tune any registered model on a frame.

    Args:
        model: a registered model (``tsfm.models.REGISTRY``).
        horizon: steps to forecast (``data.pred_len``); required (how far ahead depends on the
            decision the forecast serves; a missing horizon is refused with a suggestion for
            the data's frequency).
        lookback: steps of history each forecast sees (``data.seq_len``); None (default):
            chosen by the data at fit (:mod:`tsfm.estimator.lookback`): 96 steps, but at
            most 4 seasons and at least one (hourly and weekly 96, daily 28, monthly 48,
            quarterly 16, 5-minute 288; at most 720), at most a third of the training rows,
            at least 2; the value is ``lookback_`` and ``fit_metrics_["lookback"]``. An integer is
            used as given.
        experiment: a preset of ``conf/experiment/`` to start from (see :meth:`from_experiment`).
        overrides: extra Hydra overrides, as on the command line (``["optim=adamw_cosine"]``).
        freq: the data's frequency (``"h"``, ``"15min"``, an integer step); None infers it.
        val_size: trailing rows held out for early stopping and the best epoch (a fraction or
            a count); None trains on every row for ``max_epochs``. ``fit(df, val_df)`` uses
            ``val_df`` instead.
        id_col, time_col, target_col: the columns of a long frame.
        date_col: the time column of a wide frame (None: ``time_col``, ``date``, or the only
            temporal column).
        work_dir: keep checkpoints (``best.ckpt`` with validation rows) and logs (with
            ``overrides=["logger=csv"]``) there; None uses a temporary folder that is removed
            after fitting, and keeps the best epoch's weights in memory (no checkpoint file).
        verbose: ``1`` (default): one line per epoch (time, losses, ETA) where a person is
            watching (a terminal or a notebook), and one line wherever it runs when Ctrl-C or
            ``max_time`` ends a fit; ``0``: silent; ``2``: Lightning's own output too.
        targets: the columns to forecast (wide frames; default: every column without a
            covariate role), or with ``mode="independent"`` every series' targets (several
            per series, in place of ``target_col``; a forecast column per target).
        future_covariates: columns known over the horizon too (calendar, holidays, weather or
            load forecasts, planned prices); ``predict`` then needs ``future_df``.
        past_covariates: columns observed up to the forecast origin only.
        static_covariates: one value per series: columns of a long frame constant per series,
            or of ``static_df`` (numeric ones standardised, others categorical).
        mode: long frames only: ``joint`` (default: the series share one time index and are
            forecast together; a covariate ``c`` of series ``s`` is the column ``c[s]``) or
            ``independent`` (each series is its own sample, with its own dates, length,
            covariates and scaling; see README "Panels").
        missing: ``refuse`` (default: NaN is an error naming column and row) or ``mask``:
            NaN accepted; masked targets never enter the loss or a metric, masked inputs are
            filled (last observation) and the model is given the mask.
        warm_start: False (default): every ``fit`` trains a fresh model; True: a fitted
            Forecaster's ``fit`` starts from its weights (fine-tuning, also after ``load``),
            with a fresh optimizer and the fitted scaling (README "Warm starts and
            fine-tuning", ``warm_start.py``); ``tune`` then fine-tunes every trial from them.
        **params: model hyperparameters (``d_model=128``), common settings (``max_epochs``,
            ``max_time``, ``lr``, ``batch_size``, ``seed``, ``patience``, ``loss``,
            ``accelerator``, ``precision``, ...) or any config key with ``__`` for dots
            (``trainer__gradient_clip_val=1.0``). Intervals: ``loss="quantile"`` (with
            ``quantiles=[...]``), ``"normal"`` or ``"student_t"``, or a point loss with
            ``conformal_windows=k`` (``conformal_step``, ``conformal_normalize``,
            ``conformal_adaptive_rate`` for adaptive intervals in ``evaluate``); ``levels``
            and ``season_length`` set what ``evaluate`` scores (see the README). Without an
            experiment or a chosen width, iTransformer's width, learning rate (1e-3) and
            least optimizer steps (100) follow the data (README "Defaults from the data").

    Fitted attributes: ``module_`` (the trained ForecastingModule; after :meth:`load` its
    forecasting part, an :class:`~tsfm.training.forecasting_core.InferenceModule`: the same
    weights and forecasts, without Lightning, which loading never imports), ``config_``
    (the resolved run config), ``scaler_``, ``columns_``, ``n_variates_``, ``freq_``, ``lookback_`` (the
    look-back the fit used), ``history_`` (the last ``lookback_`` rows), ``fit_metrics_``, ``fitted_rows_`` (the timestamps it trained
    and validated on, which ``evaluate`` warns of scoring); after :meth:`tune`, ``study_``
    and ``best_params_``.
    """

    def __init__(
        self,
        model: str = "itransformer",
        horizon: int | None = None,
        lookback: int | None = None,
        *,
        experiment: str | None = None,
        overrides: list[str] | None = None,
        freq: str | int | None = None,
        val_size: float | int | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        date_col: str | None = None,
        work_dir: str | Path | None = None,
        verbose: int = 1,
        targets: list[str | int] | None = None,
        future_covariates: list[str | int] | None = None,
        past_covariates: list[str | int] | None = None,
        static_covariates: list[str | int] | None = None,
        mode: str = "joint",
        missing: str = "refuse",
        warm_start: bool = False,
        **params: Any,
    ):
        self.model = model
        self.horizon = horizon
        self.lookback = lookback
        self.experiment = experiment
        self.overrides = overrides
        self.freq = freq
        self.val_size = val_size
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.date_col = date_col
        self.work_dir = work_dir
        self.verbose = verbose
        self.targets = targets
        self.future_covariates = future_covariates
        self.past_covariates = past_covariates
        self.static_covariates = static_covariates
        self.mode = mode
        self.missing = missing
        self.warm_start = warm_start
        check_run_only(overrides, params)  # the command line's resume: never a Forecaster's
        refuse_other_parameters(params, params)  # h=, futr_exog_list=, ...: tsfm's names
        refuse_none_values(model, experiment, overrides, params)  # conformal_windows=None
        self._extra = dict(params)
        self._searched: frozenset[str] = frozenset()  # set by tune (estimator/searched.py)

    def __getattr__(self, name: str) -> Any:
        # only for attributes not found: another library's method names tsfm's
        raise other_method(self, name)

    # ------------------------------------------------------------------ fit and forecast
    @refuses_other_names("fit")  # fit(df, val_size=24): the Forecaster's val_size
    @guarded("fit")  # the fitted state changes only when a fit completes
    def fit(self, df: Any, val_df: Any = None, static_df: Any = None) -> Forecaster:
        """Train a fresh model on ``df`` (with ``warm_start=True``, the fitted one further),
        validating on ``val_df``, which must continue it (``static_df``: one row per series,
        the id column and static covariates)."""
        from tsfm.estimator.warm_start import fit_forecaster

        fit_forecaster(self, df, val_df, static_df)
        return self

    def fit_table(
        self, table: SeriesTable, val_table: SeriesTable | None = None, **kwargs: Any
    ) -> Any:
        """:meth:`fit` on an already checked table; returns the pipeline's RunResult."""
        from tsfm.estimator.fitting import fit_table
        from tsfm.estimator.result_names import refuse_clashing_names

        refuse_clashing_names(table.layout)  # before any training
        self._forget()
        return fit_table(self, table, val_table, **kwargs)

    @refuses_other_names("predict")  # futr_df=, h=, n=, num_samples=: tsfm's named
    def predict(
        self,
        df: Any = None,
        future_df: Any = None,
        level: Sequence[float] | None = None,
        quantiles: bool | Sequence[float] = False,
        static_df: Any = None,
        steps: int | None = None,
    ) -> Any:
        """The ``horizon`` steps after the fitted data, or after the end of ``df``.

        The forecast comes back in ``df``'s layout, frame library and id and time types (the
        fitted data's without ``df``), with real future timestamps, on the original scale. A
        model with future covariates needs their values over the horizon in ``future_df``
        (:meth:`make_future_dataframe` gives the frame to fill). ``level=[80, 95]`` adds the
        intervals' bounds ``<name>-lo-80``, ``<name>-hi-80``, ... and ``quantiles=True`` the
        quantiles ``<name>-q-<tau>`` at the ``quantiles`` levels, ``quantiles=[0.1, 0.9]``
        those (:mod:`tsfm.estimator.interval_requests`) (``<name>``: each target's column in a
        wide frame, the target column in a long one, or each of ``targets``), from the
        probabilistic head or the conformal scores (with ``conformal_adaptive_rate``, read at the level adaptive
        conformal reaches along ``df``'s new outcomes, as ``evaluate``; split without ``df``).
        ``static_df``: the static covariates of ``df``'s series, as for ``fit`` (or columns of
        ``df``); a series the model was not fitted on is forecast from them.

        ``steps``: how many steps to forecast (default: the horizon). Up to the horizon, the
        forecast's first ``steps`` rows per series (intervals too). Beyond it, darts-style
        auto-regressive rollout (:mod:`tsfm.estimator.rollout`): blocks of ``horizon``
        steps, each fed the point forecasts before it as look-back; ``future_df`` then holds
        the future covariates over all ``steps`` and the past covariates over the first
        ``steps - horizon`` (optional with ``missing="mask"``); intervals are refused there.
        """
        from tsfm.estimator.predicting import predict_frame

        check_fitted(self)
        refuse_step_count(self, df)
        return predict_frame(self, df, future_df, level, quantiles, static_df, steps)

    @refuses_other_names("sample_paths")  # num_samples=, n=: tsfm's named
    def sample_paths(
        self,
        df: Any = None,
        n_samples: int = 100,
        seed: int | None = None,
        future_df: Any = None,
        static_df: Any = None,
    ) -> Any:
        """``n_samples`` joint paths of :meth:`predict`'s forecast (the same ``df``,
        ``future_df``, ``static_df``): rows (series, sample, timestamp), columns id, time,
        ``sample`` and the target, in ``df``'s library; drawn from the conformal calibration
        residuals, whole windows at a time, so each step's spread is its interval's and the
        steps move together as the model's errors did (:mod:`tsfm.estimator.sample_paths`;
        a panel's per series: :mod:`tsfm.estimator.panel_paths`)."""
        from tsfm.estimator.sample_paths import sample_paths

        check_fitted(self)
        refuse_step_count(self, df, "sample_paths")
        return sample_paths(self, df, n_samples, seed, future_df, static_df)

    def output_columns(self, table: SeriesTable) -> list:
        """The forecast's columns: the targets in ``table``'s order (long: the series)."""
        from tsfm.estimator.roles import picks_columns

        if not self.roles_.has_covariates and not picks_columns(self):
            return list(table.columns)
        targets = {str(c) for c in self.columns_}
        return [c for c in table.columns if str(c) in targets]

    def make_future_dataframe(self, df: Any = None, steps: int | None = None) -> Any:
        """The frame ``predict(df, future_df=..., steps=steps)`` needs: one row per series
        and horizon step (or step of ``steps`` beyond the horizon, with the past covariates'
        columns too) after the end of ``df`` (or of the fitted data), covariates empty."""
        from tsfm.estimator.future import make_future_frame

        check_fitted(self)
        if self.mode_ == "independent":
            from tsfm.estimator.future import make_future_panel

            return make_future_panel(self, df, steps)
        table = self.history_ if df is None else self._read(df, forecast=False)
        return make_future_frame(self, table, steps)

    # ------------------------------------------------------------------ tuning
    @guarded("tune")
    def tune(self, df: Any, n_trials: int = 20, **options: Any) -> Forecaster:
        """Search with Optuna, keep the best and its model (warm_start: fine-tuned); see
        :mod:`tsfm.estimator.search`."""
        from tsfm.estimator.search import tune_forecaster

        return tune_forecaster(self, df, n_trials=n_trials, **options)
