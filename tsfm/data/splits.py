"""Train/validation/test borders, row for row as in the papers' loaders (TSLib lineage)."""

from __future__ import annotations

from dataclasses import dataclass

from tsfm.errors import InputError

ETT_MONTH_ROWS = {"ett_hour": 30 * 24, "ett_minute": 30 * 24 * 4}
STAGES = ("train", "val", "test")
DEFAULT_RATIOS = (0.7, 0.2)  # data.train_ratio, data.test_ratio: the papers' ratio split


@dataclass(frozen=True)
class Borders:
    """Half-open row ranges ``[start, end)`` of each split.

    ``val`` and ``test`` start ``seq_len`` rows before their border so that their first
    target lies inside the split. ``scaler`` is the range the scaler is fitted on.
    """

    train: tuple[int, int]
    val: tuple[int, int]
    test: tuple[int, int]
    scaler: tuple[int, int]

    def __getitem__(self, stage: str) -> tuple[int, int]:
        return getattr(self, stage)


def compute_borders(
    kind: str,
    n_rows: int,
    seq_len: int,
    pred_len: int,
    *,
    train_ratio: float = 0.7,
    test_ratio: float = 0.2,
    percent: float = 100.0,
    scaler_on_subset: bool = False,
) -> Borders:
    """Borders of the ``ett_hour``/``ett_minute`` (12/4/4 months) or ``ratio`` split.

    ``percent`` < 100 keeps the first part of the training windows (few-shot training, as
    in S2IP-LLM's loaders); the scaler is still fitted on the whole training split unless
    ``scaler_on_subset``.
    """
    if seq_len < 1 or pred_len < 1:
        raise InputError(f"seq_len ({seq_len}) and pred_len ({pred_len}) must be at least 1")
    if kind in ETT_MONTH_ROWS:
        month = ETT_MONTH_ROWS[kind]
        ends = [12 * month, 16 * month, 20 * month]
        if (train_ratio, test_ratio) != DEFAULT_RATIOS:
            raise InputError(
                f"data.train_ratio={train_ratio} and data.test_ratio={test_ratio} do not apply "
                "to an ETT benchmark: it has the papers' fixed split of 12/4/4 months (rows "
                f"0-{ends[0]} train, {ends[0]}-{ends[1]} validation, {ends[1]}-{ends[2]} test). "
                f"Leave them at {DEFAULT_RATIOS[0]} and {DEFAULT_RATIOS[1]}, or read the file "
                "with data=custom data.path=... for a ratio split"
            )
        if n_rows < ends[-1]:
            raise InputError(
                f"the ETT split needs {ends[-1]} rows (20 months) but the file has {n_rows}; "
                "use the full ETT file, or data.name=custom with split ratios for other files"
            )
    elif kind == "ratio":
        check_ratios(train_ratio, test_ratio)
        n_train, n_test = int(n_rows * train_ratio), int(n_rows * test_ratio)
        ends = [n_train, n_rows - n_test, n_rows]
    else:
        raise InputError(f"unknown split kind '{kind}'; use ett_hour, ett_minute or ratio")
    if not 0 < percent <= 100:
        raise InputError(f"data.percent must be in (0, 100], got {percent}")

    train_end = ends[0]
    if percent < 100:
        train_end = int((ends[0] - seq_len) * percent / 100) + seq_len
    borders = Borders(
        train=(0, train_end),
        val=(ends[0] - seq_len, ends[1]),
        test=(ends[1] - seq_len, ends[2]),
        scaler=(0, train_end if scaler_on_subset else ends[0]),
    )
    for stage in STAGES:
        start, end = borders[stage]
        if start < 0 or end - start < seq_len + pred_len:
            raise InputError(
                f"the {stage} split has {max(end - max(start, 0), 0)} rows but one window needs "
                f"seq_len + pred_len = {seq_len + pred_len}; the series ({n_rows} rows) is too "
                "short for this setting: shorten data.seq_len/data.pred_len or use more data"
            )
    return borders


def check_ratios(train_ratio: float, test_ratio: float) -> None:
    if not (0 < train_ratio < 1 and 0 < test_ratio < 1 and train_ratio + test_ratio < 1):
        raise InputError(
            f"impossible split ratios: train {train_ratio}, test {test_ratio} "
            f"(validation gets the rest, {1 - train_ratio - test_ratio:.3g}); each must be in "
            "(0, 1) and train + test must leave room for validation, e.g. 0.7 and 0.2"
        )


def n_windows(start: int, end: int, seq_len: int, pred_len: int) -> int:
    return end - start - seq_len - pred_len + 1
