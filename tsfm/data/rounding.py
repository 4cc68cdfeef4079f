"""How large float rounding is relative to the values it is in (no torch: the M4 scores import
it). A difference at or below it is rounding, not variation (:mod:`tsfm.data.seasonal_scales`,
:mod:`tsfm.training.flat_windows`, :func:`tsfm.m4_scores`).

float64: values carry the rounding of whatever computed them (0.1 + 0.2 is one ulp off 0.3, a
sine of a growing argument such as the running hour index some hundreds of ulps), so a
difference below ``2**-42`` (1024 ulps of 1, about 2.3e-13: 12.6 significant digits) of the
largest magnitude is taken as rounding; float32 (metrics on MPS, scaled model inputs): a few
ulps of the conversion from float64.
"""

from __future__ import annotations

ROUNDING_FLOAT64 = 2.0**-42
ROUNDING_ULPS = 4  # of lower precisions (float32's eps: 1.2e-7)
