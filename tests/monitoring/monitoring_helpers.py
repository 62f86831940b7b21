"""Helpers of the monitoring tests."""
from __future__ import annotations

import nbformat


def set_step_meta(path, **fields) -> None:
    """Add keys (checks, probes) to a step notebook's `metadata.mlprod`."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata["mlprod"].update(fields)
    nbformat.write(nb, path)
