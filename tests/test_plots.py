"""Forecast plots: ``Forecaster.plot`` / ``tsfm.plot_forecast`` and the CLI's ``forecast.png``,
checked from the artists of the Figure (times on the x-axis, the origin line, panels, bands,
titles), not from a file's existence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsfm
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, LOOKBACK, tiny, to_long
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.drawing import ACTUAL, FORECAST, HISTORY, ORIGIN

FRAME = synthetic_frame(300, 3)
TRAIN, VALID = FRAME.iloc[:220], FRAME.iloc[220:280]


def line(ax, label: str):
    (found,) = [artist for artist in ax.lines if artist.get_label() == label]
    return np.asarray(found.get_xdata()), np.asarray(found.get_ydata())


def band_range(ax) -> list[tuple[float, float]]:
    """(min, max) of every band's polygon, in drawing order."""
    return [(c.get_paths()[0].vertices[:, 1].min(), c.get_paths()[0].vertices[:, 1].max())
            for c in ax.collections]  # fmt: skip


@pytest.fixture(scope="module")
def conformal_model():
    return tiny(conformal_windows=20, conformal_step=2).fit(TRAIN, VALID)


# ---------------------------------------------------------------------- Forecaster.plot
def test_plot_has_dates_the_origin_the_history_the_forecast_and_the_truth(conformal_model):
    df, truth = FRAME.iloc[:250], FRAME.iloc[250:]
    fig = conformal_model.plot(df, actual=truth, history=30, level=[80, 95])
    assert [ax.get_title() for ax in fig.axes] == ["v0", "v1", "OT"]
    forecast = conformal_model.predict(df, level=[80, 95])
    for ax in fig.axes:
        name = ax.get_title()
        past_x, past_y = line(ax, HISTORY)
        assert past_x.dtype.kind == "M" and len(past_x) == 30  # dates, `history` rows
        assert (past_x == df.date.to_numpy()[-30:]).all()
        assert np.allclose(past_y, df[name].to_numpy()[-30:])
        origin_x, _ = line(ax, ORIGIN)
        assert (origin_x == df.date.to_numpy()[-1]).all()  # the last time the model saw
        x, y = line(ax, FORECAST)
        assert (x == forecast.date.to_numpy()).all() and np.allclose(y, forecast[name])
        actual_x, actual_y = line(ax, ACTUAL)
        assert (actual_x == truth.date.to_numpy()[:HORIZON]).all()
        assert np.allclose(actual_y, truth[name].to_numpy()[:HORIZON])
        (lo95, hi95), (lo80, hi80) = band_range(ax)  # widest first
        assert np.isclose(lo95, forecast[f"{name}-lo-95"].min())
        assert np.isclose(hi80, forecast[f"{name}-hi-80"].max()) and lo95 <= lo80
    assert "itransformer: 8 steps ahead of 2020-01-11 09:00" in fig._suptitle.get_text()


def test_plot_picks_series_and_defaults_to_the_lookback(conformal_model):
    fig = conformal_model.plot(max_series=2, level=None)
    assert [ax.get_title() for ax in fig.axes] == ["v0", "v1"]
    assert "2 of 3 series" in fig._suptitle.get_text()
    ax = fig.axes[0]
    assert not ax.collections and len(line(ax, HISTORY)[0]) == LOOKBACK
    assert (line(ax, ORIGIN)[0] == VALID.date.to_numpy()[-1]).all()  # after the fitted data
    fig = tsfm.plot_forecast(conformal_model, series=["OT"], title="mine")
    assert [ax.get_title() for ax in fig.axes] == ["OT"] and fig._suptitle.get_text() == "mine"
    assert len(fig.axes[0].collections) == 2  # two levels: two bands


def test_plot_refuses_bad_input_with_the_fix(conformal_model):
    with pytest.raises(ValueError, match=r"\['nope'\], which are not forecast series"):
        conformal_model.plot(series=["nope"])
    with pytest.raises(ValueError, match=r"a list of names, e.g. series=\['OT'\]"):
        conformal_model.plot(series="OT")
    with pytest.raises(ValueError, match="history takes a positive number of rows"):
        conformal_model.plot(history=0)
    with pytest.raises(
        ValueError, match=r"no rows from 2020-01-11 10:00 to 2020-01-11 17:00 \(the forecast's"
    ):
        conformal_model.plot(FRAME.iloc[:250], actual=FRAME.iloc[:100])
    with pytest.raises(ValueError, match=r"actual has no series \['OT'\]"):
        conformal_model.plot(FRAME.iloc[:250], actual=FRAME.iloc[250:].drop(columns="OT"))


