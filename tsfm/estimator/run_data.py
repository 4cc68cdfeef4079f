"""The data of a ``python -m tsfm.run`` run, read again for ``Forecaster.from_run``: split and
scaled as the run did, and checked to be what the run read (the digest metrics.json recorded,
the dimensions and scaling statistics the checkpoint recorded), so a file changed since is
refused rather than forecast with other data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from tsfm.data import ForecastDataModule, make_datamodule
from tsfm.errors import InputError
from tsfm.training.data_record import same_scaling


def run_data(cfg: DictConfig) -> ForecastDataModule:
    """The run's data module, set up: the data read again, split and scaled as the run did."""
    datamodule = make_datamodule(cfg.data)
    try:
        datamodule.setup()
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"{err}. The run read its data from there; pass data_path=... (a custom file) or "
            "data_root=... (the folder of a registered dataset) where it is now"
        ) from None
    return datamodule


CHANGED = (
    "the data file changed since the run, or data_path/data_root points at another one. If "
    "the file has grown since, convert the run with a copy of the file as the run read it "
    "(data_path=...), then predict(frame) from the new rows"
)


def check_same_data(
    state: dict[str, Any], datamodule: ForecastDataModule, metrics: dict[str, Any], path: Path
) -> None:
    """The data read now is the run's: the rows and digest metrics.json recorded (runs since
    they were recorded), the dimensions and the scaling the checkpoint recorded."""
    digest = metrics.get("data_sha256")
    read = datamodule.protocol()  # its data_rows and data_sha256
    if digest is not None and digest != read["data_sha256"]:
        raise InputError(
            f"the data read now ({read['data_rows']} rows) is not what the run read "
            f"({metrics.get('data_rows')} rows, SHA-256 {digest[:12]}...): {CHANGED}"
        )
    recorded = state["hyper_parameters"]
    dims = datamodule.dims()
    if any(recorded["dims"].get(k) != v for k, v in dims.items()):
        raise InputError(
            f"the data read now has dimensions {dims}, but {path} was trained on "
            f"{recorded['dims']}: {CHANGED}"
        )
    # the targets' scaling (per series in a panel)
    if not same_scaling(recorded.get("scaler"), datamodule.scaler_state()):
        raise InputError(
            f"the run's training rows, read now, give other scaling statistics than those {path} "
            f"recorded (forecasting with them would be silently wrong): {CHANGED}"
        )
