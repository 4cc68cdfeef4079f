"""Every Python block of the README runs as written: it defines every name it uses, or its
first line says which earlier block it continues (``# continues the first block under
"<heading>"``), and, with the shared data at hand, the blocks run in order at tiny sizes."""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import pytest

from tests.helpers.data import REPO, SHARED_DATA, needs_shared

README = REPO / "README.md"
CONTINUES = re.compile(r'^# continues the first block under "([^"]+)"')


def blocks() -> list[tuple[int, str, str]]:
    """``(line, section heading, source)`` of each Python block, in order."""
    found, heading, lines = [], "", README.read_text().splitlines()
    start = None
    for number, line in enumerate(lines, 1):
        if start is None and line.startswith("#") and not line.startswith("#!"):
            heading = line.lstrip("#").strip().replace("`", "")
        if line.strip() == "```python":
            start = number
        elif start is not None and line.strip() == "```":
            found.append((start, heading, "\n".join(lines[start : number - 1]) + "\n"))
            start = None
    return found


def defined_and_used(source: str) -> tuple[set[str], set[str]]:
    """The names a block binds (assignments, imports, functions and their arguments) and the
    names it reads."""
    defined, used = set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    return defined, used


def continued(index: int) -> int | None:
    """The earlier block that block ``index`` continues (its first line names the section),
    else None."""
    _, _, source = blocks()[index]
    match = CONTINUES.match(source)
    if match is None:
        return None
    earlier = [i for i, (_, heading, _) in enumerate(blocks()[:index]) if heading == match[1]]
    assert earlier, f"no Python block under the heading {match[1]!r} before this one"
    return earlier[0]


def names_in_scope(index: int) -> set[str]:
    own, _ = defined_and_used(blocks()[index][2])
    before = continued(index)
    return own | (set() if before is None else names_in_scope(before))


@pytest.mark.parametrize("index", range(len(blocks())), ids=lambda i: f"line{blocks()[i][0]}")
def test_every_block_defines_the_names_it_uses_or_continues_a_named_one(index):
    line, _, source = blocks()[index]
    _, used = defined_and_used(source)
    missing = used - names_in_scope(index) - set(dir(builtins))
    assert not missing, f"README.md line {line}: the block uses {sorted(missing)} undefined"


def test_the_blocks_are_found():
    assert len(blocks()) >= 6 and continued(3) == 0  # the intervals block continues the first


TINY = {
    "max_epochs": 1,
    "d_model": 16,
    "d_ff": 16,
    "batch_size": 64,
    "verbose": 0,
    "trainer__limit_train_batches": 2,
    "trainer__limit_val_batches": 2,
}


@pytest.mark.slow
@needs_shared("extra/aus_production.csv", "extra/vic_elec.csv", "m4/Hourly-train.csv")
def test_the_blocks_run_in_order_at_tiny_sizes(tmp_path, monkeypatch):
    """Each block as written but for its sizes (every ``Forecaster(...)`` trains one epoch of
    two batches of a 16-wide model) and the ``from_run`` directory (a tiny run made here),
    from a folder laid out as the README's commands expect (``datasets/``, ``../shared/data``)."""
    import warnings

    from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
    from tsfm import Forecaster
    from tsfm.config import compose_config
    from tsfm.run import run

    work = tmp_path / "repo"
    work.mkdir()
    (work / "datasets").symlink_to(REPO / "datasets")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(Path(SHARED_DATA).resolve())
    run_dir = tmp_path / "cli_run"
    run(compose_config(*TINY_ITRANSFORMER, *TINY_RUN), run_dir)
    monkeypatch.chdir(work)
    warnings.simplefilter("ignore")  # inside pytest's per-test warnings context

    def tiny(*args, **params):
        return Forecaster(*args, **{**params, **TINY})

    scopes: list[dict] = []
    for index, (line, _, source) in enumerate(blocks()):
        source = re.sub(r"(?<![.\w])Forecaster\(", "_tiny(", source)
        source = re.sub(r'from_run\("[^"]*"\)', f'from_run("{run_dir}")', source)
        before = continued(index)
        scope = dict(scopes[before]) if before is not None else {}
        scope["_tiny"] = tiny
        try:
            exec(compile(source, f"README.md:{line}", "exec"), scope)
        except Exception as error:
            raise AssertionError(
                f"README.md line {line}: {type(error).__name__}: {error}"
            ) from error
        scopes.append(scope)
    assert len(scopes[0]["forecasts"]) == 4 * 96 * 7  # 4 folds of 96 steps of 7 variates
    assert len(scopes[2]["future"]) == 48 and len(scopes[7]["actuals"]) == 414 * 48
    assert len(scopes[4]["paths"]) == 1000 * 24 * 7  # 1000 paths of 24 steps of 7 variates
    assert len(scopes[5]["paths"]) == 500 * 7 * 3  # 500 paths of 7 steps of 3 panel series
