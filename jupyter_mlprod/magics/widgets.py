"""When `%mlprod` shows ipywidgets instead of text, and the small pieces its widget views share.

Widgets need someone to look at them: a frontend that renders `application/vnd.jupyter.
widget-view+json` and sends button clicks back. Headless clients (papermill, nbclient,
nbconvert, and so a notebook executing as a pipeline step) never do, and they are also the
clients that execute cells with `allow_stdin=False`: nbclient hard-codes it, while JupyterLab,
Notebook and VS Code ask for stdin. So a cell gets widgets when all of these hold:

- neither `%mlprod --text ...` nor MLPROD_WIDGETS=0 asked for text,
- the notebook is not itself running as a step (MLPROD_STEP_RUN),
- ipywidgets imports and the shell is a kernel (not a terminal IPython),
- the current execute request allows stdin, unless MLPROD_WIDGETS=1 forces widgets (e.g. for
  Voila, which renders widgets but executes like nbclient).

Every widget view has a text fallback showing what the magic always showed, so a notebook
using the magics records the same outputs when it runs headless.
"""
from __future__ import annotations

import argparse
import os

from . import output as show

WIDGETS_ENV = "MLPROD_WIDGETS"
_NO = ("0", "false", "no", "off", "text")
_YES = ("1", "true", "yes", "on")


def add_text_option(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """`--text`: plain output even where widgets could be shown. With `suppress`, a subcommand
    repeating it does not reset a `--text` given before the subcommand's name."""
    parser.add_argument("--text", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help=f"show text instead of widgets (also ${WIDGETS_ENV}=0)")


def use_widgets(ns: argparse.Namespace | None = None) -> bool:
    if getattr(ns, "text", False):
        return False
    forced = os.environ.get(WIDGETS_ENV, "").strip().lower()
    if forced in _NO:
        return False
    from . import STEP_RUN_ENV

    if os.environ.get(STEP_RUN_ENV):
        return False  # executing as a pipeline step: nobody is looking
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is None:
        return False  # a terminal IPython: no frontend to render widgets
    if forced in _YES:
        return True
    return bool(getattr(kernel, "_allow_stdin", False))


def message_html(text: str, *, error: bool = False) -> str:
    """A one-line message for a widget's HTML area, styled as the magic's text output."""
    if not text:
        return ""
    return (show.error(text) if error else show.note(text)).html
