"""Issue 16, items 2, 3, 9 and 10 (saved files): ``Forecaster.load`` accepts what ``save``
writes and nothing else: no override pointing a refit at files or URLs, no YAML alias bomb,
no model larger than its weights, no broken or non-finite file."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
import torch

import tsfm.training.memory as memory
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.payload import serve, write_payload
from tsfm import Forecaster
from tsfm.training.checkpoints import load_checkpoint


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return tiny().fit(synthetic_frame(240, 3)).save(tmp_path_factory.mktemp("saved") / "model")


@pytest.fixture
def copy(saved, tmp_path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "model"))


def edit_meta(path: Path, change) -> None:
    meta = json.loads((path / "forecaster.json").read_text())
    change(meta)
    (path / "forecaster.json").write_text(json.dumps(meta))


def test_an_injected_checkpoint_override_is_refused_at_load_and_never_fetched(copy, tmp_path):
    marker = tmp_path / "payload-ran"
    write_payload(tmp_path / "evil.ckpt", marker)
    with serve(tmp_path) as (base, requests):
        for override in (f"ckpt_path={base}/evil.ckpt", f"ckpt_path={tmp_path / 'evil.ckpt'}"):
            edit_meta(copy, lambda m, o=override: m["params"].update(overrides=[o]))
            with pytest.raises(ValueError, match="sets ckpt_path, which points a run at files"):
                Forecaster.load(copy)
        # the same override given in Python is refused where it is given, still unfetched
        with pytest.raises(ValueError, match="sets ckpt_path, which continues a command-line"):
            tiny(overrides=[f"ckpt_path={base}/evil.ckpt"])
    assert requests == [] and not marker.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["params"].update(overrides=["hydra.searchpath=[file:///tmp]"]), "hydra"),
        (lambda m: m["params"].update(overrides=["data.root=/elsewhere"]), "sets data.root"),
        (lambda m: m["params"].update(data__path="/tmp/other.csv"), "data.path"),
        (lambda m: m["params"].update(d_modle=8), "unknown parameter 'd_modle'"),
        (lambda m: m["params"].update(horizon="8"), "horizon='8' is not int"),
        (lambda m: m["params"].update(horizon=0), "horizon=0 is not a positive"),
        (lambda m: m["params"].update(horizon=True), "horizon=True is not int"),
        (lambda m: m["params"].update(verbose=3), "verbose=3 is not 0, 1 or 2"),
        (lambda m: m["params"].update(verbose="1"), "verbose='1' is not 0, 1 or 2"),
        (lambda m: m["params"].update(warm_start="yes"), "warm_start='yes' is not True or False"),
        (lambda m: m["params"].update(experiment="../../etc/x"), "not a preset"),
        (lambda m: m["params"].update(model="per_index"), "not a registered tsfm model"),
        (lambda m: m["params"].update(max_epochs={"_target_": "os.system"}), "plain setting"),
        (lambda m: m["layout"].update(id_dtype="read_csv"), "not a polars data type"),
        (lambda m: m["layout"].update(id_dtype={"name": "Enum", "categories": [{}]}), "id_dtype"),
        (
            lambda m: m["layout"].update(pandas_types={"time": {"name": "eval", "x": "1"}}),
            "layout.pandas_types.time: .* does not describe a pandas type",
        ),
        (
            lambda m: m["layout"].update(pandas_types={"other": {"name": "int64"}}),
            "describe the id and time columns only",
        ),
        (lambda m: m["layout"].update(extra=1), "'layout' must hold exactly"),
        (lambda m: m.update(dims={**m["dims"], "seq_len": 999}), "seq_len differs"),
        (lambda m: m.update(columns=["a", "a", "b"]), "distinct names"),
        (lambda m: m.update(columns=["A", "B", "C"]), r"must be the roles' targets \['v0'"),
        (lambda m: m.update(columns=["OT"]), "must be the roles' targets"),
        (lambda m: m.update(input_columns=["OT", "v1", "v0"]), "must be the roles' targets"),
        (lambda m: m.update(freq="fortnight"), "not a pandas frequency"),
        (lambda m: m.update(shell="rm -rf /"), r"unknown \['shell'\]"),
    ],
)
def test_every_field_of_forecaster_json_is_checked(copy, change, message):
    edit_meta(copy, change)
    with pytest.raises(ValueError, match=message):
        Forecaster.load(copy)


@pytest.mark.parametrize("text", ["[1, 2]", "null", '"forecaster"'])
def test_a_forecaster_json_that_is_no_object_is_refused_naming_it(copy, text):
    (copy / "forecaster.json").write_text(text)
    with pytest.raises(ValueError, match=r"forecaster.json holds \w+, not the object save"):
        Forecaster.load(copy)


def test_a_yaml_alias_bomb_is_refused_before_it_expands(copy):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    (copy / "config.yaml").write_text("\n".join(lines) + "\n")  # 9**9 strings when expanded
    assert (copy / "config.yaml").stat().st_size < 3000
    start = time.perf_counter()
    with pytest.raises(ValueError, match="uses YAML anchors or aliases"):
        Forecaster.load(copy)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize(
    "tagged",
    ["!!python/object/apply:os.system ['touch {marker}']", "!!python/name:os.system ''"],
)
def test_a_yaml_tag_in_config_yaml_is_refused_naming_the_file(copy, tmp_path, tagged):
    marker = tmp_path / "ran"
    with (copy / "config.yaml").open("a") as file:
        file.write(f"\nx: {tagged.format(marker=marker)}\n")
    with pytest.raises(ValueError, match=r"config.yaml: uses the YAML tag 'tag:yaml.org,2002:py"):
        Forecaster.load(copy)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (None, FileNotFoundError, r"scaler.json'\] missing"),
        ("{not json", ValueError, "scaler.json: is not valid JSON"),
        ('{"mean": [NaN, 1, 2], "std": [1, 1, 1]}', ValueError, "non-standard JSON number NaN"),
        ('{"mean": [0, 1], "std": [1, 1]}', ValueError, "one number per variate"),
        ('{"mean": [0, 1, 2], "std": [1, 0, 1]}', ValueError, "not positive"),
        ('{"mean": [true, false, true], "std": [1, 1, 1]}', ValueError, "not a finite number"),
    ],
)
def test_a_missing_or_broken_scaler_json_is_named(copy, text, error, message):
    if text is None:
        (copy / "scaler.json").unlink()
    else:
        (copy / "scaler.json").write_text(text)
    with pytest.raises(error, match=message):
        Forecaster.load(copy)


def test_broken_or_non_finite_weights_are_refused_naming_the_file(copy):
    weights = copy / "weights.pt"
    state = load_checkpoint(weights)
    weights.write_bytes(b"")
    with pytest.raises(ValueError, match=r"weights.pt is not a readable torch checkpoint"):
        Forecaster.load(copy)
    name = next(iter(state))
    state[name] = state[name].clone().fill_(float("nan"))
    torch.save(state, weights)
    with pytest.raises(ValueError, match=rf"tensor '{name}' holds \d+ NaN or infinite"):
        Forecaster.load(copy)


def test_a_config_whose_model_is_not_its_weights_is_refused_before_it_is_built(copy):
    config = copy / "config.yaml"
    config.write_text(config.read_text().replace("d_model: 16", "d_model: 65536"))
    start = time.perf_counter()
    with pytest.raises(ValueError, match="does not match config.yaml: the config's model has"):
        Forecaster.load(copy)
    assert time.perf_counter() - start < 30


def test_a_model_too_large_to_load_is_refused_unless_told_otherwise(copy, monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda _: (1024, "available memory"))
    with pytest.raises(MemoryError, match=r"check_memory=False"):
        Forecaster.load(copy)
    assert len(Forecaster.load(copy, check_memory=False).predict()) == 8


def test_a_nan_forecast_is_never_returned(saved):
    est = Forecaster.load(saved)
    with torch.no_grad():
        next(est.module_.parameters()).fill_(float("nan"))
    with pytest.raises(RuntimeError, match="forecast holds .* NaN or infinite"):
        est.predict()


def test_history_times_out_of_order_are_refused(copy):
    history = load_checkpoint(copy / "history.pt")
    torch.save({**history, "times": history["times"].flip(0)}, copy / "history.pt")
    with pytest.raises(ValueError, match=r"history.pt: 'times' are not increasing"):
        Forecaster.load(copy)


def test_an_interpolation_in_a_saved_config_is_refused(copy, monkeypatch):
    monkeypatch.setenv("TSFM_TEST_BATCH", "7")
    text = (copy / "config.yaml").read_text()
    edited = re.sub(
        r"(?m)^  eval_batch_size: .*$", "  eval_batch_size: ${oc.env:TSFM_TEST_BATCH}", text
    )
    assert edited != text
    (copy / "config.yaml").write_text(edited)
    with pytest.raises(ValueError, match=r"config.yaml: holds interpolations \(data.eval_batch"):
        Forecaster.load(copy)


def test_parameters_that_disagree_with_the_saved_config_are_refused(tmp_path):
    from tests.helpers.estimator import tiny

    saved = tiny(d_model=16).fit(synthetic_frame(200)).save(tmp_path / "m")
    meta = json.loads((saved / "forecaster.json").read_text())
    for name, value in (("d_model", 64), ("mode", "independent")):
        edited = {**meta, "params": {**meta["params"], name: value}}
        (saved / "forecaster.json").write_text(json.dumps(edited))
        with pytest.raises(ValueError, match=rf"has {name}=.* the files of this save"):
            Forecaster.load(saved)
