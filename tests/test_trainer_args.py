"""The ``trainer`` schema's arguments, read from Lightning's source without importing it
(:mod:`tsfm.trainer_args`), are those of ``lightning.Trainer``'s signature; a source that
does not state them plainly is not read (the imported class is asked instead)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsfm.trainer_args import (
    arguments_in_source,
    arguments_of_signature,
    trainer_arguments,
    trainer_source,
)


def test_the_trainer_arguments_read_from_source_are_those_of_the_signature():
    from_source = arguments_in_source(trainer_source())
    assert from_source is not None  # the installed Lightning states them plainly
    assert from_source == arguments_of_signature()
    names = [name for name, _ in from_source]
    assert "max_epochs" in names and "callbacks" not in names and "logger" not in names
    assert dict(from_source)["accelerator"] == "auto" and dict(from_source)["max_steps"] == -1
    assert trainer_arguments() == from_source


@pytest.mark.parametrize(
    "source",
    [
        "class Trainer:\n    def __init__(self, *, max_time=float('inf')): ...\n",
        "class Trainer:\n    @wrapped\n    def __init__(self, *, max_epochs=None): ...\n",
        "class Trainer:\n    def __init__(self, *args, max_epochs=None): ...\n",
        "class Other:\n    def __init__(self, *, max_epochs=None): ...\n",
        "class Trainer(\n",
    ],
    ids=["computed default", "other decorator", "*args", "no Trainer", "not Python"],
)
def test_a_source_that_does_not_state_the_arguments_plainly_is_not_read(source, tmp_path):
    path = tmp_path / "trainer.py"
    path.write_text(source)
    assert arguments_in_source(path) is None  # the imported class is asked instead
    assert arguments_in_source(tmp_path / "missing.py") is None
    assert arguments_in_source(None) is None


def test_a_plain_source_gives_names_and_plain_defaults(tmp_path):
    path = tmp_path / "trainer.py"
    path.write_text(
        "class Trainer:\n"
        "    @_defaults_from_env_vars\n"
        "    def __init__(self, devices='auto', *, callbacks=None, max_steps: int = -1,\n"
        "                 plugins=(), limit: float = 1.0, strategy: Strategy = 'auto',\n"
        "                 required, **kwargs) -> None: ...\n"
    )
    assert arguments_in_source(Path(path)) == [
        ("devices", "auto"),
        ("max_steps", -1),
        ("plugins", None),  # not a plain value: the schema's default is None, as before
        ("limit", 1.0),
        ("strategy", "auto"),
        ("required", None),
    ]
