"""``train=false ckpt_path=...`` on other data: scaled by a scaler fitted on that data's own
training split (``test_scaler=data``, the papers' transfer convention) or by the scaler of
the data the checkpoint was trained on (``test_scaler=checkpoint``, as ``from_run`` does)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.data.sources import BUNDLED_DIR
from tsfm.errors import InputError
from tsfm.pipeline import build_datamodule, fit_and_test
from tsfm.run import run
from tsfm.training.test_scaler import checkpoint_scaler, input_scaler_record

SETTINGS = [*TINY_ITRANSFORMER, *TINY_RUN, "model.use_norm=false", "data=custom",
            "data.target=OT", "trainer.limit_test_batches=1.0"]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run trained on 1,500 rows of ETTh1, and other data: the next rows, rescaled."""
    folder = tmp_path_factory.mktemp("scalers")
    frame = pd.read_csv(BUNDLED_DIR / "ETTh1.csv", parse_dates=["date"])
    frame.iloc[:1500].to_csv(folder / "own.csv", index=False)
    other = frame.iloc[1500:3000].reset_index(drop=True)
    values = other.columns[1:]
    other[values] = other[values] * 3.0 + 20.0
    other.to_csv(folder / "other.csv", index=False)
    run_dir = folder / "run"
    run(compose_config(*SETTINGS, f"data.path={folder / 'own.csv'}"), run_dir)
    return folder, run_dir, other


def run_on_other(folder, run_dir, name: str, *extra: str) -> pd.DataFrame:
    cfg = compose_config(
        *SETTINGS, f"data.path={folder / 'other.csv'}", "train=false", "output.forecasts=true",
        f"ckpt_path={run_dir / 'checkpoints' / 'best.ckpt'}", *extra,
    )  # fmt: skip
    run(cfg, folder / name)
    return pd.read_parquet(folder / name / "forecasts.parquet")


def test_the_checkpoints_scaler_forecasts_as_from_run_and_the_datas_own_does_not(trained):
    folder, run_dir, other = trained
    checkpoint = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)
    assert checkpoint["tsfm_input_scaler"]["columns"][-1] == "OT"  # recorded, targets first
    own = run_on_other(folder, run_dir, "own", "test_scaler=checkpoint")
    refitted = run_on_other(folder, run_dir, "refitted")  # the default: test_scaler=data
    forecaster = Forecaster.from_run(run_dir)
    cutoff = own.cutoff.unique()[0]
    predicted = forecaster.predict(other[other.date <= cutoff]).set_index("date")["OT"]
    for written, same in ((own, True), (refitted, False)):
        rows = written[(written.cutoff == cutoff) & (written.series == "OT")].sort_values("ds")
        close = np.allclose(rows.forecast, predicted.loc[rows.ds].to_numpy(), rtol=1e-4, atol=1e-4)
        assert close == same


def test_a_checkpoint_scaler_that_does_not_fit_the_columns_is_refused(trained, tmp_path):
    folder, run_dir, other = trained
    other.drop(columns=["HUFL"]).to_csv(tmp_path / "fewer.csv", index=False)
    cfg = compose_config(
        *SETTINGS, f"data.path={tmp_path / 'fewer.csv'}", "train=false", "test_scaler=checkpoint",
        f"ckpt_path={run_dir / 'checkpoints' / 'best.ckpt'}",
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"test_scaler=checkpoint: .*best.ckpt was trained on "
                       r"\['HUFL', .*this data has the columns \['HULL'"):  # fmt: skip
        fit_and_test(cfg, tmp_path / "x")


def test_test_scaler_checkpoint_needs_a_checkpoint_to_test(tmp_path):
    for extra in (["test_scaler=checkpoint"], ["test_scaler=mine"]):
        cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, *extra)
        with pytest.raises(ValueError, match="test_scaler"):
            fit_and_test(cfg, tmp_path)


def test_a_checkpoint_from_before_the_record_is_refused_as_unmatchable(trained, tmp_path):
    folder, run_dir, _ = trained
    old = tmp_path / "old"
    (old / "checkpoints").mkdir(parents=True)
    checkpoint = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)
    del checkpoint["tsfm_input_scaler"]  # as written before the record named its columns
    torch.save(checkpoint, old / "checkpoints" / "best.ckpt")
    with pytest.raises(InputError, match="cannot be matched to this data's columns"):
        run_on_other(folder, old, "targets_only", "test_scaler=checkpoint")


def test_the_checkpoints_scaler_is_matched_to_the_columns_by_name(tmp_path):
    frame = pd.read_csv(BUNDLED_DIR / "ETTh1.csv").iloc[:1500]
    columns = list(frame.columns)  # date, HUFL, HULL, ..., OT
    frame.to_csv(tmp_path / "own.csv", index=False)
    frame[[columns[0], columns[2], columns[1], *columns[3:]]].to_csv(
        tmp_path / "swapped.csv", index=False
    )  # HULL before HUFL
    frame.rename(columns={"HUFL": "load"}).to_csv(tmp_path / "renamed.csv", index=False)

    def datamodule(name: str):
        overrides = ["data=custom", "data.target=OT", "data.seq_len=24", "data.pred_len=8"]
        return build_datamodule(compose_config(*overrides, f"data.path={tmp_path / name}"))

    own = datamodule("own.csv")
    state = {"tsfm_input_scaler": input_scaler_record(own)}
    swapped = datamodule("swapped.csv")
    scaler = checkpoint_scaler(state, swapped, "best.ckpt")
    order = [list(own.table.columns).index(c) for c in swapped.table.columns]
    np.testing.assert_array_equal(scaler.mean, own.input_scaler.mean[order])
    np.testing.assert_array_equal(scaler.std, own.input_scaler.std[order])
    with pytest.raises(ValueError, match=r"best.ckpt was trained on \['HUFL', 'HULL'.*this data "
                       r"has the columns \['load', 'HULL'.*missing: \['HUFL'\].*not in the "
                       r"checkpoint's: \['load'\]"):  # fmt: skip
        checkpoint_scaler(state, datamodule("renamed.csv"), "best.ckpt")


def test_a_new_digest_of_a_long_file_of_as_many_rows_names_the_id_order_too():
    from types import SimpleNamespace

    from tsfm.training.data_record import _long_order

    long, wide = (SimpleNamespace(config=SimpleNamespace(id_col=c)) for c in ("unique_id", None))
    same, more = {"data_rows": 10}, {"data_rows": 12}
    assert "read in id order" in _long_order(long, same, {"data_rows": 10})
    assert _long_order(long, same, more) == "" and _long_order(wide, same, same) == ""
