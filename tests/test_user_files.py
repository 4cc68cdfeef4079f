"""A user's own file on the command line, as people have them: a path given without
data=custom, pandas' row-number column, other separators, thousands separators, a path that
is not where it is looked for. Each is refused naming what is wrong and the fix."""

from __future__ import annotations

import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.data import TimeSeriesDataModule, make_datamodule
from tsfm.pipeline import fit_and_test

WINDOWS = {"seq_len": 24, "pred_len": 8}


def _custom(path, **settings) -> TimeSeriesDataModule:
    dm = TimeSeriesDataModule({"name": "custom", "path": str(path), **WINDOWS, **settings})
    dm.setup()
    return dm


# ------------------------------------------------------------- settings of custom data only
def test_a_path_without_data_custom_is_refused_not_replaced_by_the_benchmark(tmp_path):
    path = tmp_path / "mine.csv"
    synthetic_frame(200).to_csv(path, index=False)
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, f"data.path={path}", "data.target=OT")
    with pytest.raises(ValueError, match=rf"data.path={path} is set, but data.name is 'etth1'.*"
                       "add data=custom to read your own file"):  # fmt: skip
        fit_and_test(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.parametrize(
    ("settings", "shown"),
    [
        ({"id_col": "unique_id"}, "data.id_col=unique_id is set"),
        ({"mode": "independent", "id_col": "unique_id"}, "data.id_col=unique_id and data.mode"),
    ],
)
def test_long_file_settings_with_a_registered_dataset_are_refused(settings, shown):
    with pytest.raises(ValueError, match=f"{shown}.*registered dataset.*add data=custom"):
        make_datamodule({"name": "etth1", **WINDOWS, **settings}).setup()


def test_m4_refuses_the_long_file_settings_it_would_ignore():
    config = {"name": "m4_hourly", "id_col": "unique_id", "mode": "independent"}
    with pytest.raises(ValueError, match=r"data.id_col, data.mode: not available for M4"):
        make_datamodule(config)


@pytest.mark.parametrize("key", ["data.id_col=unique_id", "data.mode=independent"])
def test_the_forecaster_points_a_long_frame_setting_to_its_argument(key):
    argument = key.split(".")[1].split("=")[0]
    with pytest.raises(ValueError, match=f"'{argument}' argument controls; pass {argument}="):
        tiny(overrides=[key]).fit(synthetic_frame(120))
