"""Door 3: the `mlprod` command. Thin: parses, calls `Project`, formats, maps errors once.

Entry point `mlprod = "jupyter_mlprod.cli:main"`; also `python -m jupyter_mlprod.cli`.
"""
from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from .app import main as _main

    return _main(argv)
