"""How the Forecaster reads frames: for fitting, and after fitting as the fitted frame was
read (its column roles, time handling and frequency)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tsfm.errors import InputError
from tsfm.estimator.checks import check_options, frame_columns, role_names

if TYPE_CHECKING:
    from tsfm.data.frames import SeriesTable


class FrameReading:
    """Frame reading of :class:`~tsfm.Forecaster` (a mixin over its parameters and state)."""

    def frame_options(self, fitted: bool = False) -> dict[str, Any]:
        """How frames are read: for fitting, or (``fitted``) as the fitted frame was."""
        return {
            "id_col": self.id_col,
            "time_col": self.time_col,
            "target_col": self.target_col,
            "date_col": self.date_col,
            "allow_missing": self.missing == "mask",
            "wall_time": bool(self.layout_.time_type.get("wall")) if fitted else None,
            "fitted": self.layout_ if fitted else None,  # its ids' kind and type
        }

    def read(
        self, df: Any, name: str = "df", fitted: bool = False, series: list[str] | None = None
    ) -> SeriesTable:
        """``df`` checked into a table (long frames: aligned, static columns kept aside), for
        fitting (a long frame's series in id order, or ``series``': a warm fit's fitted ones)
        or (``fitted``) as the fitted frame was read, on its clock (its time zone:
        :mod:`~tsfm.data.frames.zones`); ``missing="mask"``: steps of the frequency it skips
        become NaN rows."""
        from tsfm.data.frames import read_frame
        from tsfm.data.frames.convert import refuse_lazy
        from tsfm.data.frames.gaps import insert_absent_steps
        from tsfm.data.frames.value_columns import refuse_boolean_targets

        refuse_lazy(df, name)
        check_options(self)
        statics = [c for c in role_names(self, "static_covariates") if c in frame_columns(df)]
        names = [str(c) for c in getattr(df, "columns", [])]
        kept = self.kept_columns(fitted, names)
        covariates = self.covariate_names(fitted, names)
        table = read_frame(
            df, static_columns=statics, columns=kept, covariates=covariates, name=name,
            series_order=series, **self.frame_options(fitted),
        )  # fmt: skip
        if fitted:  # a fit refuses them (the data module, which knows the roles)
            refuse_boolean_targets(table, self.columns_, "", file=False)
        if self.missing != "mask":
            return table
        freq = self.freq_ if fitted else self.freq
        known = getattr(self, "absent_steps_", {}).get(None) if fitted else None  # warned at fit
        return insert_absent_steps(table, freq, name, known)

    def kept_columns(self, fitted: bool = False, names: list[str] = ()) -> list[str] | None:
        """The columns of a wide frame a fit that chose its columns keeps (the targets named,
        or under ``features=S`` the one target, and the
        covariates named; after fitting, the fitted ones): only they are read and checked, as
        the command line reads them (:func:`~tsfm.estimator.roles.picks_columns`, the same
        rule). None: every column is read (no targets chosen, or features MS, which makes the
        other columns past covariates). ``names``: the frame's columns, whose last variate is
        the target of ``features=S`` without ``targets``."""
        if fitted:
            from tsfm.estimator.roles import picks_columns

            return [str(c) for c in self.input_columns_] if picks_columns(self) else None
        features = self.features()
        if features == "MS":
            return None
        targets = [str(c) for c in role_names(self, "targets")]
        if not targets and features == "S":
            # a guess that is no variate (the time column last) leaves every column read
            targets = self.free_columns(names)[-1:]
        return [*targets, *self.covariate_names()] if targets else None

    def free_columns(self, names: list[str]) -> list[str]:
        """The columns of ``names`` (a frame's) without a role named: not a covariate, static
        covariate, time, date or id column. The last is the target of features S or MS
        without ``targets``."""
        skip = {*self.covariate_names(), *role_names(self, "static_covariates"), self.time_col}
        skip |= {self.id_col, self.date_col}
        return [str(c) for c in names if str(c) not in skip]

    def covariate_names(self, fitted: bool = False, names: list[str] = ()) -> list[str]:
        """The covariates of a wide frame: named, or (``fitted``) as fitted; under features MS
        every other column of ``names`` (the frame's) is a past covariate too, all but the
        target (the one named, else the last free column)."""
        if fitted:
            targets = {str(c) for c in self.columns_}
            return [str(c) for c in self.input_columns_ if str(c) not in targets]
        roles = ("past_covariates", "future_covariates")
        named = [str(c) for role in roles for c in role_names(self, role)]
        if not names or self.features() != "MS":
            return named
        free = self.free_columns(names)
        target = [str(c) for c in role_names(self, "targets")] or free[-1:]
        return [*named, *(c for c in free if c not in target)]

    def features(self) -> str:
        """The ``data.features`` a fit uses: the parameter ``data__features``, else the
        preset's and overrides' (M, S or MS)."""
        return str(self.data_setting("features") or "M")

    def data_setting(self, key: str) -> Any:
        """A ``data.`` setting a fit uses: the parameter ``data__<key>``, else the preset's
        and overrides' (None where unset)."""
        from tsfm.estimator.params import check_overrides
        from tsfm.estimator.preset_config import _composed

        if f"data__{key}" in self.extra_params():
            return self.extra_params()[f"data__{key}"]
        check_overrides(self.overrides, self.model)
        overrides = tuple(self.overrides or ())  # the cached config, read (not copied)
        return _composed(self.model, self.experiment, overrides).data.get(key)

    def _read(self, df: Any, forecast: bool = True) -> SeriesTable:
        """``df`` read as the fitted frame was, its frequency checked; ``forecast``: it is
        forecast (a frame's stray variates are warned of: :mod:`~tsfm.estimator.
        stray_variates`), not only laid out after (``make_future_dataframe``)."""
        from tsfm.data.frames import resolve_freq, same_freq
        from tsfm.estimator.roles import named_columns
        from tsfm.estimator.stray_variates import warn_stray_variates

        table = self.read(df, fitted=True)
        if len(table) >= 3:
            freq = resolve_freq(table.times, tz=table.tz)
            if not same_freq(freq, self.freq_, at=table.times[0]):
                raise InputError(
                    f"the frame's frequency is {freq!r} but the model was fitted on {self.freq_!r} "
                    "data; resample it, or fit a Forecaster on data of this frequency"
                )
        table = named_columns(self, table)
        if forecast:
            warn_stray_variates(self, table)
        return table
