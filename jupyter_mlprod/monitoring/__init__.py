"""Monitoring: metrics recorded per step run (logged in the notebook, or data probes of its
output tables) and checks on them that gate the pipeline.

Kept import-light: the kernel imports `monitoring.api` for `mlprod.log_metric`."""
from __future__ import annotations


def __getattr__(name):
    if name == "MetricService":
        from .service import MetricService

        return MetricService
    raise AttributeError(name)
