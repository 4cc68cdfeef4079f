"""Configs never make Hydra run code: ``hydra.*`` settings that name code or a file outside
the run (callbacks, logging handlers, launchers, the job's environment), search paths that
import a package, and Hydra's pickle rerun are refused before Hydra starts, with status 2,
naming the key and where it was set; Hydra's legitimate settings keep working.

These call the command line's pre-Hydra step in-process; ``test_hydra_settings_cli.py`` runs
the commands."""

from __future__ import annotations

import pytest

from tests.helpers.hydra_payloads import (
    callback_overrides,
    callback_preset,
    logging_overrides,
    logging_preset,
    rerun_pickle,
)
from tsfm.cli_errors import INPUT_ERROR_STATUS, refuse_unknown_keys_first

REFUSED = "tsfm never runs code named in a config"


@pytest.fixture(params=["run", "tune"])
def app(request):
    """The Hydra app of ``python -m tsfm.run`` or ``python -m tsfm.tune``."""
    if request.param == "run":
        from tsfm.run import main
    else:
        from tsfm.tune import main
    return main


def refused(argv, capsys, app=None) -> str:
    """The message the pre-Hydra step ends ``argv`` with (status 2)."""
    with pytest.raises(SystemExit) as ended:
        refuse_unknown_keys_first(argv, app=app)
    assert ended.value.code == INPUT_ERROR_STATUS
    return capsys.readouterr().err


@pytest.mark.parametrize("reach", ["--config-dir", "hydra.searchpath", "-cd"])
@pytest.mark.parametrize("attack", ["callbacks", "job_logging"])
def test_a_preset_naming_code_is_refused_naming_the_key_and_its_file(
    tmp_path, capsys, app, reach, attack
):
    marker = tmp_path / "pwned"
    folder = tmp_path / "shared"
    if attack == "callbacks":
        preset, key = callback_preset(folder, marker), "hydra.callbacks.site"
    else:
        preset, key = logging_preset(folder, marker), "hydra.job_logging.handlers.rc"
    where = [f"hydra.searchpath=[file://{folder}]"] if reach == "hydra.searchpath" else []
    where = where or [reach, str(folder)]
    message = refused([*where, f"experiment={preset.stem}"], capsys, app)
    assert message.startswith(f"InputError: {key} (set in {preset}): "), message
    assert REFUSED in message and f"remove it from {preset}" in message
    assert not marker.exists()


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (lambda t: callback_overrides(t / "pth", t / "pwned"), "hydra.callbacks.x"),
        (lambda t: logging_overrides(t / "pwned"), "hydra.job_logging.handlers.rc"),
        (lambda t: [f"hydra.job_logging.handlers.file.filename={t}/pwned"],
         "hydra.job_logging.handlers.file.filename"),
        (lambda t: ["hydra.job_logging.handlers.console.stream=ext://evil.stream"],
         "hydra.job_logging.handlers.console.stream"),
        (lambda t: ["hydra.hydra_logging.handlers.console.class=logging.FileHandler"],
         "hydra.hydra_logging.handlers.console.class"),
        (lambda t: ["+hydra.job_logging.formatters.simple.class=evil.Formatter"],
         "hydra.job_logging.formatters.simple.class"),
        (lambda t: ["hydra.launcher._target_=os.system"], "hydra.launcher._target_"),
        (lambda t: ["hydra.sweeper._target_=os.system"], "hydra.sweeper._target_"),
        (lambda t: [f"+hydra.job.env_set.LD_PRELOAD={t}/evil.so"], "hydra.job.env_set.LD_PRELOAD"),
        (lambda t: [f"+hydra.job.env_set.PYTHONPATH={t}"], "hydra.job.env_set.PYTHONPATH"),
        (lambda t: ["hydra.job.name=../../pwned"], "hydra.job.name"),
        (lambda t: [f"hydra.output_subdir={t}"], "hydra.output_subdir"),
        (lambda t: ["-m", "data=etth1,ettm1", *logging_overrides(t / "pwned")],
         "hydra.job_logging.handlers.rc"),
    ],
)  # fmt: skip
def test_a_command_line_override_naming_code_is_refused(tmp_path, capsys, app, overrides, key):
    argv = overrides(tmp_path)
    message = refused(argv, capsys, app)
    assert message.startswith(f"InputError: {key} (set on the command line: "), message
    assert REFUSED in message and "drop " in message
    assert not (tmp_path / "pwned").exists()


