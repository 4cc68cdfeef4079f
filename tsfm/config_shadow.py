"""Before Hydra starts: a primary config that ``--config-dir`` offers but tsfm's own shadows.

Hydra puts a ``--config-dir`` folder on the search path after the primary config folder (tsfm's
``conf/``), so ``--config-dir runs/a --config-name config`` composes tsfm's own
``conf/config.yaml``, not ``runs/a/config.yaml``, and runs the defaults without a word.
``--config-dir`` adds presets (``experiment=``, ``model=``, ...) beside tsfm's; a primary
config of one's own is given with ``--config-path``, and a run is repeated from the config
Hydra recorded in it: ``--config-path <run>/.hydra --config-name config``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def shadowed_config_error(argv: Sequence[str]) -> str | None:
    """Why the command line ``argv`` is refused: ``--config-name NAME`` with ``--config-dir
    DIR`` (and no ``--config-path``) where both ``DIR`` and tsfm's ``conf/`` hold
    ``NAME.yaml`` (Hydra would compose tsfm's); None otherwise."""
    from tsfm.cli_errors import hydra_args
    from tsfm.config import CONF_DIR

    args = hydra_args(argv)
    if args is None or args.config_dir is None or args.config_name is None:
        return None
    if args.config_path is not None:  # the user's own primary folder comes first
        return None
    name = args.config_name.removesuffix(".yaml")
    folder = Path(os.path.abspath(args.config_dir))
    theirs, ours = folder / f"{name}.yaml", Path(CONF_DIR) / f"{name}.yaml"
    if not (theirs.is_file() and ours.is_file()) or theirs.samefile(ours):
        return None
    run = folder / ".hydra" / f"{name}.yaml"
    rerun = (
        f"; to repeat the run in {folder}, give the config Hydra recorded there: --config-path "
        f"{folder / '.hydra'} --config-name {name}"
        if run.is_file()
        else ""
    )
    return (
        f"--config-dir {args.config_dir} --config-name {args.config_name}: Hydra searches "
        f"tsfm's own configs before --config-dir, so it would run tsfm's {ours}, not {theirs}. "
        f"--config-dir adds presets (experiment=..., model=...) beside tsfm's; to run {theirs} "
        f"as the primary config use --config-path {folder} --config-name {name}{rerun}"
    )
