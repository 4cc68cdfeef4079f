"""The best epoch kept in memory copies only what training can change.

S2IP-LLM's GPT-2 is frozen but for its layer norms and position embeddings: a copy of its
whole state at every improvement held a second copy of the frozen matrices (GPT-2 size,
random weights, ``pool_size`` 1000: 529 MB copied per improvement before, 204 MB now, the
anchors' trainable ``[pool, vocab]`` map most of it; peak RSS of a 3-epoch fit 2.98 -> 2.42
GB). Frozen parameters are left as they are: training never changes them, so the module
ends the fit with the best epoch's weights, bit for bit those of ``best.ckpt``.
"""

from __future__ import annotations

import lightning as L
import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.models import TINY
from tests.helpers.runs import TINY_RUN
from tsfm.config import compose_config
from tsfm.data import TimeSeriesDataModule
from tsfm.errors import InputError
from tsfm.pipeline import fit_and_test
from tsfm.training.checkpoints import load_checkpoint

S2IP = compose_config(
    "model=s2ip_llm",
    *[f"model.{k}={v}" for k, v in TINY["s2ip_llm"].items()],
    "data.seq_len=24",
    "data.pred_len=8",
    "data.batch_size=8",
    *TINY_RUN,
    "trainer.max_epochs=4",
    "trainer.limit_train_batches=4",
    "optim.lr=0.05",
    "seed=0",
    "test=false",
)


def fit(run_dir, callbacks=(), **settings):
    data = TimeSeriesDataModule(S2IP.data, frame=synthetic_frame(n_rows=300))
    return fit_and_test(S2IP, run_dir, datamodule=data, extra_callbacks=callbacks, **settings)


class FrozenAtStart(L.Callback):
    """The frozen parameters' storage and values when training starts."""

    def on_train_start(self, trainer, module):
        self.seen = {
            name: (p.data_ptr(), p.detach().clone())
            for name, p in module.named_parameters()
            if not p.requires_grad
        }


def test_frozen_backbone_weights_are_not_copied_and_the_best_epoch_is_best_ckpt(tmp_path):
    start = FrozenAtStart()
    kept = fit(tmp_path / "memory", [start], best_in_memory=True)
    written = fit(tmp_path / "files")
    best = load_checkpoint(written.best_checkpoint)
    callback = kept.trainer.checkpoint_callback
    assert callback.best_epoch == best["epoch"] < kept.metrics["epochs"] - 1  # not the last
    state = kept.module.state_dict()
    frozen = set(start.seen)
    assert any(".wte." in n for n in frozen) and any(".ln_" in n for n in state.keys() - frozen)
    # the copy: every trainable parameter and buffer, no frozen parameter
    assert callback.best_state.keys() == state.keys() - frozen and callback.frozen == frozen
    buffers = {n for n, _ in kept.module.named_buffers()}
    assert buffers and buffers <= callback.best_state.keys()
    for name, (pointer, values) in start.seen.items():  # untouched by training
        parameter = kept.module.get_parameter(name)
        assert parameter.data_ptr() == pointer and torch.equal(parameter, values), name
    for name, weight in written.module.state_dict().items():
        assert torch.equal(state[name], weight), name
        assert torch.equal(state[name], best["state_dict"][name]), name


class UnfreezeAtTheEnd(L.Callback):
    """A vocabulary unfrozen after the last improvement: it might have trained since."""

    def on_train_end(self, trainer, module):
        module.model.backbone.model.wte.weight.requires_grad_(True)


def test_a_parameter_unfrozen_after_the_best_epoch_was_kept_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"became trainable.*wte.*work_dir"):
        fit(tmp_path, [UnfreezeAtTheEnd()], best_in_memory=True)


def test_a_parameter_an_optimizer_holds_is_copied_though_it_needs_no_gradient():
    from tsfm.training.best_in_memory import frozen_parameters

    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    net.requires_grad_(False)
    optimizer = torch.optim.SGD(net[1].parameters(), lr=0.1)  # frozen later, still updated
    assert frozen_parameters(net) == {"0.weight", "0.bias", "1.weight", "1.bias"}
    assert frozen_parameters(net, [optimizer]) == {"0.weight", "0.bias"}
