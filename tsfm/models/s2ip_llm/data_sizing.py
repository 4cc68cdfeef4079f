"""S²IP-LLM's decomposition and patches sized for a look-back the official values do not fit
(the model's ``data_sized`` hook, :mod:`tsfm.models.sizing`).

The seasonal part is the mean of the detrended look-back over the steps of equal phase
(``t mod seasonal_length``). A period of the whole look-back gives each phase one value, so
the "seasonal" part is the detrended look-back itself and the residual is exactly zero; with
fewer than two whole periods some phases still have one value each. So a period is kept only
when the look-back holds at least :data:`MIN_CYCLES` of them (STL needs as many), and is
otherwise sized to the data's season.
"""

from __future__ import annotations

from tsfm.models.sizing import SizingInputs

SIZED = ("trend_length", "seasonal_length", "patch_len", "stride")
MIN_CYCLES = 2  # whole seasonal periods the look-back must hold (STL's own minimum too)


def fitting_decomposition(data: SizingInputs) -> dict[str, int]:
    """The official decomposition and patches where they fit the look-back L; where not, the
    trend window becomes L, the seasonal period the data's season and the patch L with
    stride L // 2. Settings the user chose stay as chosen (the stride too, when the patch is
    sized).

    The seasonal period fits when L holds at least :data:`MIN_CYCLES` (2) periods, i.e. it
    is at most L // 2 (the official 96 needs a look-back of 192; at L = 96 it would make the
    seasonal part the whole detrended look-back and the residual zero). Otherwise it becomes
    the data's season (``season_length``: the user's, else the frequency's) if that fits
    twice, else the longest natural season of the frequency that does, else 1 (the seasonal
    part is then the mean of the detrended look-back: no seasonal pattern). The same rule
    holds with ``decomposition='stl'``, whose period must fit twice too."""
    lookback, settings = data.lookback, data.settings
    longest = lookback // MIN_CYCLES
    sized = {"trend_length": lookback, "patch_len": lookback, "stride": max(1, lookback // 2)}
    sizing = {k for k in ("trend_length", "patch_len") if settings[k] > lookback}
    if settings["seasonal_length"] > longest and "seasonal_length" not in data.chosen:
        sizing.add("seasonal_length")
        season = data.season_length
        if not 2 <= season <= longest:  # the longest natural season that fits twice
            season = next((s for s in data.seasons if s <= longest), 1)
        sized["seasonal_length"] = season
    sizing -= data.chosen
    if "patch_len" in sizing:  # the stride follows a patch sized here
        sizing.add("stride")
    return {k: sized[k] for k in SIZED if k in sizing - data.chosen}
