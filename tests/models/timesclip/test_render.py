"""TimesCLIP's line rasteriser: pixels where a known series must be, colours, matplotlib agreement."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tsfm.models.timesclip.render import TAB10, LineRenderer, default_palette, to_rgb


def ramp_and_flat(length: int = 50) -> torch.Tensor:
    return torch.stack([torch.linspace(-3.0, 5.0, length), torch.full((length,), 7.0)])


def test_a_known_series_lights_the_expected_pixels():
    renderer = LineRenderer(image_size=64, line_width=2.0, margin=0.1)
    ink = renderer.coverage(ramp_and_flat())  # [2, 64, 64]
    left, right, top, bottom = renderer.plot_box  # 6.4, 57.6, 6.4, 57.6
    for column in range(8, 56):
        # the ramp rises from the bottom-left to the top-right corner of the plot area
        y = (column + 0.5 - left) / (right - left)
        row = int(bottom - y * (bottom - top))
        assert ink[0, row, column] > 0.5
        far = torch.cat([ink[0, : max(row - 4, 0), column], ink[0, row + 5 :, column]])
        assert far.max() == 0
        # a flat series is drawn through the middle of the plot (min-max of a constant: 0.5)
        middle = (top + bottom) / 2
        assert ink[1, int(middle), column] == 1
        assert ink[1, int(middle) + 3 :, column].max() == 0
        assert ink[1, : int(middle) - 2, column].max() == 0
    assert ink[:, :, :4].max() == 0 and ink[:, :, 61:].max() == 0  # nothing in the side margins
    assert ink[:, :4].max() == 0 and ink[:, 61:].max() == 0


def test_line_width_sets_the_stroke_thickness():
    flat = torch.zeros(1, 30)
    for width in (1.0, 2.0, 4.0):
        ink = LineRenderer(image_size=48, line_width=width).coverage(flat)
        assert ink[0, :, 24].sum().item() == pytest.approx(width, abs=1e-5)


def test_each_variate_gets_its_own_colour_on_a_white_background():
    renderer = LineRenderer(image_size=32)
    series = torch.linspace(0, 1, 20).repeat(3, 1)
    images = renderer.render(series, torch.tensor([0, 1, 2]))
    ink = renderer.coverage(series[:1])[0]
    full = ink == 1
    assert full.sum() > 20
    for i in range(3):
        pixels = images[i][:, full].T  # RGB of fully inked pixels
        torch.testing.assert_close(pixels, torch.tensor(to_rgb(TAB10[i])).expand_as(pixels))
        assert (images[i][:, ink == 0] == 1).all()  # white elsewhere
    assert not torch.equal(images[0], images[1]) and not torch.equal(images[1], images[2])
    same = renderer.render(series, torch.tensor([4, 4, 4]))
    assert torch.equal(same[0], same[2])
    assert torch.equal(renderer.render(series[:1], torch.tensor([10]))[0], images[0])  # cycled


def test_encoder_normalisation_and_a_reused_buffer_give_the_same_pixels():
    renderer = LineRenderer(image_size=32)
    series = torch.randn(4, 24).cumsum(-1)
    ids = torch.arange(4)
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    plain = renderer.render(series, ids)
    normalised = renderer.render(series, ids, mean, std)
    expected = (plain - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    torch.testing.assert_close(normalised, expected)
    buffer = torch.full((4, 3, 32, 32), float("nan"))
    assert renderer.render(series, ids, mean, std, out=buffer) is buffer
    torch.testing.assert_close(buffer, normalised)
    with pytest.raises(ValueError, match="colour_ids"):
        renderer.render(series, ids[:2])
    with pytest.raises(ValueError, match="out must be"):
        renderer.render(series, ids, out=torch.empty(4, 3, 16, 16))


def test_normalisations_are_invariant_to_the_series_scale_and_zscore_clips():
    series = torch.randn(3, 40).cumsum(-1)
    for kind in ("minmax", "zscore"):
        renderer = LineRenderer(image_size=32, normalization=kind)
        torch.testing.assert_close(renderer.normalise(series), renderer.normalise(series * 7 + 3))
    spike = torch.zeros(1, 40)
    spike[0, 10] = 100.0
    y = LineRenderer(normalization="zscore", zscore_range=3.0).normalise(spike)
    assert y[0, 10] == 1 and 0.45 < y[0, 0] < 0.5  # the spike is clipped at the top edge
    minmax = LineRenderer().normalise(spike)
    assert minmax[0, 10] == 1 and minmax[0, 0] == 0


def test_the_matplotlib_reference_drawing_agrees():
    pytest.importorskip("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    size, width, margin = 96, 2.0, 0.05
    renderer = LineRenderer(image_size=size, line_width=width, margin=margin)
    torch.manual_seed(0)
    series = torch.randn(4, 96).cumsum(-1)
    ours = renderer.coverage(series).numpy()
    left, right, top, bottom = renderer.plot_box
    for i, y in enumerate(renderer.normalise(series).numpy()):
        fig = Figure(figsize=(1, 1), dpi=size)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.axis("off")
        t = np.arange(len(y))
        ax.plot(t, y, color="black", linewidth=width * 72 / size, solid_capstyle="butt")
        x0 = (
            -left / (right - left) * (len(y) - 1)
        )  # data limits that put the plot box where ours is
        ax.set_xlim(x0, x0 + size / (right - left) * (len(y) - 1))
        y0 = -(size - bottom) / (bottom - top)
        ax.set_ylim(y0, y0 + size / (bottom - top))
        canvas.draw()
        reference = 1 - np.asarray(canvas.buffer_rgba())[..., 0] / 255.0
        difference = np.abs(ours[i] - reference).sum() / reference.sum()
        assert difference < 0.3  # ~0.2 measured: our square pen is a little wider on slopes
        assert abs(ours[i].sum() / reference.sum() - 1) < 0.2
        both, either = (ours[i] > 0.5) & (reference > 0.5), (ours[i] > 0.5) | (reference > 0.5)
        assert both.sum() / either.sum() > 0.8  # intersection over union of the strokes
        assert np.corrcoef(ours[i].ravel(), reference.ravel())[0, 1] > 0.93


def test_default_palette_is_distinct_for_many_variates():
    assert default_palette(7) == TAB10
    hues = default_palette(21)
    assert len(set(hues)) == 21


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"normalization": "log"}, "normalization"),
        ({"line_width": 0}, "line_width"),
        ({"margin": 0.6}, "margin"),
        ({"palette": ["#12345"]}, "not a colour"),
        ({"image_size": 4}, "image_size"),
    ],
)
def test_bad_renderer_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LineRenderer(**kwargs)