def test_a_hydra_group_config_from_a_user_folder_is_refused(tmp_path, capsys, app):
    logging = tmp_path / "hydra" / "job_logging"
    logging.mkdir(parents=True)
    (logging / "mine.yaml").write_text(
        f"version: 1\nhandlers:\n  x:\n    class: logging.FileHandler\n    filename: "
        f"{tmp_path / 'pwned'}\nroot:\n  handlers: [x]\n"
    )
    message = refused(["--config-dir", str(tmp_path), "hydra/job_logging=mine"], capsys, app)
    assert message.startswith(f"InputError: hydra/job_logging=mine ({logging / 'mine.yaml'}): ")
    assert "Hydra's own (default, disabled, none, stdout)" in message
    (tmp_path / "experiment").mkdir()  # chosen by a preset's defaults list instead
    (tmp_path / "experiment" / "quiet.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /hydra/job_logging: mine\n"
    )
    message = refused(["-cd", str(tmp_path), "experiment=quiet"], capsys, app)
    assert "hydra/job_logging=mine" in message and REFUSED in message


def test_every_job_of_a_multirun_is_checked(tmp_path, capsys, app):
    preset = callback_preset(tmp_path, tmp_path / "pwned")
    sweep = ["-m", "-cd", str(tmp_path), f"experiment=itransformer_etth1_96,{preset.stem}"]
    assert f"hydra.callbacks.site (set in {preset})" in refused(sweep, capsys, app)
    # a preset that makes the command a multirun, sweeping a data config that names code
    (tmp_path / "data").mkdir()
    data = tmp_path / "data" / "sneaky.yaml"
    data.write_text("# @package _global_\nhydra:\n  job:\n    env_set:\n      LD_PRELOAD: x.so\n")
    (tmp_path / "experiment" / "starter.yaml").write_text(
        "# @package _global_\nhydra:\n  mode: MULTIRUN\n  sweeper:\n    params:\n"
        "      data: etth1,sneaky\n"
    )
    message = refused(["-cd", str(tmp_path), "experiment=starter"], capsys, app)
    assert message.startswith(f"InputError: hydra.job.env_set.LD_PRELOAD (set in {data}): ")


