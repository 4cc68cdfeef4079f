"""Published M4 numbers (SMAPE, MASE, OWA) the M4 table compares against.

Source: TimesCLIP Table 1 as transcribed in docs/reference/timesclip.md#m4-short-term-table-1. Every row there
comes from runs of the official code lineage, which validates on the M4 test set; "Others"
is Weekly + Daily + Hourly together (Daily holds 4227 of its 5000 series) and the average
is over all 100,000 series. No per-group Weekly or Hourly numbers are published for these
models, and S2IP-LLM's M4 table was not available to us (docs/reference/s2ip_llm.md#reported-results).
"""

M4_PAPER: dict[str, dict[str, tuple[float, float, float]]] = {
    "itransformer": {
        "Yearly": (14.141, 3.179, 0.833),
        "Quarterly": (10.739, 1.282, 0.955),
        "Monthly": (13.727, 1.082, 0.984),
        "Others": (5.569, 4.052, 1.225),
        "Average": (12.699, 1.761, 0.929),
    },
    "timesclip": {
        "Yearly": (13.188, 2.95, 0.775),
        "Quarterly": (10.007, 1.166, 0.880),
        "Monthly": (12.502, 0.929, 0.870),
        "Others": (4.587, 3.116, 0.974),
        "Average": (11.642, 1.560, 0.837),
    },
}
