"""Tiny M4-format files for the M4 tests (the competition's layout: quoted id, padded rows)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tsfm.data.m4 import M4_GROUPS


def seasonal_series(length: int, period: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    season = 1 + 0.2 * np.sin(2 * np.pi * t / max(period, 2))
    return (100 + 0.5 * t) * season + rng.normal(0, 1, length)


def write_m4_files(
    folder: Path,
    group: str,
    lengths: Sequence[int] | None = None,
    values: Callable[[int, int], np.ndarray] | None = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Write ``folder/m4/<group>-{train,test}.csv``; returns the training series and the test
    horizons. ``values(series, n)`` gives the first ``n`` values of a series (train + test)."""
    spec = M4_GROUPS[group]
    horizon = spec.horizon
    if lengths is None:
        lengths = [3 * horizon + 2 * spec.period + 20 + 5 * i for i in range(6)]
    if values is None:
        values = lambda i, n: seasonal_series(n, spec.period, seed=i)  # noqa: E731
    full = [values(i, n + horizon) for i, n in enumerate(lengths)]
    train, test = [s[:-horizon] for s in full], np.stack([s[-horizon:] for s in full])
    width = max(lengths)
    target = folder / "m4"
    target.mkdir(parents=True, exist_ok=True)

    def rows(series: list[np.ndarray], cells: int) -> str:
        header = ",".join(f'"V{j + 1}"' for j in range(cells + 1))
        lines = [header]
        for i, s in enumerate(series):
            body = [f'"{v!r}"' for v in s.tolist()] + [""] * (cells - len(s))
            lines.append(",".join([f'"{group[0]}{i + 1}"', *body]))
        return "\n".join(lines) + "\n"

    (target / f"{group}-train.csv").write_text(rows(train, width))
    (target / f"{group}-test.csv").write_text(rows(list(test), horizon))
    return train, test
