"""The M4 competition data: the six groups, their protocol constants and the competition files.

Files are the competition's own (``Mcompetitions/M4-methods``, ``Dataset/Train`` and
``Dataset/Test``): ``<Group>-train.csv`` and ``<Group>-test.csv``, a header, then one row per
series, the id first and then its values, rows padded with empty cells. They are looked up
in ``<data.root>/m4/`` (or ``<data.root>/`` itself; ``.csv.gz`` works too).
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tsfm.data.config import DataConfig
from tsfm.data.sources import M4_GROUP_NAMES, data_roots
from tsfm.errors import InputError

M4_SOURCE = (
    "the M4 competition repository Mcompetitions/M4-methods (folders Dataset/Train and "
    "Dataset/Test)"
)


@dataclass(frozen=True)
class M4Group:
    """One M4 frequency group and its protocol constants (TSLib ``M4Meta``).

    ``period``: the seasonal period used by MASE and Naive2. ``history_size``: training cut
    points are drawn within the last ``history_size x horizon`` points of each series.
    """

    name: str
    horizon: int
    period: int
    history_size: float


M4_GROUPS: dict[str, M4Group] = {
    g.name: g
    for g in (
        M4Group("Yearly", 6, 1, 1.5),
        M4Group("Quarterly", 8, 4, 1.5),
        M4Group("Monthly", 18, 12, 1.5),
        M4Group("Weekly", 13, 1, 10.0),
        M4Group("Daily", 14, 1, 10.0),
        M4Group("Hourly", 48, 24, 10.0),
    )
}
assert tuple(M4_GROUPS) == M4_GROUP_NAMES
VALIDATION_MODES = ("holdout", "test")


def group_of(dataset_name: str) -> M4Group:
    """``m4_hourly`` -> the Hourly group."""
    for group in M4_GROUPS.values():
        if dataset_name == f"m4_{group.name.lower()}":
            return group
    known = ", ".join(f"m4_{g.lower()}" for g in M4_GROUPS)
    raise InputError(f"'{dataset_name}' is not an M4 dataset; known: {known}")


@dataclass
class M4DataConfig(DataConfig):
    """The ``data.`` node for ``data=m4_<group>`` (every :class:`DataConfig` field, plus):

    Attributes:
        seq_len: look-back; 0 means ``lookback_multiple x horizon`` (the Hydra configs
            compute it the same way, so a run directory shows the real value).
        pred_len: the group's horizon (0 means that); any other value is refused, because
            the competition scores exactly that horizon.
        lookback_multiple: look-back as a multiple of the horizon (TSLib: 2).
        history_size: cut points for training windows are drawn within the last
            ``history_size x horizon`` points of each series; null: the group's value
            (1.5 for Yearly/Quarterly/Monthly, 10 for Weekly/Daily/Hourly).
        samples_per_series: random training windows drawn from each series per epoch
            (TSLib: 1, i.e. an epoch of Hourly is 26 steps of batch 16).
        validation: ``holdout`` (default): train on each series minus its last horizon,
            validate (early stopping, checkpoint choice) on that held-out horizon; the test
            file is read only for testing. ``test``: the official code's protocol (TSLib,
            Time-LLM, S2IP-LLM): train on whole series and validate on the TEST set, so
            model selection sees the test data. Only for reproducing old numbers; results
            are labelled ``validation_on_test``.
        cutoffs: ``per_series``: each series' test horizon is its own last one (the
            competition's; its series share no calendar); ``shared`` is refused.
    """

    name: str = "m4_hourly"
    date_col: str | None = None
    cutoffs: str = "per_series"
    seq_len: int = 0
    pred_len: int = 0
    time_features: bool = False
    scale: bool = False
    batch_size: int = 16
    drop_last: bool = False
    lookback_multiple: float = 2.0
    history_size: float | None = None
    samples_per_series: int = 1
    validation: str = "holdout"


@dataclass(frozen=True)
class M4Files:
    train: Path
    test: Path


def _find(folders: list[Path], filename: str) -> Path | None:
    for folder in folders:
        for candidate in (folder / filename, folder / f"{filename}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _folders(root: str | os.PathLike | None) -> list[Path]:
    return [folder for r in data_roots(root) for folder in (r / "m4", r)]


def available_groups(root: str | os.PathLike | None = None) -> list[str]:
    """The M4 groups whose training and test files are both found."""
    folders = _folders(root)
    return [
        g for g in M4_GROUPS if _find(folders, f"{g}-train.csv") and _find(folders, f"{g}-test.csv")
    ]


def locate_m4(group: M4Group, root: str | os.PathLike | None) -> M4Files:
    """The group's two files, or a FileNotFoundError naming what is missing and present."""
    folders = _folders(root)
    train = _find(folders, f"{group.name}-train.csv")
    test = _find(folders, f"{group.name}-test.csv")
    if train and test:
        return M4Files(train, test)
    missing = [
        f
        for f, p in ((f"{group.name}-train.csv", train), (f"{group.name}-test.csv", test))
        if not p
    ]
    present = available_groups(root)
    looked = ", ".join(str(f) for f in folders)
    raise FileNotFoundError(
        f"M4 {group.name}: {' and '.join(missing)} not found (looked in {looked}). "
        f"Complete groups there: {', '.join(present) or 'none'}; missing: "
        f"{', '.join(g for g in M4_GROUPS if g not in present)}. Get the files from "
        f"{M4_SOURCE} and put them in <data.root>/m4/ (or set data.root / TSFM_DATA)."
    )


