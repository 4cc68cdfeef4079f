"""Where a study is kept: Optuna's in-memory storage, or an RDB URL (SQLite's folder created,
local workers waiting on its lock), with the heartbeat that retries a dead worker's trial and
retries of the connection that workers starting together race for."""

from __future__ import annotations

import random
import time
import warnings
from pathlib import Path
from typing import Any

import optuna


def in_memory(study: optuna.Study) -> bool:
    """Whether ``study`` lives in this process only (no storage another worker, or a rerun,
    would share)."""
    return isinstance(study._storage, optuna.storages.InMemoryStorage)


def make_storage(url: str | None, heartbeat_seconds: int | None) -> Any:
    """None -> in memory; an RDB URL -> RDBStorage (SQLite folders are created)."""
    if url is None:
        return optuna.storages.InMemoryStorage()
    engine_kwargs = {}
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        engine_kwargs = {"connect_args": {"timeout": 60}}  # wait for other local workers
    heartbeat = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if heartbeat_seconds:
            heartbeat = {
                "heartbeat_interval": heartbeat_seconds,
                "grace_period": 2 * heartbeat_seconds,
            }
            retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)  # >=4.9
            if retry is not None:
                heartbeat["heartbeat_stale_trial_callback"] = retry(max_retry=1)
            else:
                heartbeat["failed_trial_callback"] = optuna.storages.RetryFailedTrialCallback(1)
        return _connect(url, engine_kwargs, heartbeat)


def _connect(url: str, engine_kwargs: dict, heartbeat: dict, attempts: int = 5) -> Any:
    """RDBStorage, retried: workers starting together on an empty database race to create
    its tables, and the loser of the race fails once."""
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **heartbeat)
        except SQLAlchemyError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 + random.random() * 2 * (attempt + 1))
    raise AssertionError("unreachable")
