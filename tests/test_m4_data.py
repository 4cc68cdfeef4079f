"""The M4 data layer: files, groups, the training sampler and the validation split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tsfm.data.m4.files as m4
from tests.helpers.data import SHARED_DATA, needs_shared
from tests.helpers.m4 import write_m4_files
from tsfm.data import M4_GROUPS, M4DataModule, TimeSeriesDataModule, make_datamodule
from tsfm.data.m4.windows import M4TrainWindows, RaggedSeries, windows_at


def positions(i: int, n: int) -> np.ndarray:
    """Series i whose values give their own position: 1, 2, ... plus 10000 i."""
    return np.arange(1.0, n + 1) + 10_000 * i


@pytest.mark.parametrize("group", list(M4_GROUPS))
def test_loader_shapes_and_horizons_for_every_group(tmp_path, group):
    spec = M4_GROUPS[group]
    train, test = write_m4_files(tmp_path, group)
    dm = make_datamodule({"name": f"m4_{group.lower()}", "root": str(tmp_path)})
    assert isinstance(dm, M4DataModule)
    H = spec.horizon
    assert dm.dims() == {"seq_len": 2 * H, "pred_len": H, "n_vars": 1, "n_marks": 0}
    assert dm.config.history_size == spec.history_size
    batch = next(iter(dm.train_dataloader()))
    assert batch["x"].shape == batch["x_mask"].shape == (6, 2 * H, 1)
    assert batch["y"].shape == batch["y_mask"].shape == (6, H, 1)
    assert "index" not in batch and sorted(batch["series"].tolist()) == list(range(6))
    dm.setup("test")
    test_batch = next(iter(dm.test_dataloader()))
    order = test_batch["index"].numpy()
    np.testing.assert_allclose(test_batch["y"][..., 0].numpy(), test[order], rtol=1e-6)
    last = np.stack([train[i][-2 * H :] for i in order])
    np.testing.assert_allclose(test_batch["x"][..., 0].numpy(), last, rtol=1e-6)
    assert dm.window_counts() == {"train": 6, "val": 6, "test": 6}


def test_lookback_multiple_and_the_fixed_horizon(tmp_path):
    write_m4_files(tmp_path, "Weekly")
    dm = M4DataModule({"name": "m4_weekly", "root": str(tmp_path), "lookback_multiple": 3.0})
    assert dm.dims()["seq_len"] == 39
    with pytest.raises(ValueError, match="horizon 13"):
        M4DataModule({"name": "m4_weekly", "pred_len": 12})
    with pytest.raises(ValueError, match="data.scale"):
        M4DataModule({"name": "m4_weekly", "scale": True})
    with pytest.raises(ValueError, match="M4DataModule"):
        TimeSeriesDataModule({"name": "m4_weekly"})


def test_missing_files_name_the_groups_present_and_missing(tmp_path):
    write_m4_files(tmp_path, "Hourly")
    assert m4.available_groups(tmp_path) == ["Hourly"]
    with pytest.raises(FileNotFoundError) as info:
        M4DataModule({"name": "m4_yearly", "root": str(tmp_path)}).setup()
    message = str(info.value)
    assert "Yearly-train.csv and Yearly-test.csv" in message
    assert "Complete groups there: Hourly" in message
    assert "missing: Yearly, Quarterly, Monthly, Weekly, Daily" in message


def test_file_errors_name_the_row(tmp_path):
    bad = tmp_path / "Daily-train.csv"
    bad.write_text('"V1","V2","V3","V4"\n"D1","1","2",""\n"D2","1","","3"\n')
    with pytest.raises(ValueError, match=r"row 3 \(series 'D2'\): empty cell at value 2"):
        m4.read_m4_file(bad)
    bad.write_text('"V1","V2"\n"D1","x"\n')
    with pytest.raises(ValueError, match="series 'D1'.*non-numeric"):
        m4.read_m4_file(bad)
    write_m4_files(tmp_path, "Daily")
    test_file = tmp_path / "m4" / "Daily-test.csv"
    test_file.write_text("\n".join(test_file.read_text().splitlines()[:-1]) + "\n")
    dm = M4DataModule({"name": "m4_daily", "root": str(tmp_path)})
    with pytest.raises(ValueError, match="5 series, the training file 6"):
        dm.setup("test")


def test_windows_never_read_past_the_cut_point():
    ragged = RaggedSeries([positions(0, 30), positions(1, 5)])
    for row, length in ((0, 30), (1, 5)):
        cuts = torch.arange(1, length)
        rows = torch.full_like(cuts, row)
        batch = windows_at(ragged, rows, cuts, seq_len=8, pred_len=6)
        x, y = batch["x"][..., 0] - 10_000 * row, batch["y"][..., 0] - 10_000 * row
        x_valid, y_valid = batch["x_mask"][..., 0].bool(), batch["y_mask"][..., 0].bool()
        for k, cut in enumerate(cuts.tolist()):
            # position p holds value p + 1: the look-back ends at the cut, the target starts there
            expected_x = np.arange(cut - 8, cut) + 1
            expected_y = np.arange(cut, cut + 6) + 1
            np.testing.assert_array_equal(x_valid[k].numpy(), expected_x >= 1)
            np.testing.assert_array_equal(y_valid[k].numpy(), expected_y <= length)
            np.testing.assert_array_equal(x[k][x_valid[k]].numpy(), expected_x[expected_x >= 1])
            np.testing.assert_array_equal(
                y[k][y_valid[k]].numpy(), expected_y[expected_y <= length]
            )
            assert (batch["x"][k][~x_valid[k]] == 0).all() and (
                batch["y"][k][~y_valid[k]] == 0
            ).all()


def test_random_cut_points_stay_in_the_sampling_window():
    lengths = [40, 12, 3]
    series = [positions(i, n) for i, n in enumerate(lengths)]
    windows = M4TrainWindows(series, 6, 4, 1.5, samples_per_series=2000)
    windows.draws.set_seed(3)
    indices = torch.arange(len(windows))
    rows, cuts = indices % 3, windows.draw_cuts(indices)
    for row, n in enumerate(lengths):
        drawn = set(cuts[rows == row].tolist())
        assert drawn == set(range(max(1, n - 6), n))  # limit = int(1.5 * 4) = 6, high exclusive
    batch = windows.__getitems__(list(range(150)))
    x, y = batch["x"][..., 0], batch["y"][..., 0]
    has_x, has_y = batch["x_mask"][..., 0].bool(), batch["y_mask"][..., 0].bool()
    assert has_x[:, -1].all() and has_y[:, 0].all()  # at least one point on either side
    assert torch.equal(y[:, 0], x[:, -1] + 1)  # contiguous: the target starts at the cut
    assert ((x * has_x).amax(1) < torch.where(has_y, y, np.inf).amin(1)).all()
    several = M4TrainWindows([positions(i, n) for i, n in enumerate(lengths)], 6, 4, 1.5, 3)
    assert len(several) == 9 and several.__getitems__([4, 8])["series"].tolist() == [1, 2]


def test_holdout_validation_never_touches_the_test_file(tmp_path, monkeypatch):
    lengths = [60, 75, 90]
    train, _ = write_m4_files(tmp_path, "Weekly", lengths, values=positions)
    opened = []
    real_read = m4.read_m4_file
    monkeypatch.setattr(
        m4, "read_m4_file", lambda path: opened.append(path.name) or real_read(path)
    )

    dm = M4DataModule({"name": "m4_weekly", "root": str(tmp_path), "history_size": 100.0})
    dm.setup("fit")
    val = next(iter(dm.val_dataloader()))
    torch.manual_seed(0)
    for _ in range(30):  # training windows stay inside each series minus its last horizon
        batch = next(iter(dm.train_dataloader()))
        for name in ("x", "y"):
            rows = batch["series"]
            values = (batch[name] * batch[f"{name}_mask"])[..., 0] - 10_000 * rows[:, None]
            limits = torch.tensor(lengths)[rows] - 13
            assert (values.amax(1) <= limits).all()
    scores = dm.evaluate_forecasts("val", val["index"], val["x"][:, -13:])
    assert opened == ["Weekly-train.csv"] and scores["n_series"] == 3
    expected = np.stack([s[-13:] for s in train])[val["index"].numpy()]
    np.testing.assert_array_equal(val["y"][..., 0].numpy(), expected)
    assert dm.protocol()["validation_on_test"] is False

    dm.setup("test")
    assert opened == ["Weekly-train.csv", "Weekly-test.csv"]


def test_legacy_validation_on_the_test_set_is_labelled(tmp_path):
    train, test = write_m4_files(tmp_path, "Weekly", [60, 75, 90], values=positions)
    dm = M4DataModule({"name": "m4_weekly", "root": str(tmp_path), "validation": "test"})
    dm.setup("fit")
    val = next(iter(dm.val_dataloader()))
    np.testing.assert_array_equal(val["y"][..., 0].numpy(), test[val["index"].numpy()])
    batch = next(iter(dm.train_dataloader()))  # trains on whole series
    assert dm.datasets["train"].high.tolist() == [60, 75, 90] and batch["x"].shape[1] == 26
    protocol = dm.protocol()
    assert protocol["validation_on_test"] is True and "TEST SET" in protocol["validation"]
    with pytest.raises(ValueError, match="validation must be one of"):
        M4DataModule({"name": "m4_weekly", "validation": "train"})


@needs_shared("m4/Hourly-train.csv", "m4/Weekly-test.csv")
@pytest.mark.parametrize(("group", "series", "horizon"), [("Hourly", 414, 48), ("Weekly", 359, 13)])
def test_real_m4_groups_load(group, series, horizon):
    dm = M4DataModule({"name": f"m4_{group.lower()}", "root": str(SHARED_DATA)})
    dm.setup("test")
    assert len(dm.datasets["test"]) == series and dm.config.pred_len == horizon
    assert dm.datasets["test"].y.shape == (series, horizon, 1)
    assert dm.split.ids[0] == f"{group[0]}1"
    assert dm.extreme_values == []  # the extreme-values check runs, and M4 has none


@pytest.mark.parametrize("validation", ["holdout", "test"])
def test_extreme_training_values_are_found_per_series_as_in_the_other_modules(tmp_path, validation):
    from tests.helpers.m4 import seasonal_series
    from tsfm.data.extreme_notes import extreme_values_note

    def values(i: int, n: int) -> np.ndarray:
        s = seasonal_series(n, 52, seed=i)
        s[10] = -9999.0 if i == 2 else s[10]  # a sentinel in series W3's training values
        return s

    write_m4_files(tmp_path, "Weekly", values=values)
    dm = make_datamodule({"name": "m4_weekly", "root": str(tmp_path), "validation": validation})
    dm.setup()
    [found] = dm.extreme_values
    assert (found["series"], found["column"], found["value"]) == ("W3", "Weekly", -9999.0)
    assert found["time"] == "value 11 (file column V12)"  # no timestamps: its place in the file
    note = extreme_values_note(dm.extreme_values, dm.mask_option, "metrics.json")
    assert "series 'W3', column 'Weekly' at value 11" in note
    assert "correct it (this data refuses missing values: it cannot be masked)" in note
    write_m4_files(tmp_path, "Weekly")  # the same series without it: nothing
    clean = make_datamodule({"name": "m4_weekly", "root": str(tmp_path)})
    clean.setup()
    assert clean.extreme_values == []
