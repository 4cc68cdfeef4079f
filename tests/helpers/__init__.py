"""Helpers shared by the tests: tiny model settings (``models``), offline backbones
(``backbones``), tiny runs and the command line (``runs``), data (``data``), M4 files (``m4``)
and tiny Forecasters (``estimator``)."""
