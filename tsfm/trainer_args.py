"""The arguments of ``lightning.Trainer`` a run config's ``trainer`` section may set.

Read from the installed Lightning's source (``lightning/pytorch/trainer/trainer.py``) instead
of its imported class where the source states them plainly: importing Lightning takes
seconds (torchmetrics, torchvision, transformers and matplotlib come with it), and
``Forecaster.load`` checks a saved config against this schema without ever building a
Trainer. Where the source is missing or states anything else (a default that is not a
literal, another decorator, ``*args``), the signature of the imported class is read, as it
is whenever Lightning is already imported; a test checks both ways agree.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

MANAGED_TRAINER_ARGS = ("callbacks", "logger", "default_root_dir", "self")
PLAIN = (int, float, str, bool, type(None))
SIGNATURE_DECORATORS = ("_defaults_from_env_vars",)  # wrap __init__ keeping its signature

Arguments = list[tuple[str, Any]]  # (name, default: None where not a plain value)


def trainer_arguments() -> Arguments:
    """Each ``lightning.Trainer`` argument but those tsfm sets itself, in the signature's
    order, with its default where that is a plain value (a number, text, bool; else None)."""
    if "lightning" not in sys.modules:
        found = arguments_in_source(trainer_source())
        if found is not None:
            return found
    return arguments_of_signature()


def arguments_of_signature() -> Arguments:
    """:func:`trainer_arguments` from the imported ``lightning.Trainer``."""
    import lightning as L

    found = []
    for p in inspect.signature(L.Trainer.__init__).parameters.values():
        if p.name in MANAGED_TRAINER_ARGS or p.kind is p.VAR_KEYWORD:
            continue
        found.append((p.name, p.default if isinstance(p.default, PLAIN) else None))
    return found


def trainer_source() -> Path | None:
    """Where the installed Lightning defines its Trainer (found without importing it)."""
    try:
        spec = importlib.util.find_spec("lightning")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent / "pytorch" / "trainer" / "trainer.py"


def arguments_in_source(path: Path | None) -> Arguments | None:
    """:func:`trainer_arguments` as ``Trainer.__init__`` in the file ``path`` states them;
    None unless every one is stated plainly (then the imported class must be asked)."""
    try:
        tree = ast.parse(path.read_text()) if path is not None else None
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None
    init = _trainer_init(tree) if tree is not None else None
    if init is None or init.args.vararg is not None:
        return None
    if any(ast.unparse(d) not in SIGNATURE_DECORATORS for d in init.decorator_list):
        return None
    args = init.args
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    found = []
    for arg, default in [
        *zip(positional, defaults, strict=True),
        *zip(args.kwonlyargs, args.kw_defaults, strict=True),
    ]:
        if arg.arg in MANAGED_TRAINER_ARGS:
            continue
        try:
            value = None if default is None else ast.literal_eval(default)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None  # computed by Lightning: only the imported class knows it
        found.append((arg.arg, value if isinstance(value, PLAIN) else None))
    return found


def _trainer_init(tree: ast.Module) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Trainer":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    return item
    return None
