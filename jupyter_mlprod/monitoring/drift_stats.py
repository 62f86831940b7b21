"""Drift of one column: a live sample (numpy array) against its reference profile.

The test follows Evidently's defaults: on a reference of <= 1000 rows, KS for numeric columns
(chi-square when they take <= 5 values) and chi-square for categorical ones, drift when
p < 0.05; on larger references, Wasserstein distance normed by the reference's std for numeric
columns (Jensen-Shannon when they take <= 5 values) and Jensen-Shannon for categorical ones,
drift when >= 0.1. (Evidently uses a Z-test on binary columns; we use chi-square there.)
PSI is computed for every column on the reference's decile bins (categories for categorical
columns), shares floored at 1e-4: < 0.1 stable, 0.1-0.25 moderate, > 0.25 major.
Everything is vectorised: one searchsorted / unique per column, no per-row Python."""
from __future__ import annotations

import math

import numpy as np

from .drift_profile import OTHER, SMALL_REFERENCE, category, is_numeric

P_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
PSI_WARNING = 0.1
PSI_ERROR = 0.25
EPS = 1e-4
FEW_VALUES = 5


def psi(reference: np.ndarray, live: np.ndarray) -> float:
    ref = np.maximum(np.asarray(reference, dtype=np.float64), EPS)
    cur = np.maximum(np.asarray(live, dtype=np.float64), EPS)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def compare(name: str, ref: dict, live: np.ndarray, min_rows: int) -> dict:
    """FeatureDrift (see openapi.yaml) for one column."""
    kind = ref["type"]
    if kind == "numeric" and not is_numeric(live):
        live = _to_float(live)
    if kind == "categorical" and is_numeric(live):
        live = np.array([category(v) for v in live[~np.isnan(live)].tolist()], dtype=str)
    present = live[~np.isnan(live)] if kind == "numeric" else live[live != ""]
    if present.size < min_rows or ref["n"] == 0:
        return empty(name, kind, "not_enough_data")
    if kind == "numeric":
        result = _numeric(ref, present)
    else:
        result = _categorical(ref, present)
    result["name"] = name
    result["type"] = kind
    result["status"] = "error" if result["drift"] else (
        "warning" if result["psi"] >= PSI_WARNING else "ok")
    return result


def empty(name: str, kind: str, status: str) -> dict:
    return {"name": name, "type": kind, "test": None, "statistic": None, "p_value": None,
            "threshold": P_THRESHOLD, "drift": False, "psi": None, "status": status,
            "reference": {"bins": [], "share": []}, "live": {"bins": [], "share": []}}


def _to_float(values: np.ndarray) -> np.ndarray:
    out = np.full(values.shape, np.nan)
    for i, v in enumerate(values.tolist()):  # a categorical value where a number was expected
        try:
            out[i] = float(v) if v != "" else np.nan
        except ValueError:
            pass
    return out


# -- numeric ------------------------------------------------------------------------------
def _numeric(ref: dict, x: np.ndarray) -> dict:
    edges = np.asarray(ref["psi_edges"], dtype=np.float64)
    ref_share = np.asarray(ref["psi_share"], dtype=np.float64)
    live_share = np.bincount(np.searchsorted(edges, x, side="right"),
                             minlength=edges.size + 1) / x.size
    bins = [ref["min"], *edges.tolist()]
    out = {"psi": psi(ref_share, live_share),
           "reference": {"bins": bins, "share": ref_share.tolist()},
           "live": {"bins": bins, "share": live_share.tolist()}}
    distinct = ref.get("distinct")
    few = False
    if distinct is not None and len(distinct["values"]) <= FEW_VALUES:
        inside = np.isin(x, distinct["values"])   # Evidently counts the values of both sides
        few = len(distinct["values"]) + np.unique(x[~inside]).size <= FEW_VALUES
    if few:
        ref_counts = dict(zip(map(repr, distinct["values"]), distinct["counts"]))
        live_counts = {repr(k): c for k, c in count_values(x, distinct["values"]).items()}
        test = _counts_test(ref_counts, live_counts, ref["n"], x.size)
    elif ref["n"] <= SMALL_REFERENCE:
        from scipy.stats import ks_2samp

        result = ks_2samp(np.asarray(ref["values"]), x)
        test = {"test": "ks", "statistic": float(result.statistic),
                "p_value": float(result.pvalue), "threshold": P_THRESHOLD,
                "drift": bool(result.pvalue < P_THRESHOLD)}
    else:
        distance = wasserstein_from_quantiles(np.asarray(ref["quantiles"]), x) / max(ref["std"], 0.001)
        test = {"test": "wasserstein", "statistic": distance, "p_value": None,
                "threshold": DISTANCE_THRESHOLD, "drift": bool(distance >= DISTANCE_THRESHOLD)}
    return dict(out, **test)


