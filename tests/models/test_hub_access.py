"""A pretrained backbone whose Hub cannot be reached fails at once with tsfm's message: one
request to the Hub, no retry loop, no library warnings before the message (issue: misspelt
or uncached backbones retried the network five times, ~25 s to minutes, logging each try)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Counts the HTTP requests huggingface_hub's session puts on the network (its transport: a
# request its offline mode blocks never gets there) and makes its back-off sleeps free, so
# the test measures attempts, not wall time; then loads, prints the attempts and the message.
SCRIPT = textwrap.dedent(
    """
    import time
    from huggingface_hub.utils import get_session
    transport = type(get_session()._transport)
    handle, sent = transport.handle_request, []
    def counted(self, request):
        if "/api/agent-harnesses" not in str(request.url):  # the hub's one-off user-agent query
            sent.append(str(request.url))
        return handle(self, request)
    transport.handle_request = counted
    time.sleep = lambda seconds: None
    try:
        {load}
    except Exception as error:
        print("ATTEMPTS", len(sent), sent)
        print("ERROR", type(error).__name__, str(error).replace(chr(10), " "))
    """
)
LOADS = {
    "s2ip_llm": "from tsfm.models.s2ip_llm.language_backbones import load_language_backbone;"
    " load_language_backbone('gtp2', n_layers=1)",
    "timesclip": "from tsfm.models.timesclip.clip_backbones import create_clip;"
    " create_clip('ViT-B-32', 'openai', True, image_size=32)",
    "timm": "from tsfm.models.timesclip.timm_towers import create_timm_encoder;"
    " create_timm_encoder('vit_tiny_patch16_224', None, True, 32)",
}


def _load_without_hub(load: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_OFFLINE")}
    env.update(
        HF_ENDPOINT="http://127.0.0.1:9",  # the discard port: every connection is refused
        HF_HOME=str(tmp_path / "hf"),  # an empty cache
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        OMP_NUM_THREADS="1",
    )
    code = SCRIPT.format(load=load)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("model", sorted(LOADS))
def test_an_unreachable_hub_is_asked_once_and_the_failure_says_so(model, tmp_path):
    run = _load_without_hub(LOADS[model], tmp_path)
    out = run.stdout
    assert "ERROR" in out, run.stderr[-2000:]
    attempts = int(out.split("ATTEMPTS ")[1].split()[0])
    assert attempts <= 1, out  # one reachability check, no retries
    assert "Hugging Face Hub at http://127.0.0.1:9 cannot be reached" in out
    assert "local Hugging Face cache does not hold them" in out
    assert "Retrying" not in run.stderr and "Failed to download" not in run.stderr
    assert "WARNING" not in run.stderr, run.stderr[-2000:]


def test_offline_mode_asks_the_hub_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from tsfm.models.hub_access import hub_access

    with hub_access() as unreachable:
        from huggingface_hub import constants

        assert unreachable is None and constants.HF_HUB_OFFLINE


class _RunsCode:
    def __reduce__(self):
        return (print, ("code ran",))


def test_a_pickled_backbone_with_code_is_refused_in_tsfm_words(tmp_path):
    import pickle
    import shutil

    import torch
    from safetensors.torch import load_file

    from tests.helpers.backbones import tiny_backbone_dir
    from tsfm.models.s2ip_llm.language_backbones import load_language_backbone

    source, folder = Path(tiny_backbone_dir("gpt2")), tmp_path / "pickled"
    folder.mkdir()
    shutil.copy(source / "config.json", folder)
    weights = {**load_file(source / "model.safetensors"), "extra": _RunsCode()}
    torch.save(weights, folder / "pytorch_model.bin")
    with pytest.raises(ValueError, match="never runs code from files") as refused:
        load_language_backbone(str(folder), n_layers=1)
    message = str(refused.value)
    assert "more than plain tensors" in message and "safetensors.torch.save_file" in message
    assert "weights_only=False" in message and "If you trust the file" in message
    assert "it refers to" in message  # what weights-only loading refused, named
    # the original is kept but not shown: torch's advice to load it fully is not repeated
    assert isinstance(refused.value.__context__, pickle.UnpicklingError)
    assert refused.value.__suppress_context__
