"""What keeps a Forecaster's state sound around training.

- The command line's ways to continue a run (``ckpt_path``, ``resume``) are refused as
  parameters and overrides when they are given (construction, ``set_params``) and at
  ``fit``: a Forecaster has no run directory, and Lightning would restore its epoch counter
  with the weights (with ``max_epochs=2`` after a 2-epoch run: no epoch trained at all).
- :func:`guarded` methods (``fit``, ``cross_validate``, ``tune``) replace the fitted state
  only when they complete: an error or Ctrl-C leaves the Forecaster as it was, fitted or
  not, and Ctrl-C says so in one line (``verbose >= 1``) before the KeyboardInterrupt goes
  on to the caller.

Light on imports: the Forecaster's module imports it.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tsfm.errors import InputError

Method = TypeVar("Method", bound=Callable[..., Any])

# The command line's settings that continue a run from a checkpoint (see the README).
RUN_ONLY = {
    "ckpt_path": "continues a command-line run from a checkpoint file",
    "resume": "continues a command-line run from its run directory's last.ckpt",
}
# The training a guarded method was in when interrupted, as its one line names it.
TRAINING_OF = {"fit": "", "cross_validate": " of a fold's model", "tune": " of a trial's model"}


def run_only(what: str, key: str) -> str:
    """Why ``what`` (a parameter or an override) may not set ``key`` of :data:`RUN_ONLY`."""
    return (
        f"{what} sets {key}, which {RUN_ONLY[key]} (python -m tsfm.run); a Forecaster has no "
        "run directory and takes no checkpoint: fit trains on the frame it is given. To go "
        "on training a fitted Forecaster, fit again with warm_start=True (it continues from "
        "the fitted weights); to use a command-line run's model, Forecaster.from_run(run_dir)"
    )


def override_key(text: str) -> str:
    """The config key (or group) a Hydra override sets: ``+a.b=1`` -> ``a.b``."""
    return text.split("=", 1)[0].lstrip("+~")


def naming_overrides(overrides: Iterable[str]) -> Callable[[str], str]:
    """A config key -> the override that sets it (or a key under it), for messages."""

    def describe(key: str) -> str:
        for text in overrides:
            if override_key(text) == key or override_key(text).startswith(f"{key}."):
                return f"override {text!r}"
        return key

    return describe


def check_run_only(overrides: Any = None, names: Iterable[str] = ()) -> None:
    """Refuse parameter ``names`` and ``overrides`` that set a :data:`RUN_ONLY` key (other
    mistakes in ``overrides`` are refused at ``fit``, with the rest of the config)."""
    for name in names:
        if name in RUN_ONLY:
            raise InputError(run_only(f"parameter '{name}'", name))
    if isinstance(overrides, (list, tuple)):
        for text in overrides:
            if isinstance(text, str) and override_key(text) in RUN_ONLY:
                raise InputError(run_only(f"override {text!r}", override_key(text)))


def fitted_state(est: Any) -> dict[str, Any]:
    """The fitted attributes (names ending in ``_``, scikit-learn's convention)."""
    return {n: v for n, v in vars(est).items() if n.endswith("_") and not n.startswith("_")}


def restore(est: Any, state: dict[str, Any]) -> None:
    for name in list(fitted_state(est)):
        delattr(est, name)
    for name, value in state.items():
        setattr(est, name, value)


_calls = threading.local()  # guarded calls under way in this thread (the outermost speaks)


def guarded(what: str) -> Callable[[Method], Method]:
    """Decorate the Forecaster method ``what``: see the module docstring."""

    def decorate(method: Method) -> Method:
        @functools.wraps(method)
        def run(est: Any, *args: Any, **kwargs: Any) -> Any:
            before = fitted_state(est)
            depth = getattr(_calls, "depth", 0)
            _calls.depth = depth + 1
            try:
                return method(est, *args, **kwargs)
            except BaseException as err:
                restore(est, before)
                if isinstance(err, KeyboardInterrupt) and depth == 0 and _verbose(est) >= 1:
                    print(interrupted_line(what, err, bool(before)), file=sys.stderr, flush=True)
                raise
            finally:
                _calls.depth = depth

        return run  # type: ignore[return-value]

    return decorate


def interrupted_line(what: str, err: BaseException, fitted: bool) -> str:
    """The one line of an interrupted :func:`guarded` method."""
    epochs = getattr(err, "epochs", None)  # tsfm.training.stopping.FitInterrupted's
    after = ""
    if epochs is not None:
        after = f" after {epochs} finished epoch{'' if epochs == 1 else 's'}"
        after += TRAINING_OF.get(what, "")
    state = "the model it was fitted with before" if fitted else "not fitted"
    return f"{what} interrupted (Ctrl-C){after}; the Forecaster keeps its earlier state: {state}"


def _verbose(est: Any) -> int:
    try:
        return int(est.verbose)
    except (TypeError, ValueError):
        return 1