def test_plot_shows_wall_clock_times_of_a_time_zone_and_long_frames(conformal_model):
    local = FRAME.iloc[:250].assign(date=FRAME.date.iloc[:250].dt.tz_localize("Europe/Berlin"))
    zoned = tiny().fit(local.iloc[:200])  # a later frame is read in the fitted zone
    for given in (local, local.assign(date=local.date.dt.tz_convert("Asia/Tokyo"))):
        fig = zoned.plot(given, series=["OT"], level=None)
        x, _ = line(fig.axes[0], HISTORY)
        assert (x == FRAME.date.to_numpy()[250 - LOOKBACK : 250]).all()  # Berlin's, not UTC
    long = conformal_model.plot(to_long(FRAME.iloc[:250]), series=["OT", "v0"], level=None)
    assert [ax.get_title() for ax in long.axes] == ["OT", "v0"]  # joint long: series ids


def test_independent_panels_have_each_series_own_dates_and_truth():
    from tests.test_covariates import TINY_IT, panel_frame

    panel = panel_frame().drop(columns=["promo", "store"])
    train = panel.groupby("unique_id").head(-HORIZON)
    test = panel.groupby("unique_id").tail(HORIZON)
    est = tiny(mode="independent", loss="normal", **TINY_IT).fit(train)
    fig = est.plot(actual=test, max_series=2, level=[80])
    assert [ax.get_title() for ax in fig.axes] == ["s0", "s1"]
    forecast = est.predict(level=[80])
    for ax in fig.axes:
        own = train[train.unique_id == ax.get_title()]
        assert (line(ax, ORIGIN)[0] == own.ds.to_numpy()[-1]).all()
        past_x, past_y = line(ax, HISTORY)
        assert past_x.dtype.kind == "M" and np.allclose(past_y, own.y.to_numpy()[-LOOKBACK:])
        rows = forecast[forecast.unique_id == ax.get_title()]
        x, y = line(ax, FORECAST)
        assert (x == rows.ds.to_numpy()).all() and np.allclose(y, rows.y)
        truth = test[test.unique_id == ax.get_title()]
        assert np.allclose(line(ax, ACTUAL)[1], truth.y) and len(ax.collections) == 1
    short = est.plot(train, series=["s2"], level=None)  # 60 - 8 rows: fewer than shown
    assert [ax.get_title() for ax in short.axes] == ["s2"]
    assert len(line(short.axes[0], HISTORY)[0]) == LOOKBACK
    assert "1 of 3 series)" in short._suptitle.get_text()  # named: no hint to pick others


def test_several_targets_per_series_draw_a_row_per_series_and_a_column_per_target():
    """A panel of two targets: every target by default (series s0: sales, returns; s1: ...),
    each panel its target's history, forecast, bands and truth; target= picks some, and a
    name that is no target is refused naming the valid ones."""
    from tests.test_panel_targets import TARGETS, two_target_panel
    from tsfm import InputError

    panel = two_target_panel(lengths=(70, 60, 50))
    train = panel.groupby("unique_id").head(-HORIZON)
    test = panel.groupby("unique_id").tail(HORIZON)
    est = tiny(mode="independent", targets=TARGETS, loss="normal").fit(train)
    fig = est.plot(actual=test, max_series=2, level=[80])
    titles = ["a: sales", "a: returns", "b: sales", "b: returns"]
    assert [ax.get_title() for ax in fig.axes] == titles
    assert fig.axes[1].get_subplotspec().colspan.start == 1  # a column per target
    assert "(2 of 3 series; series=[...] picks others)" in fig._suptitle.get_text()
    forecast = est.predict(level=[80])
    for ax in fig.axes:
        series, target = ax.get_title().split(": ")
        own = train[train.unique_id == series]
        past_x, past_y = line(ax, HISTORY)
        assert (past_x == own.ds.to_numpy()[-LOOKBACK:]).all()
        assert np.allclose(past_y, own[target].to_numpy()[-LOOKBACK:])
        rows = forecast[forecast.unique_id == series]
        x, y = line(ax, FORECAST)
        assert (x == rows.ds.to_numpy()).all() and np.allclose(y, rows[target])
        assert band_range(ax)[0] == pytest.approx(
            (rows[f"{target}-lo-80"].min(), rows[f"{target}-hi-80"].max())
        )
        truth = test[test.unique_id == series][target]
        assert np.allclose(line(ax, ACTUAL)[1], truth)
    one = est.plot(train, target="returns", series=["c"], level=None)
    assert [ax.get_title() for ax in one.axes] == ["c: returns"]
    own = train[train.unique_id == "c"].returns.to_numpy()
    assert np.allclose(line(one.axes[0], HISTORY)[1], own[-LOOKBACK:])
    both = est.plot(target=["returns", "sales"], series=["a"])
    assert [ax.get_title() for ax in both.axes] == ["a: returns", "a: sales"]
    for bad, said in [
        ("price", r"target names \['price'\], which are not the model's targets: pick "
                  r"from \['sales', 'returns'\]"),
        ([], r"target is empty; name one of the model's targets: pick from \['sales'"),
        (3, r"target takes a target's name or a list of them.*\['sales', 'returns'\]"),
    ]:  # fmt: skip
        with pytest.raises(InputError, match=said):
            est.plot(target=bad)


