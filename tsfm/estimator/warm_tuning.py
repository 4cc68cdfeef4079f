"""``Forecaster.tune`` with ``warm_start=True``: every trial fine-tunes the fitted model.

A fitted Forecaster with ``warm_start=True`` is tuned as it is fitted: each trial is a warm
fit (:mod:`tsfm.estimator.warm_start`) of the drawn training settings, starting from the
SAME fitted weights (never a previous trial's), its frame read in the fitted order and on
the fitted clock, its seed and validation rows those of a warm fit with these settings. So
the search may hold only settings that leave the model as fitted (``lr``, ``max_epochs``,
``patience``, ``batch_size``, ``seed``, ``optim.*``, ``trainer.*``); one that shapes it
(sizes, ``lookback``, a config group) is refused before the first trial. The weights a study
starts from are part of what its values mean (:func:`weights_digest`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from tsfm.errors import InputError
from tsfm.estimator.checks import key_shapes_the_model
from tsfm.estimator.search_checks import LOOKBACK
from tsfm.estimator.warm_start import WarmStart, warm_start_from

TRAINING_EXAMPLE = "search_space={'lr': [1e-4, 3e-4, 1e-3], 'max_epochs': [2, 5]}"


def warm_trials(est: Any, space: dict[str, Any], shipped: bool) -> WarmStart | None:
    """What every trial of ``est``'s study warm-starts from (None: fresh trials), after
    refusing search-space keys that would change the fitted model (``shipped``: the space is
    the model's default one)."""
    warm = warm_start_from(est)  # also refuses parameters changed since the fit
    if warm is None:
        return None
    shaping = [key for key in space if key == LOOKBACK or key_shapes_the_model(key)]
    if shaping:
        where = (
            f"the default search space (conf/hparams_search/, for {est.model}) searches"
            if shipped
            else "the search space holds"
        )
        raise InputError(
            f"warm_start=True: tune fine-tunes the fitted model, every trial from its fitted "
            f"weights, so it can search only training settings (lr, max_epochs, patience, "
            f"batch_size, seed, optim.*, trainer.*), but {where} settings that change the "
            f"model ({', '.join(shaping)}): pass training settings only ({TRAINING_EXAMPLE}), "
            "or set_params(warm_start=False) to tune fresh models (the fitted one is replaced)"
        )
    return warm


def weights_digest(warm: WarmStart) -> str:
    """The SHA-256 of the weights a warm study's trials start from (names, types, shapes and
    bytes): a stored study resumed from other weights is another problem."""
    import torch

    digest = hashlib.sha256()
    for name in sorted(warm.weights):
        tensor = warm.weights[name].detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name}:{tensor.dtype}:{tuple(warm.weights[name].shape)}".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