@pytest.mark.parametrize(
    "argv",
    [
        lambda t: ["hydra.searchpath=[pkg://evilpkg]"],
        lambda t: ["hydra.searchpath=[file:///tmp,pkg://evilpkg.conf]"],
        lambda t: ["--config-path", "pkg://evilpkg"],
        lambda t: ["-cd", str(t / "primary"), "-cn", "mine"],  # the primary config's searchpath
    ],
)
def test_a_search_path_that_imports_a_package_is_refused_before_it_is_read(
    tmp_path, capsys, monkeypatch, app, argv
):
    package = tmp_path / "evilpkg"
    package.mkdir()
    (package / "__init__.py").write_text(f"open({str(tmp_path / 'pwned')!r}, 'w')\n")
    (tmp_path / "primary").mkdir()
    (tmp_path / "primary" / "mine.yaml").write_text(
        "defaults:\n  - config\n  - _self_\nhydra:\n  searchpath: [pkg://evilpkg]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))  # python -m puts the working folder there
    message = refused(argv(tmp_path), capsys, app)
    assert "'pkg://evilpkg" in message and "runs its code" in message, message
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("flag", ["--experimental-rerun", "--experimental-re"])
def test_hydras_pickle_rerun_is_refused(tmp_path, capsys, app, flag):
    saved = rerun_pickle(tmp_path / "run" / ".hydra" / "config.pickle", tmp_path / "pwned")
    message = refused([flag, str(saved)], capsys, app)
    assert message.startswith("InputError: --experimental-rerun: Hydra's rerun unpickles")
    assert "overrides.yaml" in message and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "argv",
    [
        lambda t: [f"hydra.run.dir={t}/run", "hydra.job.chdir=true", "hydra.verbose=true"],
        lambda t: ["-m", "data=etth1,ettm1", f"hydra.sweep.dir={t}/sweep", "hydra.sweep.subdir=a"],
        lambda t: ["hydra/job_logging=disabled", "hydra/hydra_logging=disabled"],
        lambda t: ["hydra/job_logging=none", "hydra/hydra_logging=none"],
        lambda t: ["hydra/job_logging=stdout", "hydra/hydra_logging=hydra_debug"],
        lambda t: ["hydra.job_logging.formatters.simple.format='%(asctime)s %(message)s'",
                   "hydra.job_logging.root.level=DEBUG", "hydra.job_logging.handlers.file.level=INFO",
                   "hydra.job_logging.handlers.console.stream=ext://sys.stderr"],
        lambda t: ["+hydra.job.env_set.CUDA_VISIBLE_DEVICES=0", "hydra.job.env_copy=[HOME]"],
        lambda t: ["hydra.output_subdir=null", "hydra.job.name=mine"],
        lambda t: ["hydra.searchpath=[file:///tmp]", "-cd", str(t)],
    ],
)  # fmt: skip
def test_hydras_own_settings_pass(tmp_path, app, argv):
    refuse_unknown_keys_first(argv(tmp_path), app=app)


def test_a_harmless_preset_from_a_user_folder_passes(tmp_path, app):
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "mine.yaml").write_text(
        "# @package _global_\ndefaults:\n  - /experiment/itransformer_etth1_96\n"
        "  - override /hydra/job_logging: disabled\n  - _self_\nmodel:\n  d_model: 8\n"
        "hydra:\n  job:\n    chdir: true\n  run:\n    dir: outputs/mine\n"
    )
    refuse_unknown_keys_first(["--config-dir", str(tmp_path), "experiment=mine"], app=app)
    searchpath = f"hydra.searchpath=[file://{tmp_path}]"
    refuse_unknown_keys_first([searchpath, "experiment=mine", "-m", "seed=1,2"], app=app)


def test_an_interpolation_standing_for_a_factory_is_refused(tmp_path, capsys, app):
    """The check reads the config unresolved: a logging formatter written as ``${...}``
    pointing at a ``()`` factory elsewhere in the config would be built by Hydra (here a
    file copy outside the run) unless the interpolation itself is refused."""
    folder, target = tmp_path / "shared" / "experiment", tmp_path / "pwned"
    folder.mkdir(parents=True)
    (tmp_path / "payload").write_text("echo payload\n")
    (folder / "colleague.yaml").write_text(
        "# @package _global_\n"
        f"tune:\n  params: {{'()': shutil.copyfile, src: {tmp_path}/payload, dst: {target}}}\n"
        "hydra:\n  job_logging:\n    formatters:\n      simple: ${tune.params}\n"
    )
    message = refused(["--config-dir", str(tmp_path / "shared"), "experiment=colleague"],
                      capsys, app)  # fmt: skip
    assert "hydra.job_logging.formatters.simple" in message and "interpolation" in message
    assert not target.exists()


def test_a_multirun_whose_run_dir_does_not_resolve_is_left_to_hydra(tmp_path, monkeypatch):
    """``hydra.run.dir`` is not read in a multirun: an interpolation there that does not
    resolve must not crash the check (Hydra runs the sweep)."""
    from tsfm.hydra_guard import code_in_configs_error

    monkeypatch.delenv("TSFM_UNSET_FOR_TEST", raising=False)
    argv = ["-m", "model.d_model=8,16", "hydra.run.dir=out/${oc.env:TSFM_UNSET_FOR_TEST}",
            f"hydra.sweep.dir={tmp_path}/sweep"]  # fmt: skip
    assert code_in_configs_error(argv) is None
