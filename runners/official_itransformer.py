"""The official iTransformer code on ETTh1 96 -> 96, driven for runners/bench_itransformer.py.

Nothing of the official code is shipped: point ``--official`` at a checkout of
thuml/iTransformer (``git clone https://github.com/thuml/iTransformer``). Its files are used
unmodified; shims let them import on current stacks: ``np.Inf`` (removed in NumPy 2, used by
its early stopping) and, when they are not installed, empty ``reformer_pytorch`` and
``einops`` modules (dependencies of the iReformer and iFlashformer attention its model
registry imports; iTransformer's FullAttention uses neither). The arguments are those of its
``scripts/multivariate_forecasting/ETT/iTransformer_ETTh1.sh`` (96 -> 96, d_model 256) with
``--num_workers 0`` (its default of 10 loader processes is slower on a small CPU).

    python runners/official_itransformer.py --official ../iTransformer --threads 1

runs the whole paper run (``run.py``'s train with early stopping, then test) and prints one
JSON line: wall seconds, epochs, test MSE and MAE. The benchmark imports the rest.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]


def import_official(checkout: str | Path):
    """The official ``Exp_Long_Term_Forecast`` class, imported from ``checkout``."""
    checkout = Path(checkout).resolve()
    if not (checkout / "experiments" / "exp_long_term_forecasting.py").is_file():
        raise SystemExit(f"--official {checkout}: not a checkout of thuml/iTransformer")
    if not hasattr(np, "Inf"):
        np.Inf = np.inf
    for name, attribute in (("reformer_pytorch", "LSHSelfAttention"), ("einops", "rearrange")):
        try:
            __import__(name)
        except ImportError:
            stub = types.ModuleType(name)
            setattr(stub, attribute, None)
            sys.modules[name] = stub
    sys.path.insert(0, str(checkout))
    from experiments.exp_long_term_forecasting import Exp_Long_Term_Forecast

    return Exp_Long_Term_Forecast


def etth1_args(data_dir: str | Path, checkpoints: str | Path) -> argparse.Namespace:
    """``run.py``'s arguments for the official ETTh1 96 -> 96 script, on the CPU."""
    return argparse.Namespace(
        is_training=1, model_id="ETTh1_96_96", model="iTransformer", data="ETTh1",
        root_path=str(data_dir), data_path="ETTh1.csv", features="M", target="OT", freq="h",
        checkpoints=str(checkpoints), seq_len=96, label_len=48, pred_len=96, enc_in=7,
        dec_in=7, c_out=7, d_model=256, n_heads=8, e_layers=2, d_layers=1, d_ff=256,
        moving_avg=25, factor=1, distil=True, dropout=0.1, embed="timeF", activation="gelu",
        output_attention=False, do_predict=False, num_workers=0, itr=1, train_epochs=10,
        batch_size=32, patience=3, learning_rate=0.0001, des="Exp", loss="MSE", lradj="type1",
        use_amp=False, use_gpu=False, gpu=0, use_multi_gpu=False, devices="0",
        exp_name="MTSF", channel_independence=False, inverse=False,
        class_strategy="projection", efficient_training=False, use_norm=True,
        partial_start_index=0,
    )  # fmt: skip


class Official:
    """The official experiment object, its model, loaders, optimizer and loss, for timing."""

    def __init__(self, checkout: str | Path, workdir: str | Path):
        exp_class = import_official(checkout)
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its arguments and sizes
            self.exp = exp_class(etth1_args(REPO / "datasets", Path(workdir) / "checkpoints"))
            self.train_data, self.train_loader = self.exp._get_data(flag="train")
            self.val_data, self.val_loader = self.exp._get_data(flag="val")
            self.test_data, self.test_loader = self.exp._get_data(flag="test")
        self.optimizer = self.exp._select_optimizer()
        self.criterion = self.exp._select_criterion()
        self._batches = iter(())

    def _next_batch(self):
        batch = next(self._batches, None)
        if batch is None:
            self._batches = iter(self.train_loader)
            batch = next(self._batches)
        return batch

    def train_step(self) -> None:
        """One step of its training loop (``Exp_Long_Term_Forecast.train``, without AMP)."""
        args, model = self.exp.args, self.exp.model
        model.train()
        batch_x, batch_y, batch_x_mark, batch_y_mark = self._next_batch()
        self.optimizer.zero_grad()
        batch_x, batch_y = batch_x.float(), batch_y.float()
        batch_x_mark, batch_y_mark = batch_x_mark.float(), batch_y_mark.float()
        dec_inp = torch.zeros_like(batch_y[:, -args.pred_len :, :]).float()
        dec_inp = torch.cat([batch_y[:, : args.label_len, :], dec_inp], dim=1).float()
        outputs = model(batch_x, batch_x_mark, dec_inp, batch_y_mark)[:, -args.pred_len :, 0:]
        loss = self.criterion(outputs, batch_y[:, -args.pred_len :, 0:])
        loss.item()  # its loop logs every loss
        loss.backward()
        self.optimizer.step()

    def evaluate(self) -> None:
        """What it evaluates after every epoch: validation, and the test split at batch 1."""
        self.exp.vali(self.val_data, self.val_loader, self.criterion)
        self.exp.vali(self.test_data, self.test_loader, self.criterion)

    @property
    def evaluated_windows(self) -> int:
        return len(self.val_loader) * self.val_loader.batch_size + len(self.test_loader)


def whole_run(checkout: str | Path) -> dict[str, Any]:
    """``run.py``: seed 2023, train with early stopping, test; in a scratch directory."""
    start = time.perf_counter()
    exp_class = import_official(checkout)
    workdir = Path(tempfile.mkdtemp(prefix="official-itransformer-"))
    os.chdir(workdir)  # it writes checkpoints/, results/ and test_results/ where it runs
    import random

    random.seed(2023)
    torch.manual_seed(2023)
    np.random.seed(2023)
    setting = "ETTh1_96_96_official"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exp = exp_class(etth1_args(REPO / "datasets", workdir / "checkpoints"))
        exp.train(setting)
        exp.test(setting)
    mae, mse = np.load(workdir / "results" / setting / "metrics.npy")[:2]
    return {
        "wall_s": time.perf_counter() - start,
        "epochs": printed.getvalue().count("cost time"),
        "mse": float(mse),
        "mae": float(mae),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", required=True, help="a checkout of thuml/iTransformer")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(json.dumps(whole_run(args.official)))


if __name__ == "__main__":
    main()