def test_target_is_refused_for_a_joint_model_naming_series(conformal_model):
    with pytest.raises(ValueError, match=r"targets are its series .* series=\[\.\.\.\]"):
        conformal_model.plot(target="OT")


def test_the_default_bands_are_the_levels_the_model_scores():
    from tests.test_covariates import TINY_IT, panel_frame

    panel = panel_frame().drop(columns=["promo", "store"])
    est = tiny(mode="independent", loss="quantile", quantiles=[0.1, 0.5, 0.9], **TINY_IT)
    est.fit(panel)
    fig = est.plot(series=["s0"])  # 80 % only: its quantiles bound no 95 % interval
    assert len(fig.axes[0].collections) == 1
    with pytest.raises(ValueError, match="not \\[0.025, 0.975\\]"):
        est.plot(series=["s0"], level=[95])  # asked for explicitly: refused
    with pytest.raises(ValueError, match="None or 'auto'"):
        est.plot(level="all")


# ---------------------------------------------------------------------- the CLI's forecast.png
def _cli_pieces(*overrides: str, windows: list[str] = TINY_ITRANSFORMER):
    from tsfm.config import compose_config
    from tsfm.pipeline import build_datamodule, build_module

    cfg = compose_config(*windows, *TINY_RUN, *overrides)
    datamodule = build_datamodule(cfg)
    return cfg, datamodule, build_module(cfg, datamodule)


def test_cli_figure_has_dates_every_chosen_target_bands_and_the_runs_score():
    from tsfm.report import forecast_figure, run_title

    cfg, datamodule, module = _cli_pieces("loss=quantile")
    metrics = {"test/mse": 0.38812, "test/mae": 0.4051, "test/crps": 0.2}
    fig = forecast_figure(module, datamodule, 2, None, run_title(cfg, metrics))
    title = fig._suptitle.get_text()
    assert title == "itransformer on etth1 (24 -> 8): test MSE 0.388, MAE 0.405, CRPS 0.200"
    assert len(fig.axes) == 2 * 4  # 2 windows x the target OT first, then 3 others
    names = [ax.get_title() for ax in fig.axes[:4]]
    assert names == ["test window 0: OT", "test window 0: HUFL", "test window 0: HULL",
                     "test window 0: MUFL"]  # fmt: skip
    last = datamodule.datasets["test"].n_windows - 1
    assert fig.axes[4].get_title() == f"test window {last}: OT"
    times = datamodule.window_times("test", last)
    start = datamodule.borders.test[0] + last
    assert (times == datamodule.table.dates[start : start + 32]).all()
    ax = fig.axes[4]
    past_x, past_y = line(ax, HISTORY)
    assert past_x.dtype.kind == "M" and (past_x == times[:24]).all()
    ot = datamodule.table.values[start : start + 32, -1]
    assert np.allclose(past_y, ot[:24], atol=1e-4) and np.allclose(line(ax, ACTUAL)[1], ot[24:])
    assert (line(ax, ORIGIN)[0] == times[23]).all() and (line(ax, FORECAST)[0] == times[24:]).all()
    assert len(ax.collections) == 2  # the run's levels 80 and 95


