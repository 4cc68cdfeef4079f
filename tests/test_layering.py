"""Data flows one way: every tsfm module imports only the layers below it.

models   <- nothing else of tsfm (plain nn.Modules)
data     <- nothing else of tsfm (frames, splits, scaler, windows, data modules)
training <- data, models (the LightningModule, losses, metrics, run artifacts)
tuning   <- data, models, training, pipeline (never the estimator)
estimator, run.py, tune.py: the front doors, on top.

Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tsfm"
FRONT = ("tsfm.estimator", "tsfm.run", "tsfm.tune", "tsfm.report", "tsfm.forecast_file")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "tsfm.models": ("tsfm.data", "tsfm.training", "tsfm.tuning", "tsfm.pipeline", "tsfm.config")
    + FRONT,
    "tsfm.data": ("tsfm.models", "tsfm.training", "tsfm.tuning", "tsfm.pipeline", "tsfm.config")
    + FRONT,
    "tsfm.training": ("tsfm.tuning", "tsfm.pipeline", "tsfm.config", *FRONT),
    "tsfm.tuning": FRONT,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, package: str) -> set[str]:
    """Every module ``source`` imports (absolute, relative ones resolved from ``package``)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def violations(name: str, imports: set[str]) -> list[str]:
    for layer, forbidden in FORBIDDEN.items():
        if name == layer or name.startswith(layer + "."):
            return sorted(
                i for i in imports if any(i == f or i.startswith(f + ".") for f in forbidden)
            )
    return []


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_scanner_sees_imports_inside_functions_and_relative_ones():
    source = "def f():\n    from tsfm.data.batch import Batch\nfrom ...training import module\n"
    imports = imported_modules(source, "tsfm.models.sub")
    assert "tsfm.data.batch" in imports and "tsfm.training.module" in imports
    assert violations("tsfm.models.sub.thing", imports) == [
        "tsfm.data.batch",
        "tsfm.data.batch.Batch",
        "tsfm.training",
        "tsfm.training.module",
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_module_imports_a_layer_above_it(path):
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    bad = violations(name, imported_modules(path.read_text(), package))
    assert not bad, f"{name} imports {bad}, a layer above it (see this test's docstring)"
