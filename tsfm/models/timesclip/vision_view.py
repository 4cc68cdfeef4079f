"""TimesCLIP's vision view: each variate drawn as a line image and encoded by the vision
tower, with the frozen tower's features cached per training window. Used by the training
loss only; forecasting never draws."""

from __future__ import annotations

import torch
from torch import Tensor

from tsfm.models.timesclip.vision_towers import VisionTower

SMALL_CLIP_TOWER = 2_000_000  # parameters; tsfm-small-clip's vision tower has 0.8M


class VisionView:
    """The image side of :class:`~tsfm.models.timesclip.model.TimesCLIP` (a mixin: it uses the
    model's renderer, tower, feature cache and settings)."""

    @property
    def tower(self) -> VisionTower:
        """The vision tower (frozen ones are held outside the module tree)."""
        frozen = self.__dict__.get("_frozen_tower")
        return frozen if frozen is not None else self.vision_tower

    def encode_images(self, windows: Tensor, columns: Tensor) -> Tensor:
        """Render ``windows [w, L, n]`` (variate ids ``columns [w, n]``) and encode: ``[w, n, D]``."""
        if self.placeholder_vision:
            raise RuntimeError(
                "this TimesCLIP was loaded from saved weights, which leave out the frozen vision "
                "tower: it forecasts, but cannot draw images for the alignment loss. A fit "
                "(fresh, or warm_start=True to go on from these weights) or a run builds a new "
                "model, which reads the tower from its source (clip_weights, or vision_weights "
                "for another tower)"
            )
        tower, device = self.tower, windows.device
        if next(tower.parameters()).device != device:
            tower.to(device)
        count, length, n_vars = windows.shape
        series = windows.transpose(1, 2).reshape(count * n_vars, length)
        ids = columns.reshape(-1) if self.colour else torch.zeros_like(columns.reshape(-1))
        images = self.renderer.render(
            series, ids, tower.mean, tower.std, out=self._buffer(len(series), device)
        )
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze_vision):
            return tower(images).view(count, n_vars, -1)

    def _buffer(self, count: int, device: torch.device) -> Tensor | None:
        """A reusable image buffer on CPU, where fresh memory costs page faults."""
        if device.type != "cpu" or not self.freeze_vision:
            return None
        size = self.renderer.image_size
        shape = (count, 3, size, size)
        if self._image_buffer is None or self._image_buffer.shape != shape:
            self._image_buffer = torch.empty(shape)
        return self._image_buffer

    def image_features(self, x: Tensor, index: Tensor | None, columns: Tensor) -> Tensor:
        """``[B, n, D]`` frozen-tower features: from the cache when it is bound, else computed."""
        cache = self.image_cache
        if cache is None or not cache.bound or index is None:
            return self.encode_images(x, columns)
        if not cache.ready:
            self.build_image_cache(x.device)
        return cache.lookup(index, columns, x.device)

    def build_image_cache(self, device: torch.device | str | None = None) -> None:
        """Encode every window of the bound training split once (done lazily by training)."""
        device = torch.device(device) if device is not None else self.head.weight.device

        def encode(windows: Tensor, index: Tensor) -> Tensor:
            columns = torch.arange(windows.shape[-1], device=device).expand(len(windows), -1)
            return self.encode_images(windows.to(device), columns)

        self.image_cache.build(encode, self.cache_chunk, self._cache_advice(device))

    def _cache_advice(self, device: torch.device) -> str:
        """How to make the cache faster, where the vision tower is larger than a CPU wants
        (ViT-B/16: 86M parameters)."""
        size = sum(p.numel() for p in self.tower.parameters())
        if device.type != "cpu" or size <= SMALL_CLIP_TOWER:
            return ""
        smaller = (
            f"clip='tsfm-small-clip' (a CPU-sized CLIP, {size / 1e6:.0f}M -> 0.8M vision "
            "parameters; random weights or a checkpoint of it)"
            if str(self.tower.source).startswith("clip:")
            else f"a smaller vision tower than this one ({size / 1e6:.0f}M parameters)"
        )
        return (
            f". On CPU, {smaller} encodes far faster, and feature_cache='disk' keeps the "
            "features for the next fit on the same data"
        )

    def bind_training_windows(
        self, values: Tensor, seq_len: int, stride: int, n_windows: int, source: str
    ) -> None:
        """Bind the feature cache to the training split: window ``i`` of the batches'
        ``index`` is ``values[i * stride : i * stride + seq_len]`` (called by the training
        module when the data module has fixed training windows; M4's sampled windows have
        none, so their images are rendered every step)."""
        if self.image_cache is None:
            return
        tower = self.tower
        describe = {
            "dataset": source,
            "renderer": self.renderer.settings(),
            "colour": self.colour,
            "tower": tower.fingerprint() if self.image_cache.mode == "disk" else tower.source,
        }
        self.image_cache.bind(values, seq_len, stride, n_windows, describe)
