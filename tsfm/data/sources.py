"""The dataset registry: which file each benchmark lives in, how it is split, where to get it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from tsfm.data.frames.files import read_file
from tsfm.errors import InputError
from tsfm.local_files import URL, local_path

BUNDLED_DIR = Path(__file__).resolve().parents[2] / "datasets"
"""The repository's ``datasets/`` folder; ETTh1 ships there as the default data."""

_AUTOFORMER_ZIPS = "the Autoformer 'all_six_datasets' collection (thuml/Autoformer README)"


@dataclass(frozen=True)
class DatasetSpec:
    """A registered benchmark.

    ``split`` is ``"ett_hour"`` / ``"ett_minute"`` (the fixed 12/4/4-month borders of the ETT
    loaders) or ``"ratio"`` (``int(0.7 n)`` train, ``int(0.2 n)`` test, the rest validation),
    or ``"m4"`` (the competition's own train/test files; see ``tsfm/data/m4/``).
    ``freq`` is the sampling interval of the file, used to check timestamps and to build
    future ones. ``datamodule`` names the data module that reads it (``windows``: sliding
    windows over one wide series, :class:`~tsfm.data.TimeSeriesDataModule`; ``m4``: the M4
    panel, :class:`~tsfm.data.m4.M4DataModule`).
    """

    name: str
    filename: str
    split: str
    freq: str
    source: str
    target: str = "OT"
    subdirs: tuple[str, ...] = ()
    # The papers use these files exactly as published; known quirks are accepted, not refused.
    allow_duplicate_timestamps: bool = False
    datamodule: str = "windows"
    # The published file, checked on load (the splits are row counts): its data rows, first
    # and last timestamps, and the timestamps after which a step departs from ``freq``.
    rows: int | None = None
    span: tuple[str, str] | None = None
    breaks: tuple[str, ...] = ()


_ETT_SOURCE = "zhouhaoyi/ETDataset, folder ETT-small (https://github.com/zhouhaoyi/ETDataset)"

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        *(
            DatasetSpec(
                name,
                f"ETT{name[3:]}.csv",
                "ett_hour" if hourly else "ett_minute",
                "h" if hourly else "15min",
                _ETT_SOURCE,
                subdirs=("ETT-small",),
                rows=17420 if hourly else 69680,
                span=("2016-07-01 00:00", "2018-06-26 19:00" if hourly else "2018-06-26 19:45"),
            )
            for name, hourly in (
                ("etth1", True),
                ("etth2", True),
                ("ettm1", False),
                ("ettm2", False),
            )
        ),
        DatasetSpec(
            "weather",
            "weather.csv",
            "ratio",
            "10min",
            _AUTOFORMER_ZIPS + ", member weather/weather.csv",
            subdirs=("weather",),
            # 2020-05-12 06:00 appears twice in the published file; the papers keep both rows.
            allow_duplicate_timestamps=True,
            rows=52696,
            span=("2020-01-01 00:10", "2021-01-01 00:00"),
            breaks=("2020-05-29 11:10",),  # 100 minutes after the row before
        ),
        DatasetSpec(  # span not recorded: no copy was at hand to check it against
            "electricity",
            "electricity.csv",
            "ratio",
            "h",
            _AUTOFORMER_ZIPS + ", member electricity/electricity.csv (ECL, 321 clients)",
            subdirs=("electricity",),
            rows=26304,
        ),
        DatasetSpec(
            "traffic",
            "traffic.csv",
            "ratio",
            "h",
            _AUTOFORMER_ZIPS + ", member traffic/traffic.csv (862 sensors)",
            subdirs=("traffic",),
            rows=17544,
        ),
        DatasetSpec(
            "exchange_rate",
            "exchange_rate.csv",
            "ratio",
            "D",
            _AUTOFORMER_ZIPS + ", member exchange_rate/exchange_rate.csv",
            subdirs=("exchange_rate",),
            rows=7588,
            span=("1990-01-01", "2010-10-10"),
        ),
        DatasetSpec(
            "illness",
            "national_illness.csv",
            "ratio",
            "7D",
            _AUTOFORMER_ZIPS + ", member illness/national_illness.csv (CDC ILINet)",
            subdirs=("illness",),
            rows=966,
            span=("2002-01-01", "2020-06-30"),
        ),
    )
}

# EPF (electricity price forecasting, the benchmark for forecasting with covariates; TimeXer's
# protocol: chronological 70/10/20, look-back 168 h, horizon 24 h): the hourly day-ahead price
# OT and two day-ahead forecasts known for the horizon, column names as distributed (with a
# leading space). conf/data/epf_<market>.yaml gives them the future-covariate role.
_EPF_SOURCE = "thuml/TimeXer, dataset/EPF/ (from the epftoolbox benchmark, Lago et al. 2021)"
for _market in ("NP", "PJM", "BE", "FR"):
    DATASETS[f"epf_{_market.lower()}"] = DatasetSpec(
        f"epf_{_market.lower()}", f"{_market}.csv", "ratio", "h", _EPF_SOURCE, subdirs=("epf",)
    )

# The M4 competition's six groups (tsfm/data/m4/files.py holds their protocol constants). Each is a
# panel of univariate series in two files, read by M4DataModule, not TimeSeriesDataModule.
M4_GROUP_NAMES = ("Yearly", "Quarterly", "Monthly", "Weekly", "Daily", "Hourly")
_M4_FREQS = {"Yearly": "YS", "Quarterly": "QS", "Monthly": "MS", "Weekly": "W", "Daily": "D"}
for _group in M4_GROUP_NAMES:
    DATASETS[f"m4_{_group.lower()}"] = DatasetSpec(
        f"m4_{_group.lower()}",
        f"{_group}-train.csv",
        "m4",
        _M4_FREQS.get(_group, "h"),
        "Mcompetitions/M4-methods, Dataset/Train and Dataset/Test "
        f"({_group}-train.csv, {_group}-test.csv)",
        target="value",
        subdirs=("m4",),
        datamodule="m4",
    )

