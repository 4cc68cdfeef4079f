"""Column roles: which columns are forecast, which help, and when their values are known.

- **targets**: forecast and scored.
- **future covariates**: known over the look-back *and* the horizon (calendar, holidays,
  day-ahead load or weather forecasts, planned prices).
- **past covariates**: observed only up to the forecast origin (a model sees their look-back).
- **static covariates**: one value per series (numeric, or categorical: strings, booleans).

``features`` (the papers' M / S / MS) is a shorthand over roles: ``M`` makes every column not
given another role a target; ``S`` keeps only the target (and the covariates named
explicitly); ``MS`` makes the target the only target and every other column a past covariate,
which is what the official code's MS does (all variates in, the target scored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tsfm.errors import InputError

FEATURE_MODES = ("M", "S", "MS")
CLI_NAMES = {
    "targets": "data.targets",
    "target": "data.target",
    "future": "data.future_covariates",
    "past": "data.past_covariates",
    "static": "data.static_covariates",
    "features": "data.features",
}
PYTHON_NAMES = {
    "targets": "targets",
    "target": "target",
    "future": "future_covariates",
    "past": "past_covariates",
    "static": "static_covariates",
    "features": "data__features",
}


@dataclass(frozen=True)
class ColumnRoles:
    """The columns of each role, in the order the model sees them."""

    targets: tuple[str, ...]
    past: tuple[str, ...] = ()
    future: tuple[str, ...] = ()
    static: tuple[str, ...] = ()

    @property
    def time_varying(self) -> tuple[str, ...]:
        """Targets, then past, then future covariates: the columns of a table's values."""
        return (*self.targets, *self.past, *self.future)

    @property
    def has_covariates(self) -> bool:
        return bool(self.past or self.future or self.static)

    def to_dict(self) -> dict[str, list[str]]:
        return {k: list(getattr(self, k)) for k in ("targets", "past", "future", "static")}


def _listed(value: Sequence[str] | str | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def resolve_roles(
    columns: Sequence[str],
    *,
    features: str = "M",
    target: str | None = None,
    targets: Sequence[str] | None = None,
    future: Sequence[str] | None = None,
    past: Sequence[str] | None = None,
    static: Sequence[str] | None = None,
    static_columns: Sequence[str] = (),
    names: dict[str, str] = CLI_NAMES,
) -> ColumnRoles:
    """The roles of ``columns`` (the time-varying columns available) and ``static_columns``
    (the columns of a static frame, if any), or a ValueError naming the setting to fix."""
    if features not in FEATURE_MODES:
        raise InputError(f"{names['features']} must be one of {FEATURE_MODES}, got '{features}'")
    columns = [str(c) for c in columns]
    given = {
        "targets": _listed(targets),
        "future": _listed(future),
        "past": _listed(past),
        "static": _listed(static),
    }
    for role, listed in given.items():
        pool = static_columns if role == "static" else columns
        unknown = [c for c in listed if c not in pool]
        if unknown:
            where = "the static frame" if role == "static" else "the data"
            raise InputError(
                f"{names[role]} names {unknown}, which {where} does not have; its columns are "
                f"{list(pool)}"
            )
        if len(set(listed)) != len(listed):
            raise InputError(f"{names[role]} lists a column twice: {listed}")
    seen: dict[str, str] = {}
    for role, listed in given.items():
        for column in listed:
            if column in seen:
                raise InputError(
                    f"column '{column}' is in both {names[seen[column]]} and {names[role]}; "
                    "give each column one role"
                )
            seen[column] = role
    if given["targets"] and target is not None and target not in given["targets"]:
        raise InputError(
            f"{names['target']}='{target}' is not one of {names['targets']} {given['targets']}"
        )
    free = [c for c in columns if c not in seen]
    if target is not None and seen.get(target, "targets") != "targets":
        raise InputError(
            f"the target '{target}' ({names['target']}) cannot also be a covariate "
            f"({names[seen[target]]}): give it one role"
        )
    if features == "M":
        chosen = given["targets"] or free
        past_extra: list[str] = []
    else:
        if given["targets"] and len(given["targets"]) > 1:
            raise InputError(
                f"{names['features']}={features} forecasts one target, but {names['targets']} "
                f"lists {given['targets']}; use {names['features']}=M for several"
            )
        main = target or (given["targets"][0] if given["targets"] else None)
        main = main or (free[-1] if free else None)
        if main is None or main not in columns:
            raise InputError(f"{names['features']}={features} needs a target column")
        if seen.get(main, "targets") != "targets":  # the last free column never is one
            raise InputError(f"the target '{main}' cannot also be a covariate")
        chosen = [main]
        past_extra = [c for c in free if c != main] if features == "MS" else []
    if not chosen:
        raise InputError(
            f"no target left: every column has a covariate role; name the targets in "
            f"{names['targets']}"
        )
    return ColumnRoles(
        targets=tuple(chosen),
        past=tuple(given["past"] + past_extra),
        future=tuple(given["future"]),
        static=tuple(given["static"]),
    )


def long_roles(
    groups: dict[str, list],
    target_col: str,
    future: Sequence[str] | None = None,
    past: Sequence[str] | None = None,
    names: dict[str, str] = CLI_NAMES,
) -> dict[str, list]:
    """The roles of a long frame read jointly (each series a target column, covariate ``c``
    of series ``s`` the column ``c[s]``: ``groups`` maps each input column to those), in the
    table's column names; every covariate column needs a role."""
    covariates = [c for c in groups if c != target_col]

    def expand(role: str, listed: Sequence[str] | None) -> list:
        expanded = []
        for name in _listed(listed):
            if name not in covariates:
                raise InputError(
                    f"{names[role]} names '{name}', which is not a covariate column of the long "
                    f"frame (its covariate columns are {covariates})"
                )
            expanded += groups[name]
        return expanded

    expanded = {"future": expand("future", future), "past": expand("past", past)}  # names first
    named = set(_listed(future)) | set(_listed(past))
    unused = [c for c in covariates if c not in named]
    if unused:
        raise InputError(
            f"the long frame has column(s) {unused} without a role: list them in "
            f"{names['future']} or {names['past']} (or {names['static']}, if they hold one "
            "value per series), or drop them"
        )
    return {"targets": list(groups[target_col]), **expanded}


def panel_roles(
    value_columns: Sequence[str],
    target: str | Sequence[str],
    future: Sequence[str] = (),
    past: Sequence[str] = (),
    static: Sequence[str] = (),
    names: dict[str, str] = CLI_NAMES,
) -> ColumnRoles:
    """The roles of a long frame read as independent series: its value column the target (or
    ``target``'s columns, several per series), every other time-varying column a named
    covariate (one left without a role is refused)."""
    targets = [target] if isinstance(target, str) else list(target)
    roles = resolve_roles(value_columns, targets=targets, future=future, past=past, names=names)
    unused = [c for c in value_columns if c not in roles.time_varying]
    if unused:
        raise InputError(
            f"the long frame has column(s) {unused} without a role: list them in "
            f"{names['future']} or {names['past']} (or {names['static']}), in "
            f"{names['targets']} beside {targets} to forecast them too, or drop them"
        )
    return ColumnRoles(roles.targets, roles.past, roles.future, tuple(static))
