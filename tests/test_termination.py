"""A SIGTERM stops training after the batch in progress (Lightning's own check) and the
process exits with status 143, not Lightning's 0 (tsfm/training/termination.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tsfm.training.termination import TERMINATED_STATUS

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import lightning as L
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    from tsfm.training.stopping import interruptible

    class Model(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(2, 1)

        def training_step(self, batch, index):
            print("batch", index, flush=True)
            if index == 2:
                os.kill(os.getpid(), signal.SIGTERM)
            return self.layer(batch[0]).pow(2).mean()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    data = DataLoader(TensorDataset(torch.randn(200, 2)), batch_size=2)
    trainer = L.Trainer(
        max_epochs=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
    )
    if sys.argv[1] == "tsfm":
        with interruptible(trainer):
            trainer.fit(Model(), data)
    else:
        trainer.fit(Model(), data)
    print("finished", flush=True)
    """
)


def _run(tmp_path: Path, mode: str) -> subprocess.CompletedProcess:
    script = tmp_path / "fit.py"
    script.write_text(SCRIPT)
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, str(script), mode],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env={"PYTHONPATH": str(root), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )


def test_a_sigterm_stops_after_the_batch_with_status_143(tmp_path):
    done = _run(tmp_path, "tsfm")
    batches = [line for line in done.stdout.splitlines() if line.startswith("batch")]
    assert done.returncode == TERMINATED_STATUS, done.stderr[-2000:]
    assert batches[-1] == "batch 2"  # of 100 in the epoch
    assert "finished" not in done.stdout


def test_lightning_alone_exits_with_status_0_as_if_finished(tmp_path):
    """What tsfm's fit mends: the stopped run's status said success."""
    done = _run(tmp_path, "lightning")
    assert done.returncode == 0 and "finished" not in done.stdout
