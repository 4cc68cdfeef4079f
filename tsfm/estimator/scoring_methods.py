"""The Forecaster's scoring and plotting methods: evaluate, score, cross_validate, backtest and
plot (a mixin of :class:`tsfm.estimator.forecaster.Forecaster`, kept apart to keep each file
short; the heavy imports stay inside the methods, as there)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tsfm.drawing import DEFAULT_MAX_SERIES
from tsfm.estimator.checks import check_fitted
from tsfm.estimator.guards import guarded
from tsfm.estimator.other_names import refuses_other_names

if TYPE_CHECKING:
    from tsfm.estimator.cross_validation import CrossValidation


class ScoringMethods:
    """Scoring and plotting of a fitted :class:`~tsfm.estimator.forecaster.Forecaster`."""

    def plot(
        self,
        df: Any = None,
        *,
        series: Sequence[str] | None = None,
        max_series: int | None = DEFAULT_MAX_SERIES,
        history: int | None = None,
        actual: Any = None,
        level: Sequence[float] | str | None = "auto",
        future_df: Any = None,
        title: str | None = None,
        target: str | Sequence[str] | None = None,
    ) -> Any:
        """A matplotlib Figure of the forecast after ``df`` (or the fitted data): per series
        the last ``history`` rows (default ``lookback``), the origin marked, the forecast with
        its ``level`` bands when the model has intervals, and ``actual``'s true values after
        the origin when given. ``series`` names the panels (columns of a wide frame, ids of a
        long one; default the first ``max_series``); ``target`` the targets drawn of a
        ``mode="independent"`` model of several per series (default every one: a row per
        series, a column per target). See :func:`tsfm.plot_forecast`."""
        from tsfm.estimator.plotting import plot_forecast

        return plot_forecast(
            self, df, series=series, max_series=max_series, history=history, actual=actual,
            level=level, future_df=future_df, title=title, target=target,
        )  # fmt: skip

    @refuses_other_names("evaluate")  # level=, levels=: the Forecaster's levels
    def evaluate(
        self,
        df: Any,
        per_series: bool = False,
        return_forecasts: bool = False,
        static_df: Any = None,
        mase_scale: str = "lookback",
    ) -> Any:
        """Score every forecast window of ``df`` (each ``lookback + horizon`` rows, one step
        apart), beside the seasonal-naive and naive forecasts of the same windows.

        Args:
            df: a frame like the fitted one (its first ``lookback`` rows are only inputs):
                for out-of-sample scores, the held-out rows and the ``lookback`` rows before
                them. Windows whose targets are rows the model was fitted on are scored with
                a :class:`tsfm.InSampleWarning` (silence it with a warnings filter).
                ``mode="independent"``: a long frame whose every series is scored on its
                own windows (a series shorter than ``lookback + horizon`` on its last
                horizon, its look-back padded as in training; see
                :mod:`tsfm.estimator.panel_scoring`).
            per_series: False (default): a flat dict of pooled metrics; True: a frame (pandas
                or polars, as ``df``) with one row per series: ``mae``, ``mse``, ``rmse``,
                ``snaive_mae``, ``snaive_mse``, ``naive_mae`` in the series' own units,
                ``smape``, ``mape`` (percent), ``mase``, ``skill_mae``, ``skill_mse``,
                ``skill_mae_naive``, ``windows`` (the windows scored: with an observed target) (missing where undefined, with a
                warning saying why); a model with intervals
                adds ``crps``, ``coverage_<L>``, ``width_<L>`` (the series' own units) and
                ``msis``, so a badly calibrated series can be found.
            return_forecasts: also return every window's forecast as a long frame (id,
                time, ``cutoff``, ``step``, actual, ``forecast``, ``snaive`` and the interval
                bounds of a model with intervals): ``(metrics, forecasts)``.
            static_df: the static covariates of ``df``'s series (one row each, the id column
                and the static columns), as for ``fit``; or give them as columns of ``df``.
            mase_scale: MASE's and MSIS's scale (the mean absolute difference of observed
                values ``season_length`` apart): ``"lookback"`` (default) over each window's
                look-back; ``"history"`` over every row of the series in ``df`` before the
                window's origin (as M4, neuralforecast and darts: stable when look-backs are
                short). A look-back scale resting on fewer than ``season_length`` pairs is
                warned about; a look-back of one season has none (MASE missing).

        The dict's keys: ``mse``, ``mae``, ``rmse`` on the values as the fit scaled them
        (each series in its own standard deviations with the default ``scaler="standard"``:
        the papers' numbers, comparable across series; in its robust units, median and
        interquartile range / 1.349, with ``scaler="robust"``, not the papers'; in the
        data's own units with ``data__scale=False``); ``*_original``
        pooled over every value on the original scale (kept for compatibility: one number
        only when the series share a unit; otherwise read them per series); ``smape`` and
        ``mape`` (percent; MAPE leaves out actuals of 0, with a warning; actuals that change
        sign are warned about, as both mean little there) and ``mase`` (scale-free; MASE
        divides each window's errors by the mean absolute seasonal difference of its
        look-back, or of its history with ``mase_scale="history"``); ``snaive_mae``,
        ``snaive_mse``, ``naive_mae`` (scaled) and ``skill_mae = 1 - mae / snaive_mae``,
        ``skill_mse`` (negative: the seasonal naive forecast is better) and
        ``skill_mae_naive = 1 - mae / naive_mae`` (the same against the naive forecast, which
        a warning names when it beats the model by more than 10 %); ``season_length``
        (the ``season_length`` parameter, by default from the frequency: hourly 24, daily 7,
        monthly 12, quarterly 4, ...; :mod:`tsfm.data.seasons`); ``windows`` (those with an
        observed target); a model with intervals adds ``crps``, ``coverage_<L>``,
        ``width_<L>`` and ``msis``. A metric undefined on the data (MASE of look-backs without
        seasonal variation, skill against an exact seasonal naive forecast) is left out with a
        warning; none is NaN. A series' window whose look-back observes nothing of it is left
        out of its scores with a warning (:mod:`tsfm.estimator.scored_windows`); its forecast
        stays in the windows.
        """
        from tsfm.estimator.backtests import evaluate
        from tsfm.estimator.static_inputs import with_static_df
        from tsfm.training.scoring import check_mase_scale

        check_fitted(self)
        check_mase_scale(mase_scale)
        frame = with_static_df(self, df, static_df)
        return evaluate(self, frame, per_series, return_forecasts, mase_scale)

    def score(self, df: Any) -> float:
        """Negative MSE (on the fit's scaled values: the papers' with the standard scaler)
        over every window of ``df``: higher is better."""
        return -self.evaluate(df)["mse"]

    @refuses_other_names("cross_validate")  # step_size=, test_size=, level=: tsfm's named
    @guarded("cross_validate")
    def cross_validate(
        self,
        df: Any,
        n_windows: int = 3,
        step: int | None = None,
        refit: bool | int = True,
        static_df: Any = None,
        mase_scale: str = "lookback",
        cutoffs: str = "per_series",
    ) -> CrossValidation:
        """Rolling-origin evaluation: every fold trains a clone of this Forecaster (its
        ``val_size`` too: early stopping on the end of the fold's rows) on the rows before its
        cutoff; see :mod:`tsfm.estimator.cross_validation`. Future covariates of each fold's
        horizon are read from ``df`` (they are known there). To score the model already
        fitted without training, use :meth:`backtest`.

        Returns ``(forecasts, metrics)`` frames in ``df``'s frame library, id and time
        columns in ``df``'s types (forecasts: one row per (fold, series, step) with
        ``cutoff``, ``step``, the actual, ``forecast`` and ``snaive`` as :meth:`evaluate`'s
        windows; metrics per fold: the errors, ``smape``, ``mape``, ``mase``, the baselines
        and ``skill_*`` as :meth:`evaluate`; ``mase_scale`` as there, ``"history"``: every
        row before the cutoff);
        the result's ``per_series`` attribute holds one row per (fold, series). A model with
        intervals adds ``forecast-lo-<L>`` / ``forecast-hi-<L>`` columns for its ``levels``
        and the interval metrics per fold.

        ``mode="independent"``: with ``cutoffs="per_series"`` (the default, as neuralforecast
        and darts) each series' folds count back from its own end
        (:mod:`tsfm.estimator.panel_folds`); series that end on different dates then train a
        fold's model on rows of some series after another's cutoff, which a
        :class:`tsfm.CalendarOverlapWarning` says. ``cutoffs="shared"``: every fold one
        calendar cutoff for all series, that of the series that ends last; a series trains on
        its rows up to it and is scored where it holds the fold's whole horizon after it
        (:mod:`tsfm.estimator.shared_cutoffs`). The metrics of a panel's folds add
        ``first_cutoff`` and ``last_cutoff`` (of its series), ``cutoff`` null where the series'
        cutoffs differ. A joint frame's folds are shared either way.
        """
        from tsfm.estimator.cross_validation import cross_validate
        from tsfm.estimator.shared_cutoffs import check_cutoffs
        from tsfm.training.scoring import check_mase_scale

        check_mase_scale(mase_scale)
        check_cutoffs(cutoffs)
        return cross_validate(self, df, n_windows, step, refit, static_df, mase_scale, cutoffs)

    @refuses_other_names("backtest")
    def backtest(
        self,
        df: Any,
        n_windows: int = 3,
        step: int | None = None,
        static_df: Any = None,
        mase_scale: str = "lookback",
        cutoffs: str = "per_series",
    ) -> CrossValidation:
        """The folds of :meth:`cross_validate` forecast by this fitted model, without training
        (fast; the weights are not changed): ``(forecasts, metrics)`` and ``per_series`` as
        there, every fold ``refitted=False``.

        ``df`` holds the fitted model's columns; its folds must lie after the rows the model
        was fitted on (validation rows included): a fold at or before them is refused, since
        it would score forecasts of rows the model has seen. ``step`` defaults to the horizon;
        ``mode="independent"``: per series, as :meth:`cross_validate`; ``static_df``: the
        static covariates of ``df``'s series, as :meth:`evaluate` takes them; ``mase_scale``
        and ``cutoffs`` as :meth:`cross_validate` (``"shared"`` also refuses a model fitted on
        any row after the first fold's cutoff).
        """
        from tsfm.estimator.backtests import backtest_fitted
        from tsfm.estimator.shared_cutoffs import check_cutoffs
        from tsfm.estimator.static_inputs import with_static_df
        from tsfm.training.scoring import check_mase_scale

        check_fitted(self)
        check_mase_scale(mase_scale)
        check_cutoffs(cutoffs)
        frame = with_static_df(self, df, static_df)
        return backtest_fitted(self, frame, n_windows, step, mase_scale, cutoffs)
