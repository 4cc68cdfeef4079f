"""S²IP-LLM's decomposition and patches sized for a look-back the official values do not fit
(the model's ``data_sized`` hook, :mod:`tsfm.models.sizing`)."""

from __future__ import annotations

from tsfm.models.sizing import SizingInputs

SIZED = ("trend_length", "seasonal_length", "patch_len", "stride")


def fitting_decomposition(data: SizingInputs) -> dict[str, int]:
    """The official decomposition and patches where they fit the look-back L; where not, the
    trend window becomes L, the seasonal period the data's season (``season_length``, shorter
    than L: a period of the whole look-back would make its seasonal part the detrended
    look-back itself; with ``decomposition='stl'`` the longest natural season of at most
    L // 2, as STL needs two periods) and the patch L with stride L // 2. Settings the user
    chose stay as chosen (the stride too, when the patch is sized)."""
    lookback, season, settings = data.lookback, data.season_length, data.settings
    # STL's period spans at most half the look-back: the longest natural season that fits
    stl = settings["decomposition"] == "stl"
    longest = lookback // 2 if stl else lookback
    if stl and not 2 <= season <= longest:
        season = next((s for s in data.seasons if s <= longest), season)
    elif not stl and season >= lookback:  # the metrics keep a season of the whole look-back
        season = next((s for s in data.seasons if s < lookback), 1)
    sized = {
        "trend_length": lookback,
        "seasonal_length": season,
        "patch_len": lookback,
        "stride": max(1, lookback // 2),
    }
    sizing = {k for k in ("trend_length", "patch_len") if settings[k] > lookback}
    sizing |= {"seasonal_length"} if settings["seasonal_length"] > longest else set()
    sizing -= data.chosen
    if "patch_len" in sizing:  # the stride follows a patch sized here
        sizing.add("stride")
    return {k: sized[k] for k in SIZED if k in sizing - data.chosen}
