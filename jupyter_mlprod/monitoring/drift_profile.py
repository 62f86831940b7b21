"""Reference profiles: a compact summary of each column a drift comparison needs, never rows.

Per numeric column: count, mean, std, min, max, the PSI bins (the reference's deciles as inner
edges, with each bin's share), its distinct values with counts when there are few (<= 20), and
either the sorted values (a reference of <= 1000 rows: the KS test is then exact) or 1001
quantiles (larger references: Wasserstein from quantile functions). Per categorical column:
category counts (the 200 most frequent, the rest summed under OTHER).

Columns are numpy arrays; building is vectorised (one sort per numeric column)."""
from __future__ import annotations

import numpy as np

SMALL_REFERENCE = 1000        # Evidently's switch between p-value tests and distances
QUANTILES = 1001
PSI_BINS = 10
FEW_DISTINCT = 20
MAX_CATEGORIES = 200
OTHER = "__other__"


def is_numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "fiu"


def as_column(values) -> np.ndarray:
    """A column as float64 when every present value is a number (bools are categories), else
    as strings; None/NaN are missing."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiu":
        return arr.astype(np.float64, copy=False)
    if arr.dtype.kind == "b":
        return np.where(arr, "true", "false").astype(str)
    items = list(arr.ravel())
    if arr.dtype.kind == "O" and not any(v is True or v is False for v in items):
        try:   # numbers with gaps (None): one C loop, no per-value Python
            return np.array(items, dtype=np.float64)
        except (TypeError, ValueError):
            pass
    if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in items):
        return np.array([np.nan if v is None else v for v in items], dtype=np.float64)
    return np.array(["" if v is None else category(v) for v in items], dtype=str)


def category(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def profile_column(values: np.ndarray) -> dict:
    if is_numeric(values):
        return _numeric(values.astype(np.float64, copy=False))
    return _categorical(values.astype(str, copy=False))


def _numeric(values: np.ndarray) -> dict:
    present = values[~np.isnan(values)]
    n = int(present.size)
    out = {"type": "numeric", "n": n, "missing": int(values.size - n)}
    if n == 0:
        return dict(out, mean=None, std=None, min=None, max=None, psi_edges=[], psi_share=[1.0],
                    distinct=None, values=None, quantiles=None)
    ordered = np.sort(present)
    edges = np.unique(np.quantile(ordered, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
    counts = np.bincount(np.searchsorted(edges, ordered, side="right"), minlength=edges.size + 1)
    uniques, ucounts = np.unique(ordered, return_counts=True)
    out.update(mean=float(ordered.mean()), std=float(ordered.std()), min=float(ordered[0]),
               max=float(ordered[-1]), psi_edges=edges.tolist(),
               psi_share=(counts / n).tolist(),
               distinct=({"values": uniques.tolist(), "counts": ucounts.tolist()}
                         if uniques.size <= FEW_DISTINCT else None))
    if n <= SMALL_REFERENCE:
        out.update(values=ordered.tolist(), quantiles=None)
    else:
        out.update(values=None, quantiles=np.quantile(ordered, np.linspace(0, 1, QUANTILES)).tolist())
    return out


def _categorical(values: np.ndarray) -> dict:
    present = values[values != ""]
    labels, counts = np.unique(present, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    labels, counts = labels[order], counts[order]
    kept = {str(k): int(c) for k, c in zip(labels[:MAX_CATEGORIES], counts[:MAX_CATEGORIES])}
    if labels.size > MAX_CATEGORIES:
        kept[OTHER] = int(counts[MAX_CATEGORIES:].sum())
    return {"type": "categorical", "n": int(present.size),
            "missing": int(values.size - present.size), "counts": kept}


def build_profile(columns: dict[str, np.ndarray], *, prediction: np.ndarray | None = None,
                  source: str, detail: str | None = None) -> dict:
    """The profile of a table given as name -> column (see `as_column`)."""
    rows = max((c.size for c in columns.values()), default=0)
    return {"source": source, "detail": detail, "n": int(rows),
            "columns": {name: profile_column(col) for name, col in columns.items()},
            "prediction": None if prediction is None else profile_column(prediction)}


def read_table(path) -> dict[str, np.ndarray]:
    """CSV, TSV or Parquet as columns (pandas reads it: the example's and most notebooks'
    datasets are pandas tables)."""
    import pandas as pd

    name = str(path).lower()
    if name.endswith(".parquet"):
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_csv(path, sep="\t" if name.endswith(".tsv") else ",")
    return {str(c): _frame_column(frame[c]) for c in frame.columns}


def _frame_column(series) -> np.ndarray:
    if series.dtype.kind in "fiu":
        return series.to_numpy(dtype=np.float64)
    if series.dtype.kind == "b":
        return np.where(series.to_numpy(), "true", "false").astype(str)
    return np.array([category(v) if v == v and v is not None else "" for v in series.tolist()],
                    dtype=str)
