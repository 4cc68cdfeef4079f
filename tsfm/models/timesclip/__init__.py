"""TimesCLIP (Dong et al., 2025): the model (``model``), its vision view (``vision_view``), its
small parts (``layers``), the line rasteriser of its vision view (``render``), the CLIP
(``clip_backbones``) and its text tower (``clip_text``), the vision towers (``vision_towers``,
timm's in ``timm_towers``) and the frozen-tower feature cache (``feature_cache``)."""

from tsfm.models.timesclip.model import TimesCLIP

__all__ = ["TimesCLIP"]
