"""Where a saved model's pretrained parts are now: the keyword arguments of
``Forecaster.load`` and ``Forecaster.from_run`` that replace a setting naming a pretrained
source (S2IP-LLM's ``backbone``; TimesCLIP's ``clip``, ``clip_weights``, ``vision``,
``vision_weights``: the model class's ``SOURCES``) whose folder or file moved.

A save holds every weight it forecasts with and a copy of each backbone's architecture
config, so it loads without these sources; the settings still name them, and a refit (or a
warm fit that reads frozen weights) reads them. A new value is checked first: an architecture
against the copy the save recorded (a model saved with one backbone is never paired with
another), a weights file for existence.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from tsfm.errors import InputError
from tsfm.estimator.validation import URL
from tsfm.models import model_class


def source_settings(model: str) -> dict[str, Any]:
    """The settings of ``model`` that name a pretrained source, each with its check."""
    return dict(getattr(model_class(model), "SOURCES", {}))


def missing_source(error: FileNotFoundError, model: str, call: str) -> FileNotFoundError:
    """``error`` (a pretrained source the settings name is not where they say) with how to
    give where it is now, for a save or checkpoint written before tsfm recorded the
    backbones' architectures (they are read from the source)."""
    settings = sorted(source_settings(model))
    if not settings:
        return error
    return FileNotFoundError(
        f"{error}. This model was saved before tsfm kept a copy of its backbone's "
        f"architecture, which it reads from there; if the source moved, give where it is now: "
        f"{call}(..., {settings[0]}=...) (settings naming a source: {', '.join(settings)})"
    )


def apply_sources(
    model: str,
    settings: MutableMapping[str, Any],
    sources: dict[str, Any],
    recorded: dict[str, dict],
    call: str,
) -> None:
    """Check each of ``sources`` (keyword arguments of ``call``) and set it in the model
    settings ``settings``; ``recorded``: the save's architecture configs."""
    accepted = source_settings(model)
    unknown = sorted(set(sources) - set(accepted))
    if unknown:
        takes = (
            f"where its pretrained parts are now: {', '.join(sorted(accepted))}"
            if accepted
            else "none: it has no pretrained parts"
        )
        raise TypeError(
            f"{call} got unexpected keyword argument(s) {unknown}; besides its own, it takes "
            f"the settings of model '{model}' that name {takes}"
        )
    for setting, value in sources.items():
        if not isinstance(value, str) or not value.strip() or URL.match(value):
            raise InputError(
                f"{call}: {setting}={value!r} must name where the source is now (a folder, a "
                "file or a Hugging Face id; not a URL)"
            )
        accepted[setting](value, settings.get(setting), recorded)
        settings[setting] = value
