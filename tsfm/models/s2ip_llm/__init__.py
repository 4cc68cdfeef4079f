"""S2IP-LLM (Pan et al., ICML 2024): the model (``model``), its patch tokens, semantic anchors
and heads (``layers``), the trend/seasonal/residual decomposition (``decomposition``) and the
pretrained language backbones (``language_backbones``)."""

from tsfm.models.s2ip_llm.model import S2IPLLM

__all__ = ["S2IPLLM"]
