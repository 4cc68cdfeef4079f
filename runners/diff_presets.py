"""Prove that every experiment preset resolves to the same run config as at a git ref.

For each user-facing preset (the top-level ``conf/experiment/*.yaml``; subfolders such as
``conf/experiment/base/`` hold shared bases, not presets) this composes the run config as
``python -m tsfm.run experiment=<name>`` would, once with the ``conf/`` and ``tsfm/`` of
``--ref`` (extracted with ``git archive``, composed in a subprocess so that the ref's own
schemas check its YAML) and once with the working tree's, resolves both and compares them
key by key.

Run from the repository root::

    PYTHONPATH=$PWD python runners/diff_presets.py [--ref HEAD]
    PYTHONPATH=$PWD python runners/diff_presets.py --rename model.e_layers=model.n_layers

``--rename old.key=new.key`` (repeatable) renames a key (and its subkeys) on the old side
before comparing, so a change that renames config fields can still show that nothing else
changed. Exit status 1 if any preset differs or the two sides hold different preset names.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ABSENT = "<absent>"
Flat = dict[str, Any]


def resolved_presets(conf_dir: Path) -> dict[str, Flat]:
    """Every preset's run config, resolved, without ``hydra``, flattened to dotted keys."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from tsfm.config import register_configs

    register_configs()
    out = {}
    with initialize_config_dir(config_dir=str(conf_dir.resolve()), version_base="1.3"):
        for path in sorted((conf_dir / "experiment").glob("*.yaml")):
            cfg = compose(config_name="config", overrides=[f"experiment={path.stem}"])
            container = OmegaConf.to_container(cfg, resolve=True)
            assert isinstance(container, dict)
            container.pop("hydra", None)
            out[path.stem] = flatten(container)
    return out


def flatten(node: dict[str, Any], prefix: str = "") -> Flat:
    flat: Flat = {}
    for key, value in node.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def presets_at(ref: str) -> dict[str, Flat]:
    """The presets of ``ref``, composed by ``ref``'s own ``tsfm`` in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", ref, "conf", "tsfm"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": tmp}
        cmd = [sys.executable, __file__, "--dump", str(Path(tmp) / "conf")]
        dump = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp)
    if dump.returncode:
        sys.exit(f"composing the presets of {ref} failed:\n{dump.stderr[-3000:]}")
    return json.loads(dump.stdout)


def rename(flat: Flat, renames: list[tuple[str, str]]) -> tuple[Flat, set[tuple[str, str]]]:
    """``flat`` with the renames applied (subkeys move too), and the renames that matched."""
    used = set()
    for old, new in renames:
        for key in [k for k in flat if k == old or k.startswith(old + ".")]:
            target = new + key[len(old) :]
            if target in flat:
                sys.exit(f"--rename {old}={new}: {target} is already a key of the old config")
            flat[target] = flat.pop(key)
            used.add((old, new))
    return flat, used


def differences(old: Flat, new: Flat) -> list[str]:
    """``key: old -> new`` for every key whose value or type differs."""
    diffs = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key, ABSENT), new.get(key, ABSENT)
        if a != b or type(a) is not type(b):
            diffs.append(f"{key}: {a!r} -> {b!r}")
    return diffs


def parse_rename(text: str) -> tuple[str, str]:
    old, sep, new = text.partition("=")
    if not (sep and old and new):
        raise argparse.ArgumentTypeError(f"expected old.key=new.key, got {text!r}")
    return old, new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="git ref to compare with (HEAD)")
    parser.add_argument(
        "--rename", type=parse_rename, action="append", default=[], metavar="OLD=NEW",
        help="rename a key on the old side before comparing (repeatable)",
    )  # fmt: skip
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # the subprocess's mode
    args = parser.parse_args(argv)
    if args.dump:
        json.dump(resolved_presets(args.dump), sys.stdout)
        return 0
    sys.path.insert(0, str(REPO))  # the work tree's tsfm composes the work tree's conf/
    old_cfgs, new_cfgs = presets_at(args.ref), resolved_presets(REPO / "conf")
    n_diff, used = 0, set()
    for name in sorted(old_cfgs.keys() & new_cfgs.keys()):
        old, matched = rename(old_cfgs[name], args.rename)
        used |= matched
        diffs = differences(old, new_cfgs[name])
        n_diff += bool(diffs)
        print(f"{name}: " + ("DIFFERENT\n    " + "\n    ".join(diffs) if diffs else "same"))
    only_old = sorted(old_cfgs.keys() - new_cfgs.keys())
    only_new = sorted(new_cfgs.keys() - old_cfgs.keys())
    for where, names in ((f"only in {args.ref}", only_old), ("only in the work tree", only_new)):
        if names:
            print(f"{where}: {', '.join(names)}")
    for old_key, new_key in sorted(set(args.rename) - used):
        print(f"warning: --rename {old_key}={new_key} matched no key of any preset")
    n_same = len(old_cfgs.keys() & new_cfgs.keys()) - n_diff
    print(
        f"{n_same} same, {n_diff} different, {len(only_old)} only in {args.ref}, "
        f"{len(only_new)} only in the work tree"
    )
    return 1 if n_diff or only_old or only_new else 0


if __name__ == "__main__":
    sys.exit(main())
