"""Data probes: built-in metrics of a step's declared outputs, with no code in the notebook.

Every output gets `<output>:size` (bytes). A table (CSV, TSV, Parquet) also gets `:rows`,
`:columns` and per column `:<col>:nulls`, `:<col>:distinct` (exact up to DISTINCT_CAP, then
the cap with note "capped") and, for numbers, `:<col>:min`, `:<col>:max`, `:<col>:mean`.

Tables are streamed in blocks (pyarrow's CSV reader and Parquet batches; the stdlib csv module
when pyarrow is missing), so memory stays flat whatever the file size. A table that cannot be
read records `:rows` with no value and the reason, never an exception.
"""
from __future__ import annotations

import csv
import glob
import math
import os
import re
from pathlib import Path

from .spec import MAX_COLUMNS

DISTINCT_CAP = 10_000
CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
_BLOCK = 16 << 20  # bytes of CSV parsed at a time: memory stays a small multiple of it
_NULL_TEXT = {"", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "#N/A"}


def probe_outputs(root: Path, outputs, probes) -> list[dict]:
    """Metric rows ({name, value, source, note}) for the step's outputs; `probes` is the
    step's setting (True, False or {"columns": [...]})."""
    if probes is False:
        return []
    columns = probes.get("columns") if isinstance(probes, dict) else None
    rows: list[dict] = []
    for pattern in outputs:
        for rel in _expand(root, pattern):
            rows.extend(probe_file(root / rel, rel, columns))
    return rows


def probe_file(path: Path, name: str, columns: list[str] | None = None) -> list[dict]:
    if not path.exists():
        return [_empty(f"{name}:size", "the output does not exist")]
    size = path.stat().st_size if path.is_file() else sum(
        p.stat().st_size for p in path.rglob("*") if p.is_file())
    rows = [_metric(f"{name}:size", size)]
    suffix = path.suffix.lower()
    if path.is_dir() or (suffix not in CSV_SUFFIXES and suffix not in PARQUET_SUFFIXES):
        return rows
    try:
        if suffix in PARQUET_SUFFIXES:
            stats = _parquet_stats(path, columns)
        else:
            stats = _csv_stats(path, CSV_SUFFIXES[suffix], columns)
    except Exception as exc:  # a probe never fails the run: it says why it is empty
        reason = f"cannot read the table: {type(exc).__name__}: {str(exc)[:300]}"
        return rows + [_empty(f"{name}:rows", reason)]
    return rows + stats.metrics(name)


class TableStats:
    """Per-column running statistics, fed block by block."""

    def __init__(self, names: list[str], total_columns: int):
        self.names = names
        self.total_columns = total_columns
        self.rows = 0
        self.nulls = dict.fromkeys(names, 0)
        self.distinct: dict[str, set | None] = {n: set() for n in names}  # None: capped
        self.numeric: dict[str, list] = {}   # name -> [min, max, sum, count]
        self.not_numeric: set[str] = set()

    def add_distinct(self, name: str, values) -> None:
        seen = self.distinct[name]
        if seen is None:
            return
        seen.update(values)
        if len(seen) > DISTINCT_CAP:
            self.distinct[name] = None

    def add_numbers(self, name: str, low, high, total, count) -> None:
        if count == 0:
            return
        acc = self.numeric.get(name)
        if acc is None:
            self.numeric[name] = [low, high, total, count]
        else:
            acc[0] = min(acc[0], low)
            acc[1] = max(acc[1], high)
            acc[2] += total
            acc[3] += count

    def metrics(self, prefix: str) -> list[dict]:
        out = [_metric(f"{prefix}:rows", self.rows), _metric(f"{prefix}:columns", self.total_columns)]
        for name in self.names:
            base = f"{prefix}:{name}"
            out.append(_metric(f"{base}:nulls", self.nulls[name]))
            seen = self.distinct[name]
            out.append(_metric(f"{base}:distinct", DISTINCT_CAP, "capped") if seen is None
                       else _metric(f"{base}:distinct", len(seen)))
            acc = self.numeric.get(name)
            if acc and name not in self.not_numeric:
                out += [_metric(f"{base}:min", acc[0]), _metric(f"{base}:max", acc[1]),
                        _metric(f"{base}:mean", acc[2] / acc[3])]
        return [m for m in out if m["value"] is None or math.isfinite(m["value"])]


# -- pyarrow ----------------------------------------------------------------------------------
def _arrow():
    try:
        import pyarrow
        import pyarrow.compute  # noqa: F401
    except ImportError:
        return None
    return pyarrow


