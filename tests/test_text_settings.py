"""A Forecaster setting that takes a number is given one, not text: ``batch_size="16"`` was
converted by the config's types without a word; it is refused naming the value to give."""

from __future__ import annotations

import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.models import TINY
from tsfm import Forecaster
from tsfm.errors import InputError


@pytest.mark.parametrize(
    ("name", "text", "kind", "number"),
    [
        ("batch_size", "16", "a whole number", "16"),
        ("d_model", "16", "a whole number", "16"),
        ("lr", "1e-3", "a number", "0.001"),
        ("dropout", "0.1", "a number", "0.1"),
    ],
)
def test_text_for_a_number_is_refused(name, text, kind, number):
    params = {**TINY["itransformer"], "horizon": 8, "lookback": 24, "max_epochs": 1}
    est = Forecaster(**{**params, name: text}, verbose=0)
    with pytest.raises(InputError, match=rf"='{text}', text where the setting takes {kind}: "
                       rf"give {number}, without quotes"):  # fmt: skip
        est.fit(synthetic_frame(100, 2))


def test_text_settings_stay_text():
    params = {**TINY["itransformer"], "horizon": 8, "lookback": 24, "max_epochs": 1}
    est = Forecaster(**params, precision="32-true", verbose=0).fit(synthetic_frame(100, 2))
    assert est.config_.trainer.precision == "32-true"