def wasserstein_from_quantiles(q: np.ndarray, x: np.ndarray) -> float:
    """W1 = integral of |F_ref - F_live|, F_ref known at its quantiles q (levels 0..1), F_live
    counted at the same points; linear between them; the live tails beyond the reference's
    range exactly (E[(q_min - X)+] and E[(X - q_max)+])."""
    levels = np.linspace(0.0, 1.0, q.size)
    counts = np.bincount(np.searchsorted(q, x, side="right"), minlength=q.size + 1)
    f_live = np.cumsum(counts)[:-1] / x.size           # fraction of x <= q_i
    diff = levels - f_live
    widths = np.diff(q)
    a, b = diff[:-1], diff[1:]
    same = (a * b) >= 0
    # |linear| over a segment: trapezoid when no sign change, else the two triangles
    area = np.where(same, np.abs(a + b) / 2,
                    (a * a + b * b) / (2 * np.maximum(np.abs(a) + np.abs(b), 1e-300)))
    inner = float(np.sum(area * widths))
    low = float(np.maximum(q[0] - x, 0.0).sum() / x.size)
    high = float(np.maximum(x - q[-1], 0.0).sum() / x.size)
    return inner + low + high


# -- categorical --------------------------------------------------------------------------
def count_values(x: np.ndarray, known) -> dict:
    """value -> count. The reference's values are matched by binary search (no sort of the
    live column, which for a million strings costs seconds); only the unmatched rest is
    sorted."""
    labels = np.sort(np.asarray(list(known), dtype=x.dtype)) if len(known) else x[:0]
    out = {}
    rest = x
    if labels.size:
        index = np.minimum(np.searchsorted(labels, x), labels.size - 1)
        match = labels[index] == x
        counts = np.bincount(index[match], minlength=labels.size)
        out = {k: int(c) for k, c in zip(labels.tolist(), counts.tolist()) if c}
        rest = x[~match]
    if rest.size:
        keys, counts = np.unique(rest, return_counts=True)
        out.update(zip(keys.tolist(), counts.tolist()))
    return out


def _categorical(ref: dict, x: np.ndarray) -> dict:
    live_counts = count_values(x, [k for k in ref["counts"] if k != OTHER])
    ref_counts = ref["counts"]
    if OTHER in ref_counts:  # categories the profile did not keep count together
        other = sum(c for k, c in live_counts.items() if k not in ref_counts)
        live_counts = {k: c for k, c in live_counts.items() if k in ref_counts}
        if other:
            live_counts[OTHER] = other
    test = _counts_test(ref_counts, live_counts, ref["n"], x.size)
    labels = list(ref_counts) + sorted(k for k in live_counts if k not in ref_counts)
    ref_share = np.array([ref_counts.get(k, 0) for k in labels], dtype=np.float64) / ref["n"]
    live_share = np.array([live_counts.get(k, 0) for k in labels], dtype=np.float64) / x.size
    return dict(test, psi=psi(ref_share, live_share),
                reference={"bins": labels, "share": ref_share.tolist()},
                live={"bins": labels, "share": live_share.tolist()})


def _counts_test(ref_counts: dict, live_counts: dict, n_ref: int, n_live: int) -> dict:
    keys = list(dict.fromkeys([*ref_counts, *live_counts]))
    ref = np.array([ref_counts.get(k, 0) for k in keys], dtype=np.float64)
    cur = np.array([live_counts.get(k, 0) for k in keys], dtype=np.float64)
    if n_ref <= SMALL_REFERENCE:
        statistic, p_value = chi_square(cur, ref * (n_live / n_ref))
        return {"test": "chi2", "statistic": statistic, "p_value": p_value,
                "threshold": P_THRESHOLD, "drift": bool(p_value < P_THRESHOLD)}
    distance = jensen_shannon(ref / n_ref, cur / n_live)
    return {"test": "jensenshannon", "statistic": distance, "p_value": None,
            "threshold": DISTANCE_THRESHOLD, "drift": bool(distance >= DISTANCE_THRESHOLD)}


def chi_square(observed: np.ndarray, expected: np.ndarray) -> tuple[float | None, float]:
    if np.any((expected == 0) & (observed > 0)):   # a category the reference never had: the
        # statistic is infinite (JSON has no infinity: null), the p-value 0
        return None, 0.0
    keep = expected > 0
    statistic = float(np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep]))
    dof = int(keep.sum()) - 1
    if dof < 1:
        return statistic, 1.0
    from scipy.stats import chi2

    return statistic, float(chi2.sf(statistic, dof))


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """As scipy.spatial.distance.jensenshannon (natural log) on shares with zeros set to 1e-4,
    as Evidently does."""
    p = np.where(p == 0, EPS, p)
    q = np.where(q == 0, EPS, q)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    divergence = (np.sum(p * np.log(p / m)) + np.sum(q * np.log(q / m))) / 2
    return float(math.sqrt(max(divergence, 0.0)))
