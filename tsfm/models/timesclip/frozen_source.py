"""Where TimesCLIP's backbones come from when it is built for saved weights.

A state dict (a saved Forecaster, a checkpoint, a fitted model a warm fit continues) holds
every weight the forecast uses, but not the frozen vision tower, which only the training loss
uses. Built to forecast (``Forecaster.load``, ``from_run``, ``train=false ckpt_path=...``),
the CLIP is an architecture only (from the copy of its config the save recorded) and the
frozen tower a placeholder with random weights that refuses to draw: no pretrained source is
read. Built to train further (a warm fit: ``restoring_saved_weights(architectures,
to_train=True)``), the frozen tower is read from its source as in a fresh fit
(``clip_weights`` for the CLIP's own tower, ``vision_weights`` for another), and a source
that is not there, or whose architecture config is no longer the recorded one, is refused
before anything trains, naming it and what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tsfm.errors import MissingFileError
from tsfm.models.common import recorded_architecture, restoring, restoring_to_train
from tsfm.models.timesclip.clip_backbones import names_architecture, resolve_architecture

_FORECASTS = "predict and evaluate need no vision tower: they work without it"


@dataclass(frozen=True)
class BackboneSources:
    """Which backbones read pretrained weights (else architecture only, random weights)."""

    clip: bool  # the CLIP, from clip_weights (its text tower; its vision tower for vision=clip)
    tower: bool  # the vision tower (the CLIP's own: as clip)
    placeholder: bool  # a frozen tower with random weights, which refuses to draw
    warm_tower: bool  # the frozen tower is read for a warm fit (its source errors say so)


def backbone_sources(
    clip: str, pretrained: bool, align: bool, freeze_vision: bool, vision: str
) -> BackboneSources:
    """What this build reads: everything outside
    :func:`~tsfm.models.common.restoring_saved_weights`; inside it, only a
    ``hf-hub:``/``local-dir:`` CLIP whose save recorded no architecture (no architecture
    without its files) and, when the model trains further, the frozen vision tower no state
    dict holds (its source must still describe the recorded architecture)."""
    frozen = align and freeze_vision and pretrained
    warm_tower = frozen and restoring_to_train()
    # the architecture is a name, or the copy the save recorded (a hf-hub:/local-dir: CLIP)
    known = names_architecture(clip) or recorded_architecture("clip") is not None
    restored = restoring() and known
    read_clip = pretrained and (not restored or (warm_tower and vision == "clip"))
    read_tower = read_clip or warm_tower
    return BackboneSources(read_clip, read_tower, frozen and not read_tower, warm_tower)


def _tower_source(
    clip: str, clip_weights: str | None, vision: str, vision_weights: str | None
) -> tuple[str, str | None, str]:
    """The setting naming the frozen tower's weights, its value, and the tower."""
    if vision == "clip":
        return "clip_weights", clip_weights, f"CLIP {clip}"
    kind, _, name = vision.partition(":")
    return "vision_weights", vision_weights, f"{kind} tower {name}"


def _file_expected(vision: str, tower: str, weights: str | None) -> bool:
    """Whether ``weights`` names a checkpoint file (not a pretrained tag or timm's hub)."""
    if weights is None or tower.startswith(("hf-hub:", "local-dir:")):
        return False
    if vision.startswith("timm:"):
        return True
    import open_clip

    name = resolve_architecture(tower)
    return not open_clip.get_pretrained_cfg(name, weights)


def _preamble(setting: str, value: str | None, what: str) -> str:
    return (
        f"warm_start=True trains this TimesCLIP further, and its alignment loss draws images "
        f"through the frozen vision tower, which saved weights leave out: the warm fit reads "
        f"it again from {setting}={value!r} ({what})"
    )


@contextmanager
def reading_warm_tower(
    sources: BackboneSources,
    clip: str,
    clip_weights: str | None,
    vision: str,
    vision_weights: str | None,
) -> Iterator[None]:
    """Around the build of a model that a warm fit trains further: its frozen tower's source
    is refused before the build when it names a file that is not there, and a failure to
    read it is said as such (the fitted model keeps its settings: they cannot change)."""
    if not sources.warm_tower:
        yield
        return
    setting, value, what = _tower_source(clip, clip_weights, vision, vision_weights)
    tower = clip if vision == "clip" else vision.partition(":")[2]
    if _file_expected(vision, tower, value) and not Path(value).expanduser().is_file():
        path = Path(value).expanduser().resolve()
        raise MissingFileError(
            f"{_preamble(setting, value, what)}, and no file is there. Put that checkpoint "
            f"back at {path} (a copy or a link: a warm fit keeps the fitted settings, so "
            f"{setting} cannot change), or fit a fresh model (warm_start=False) with {setting} "
            f"set to where the checkpoint is now. {_FORECASTS}"
        )
    try:
        yield
    except RuntimeError as error:  # create_clip's / timm's failure to read pretrained weights
        cause = str(error).splitlines()[0].rstrip(".")
        raise RuntimeError(
            f"{_preamble(setting, value, what)}, and reading it failed: {cause}. Make that "
            "source readable here as the fit named it (a pretrained tag: network access, or "
            "the Hugging Face cache, ~/.cache/huggingface, copied from a machine that has "
            "it; a file: the checkpoint of that architecture at that path), or fit a fresh "
            f"model (warm_start=False) with {setting} set to a checkpoint file. {_FORECASTS}"
        ) from error