SUFFIXES = ("", ".gz", ".parquet")
_URL_ENTRY = re.compile(rf"(?:^|{re.escape(os.pathsep)}){URL.pattern.removeprefix('^')}")


def data_roots(root: str | os.PathLike | None) -> list[Path]:
    """Folders searched for benchmark files: ``root`` if given, else ``$TSFM_DATA`` and the
    bundled ``datasets/`` folder."""
    if root is not None:
        return [local_path(root, "data.root", "data folders")]
    roots = []
    if env := os.environ.get("TSFM_DATA"):
        if _URL_ENTRY.search(env):
            raise InputError(
                f"TSFM_DATA={env!r} names a URL; tsfm reads data folders from local paths only "
                "and requests nothing from the network: download the files into a folder, "
                "check where they came from, and list that folder in TSFM_DATA"
            )
        roots.extend(Path(p).expanduser() for p in env.split(os.pathsep) if p)
    roots.append(BUNDLED_DIR)
    return roots


def candidate_paths(spec: DatasetSpec, roots: list[Path]) -> list[Path]:
    stem = spec.filename
    names = [stem + s for s in SUFFIXES[:2]] + [stem.removesuffix(".csv") + ".parquet"]
    return [root / sub / name for root in roots for sub in ("", *spec.subdirs) for name in names]


def locate(spec: DatasetSpec, root: str | os.PathLike | None) -> Path:
    """The file of a registered dataset, or a FileNotFoundError saying where we looked."""
    roots = data_roots(root)
    candidates = candidate_paths(spec, roots)
    for path in candidates:
        if path.is_file():
            return path
    looked = ", ".join(str(r) for r in roots)
    raise FileNotFoundError(
        f"dataset '{spec.name}': no {spec.filename} (or .gz / .parquet) under {looked}. "
        f"Get it from {spec.source}, then put it in one of those folders, or point "
        f"data.root (or the TSFM_DATA environment variable) at the folder that holds it. "
        f"See datasets/README.md."
    )


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted([*DATASETS, "custom"]))
        raise InputError(f"unknown dataset '{name}'; known datasets: {known}") from None


# Settings only a custom file has: a registered dataset reads its own file, wide, jointly.
CUSTOM_ONLY = {"path": None, "id_col": None, "mode": "joint"}


def refuse_custom_settings(cfg: Any) -> None:
    """Refuse ``data.path``, ``data.id_col`` or ``data.mode`` set for a registered dataset,
    which reads its own file and would ignore them (the run would train on the benchmark)."""
    name = getattr(cfg, "name", None)
    if name == "custom":
        return
    values = {key: getattr(cfg, key, default) for key, default in CUSTOM_ONLY.items()}
    given = {key: v for key, v in values.items() if v not in (CUSTOM_ONLY[key], "")}
    if not given:
        return
    shown = " and ".join(f"data.{key}={value}" for key, value in given.items())
    keys = " and ".join(f"data.{key}" for key in given)
    raise InputError(
        f"{shown} {'is' if len(given) == 1 else 'are'} set, but data.name is '{name}', a "
        f"registered dataset, which reads its own file and would ignore {keys}: add "
        "data=custom to read your own file (python -m tsfm.run data=custom data.path=my.csv "
        f"data.target=...), or drop {keys} to run on '{name}'"
    )


def custom_file(cfg: Any) -> Path:
    """The file of a custom ``data.path``, or an error saying where it was looked for: a
    relative path is read from the working directory (``data.root`` is not searched: it holds
    the registered datasets)."""
    path = local_path(str(cfg.path), "data.path")
    if path.is_file():
        return path
    cwd = Path.cwd()
    looked = path if path.is_absolute() else cwd / path
    if looked.is_dir():
        raise InputError(f"data.path={cfg.path} is a folder ({looked}); name a file in it")
    where = f"looked for {looked}"
    root = getattr(cfg, "root", None)
    fix = "pass an absolute path (data.path=/full/path/to/file.csv)"
    if not path.is_absolute():
        where += f": a relative data.path is read from the working directory, {cwd}"
        where += "; data.root applies to registered datasets only, not to data.path"
        beside = Path(str(root)).expanduser().absolute() / path if root else None
        if beside is not None and beside.is_file():
            fix = f"the file is in data.root: pass data.path={beside}"
    elif root:
        where += "; data.root applies to registered datasets only, not to data.path"
    raise FileNotFoundError(f"data file {cfg.path} does not exist ({where}); {fix}")


def read_source(cfg: Any) -> tuple[pl.DataFrame, str, bool]:
    """The file of ``cfg`` (a custom ``data.path`` or a registered dataset's), how messages
    name it, and whether its timestamps may repeat."""
    refuse_custom_settings(cfg)
    if cfg.name == "custom":
        if not cfg.path:
            raise InputError("data.name=custom needs data.path (a CSV, CSV.gz or Parquet file)")
        return read_file(custom_file(cfg)), str(cfg.path), False
    spec = get_spec(cfg.name)
    path = locate(spec, cfg.root)
    return read_file(path), f"dataset '{spec.name}' ({path})", spec.allow_duplicate_timestamps
