"""The `probes` key of a step: `true` (default: every output), `false`, or
`{"columns": [...]}` (only these columns of the output tables)."""
from __future__ import annotations

from ..errors import InvalidInput

MAX_COLUMNS = 200  # a table's first columns probed by default; more would flood the store


def parse_probes(raw: object, field: str) -> bool | dict:
    if raw is None or raw is True:
        return True
    if raw is False:
        return False
    if isinstance(raw, dict):
        unknown = sorted(set(raw) - {"columns"})
        if unknown:
            raise InvalidInput(f"{field}.{unknown[0]}: unknown probe option (allowed: columns)",
                               field=f"{field}.{unknown[0]}")
        columns = raw.get("columns")
        if not isinstance(columns, list) or not all(isinstance(c, str) and c for c in columns):
            raise InvalidInput(f"{field}.columns must be a list of column names",
                               field=f"{field}.columns")
        return {"columns": list(dict.fromkeys(columns))}
    raise InvalidInput(f"{field} must be true, false or {{\"columns\": [...]}}", field=field)