def test_cli_figure_plot_variates_and_channel_independent_windows():
    from tsfm.report import forecast_figure

    _, datamodule, module = _cli_pieces("data.channel_independent=true")
    fig = forecast_figure(module, datamodule, 1, ["HULL", "OT"])
    assert [ax.get_title() for ax in fig.axes] == ["test window 0: HULL", "test window 0: OT"]
    values = datamodule.table.values[datamodule.borders.test[0] :]
    assert np.allclose(line(fig.axes[0], HISTORY)[1], values[:24, 1], atol=1e-4)
    assert np.allclose(line(fig.axes[1], HISTORY)[1], values[:24, -1], atol=1e-4)
    assert not fig.axes[0].collections  # a point model: no bands
    with pytest.raises(ValueError, match=r"output.plot_variates names \['Oil'\]"):
        forecast_figure(module, datamodule, 1, ["Oil"])


def test_cli_refuses_an_unknown_plot_variate_before_training(tmp_path):
    from tsfm.pipeline import fit_and_test

    cfg, _, _ = _cli_pieces("output.plot=true", "output.plot_variates=[Oil]")
    with pytest.raises(ValueError, match=r"output.plot_variates names \['Oil'\].*pick from"):
        fit_and_test(cfg, tmp_path)
    assert not (tmp_path / "checkpoints").exists()


def test_cli_run_writes_forecast_png_with_its_title(tmp_path, monkeypatch):
    import tsfm.report
    from tsfm.config import compose_config
    from tsfm.run import run

    drawn = []
    original = tsfm.report.forecast_figure
    monkeypatch.setattr(
        tsfm.report, "forecast_figure", lambda *a, **k: drawn.append(original(*a, **k)) or drawn[-1]
    )
    overrides = [o for o in TINY_RUN if not o.startswith("output.")]
    cfg = compose_config(*TINY_ITRANSFORMER, *overrides, "output.print_table=false")
    metrics = run(cfg, tmp_path)
    (fig,) = drawn
    title = fig._suptitle.get_text()
    assert title.startswith("itransformer on etth1 (24 -> 8): test MSE ")
    assert f"MAE {metrics['test/mae']:.3f}" in title
    assert len(fig.axes) == 4 * 4 and line(fig.axes[0], HISTORY)[0].dtype.kind == "M"
    assert (tmp_path / "forecast.png").stat().st_size > 10_000


def test_cli_m4_figure_counts_steps_and_names_the_series(tmp_path):
    from tests.helpers.m4 import write_m4_files
    from tsfm.report import forecast_figure

    write_m4_files(tmp_path, "Hourly")
    _, datamodule, module = _cli_pieces(
        "experiment=itransformer_m4_hourly",
        f"data.root={tmp_path}",
        windows=[o for o in TINY_ITRANSFORMER if o.startswith("model.")],
    )
    fig = forecast_figure(module, datamodule, 2)
    ids = datamodule.split.ids
    assert [ax.get_title() for ax in fig.axes] == [f"series {ids[0]}: Hourly",
                                                   f"series {ids[-1]}: Hourly"]  # fmt: skip
    past_x, past_y = line(fig.axes[0], HISTORY)
    assert past_x.dtype.kind == "i" and (line(fig.axes[0], ORIGIN)[0] == past_x[-1]).all()
    series = datamodule.split.train[0]
    observed = past_y[~np.isnan(past_y)]  # padding before a short series is not drawn
    assert np.allclose(observed, series[-len(observed) :], rtol=1e-4)


def test_the_report_title_of_m4_and_of_a_run_without_metrics():
    from tsfm.config import compose_config
    from tsfm.report import run_title

    cfg = compose_config(*TINY_ITRANSFORMER)
    assert run_title(cfg) == "itransformer on etth1 (24 -> 8)"
    m4 = {"test/smape": 18.2, "test/mase": 2.5, "test/owa": 0.91, "test/mse": 1.0}
    assert run_title(cfg, m4).endswith(": test sMAPE 18.200, MASE 2.500, OWA 0.910")
    assert pd.isna(float("nan")) and "MSE nan" in run_title(cfg, {"test/mse": float("nan")})
