"""The Forecaster's constructors from elsewhere and its persistence: from_experiment (a
preset), from_run (a command-line run), save and load (a mixin of
:class:`tsfm.estimator.forecaster.Forecaster`, kept apart to keep each file short; the heavy
imports stay inside the methods, as there)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tsfm.errors import InputError
from tsfm.estimator.checks import check_fitted

if TYPE_CHECKING:
    from tsfm.estimator.forecaster import Forecaster


class PersistenceMethods:
    """Building a :class:`~tsfm.estimator.forecaster.Forecaster` from a preset or a run, and
    saving and loading a fitted one."""

    @classmethod
    def from_experiment(cls, name: str, **params: Any) -> Forecaster:
        """A Forecaster with a preset's model, look-back, horizon and hyperparameters."""
        from tsfm.config import compose_config

        try:
            cfg = compose_config(f"experiment={name}")
        except Exception as err:
            raise InputError(f"cannot use experiment '{name}': {err}") from None
        arguments = {
            "model": cfg.model.name,
            "horizon": cfg.data.pred_len,
            "lookback": cfg.data.seq_len,
            "experiment": name,
        }
        return cls(**{**arguments, **params})

    @classmethod
    def from_run(
        cls,
        run_dir: str | Path,
        checkpoint: str = "best",
        data_path: str | Path | None = None,
        data_root: str | Path | None = None,
        **sources: str,
    ) -> Forecaster:
        """The model a ``python -m tsfm.run`` run trained, as a fitted Forecaster: ``predict``
        goes on from the end of the run's data file (or from the frame given), ``evaluate``,
        ``save`` and the rest work as after ``fit``, and ``fit`` trains the run's settings
        again on new data. ``checkpoint``: ``best`` or ``last``; ``data_path`` / ``data_root``:
        where the run's data file (a custom file / a registered dataset's folder) is now,
        if it moved; ``sources``: where a pretrained backbone is now, as for :meth:`load`.
        Runs on a wide table or a panel (``data.mode=independent``); see
        ``tsfm/estimator/from_run.py``."""
        from tsfm.estimator.from_run import from_run

        return from_run(cls, run_dir, checkpoint, data_path, data_root, sources)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the fitted forecaster to the directory ``path`` (all or nothing: a save that
        fails leaves ``path`` as it was; ``overwrite=True`` replaces a saved Forecaster)."""
        from tsfm.estimator.saving import save

        check_fitted(self)
        return save(self, path, overwrite)

    @classmethod
    def load(cls, path: str | Path, check_memory: bool = True, **sources: str) -> Forecaster:
        """A fitted Forecaster from :meth:`save`'s directory (tsfm's own classes only; every
        file checked first). ``check_memory=False`` skips the refusal of a model larger than
        the free memory. ``sources``: where a pretrained backbone the settings name is now
        (``backbone=``, ``clip=``, ...: ``tsfm/estimator/moved_sources.py``), for a refit."""
        from tsfm.estimator import persistence

        return persistence.load(cls, path, check_memory, sources)
