"""``lightning.Trainer`` built from a run's ``trainer.<name>`` settings: a setting Lightning
refuses while building the Trainer (``trainer.devices=0``, ``trainer.max_epochs=-5``,
``trainer.strategy=nonsense``) is the user's input, refused as an :class:`InputError` that
names it (the command line then prints the message, not a stack of Lightning's frames)."""

from __future__ import annotations

import re
from typing import Any

import lightning as L
from lightning.fabric.utilities.exceptions import MisconfigurationException

from tsfm.errors import InputError

REFUSALS = (MisconfigurationException, ValueError, TypeError)  # what Lightning raises there


def make_trainer(trainer_args: dict[str, Any], **fixed: Any) -> L.Trainer:
    """``L.Trainer(**fixed, **trainer_args)``; a refusal whose message names one of
    ``trainer_args`` (tsfm's own arguments, ``fixed``, are not the user's) becomes an
    :class:`InputError` naming those settings; any other error passes unchanged."""
    try:
        return L.Trainer(**fixed, **trainer_args)
    except REFUSALS as error:
        named = named_settings(str(error), list(trainer_args))
        if not named:
            raise
        settings = ", ".join(f"trainer.{name}={trainer_args[name]!r}" for name in named)
        raise InputError(
            f"{settings}: lightning.Trainer refuses {'this' if len(named) == 1 else 'these'}: "
            f"{str(error).rstrip('. ')}. Set {'it' if len(named) == 1 else 'them'} to a value "
            "Lightning takes"
        ) from error


def named_settings(message: str, names: list[str]) -> list[str]:
    """The ``names`` a Lightning message is about: those it writes as code (``devices=0``,
    `` `max_epochs` ``) when there are any, else every one it mentions as a word."""
    code = [n for n in names if re.search(rf"`{re.escape(n)}`|(?<![\w.]){re.escape(n)}=", message)]
    if code:
        return code
    words = [(n, rf"(?<![\w.]){re.escape(n)}(?!\w)") for n in names]
    return [n for n, word in words if re.search(word, message, flags=re.IGNORECASE)]
