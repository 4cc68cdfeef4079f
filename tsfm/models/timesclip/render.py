"""A batched tensor rasteriser of line plots: TimesCLIP's vision view, without matplotlib.

Each series becomes one image: the series is normalised within its window, drawn as a
polyline in its variate's colour on a plain background, no axes. All images of a batch are
drawn at once with tensor operations on the series' device.

How a line is drawn: the pen is a square of side ``line_width`` pixels centred on the curve.
For every pixel column the rasteriser takes the minimum and maximum of the polyline over the
pen's horizontal reach (exactly: the curve is evaluated at the reach's end points and at every
vertex inside it), widens that vertical span by half the pen, and covers each pixel by the
fraction of its height inside the span (vertical anti-aliasing). The index arithmetic that
depends only on the series length and image size is computed once and reused.
"""

from __future__ import annotations

import colorsys
from typing import Any

import numpy as np
import torch
from torch import Tensor

from tsfm.errors import InputError

TAB10 = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]  # fmt: skip
NORMALISATIONS = ("minmax", "zscore")


def default_palette(n_vars: int) -> list[str]:
    """matplotlib's tab10 for up to 10 variates, otherwise ``n_vars`` evenly spaced hues."""
    if n_vars <= len(TAB10):
        return list(TAB10)
    rgb = [colorsys.hsv_to_rgb(i / n_vars, 0.85, 0.85) for i in range(n_vars)]
    return ["#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in colour)) for colour in rgb]


def to_rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb as mpl_to_rgb

    try:
        return tuple(float(c) for c in mpl_to_rgb(colour))
    except ValueError:
        raise InputError(
            f"'{colour}' is not a colour; use a name ('red') or hex ('#1f77b4')"
        ) from None


class LineRenderer:
    """Draws ``[M, T]`` series as ``[M, 3, size, size]`` RGB line images in [0, 1].

    Args:
        image_size: image height and width in pixels.
        line_width: pen width in pixels (matplotlib's default 1.5 pt is 2.08 px at 100 dpi).
        normalization: ``minmax``: the window's range fills the plot height (what matplotlib's
            autoscaling shows); ``zscore``: ``(v - mean) / std`` with ``[-zscore_range,
            zscore_range]`` mapped to the plot height, values beyond it clipped.
        zscore_range: half-height of the z-score plot, in standard deviations.
        margin: blank border on every side, as a fraction of the image (matplotlib's default
            data margin is 0.05).
        palette: colours by variate id (cycled when there are more variates).
        background: background colour.
    """

    def __init__(
        self,
        image_size: int = 224,
        line_width: float = 2.0,
        normalization: str = "minmax",
        zscore_range: float = 3.0,
        margin: float = 0.05,
        palette: list[str] | None = None,
        background: str = "white",
    ):
        if normalization not in NORMALISATIONS:
            raise InputError(
                f"normalization must be one of {NORMALISATIONS}, got '{normalization}'"
            )
        if image_size < 8:
            raise InputError(f"image_size must be at least 8 pixels, got {image_size}")
        if not 0 < line_width < image_size / 2:
            raise InputError(
                f"line_width must be in (0, {image_size / 2}) pixels, got {line_width}"
            )
        if not 0 <= margin < 0.5:
            raise InputError(f"margin must be in [0, 0.5), got {margin}")
        if zscore_range <= 0:
            raise InputError(f"zscore_range must be positive, got {zscore_range}")
        palette = list(palette) if palette else list(TAB10)
        self.image_size, self.line_width = image_size, float(line_width)
        self.normalization, self.zscore_range = normalization, float(zscore_range)
        self.margin, self.palette, self.background = float(margin), palette, background
        self.colours = torch.tensor([to_rgb(c) for c in palette])
        self.background_rgb = torch.tensor(to_rgb(background))
        self._layouts: dict[tuple[int, str], tuple[Tensor, ...]] = {}

    def settings(self) -> dict[str, Any]:
        """Everything the pixels depend on (part of the image-feature cache key)."""
        return {
            "image_size": self.image_size,
            "line_width": self.line_width,
            "normalization": self.normalization,
            "zscore_range": self.zscore_range,
            "margin": self.margin,
            "palette": self.palette,
            "background": self.background,
        }

    # ------------------------------------------------------------------ geometry
    @property
    def plot_box(self) -> tuple[float, float, float, float]:
        """``(left, right, top, bottom)`` of the plot area in pixel coordinates."""
        size, m = self.image_size, self.margin * self.image_size
        return m, size - m, m, size - m

    def normalise(self, series: Tensor) -> Tensor:
        """Per-row values in [0, 1]: 0 at the bottom of the plot area, 1 at the top."""
        series = series.float()
        if self.normalization == "minmax":
            low = series.amin(-1, keepdim=True)
            spread = series.amax(-1, keepdim=True) - low
            flat = spread <= 1e-12 * (1 + low.abs())
            return torch.where(flat, 0.5, (series - low) / torch.where(flat, 1.0, spread))
        mean = series.mean(-1, keepdim=True)
        std = series.std(-1, unbiased=False, keepdim=True).clamp_min(1e-12)
        z = (series - mean) / std
        return ((z / self.zscore_range + 1) / 2).clamp(0, 1)

    def _layout(self, length: int, device: torch.device) -> tuple[Tensor, ...]:
        """Index arithmetic shared by every series of ``length`` points (cached)."""
        key = (length, str(device))
        if key in self._layouts:
            return self._layouts[key]
        if length < 2:
            raise InputError("a line image needs series of at least 2 points")
        left, right, _, _ = self.plot_box
        vertices = np.linspace(left, right, length)
        centres = np.arange(self.image_size) + 0.5
        reach = self.line_width / 2
        start = np.clip(centres - reach, left, right)
        stop = np.clip(centres + reach, left, right)
        inked = (centres + reach >= left) & (centres - reach <= right)
        samples = np.unique(np.concatenate([vertices, start, stop]))
        segment = np.clip(np.searchsorted(vertices, samples, side="right") - 1, 0, length - 2)
        frac = (samples - vertices[segment]) / (vertices[segment + 1] - vertices[segment])
        first = np.searchsorted(samples, start, side="left")
        last = np.searchsorted(samples, stop, side="right") - 1
        width = int((last - first).max()) + 1
        gather = np.minimum(first[:, None] + np.arange(width)[None, :], last[:, None])
        layout = (
            torch.as_tensor(segment, device=device),
            torch.as_tensor(frac, dtype=torch.float32, device=device),
            torch.as_tensor(gather, device=device),
            torch.as_tensor(inked, device=device),
        )
        self._layouts[key] = layout
        return layout

    # ------------------------------------------------------------------ drawing
    def strokes(self, series: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Where the lines lie: for every pixel inside a column's vertical span (a few per
        column rather than the whole image height), the pixel's column ``m * W + x`` of image
        ``m``, its row and its ink coverage in [0, 1]."""
        y = self.normalise(series)
        segment, frac, gather, inked = self._layout(y.shape[-1], y.device)
        # the curve at every sample, then the samples under each column's pen: [M, W, K]
        values = torch.lerp(y.index_select(1, segment), y.index_select(1, segment + 1), frac)
        reach_values = values.index_select(1, gather.flatten()).view(len(y), *gather.shape)
        high, low = reach_values.amax(-1), reach_values.amin(-1)
        _, _, top, bottom = self.plot_box
        span, half, size = bottom - top, self.line_width / 2, self.image_size
        upper = (bottom - high * span - half).clamp(0, size).flatten()  # [M * W] band edges
        lower = (bottom - low * span + half).clamp(0, size).flatten()
        first = upper.floor()
        count = torch.where(inked.repeat(len(y)), lower.ceil() - first, 0).long()
        column = torch.repeat_interleave(torch.arange(len(count), device=y.device), count)
        # the k-th pixel of a column's span sits k rows below its first row
        start_row = first - (torch.cumsum(count, 0) - count)
        row = torch.arange(len(column), device=y.device, dtype=torch.float32)
        row += start_row.index_select(0, column)
        ink = torch.minimum(row + 1, lower.index_select(0, column))
        ink -= torch.maximum(row, upper.index_select(0, column))
        return column, row.long(), ink.clamp_(0, 1)

    def coverage(self, series: Tensor) -> Tensor:
        """Ink coverage ``[M, H, W]`` in [0, 1] of each series' line."""
        size = self.image_size
        column, row, ink = self.strokes(series)
        image, x = column // size, column % size
        alpha = torch.zeros(len(series), size, size, device=series.device)
        return alpha.index_put_((image, row, x), ink)

    def render(
        self,
        series: Tensor,
        colour_ids: Tensor | None = None,
        mean: tuple[float, ...] | None = None,
        std: tuple[float, ...] | None = None,
        out: Tensor | None = None,
    ) -> Tensor:
        """``[M, T]`` series -> ``[M, 3, H, W]`` images.

        ``colour_ids [M]`` pick each line's palette colour (cycled; default all 0). With
        ``mean``/``std`` the images come out normalised for a vision encoder, in the same pass.
        ``out``: a float32 ``[M, 3, H, W]`` buffer to draw into. Reusing one on CPU saves the
        page faults of fresh memory, which cost about as much as the drawing itself.
        """
        device, size = series.device, self.image_size
        ids = torch.zeros(len(series), dtype=torch.long) if colour_ids is None else colour_ids
        if ids.shape != (len(series),):
            raise InputError(f"colour_ids must have shape ({len(series)},), got {tuple(ids.shape)}")
        shape = (len(series), 3, size, size)
        images = torch.empty(shape, device=device) if out is None else out
        if images.shape != shape or images.dtype != torch.float32 or not images.is_contiguous():
            raise InputError(f"out must be a contiguous float32 tensor of shape {shape}")
        scale, shift = torch.ones(3), torch.zeros(3)
        if mean is not None and std is not None:
            scale = 1 / torch.tensor(std, dtype=torch.float32)
            shift = -torch.tensor(mean, dtype=torch.float32) * scale
        base = (self.background_rgb * scale + shift).tolist()  # background value per channel
        colours = self.colours.to(device)[ids.to(device) % len(self.colours)]  # [M, 3]
        delta = (colours - self.background_rgb.to(device)) * scale.to(device)  # line - background
        column, row, ink = self.strokes(series)
        # per column m * W + x: its colour and the flat position of (m, channel 0, row 0, x)
        columns = torch.arange(len(series) * size, device=device)
        offset = (columns // size) * (3 * size * size) + columns % size
        pixel = offset.index_select(0, column).add_(row, alpha=size)
        pixel_delta = delta.repeat_interleave(size, dim=0).index_select(0, column)  # [P, 3]
        flat = images.view(-1)
        for channel in range(3):  # background everywhere, then the line's pixels
            images[:, channel].fill_(base[channel])
            values = torch.addcmul(
                torch.full_like(ink, base[channel]), ink, pixel_delta[:, channel]
            )
            flat.index_copy_(0, pixel + channel * size * size, values)
        return images
