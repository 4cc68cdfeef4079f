"""A checkpoint tested on other data (``train=false ckpt_path=...``) scores it on that data's
own scale: the original-scale metrics invert the scaler the data module fitted, not the one
saved with the checkpoint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test


def _file(path, scale: float, shift: float) -> str:
    t = np.arange(600)
    y = shift + scale * (np.sin(t / 6) + 0.3 * np.cos(t / 17))
    frame = pd.DataFrame({"date": pd.date_range("2021-01-01", periods=600, freq="h"), "OT": y})
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    "conformal", [[], ["conformal.windows=19", "conformal.step=1"]], ids=["plain", "conformal"]
)
def test_a_checkpoint_tested_on_other_data_is_scored_on_that_datas_scale(tmp_path, conformal):
    small = _file(tmp_path / "small.csv", 1.0, 0.0)
    large = _file(tmp_path / "large.csv", 10.0, 50.0)  # the same shape, 10x the spread
    base = ["data=custom", *TINY_ITRANSFORMER, *TINY_RUN, "trainer.limit_val_batches=null"]
    first = fit_and_test(compose_config(*base, f"data.path={small}"), tmp_path / "a")
    trained, ckpt = first.metrics, first.best_checkpoint
    other = compose_config(
        *base, *conformal, f"data.path={large}", "train=false", f"ckpt_path={ckpt}"
    )
    tested = fit_and_test(other, tmp_path / "b").metrics
    # scaled errors are the same (the same series up to scale), original ones 100x larger
    assert tested["test/mse"] == pytest.approx(trained["test/mse"], rel=1e-4)
    assert tested["test/mse_original"] == pytest.approx(
        100 * trained["test/mse_original"], rel=1e-3
    )
