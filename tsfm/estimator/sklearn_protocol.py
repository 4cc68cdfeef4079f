"""The Forecaster's side of scikit-learn's estimator protocol: its parameters (the named
arguments and the extra ``**params``, each checked before any is set), ``clone`` (a tuned
Forecaster's clone repeats its tuned trial) and whether it is fitted."""

from __future__ import annotations

from typing import Any, Self

from sklearn.base import BaseEstimator

from tsfm.estimator.guards import check_run_only
from tsfm.estimator.none_values import refuse_none_values
from tsfm.estimator.other_names import refuse_other_parameters
from tsfm.estimator.searched import mark_searched, searched, unmark


class EstimatorProtocol(BaseEstimator):
    """``get_params``/``set_params`` over the named arguments and ``_extra`` (the extra
    parameters: model hyperparameters, short names and ``__`` config keys), ``clone`` and
    the fitted check."""

    _extra: dict[str, Any]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {**super().get_params(deep=False), **self._extra}

    def set_params(self, **params: Any) -> Self:
        from tsfm.estimator.params import config_key

        own = set(self._get_param_names())
        check_run_only(params.get("overrides"))
        refuse_other_parameters(params, params)
        model = params.get("model", self.model)
        for name in params:
            if name not in own:
                config_key(model, name)  # ValueError for an unknown name, before any change
        refuse_none_values(  # conformal_windows=None: before any change too
            model,
            params.get("experiment", self.experiment),
            params.get("overrides", self.overrides),
            {n: v for n, v in params.items() if n not in own},
        )
        for name, value in params.items():
            if name in own:
                setattr(self, name, value)
                continue
            key = config_key(model, name)  # another name of the same setting gives way
            for other in [n for n in self._extra if n != name and config_key(model, n) == key]:
                del self._extra[other]
            self._extra[name] = value
        unmark(self, params)  # a width the user sets is the user's, not the search's
        return self

    def __sklearn_clone__(self) -> Self:
        new = super().__sklearn_clone__()
        mark_searched(new, searched(self))  # its fit repeats the tuned trial
        return new

    def extra_params(self) -> dict[str, Any]:
        return dict(self._extra)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "module_")

    def _forget(self) -> None:
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("_")]:
            delattr(self, name)