def _feed_batch(stats: TableStats, batch, names: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    stats.rows += batch.num_rows
    for name in names:
        column = batch.column(name)
        stats.nulls[name] += column.null_count
        if stats.distinct[name] is not None:
            unique = pc.unique(column)
            if len(unique) > DISTINCT_CAP + 1:   # capped already: no need to look at them
                stats.distinct[name] = None
            else:
                stats.add_distinct(name, unique.drop_null().to_pylist())
        kind = column.type
        count = len(column) - column.null_count
        if (pa.types.is_integer(kind) or pa.types.is_floating(kind)) and count:
            # One pass each over the block; min_max skips NaN, a NaN sum means the block
            # holds NaN (Parquet), and only then the slower filtered pass.
            bounds = pc.min_max(column)
            total = pc.sum(column.cast(pa.float64()) if pa.types.is_integer(kind) else column).as_py()
            if total is not None and math.isnan(total):
                valid = column.drop_null()
                valid = valid.filter(pc.invert(pc.is_nan(valid)))
                count = len(valid)
                total = pc.sum(valid).as_py() if count else None
            if count and bounds["min"].is_valid:
                stats.add_numbers(name, bounds["min"].as_py(), bounds["max"].as_py(),
                                  total, count)
        elif not pa.types.is_null(kind):
            stats.not_numeric.add(name)


def _csv_stats(path: Path, delimiter: str, columns: list[str] | None) -> TableStats:
    pa = _arrow()
    if pa is None:
        return _csv_stats_stdlib(path, delimiter, columns)
    import pyarrow.csv as pcsv

    header = _header(path, delimiter)
    if columns:
        columns = [c for c in columns if c in header]
    overrides: dict = {}
    for _ in range(len(header) + 2):  # each pass may learn one more column holds text after all
        try:
            return _csv_stats_arrow(pcsv, path, delimiter, columns, overrides, len(header))
        except _WidenNumbers as widen:
            overrides.update(widen.types)
        except pa.ArrowInvalid as exc:
            match = re.search(r"CSV column #(\d+)", str(exc))
            if match is None or int(match.group(1)) >= len(header):
                raise
            overrides[header[int(match.group(1))]] = pa.string()
    raise ValueError("too many columns change type along the file")


class _WidenNumbers(Exception):
    def __init__(self, types: dict):
        super().__init__("integer columns are read as floats")
        self.types = types


def _csv_stats_arrow(pcsv, path: Path, delimiter: str, columns, overrides: dict,
                     width: int) -> TableStats:
    import pyarrow as pa

    convert = pcsv.ConvertOptions(strings_can_be_null=True, column_types=overrides,
                                  null_values=sorted(_NULL_TEXT), include_columns=columns or None,
                                  include_missing_columns=bool(columns))
    reader = pcsv.open_csv(str(path), read_options=pcsv.ReadOptions(block_size=_BLOCK),
                           parse_options=pcsv.ParseOptions(delimiter=delimiter),
                           convert_options=convert)
    # Integers of the first block may turn fractional further down: read all numbers as floats.
    widen = {f.name: pa.float64() for f in reader.schema if pa.types.is_integer(f.type)}
    if widen:
        reader.close()
        raise _WidenNumbers(widen)
    names = list(columns) if columns else [f.name for f in reader.schema][:MAX_COLUMNS]
    stats = TableStats(names, width)
    for batch in reader:
        _feed_batch(stats, batch, names)
    return stats


def _header(path: Path, delimiter: str) -> list[str]:
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return next(csv.reader(handle, delimiter=delimiter), [])


def _parquet_stats(path: Path, columns: list[str] | None) -> TableStats:
    if _arrow() is None:
        raise RuntimeError("pyarrow is not installed (pip install 'jupyter_mlprod[probes]')")
    import pyarrow.parquet as pq

    table = pq.ParquetFile(str(path))
    all_names = table.schema_arrow.names
    names = [c for c in columns if c in all_names] if columns else all_names[:MAX_COLUMNS]
    stats = TableStats(names, len(all_names))
    if not names:
        stats.rows = table.metadata.num_rows
        return stats
    for batch in table.iter_batches(batch_size=256_000, columns=names):
        _feed_batch(stats, batch, names)
    return stats


# -- stdlib fallback (no pyarrow): slower, same numbers ----------------------------------------
def _csv_stats_stdlib(path: Path, delimiter: str, columns: list[str] | None) -> TableStats:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, [])
        wanted = [c for c in columns if c in header] if columns else header[:MAX_COLUMNS]
        index = [header.index(c) for c in wanted]
        stats = TableStats(wanted, len(header))
        for record in reader:
            stats.rows += 1
            for name, i in zip(wanted, index):
                text = record[i] if i < len(record) else ""
                if text in _NULL_TEXT:
                    stats.nulls[name] += 1
                    continue
                if stats.distinct[name] is not None:
                    stats.add_distinct(name, (text,))
                if name in stats.not_numeric:
                    continue
                try:
                    number = float(text)
                except ValueError:
                    stats.not_numeric.add(name)
                    continue
                stats.add_numbers(name, number, number, number, 1)
    return stats


def _expand(root: Path, pattern: str) -> list[str]:
    if not any(ch in pattern for ch in "*?["):
        return [pattern]
    matches = sorted(glob.glob(str(root / pattern), recursive=True))
    return [os.path.relpath(m, root).replace(os.sep, "/") for m in matches] or [pattern]


def _metric(name: str, value, note: str | None = None) -> dict:
    return {"name": name, "value": float(value), "source": "probe", "note": note}


def _empty(name: str, reason: str) -> dict:
    return {"name": name, "value": None, "source": "probe", "note": reason}
