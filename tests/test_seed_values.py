"""A seed is a whole number from 0 to 2**32 - 1: text, a bool or a fraction given as the
Forecaster's ``seed`` is refused naming it (the config's int field would read ``"3"`` as 3),
before any data is read; the command line's typed schema refuses them, and its range is
checked before Lightning's own refusal (a traceback) could end the run."""

from __future__ import annotations

import numpy as np
import pytest
from hydra.errors import ConfigCompositionException

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tsfm.config import compose_config
from tsfm.errors import InputError
from tsfm.training.preflight import check_run


@pytest.mark.parametrize("seed", ["3", True, np.True_, 1.5, 3.0, -1, 2**32])
def test_a_seed_that_is_no_whole_number_in_range_is_refused_before_the_data(seed):
    est = tiny(seed=seed)
    with pytest.raises(InputError, match=rf"seed must be a whole number .* got {seed!r}"):
        est.fit("no frame is read")  # refused before the frame is looked at


def test_a_seed_of_none_is_refused_when_given():
    """None, a setting that takes none, is refused at construction (none_values.py)."""
    with pytest.raises(InputError, match=r"parameter 'seed' cannot be None: .*whole number"):
        tiny(seed=None)


def test_whole_numbers_of_any_integer_type_are_seeds():
    est = tiny(seed=np.uint32(3)).fit(synthetic_frame(120, 2))
    assert est.config_.seed == 3


@pytest.mark.parametrize("override", ["seed=abc", "seed=1.5", "seed=true"])
def test_the_command_lines_schema_refuses_a_seed_of_another_type(override):
    with pytest.raises(ConfigCompositionException, match="seed"):
        compose_config(override)


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_the_command_line_refuses_a_seed_out_of_range_before_training(seed):
    with pytest.raises(InputError, match=rf"seed must be a whole number .* got {seed}"):
        check_run(compose_config(f"seed={seed}"))
