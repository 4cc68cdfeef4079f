"""Issue 16, item 1: no checkpoint tsfm reads can run code, whatever torch's default and
whatever the scheme. The payload is a pickle whose loading creates a marker file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.payload import CreatesFile, RunsCommand, serve, write_payload
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test
from tsfm.training.checkpoints import load_checkpoint, restore_module

# torch 2.4 and 2.5, which pyproject allows, unpickle fully by default; this simulates them
OLD_TORCH_DEFAULT = {"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}


@pytest.fixture
def payload(tmp_path):
    marker = tmp_path / "payload-ran"
    return write_payload(tmp_path / "evil.ckpt", marker), marker


def test_the_payload_runs_code_when_fully_unpickled(payload):
    path, marker = payload  # the other tests' payload is live: this is what they prevent
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_the_command_payload_runs_when_fully_unpickled(tmp_path):
    marker = tmp_path / "payload-ran"
    torch.save({"payload": RunsCommand(marker)}, tmp_path / "evil.ckpt")
    torch.load(tmp_path / "evil.ckpt", weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("torch_format", [True, False])
def test_the_loader_refuses_a_payload_even_under_an_unpickling_default(
    tmp_path, monkeypatch, torch_format
):
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "payload-ran"
    path = write_payload(tmp_path / "evil.ckpt", marker, torch_format=torch_format)
    with pytest.raises(ValueError, match=r"evil\.ckpt cannot be loaded as plain tensors"):
        load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("kind", "named"),
    [(RunsCommand, "posix.system"), (CreatesFile, "io.open")],
    ids=["blocked-module", "not-allowlisted"],
)
def test_a_refusal_names_the_global_it_blocked(tmp_path, kind, named):
    """torch 2.14 says "Trying to load unsupported GLOBAL posix.system whose module posix is
    blocked" of os.system, "WeightsUnpickler error: Unsupported global: GLOBAL io.open ..."
    of anything else not allowlisted: either is named."""
    marker = tmp_path / "payload-ran"
    torch.save({"state_dict": {}, "payload": kind(marker)}, tmp_path / "evil.ckpt")
    plain = f"evil.ckpt cannot be loaded as plain tensors (it refers to {named})"
    with pytest.raises(ValueError, match=re.escape(plain)):
        load_checkpoint(tmp_path / "evil.ckpt")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Trying to load unsupported GLOBAL posix.system whose module posix is blocked.", "posix.system"),
        ("WeightsUnpickler error: Unsupported global: GLOBAL io.open was not an allowed global by default. Please use", "io.open"),
        ("WeightsUnpickler error: Unsupported operand 110\n\nCheck the documentation", "Unsupported operand 110"),
        ("blocked loading this checkpoint. Unsupported globals: posix.system, io.open. No automatic", "posix.system, io.open"),
        ("Weights only load failed for another reason", None),
    ],
    ids=["torch-2.14-blocked", "not-allowlisted", "older-wording", "timm", "nothing-named"],
)  # fmt: skip
def test_what_a_refusal_blocked_is_read_from_each_wording(text, named):
    from tsfm.local_files import blocked_globals

    assert blocked_globals(text) == named


def test_urls_are_refused_before_any_request(payload, tmp_path):
    path, marker = payload
    with serve(tmp_path) as (base, requests):
        for url in (f"{base}/{path.name}", f"file://{path}", f"s3://bucket/{path.name}"):
            with pytest.raises(ValueError, match="is a URL; tsfm reads checkpoints from local"):
                load_checkpoint(url)
    assert requests == [] and not marker.exists()


@pytest.mark.parametrize("train", [False, True], ids=["test-from-ckpt", "resume-from-ckpt"])
def test_the_pipeline_reads_ckpt_path_only_through_the_safe_loader(
    payload, tmp_path, monkeypatch, train
):
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    path, marker = payload
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, f"train={train}", f"ckpt_path={path}")
    with pytest.raises(ValueError, match="cannot be loaded as plain tensors.*weights_only=True"):
        fit_and_test(cfg, tmp_path / "run")
    assert not marker.exists()


def test_the_cli_refuses_a_checkpoint_url_without_fetching_it(payload, tmp_path):
    path, marker = payload
    data = tmp_path / "good.csv"
    synthetic_frame(400).to_csv(data, index=False)
    with serve(tmp_path) as (base, requests):
        proc = run_cli(
            "data=custom",
            f"data.path={data}",
            *TINY_ITRANSFORMER,
            *TINY_RUN,
            "train=false",
            f"ckpt_path={base}/{path.name}",
            f"hydra.run.dir={tmp_path / 'run'}",
            cwd=tmp_path,
            env=OLD_TORCH_DEFAULT,
        )
    assert proc.returncode != 0
    assert "is a URL; tsfm reads checkpoints from local files only" in proc.stderr
    assert requests == [] and not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not a readable torch checkpoint .*EOFError"),
        (None, "is not a readable torch checkpoint .*(truncated|OSError|RuntimeError)"),
        (b"not a checkpoint\n", "cannot be loaded as plain tensors"),
        (b"root:x:0:0:root:/root:/bin/bash\n", "is not a readable torch checkpoint .*Error"),
        (b"hello\n", "is not a readable torch checkpoint .*Error"),
        ("/etc/passwd", "is not a readable torch checkpoint .*Error"),
    ],
    ids=["empty", "truncated", "text", "passwd-line", "hello", "link-to-passwd"],
)
def test_broken_checkpoints_are_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "weights.pt"
    if content is None:  # a real checkpoint, cut in half
        torch.save({"w": torch.randn(64, 64)}, path)
        content = path.read_bytes()[: path.stat().st_size // 2]
    if isinstance(content, str):  # a link to a system file
        if not Path(content).is_file():
            pytest.skip(f"no {content} here")
        path.symlink_to(content)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"{path} {message}"):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError, match="no checkpoint file at"):
        load_checkpoint(tmp_path / "missing.ckpt")


def test_a_run_checkpoint_restores_its_module_through_the_safe_loader(tmp_path):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN)
    result = fit_and_test(cfg, tmp_path)
    restored = restore_module(result.best_checkpoint)
    for key, value in restored.state_dict().items():
        assert torch.equal(value, result.module.state_dict()[key].cpu())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny run's directory (24 -> 8, d_model 8) with its best and last checkpoints."""
    run_dir = tmp_path_factory.mktemp("trained")
    fit_and_test(compose_config(*TINY_ITRANSFORMER, *TINY_RUN, "test=false"), run_dir)
    return run_dir


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ("data.pred_len=12", "data.pred_len is 12 but the checkpoint was trained with 8"),
        ("model.d_model=16", "model.d_model is 16 but the checkpoint was trained with 8"),
        ("loss=quantile", "loss is 'quantile' but the checkpoint was trained with 'mse'"),
    ],
)
def test_a_checkpoint_of_other_sizes_is_refused_naming_the_settings(
    trained, tmp_path, changed, message
):
    ckpt = trained / "checkpoints" / "best.ckpt"
    test = [*TINY_ITRANSFORMER, *TINY_RUN, "train=false", f"ckpt_path={ckpt}", changed]
    with pytest.raises(ValueError, match=rf"ckpt_path: .*best.ckpt does not fit .*{message}"):
        fit_and_test(compose_config(*test), tmp_path / "test")
    resumed = tmp_path / "resumed"
    (resumed / "checkpoints").mkdir(parents=True)
    last = (trained / "checkpoints" / "last.ckpt").read_bytes()
    (resumed / "checkpoints" / "last.ckpt").write_bytes(last)
    resume = [*TINY_ITRANSFORMER, *TINY_RUN, "resume=true", changed]
    with pytest.raises(ValueError, match=rf"resume=true: .*last.ckpt does not fit .*{message}"):
        fit_and_test(compose_config(*resume), resumed)


def test_a_checkpoint_of_the_same_sizes_is_tested(trained, tmp_path):
    ckpt = trained / "checkpoints" / "best.ckpt"
    test = [*TINY_ITRANSFORMER, *TINY_RUN, "train=false", f"ckpt_path={ckpt}", "model.dropout=0.3"]
    assert fit_and_test(compose_config(*test), tmp_path).metrics["test/mse"] > 0
