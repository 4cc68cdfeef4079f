"""Static covariates keep the kind they were fitted as: a pandas category (of any values) or
a column named in ``data.static_categorical`` is categorical, and a numeric static given as
text at forecast time is refused naming it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.errors import InputError
from tsfm.pipeline import build_datamodule

CODES = {"s0": 1, "s1": 2, "s2": 3}


def _panel() -> pd.DataFrame:
    panel = panel_frame(lengths=(80, 70, 60), categories=("a", "b", "a")).drop(columns=["promo"])
    return panel.assign(store=panel.unique_id.map(CODES), size=panel.unique_id.map(CODES) * 1.5)


def _est(static: list[str], **extra) -> Forecaster:
    return Forecaster(
        horizon=4, lookback=16, mode="independent", static_covariates=static, **TINY_IT, **extra
    )


def _unseen(caught: list) -> list[str]:
    return [str(w.message) for w in caught if "were not seen in training" in str(w.message)]


def test_a_category_of_integers_is_categorical_and_an_unseen_one_is_warned():
    panel = _panel().drop(columns=["size"])
    panel["store"] = panel.store.astype("category")
    est = _est(["store"]).fit(panel)
    state = est.static_encoder_.state_dict()
    assert state["real"] == [] and state["categories"] == {"store": ["1", "2", "3"]}
    new = panel[panel.unique_id == "s1"].assign(unique_id="new")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        same = est.predict(pd.concat([panel, new]))  # 2 at fit and 2 now: one category
        assert _unseen(caught) == []
        est.predict(pd.concat([panel, new.assign(store=pd.Categorical([7] * len(new)))]))
    (unseen,) = _unseen(caught)
    assert "'store'" in unseen and "['7']" in unseen
    np.testing.assert_allclose(same.y[same.unique_id == "new"], same.y[same.unique_id == "s1"])


def test_static_categorical_makes_integer_codes_categories():
    panel = _panel().drop(columns=["size"])
    est = _est(["store"], data__static_categorical=["store"]).fit(panel)
    assert est.static_encoder_.state_dict()["categories"] == {"store": ["1", "2", "3"]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.predict(panel.assign(store=panel.store.astype(float)))  # 2.0 is the category 2
    assert _unseen(caught) == []
    with pytest.raises(InputError, match=r"static_categorical names \['size'\]"):
        _est(["store"], data__static_categorical=["size"]).fit(panel)


def test_static_categorical_on_the_command_line(tmp_path):
    path = tmp_path / "panel.csv"
    _panel().to_csv(path, index=False)
    cfg = compose_config(
        "data=custom", f"data.path={path}", "data.id_col=unique_id", "data.date_col=ds",
        "data.target=y", "data.mode=independent", "data.static_covariates=[store,size]",
        "data.static_categorical=[store]", "data.seq_len=8", "data.pred_len=4",
    )  # fmt: skip
    datamodule = build_datamodule(cfg)
    datamodule.setup()
    state = datamodule.static_encoder.state_dict()
    assert state["real"] == ["size"] and state["categories"] == {"store": ["1", "2", "3"]}


@pytest.mark.parametrize("text", ["abc", "99"])
def test_a_numeric_static_given_as_text_is_refused_naming_it(text):
    panel = _panel().drop(columns=["store"])
    est = _est(["size"]).fit(panel)
    new = panel[panel.unique_id == "s1"].assign(unique_id="new", size=text)
    with pytest.raises(InputError, match=r"'size' is given as text.*'new'.*fitted with it numeric"):
        est.predict(new)
    numbers = new.assign(size=99.0)  # as numbers: forecast
    assert len(est.predict(numbers)) == 4
    with pytest.raises(InputError, match=r"'size' is given as categories.*saved by a tsfm that "
                       r"read a pandas category of numbers as numbers.*\(df or static_df\)"):  # fmt: skip
        est.predict(numbers.assign(size=numbers["size"].astype("category")))
