"""Normal and Student-t forecast distributions: parameters from a model's outputs, negative
log-likelihood, quantiles.

The models de-normalise every output the same way, ``out = z * s + m`` with the look-back's
mean ``m`` and spread ``s`` per sample and variate. The parameters are built so that this
map carries the whole distribution along (the model's normalised outputs ``z`` define a
distribution that is shifted by ``m`` and scaled by ``s``):

- location ``mu = out_0``;
- scale ``sigma = s * (softplus((out_1 - out_0) / s) + 1e-4)``: the difference cancels ``m``,
  the division by ``s`` leaves ``softplus(z_1 - z_0)``, and the factor ``s`` scales it back;
- Student-t degrees of freedom ``nu = 2 + softplus((out_2 - out_0) / s)``, unchanged by the map;
  above 2, so that the mean (the point forecast) and the variance exist.

``s`` is computed from the look-back exactly as the models' instance normalisation does
(:func:`tsfm.training.scoring.lookback_spread`); for a model without instance normalisation the
parametrisation is still valid, only no longer tied to its de-normalisation.

The log-densities are written out here (and checked against ``torch.distributions`` in the
tests). ``torch.distributions.StudentT`` has no quantile function; SciPy's ``stdtrit`` gives it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

MIN_SCALE = 1e-4  # relative to the look-back's spread
MIN_DF = 2.0
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def scale_from(out0: Tensor, out1: Tensor, spread: Tensor) -> Tensor:
    return spread * (F.softplus((out1 - out0) / spread) + MIN_SCALE)


def df_from(out0: Tensor, out2: Tensor, spread: Tensor) -> Tensor:
    return MIN_DF + F.softplus((out2 - out0) / spread)


def normal_nll(loc: Tensor, scale: Tensor, target: Tensor) -> Tensor:
    """Elementwise ``-log N(target; loc, scale)``."""
    z = (target - loc) / scale
    return LOG_SQRT_2PI + scale.log() + 0.5 * z.square()


def student_t_nll(loc: Tensor, scale: Tensor, df: Tensor, target: Tensor) -> Tensor:
    """Elementwise ``-log t_df(target; loc, scale)``."""
    z = (target - loc) / scale
    log_norm = (
        torch.lgamma((df + 1) / 2) - torch.lgamma(df / 2) - 0.5 * torch.log(df * math.pi)
    ) - scale.log()
    return -(log_norm - (df + 1) / 2 * torch.log1p(z.square() / df))


def normal_quantiles(loc: Tensor, scale: Tensor, taus: Tensor) -> Tensor:
    """``[...]`` parameters, ``taus [Q]`` -> quantiles ``[..., Q]``."""
    return loc.unsqueeze(-1) + scale.unsqueeze(-1) * torch.special.ndtri(taus.to(loc.dtype))


def student_t_quantiles(loc: Tensor, scale: Tensor, df: Tensor, taus: Tensor) -> Tensor:
    """``[...]`` parameters, ``taus [Q]`` -> quantiles ``[..., Q]`` (SciPy on the CPU, float64)."""
    from scipy.special import stdtrit

    nu = df.detach().double().cpu().numpy()[..., None]
    standard = stdtrit(nu, taus.detach().double().cpu().numpy())
    z = torch.from_numpy(standard).to(device=loc.device, dtype=loc.dtype)
    return loc.unsqueeze(-1) + scale.unsqueeze(-1) * z