def read_m4_file(path: str | os.PathLike) -> tuple[list[str], list[np.ndarray]]:
    """Series ids and values (float64, trailing padding removed) of one competition file."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    ids: list[str] = []
    series: list[np.ndarray] = []
    with opener(path, "rt") as handle:
        handle.readline()  # header: V1, V2, ...
        for row, line in enumerate(handle, start=2):
            cells = line.rstrip("\r\n").replace('"', "").rstrip(",").split(",")
            if cells == [""]:
                continue
            name, values = cells[0], cells[1:]
            where = f"{path.name}, row {row} (series '{name}')"
            if not name or not values:
                raise InputError(f"{where}: a row needs an id and at least one value")
            if "" in values:
                gap = values.index("")
                raise InputError(f"{where}: empty cell at value {gap + 1} inside the series")
            try:
                array = np.asarray(values, dtype=np.float64)
            except ValueError:
                raise InputError(f"{where}: non-numeric value") from None
            if not np.isfinite(array).all():
                raise InputError(f"{where}: NaN or infinite value")
            ids.append(name)
            series.append(array)
    if not series:
        raise InputError(f"{path}: no series")
    return ids, series


@dataclass
class M4Split:
    """One group's training histories, and its test horizons once read."""

    group: M4Group
    ids: list[str]
    train: list[np.ndarray]

    def read_test(self, path: Path) -> np.ndarray:
        """The test file as ``[n_series, horizon]``, checked against the training file."""
        ids, rows = read_m4_file(path)
        if ids != self.ids:
            raise InputError(
                f"{path.name} lists {len(ids)} series, the training file {len(self.ids)}, "
                "or in another order; use the two files of the same M4 release"
            )
        lengths = {len(r) for r in rows}
        if lengths != {self.group.horizon}:
            raise InputError(
                f"{path.name}: every series needs {self.group.horizon} test values "
                f"(the {self.group.name} horizon); found lengths {sorted(lengths)}"
            )
        return np.stack(rows)


def load_train(group: M4Group, files: M4Files) -> M4Split:
    ids, train = read_m4_file(files.train)
    if len(set(ids)) != len(ids):
        raise InputError(f"{files.train.name}: duplicate series ids")
    return M4Split(group, ids, train)
