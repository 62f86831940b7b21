"""The CLI's one table from the error tree to exit codes, and the one line it prints."""
from __future__ import annotations

from ..errors import Conflict, InvalidInput, MlprodError, NotFound, Unavailable

EXIT_OK = 0
EXIT_RUN_FAILED = 1      # the run finished but did not succeed (failed or cancelled)
EXIT_USAGE = 2           # bad input: nothing was created (argparse uses 2 as well)
EXIT_UNAVAILABLE = 3     # a backend (store, executor) cannot be reached: try again later
EXIT_INTERNAL = 70       # a bug (EX_SOFTWARE); MLPROD_DEBUG=1 shows the traceback
EXIT_INTERRUPTED = 130   # Ctrl-C

_EXIT_CODES: list[tuple[type[MlprodError], int]] = [
    (Unavailable, EXIT_UNAVAILABLE),
    (InvalidInput, EXIT_USAGE),
    (NotFound, EXIT_USAGE),
    (Conflict, EXIT_USAGE),
    (MlprodError, EXIT_USAGE),
]


def exit_code(error: MlprodError) -> int:
    for kind, code in _EXIT_CODES:
        if isinstance(error, kind):
            return code
    return EXIT_USAGE


def error_line(error: MlprodError | str) -> str:
    message = error.message if isinstance(error, MlprodError) else str(error)
    return "mlprod: error: " + " ".join(message.split())
