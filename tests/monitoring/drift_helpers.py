"""Helpers of the drift tests: the example loan data drawn as prepare.ipynb draws it (plus a
categorical `purpose`), and an independent PSI computation to check ours against."""
from __future__ import annotations

import numpy as np

FEATURES = ["age", "income", "loan_amount", "term_months", "credit_score", "employment_years",
            "debt_to_income"]
PURPOSES = ["car", "home", "education", "business"]


def applications(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.integers(21, 71, size=n)
    income = np.round(rng.lognormal(mean=10.9, sigma=0.45, size=n), -2)
    loan_amount = np.round(income * rng.uniform(0.1, 0.9, size=n), -2)
    term_months = rng.choice([12, 24, 36, 48, 60], size=n)
    credit_score = np.clip(rng.normal(680, 60, size=n), 300, 850).round().astype(int)
    employment_years = np.minimum(age - 18, rng.exponential(6, size=n)).round(1)
    debt_to_income = np.clip(rng.beta(2, 5, size=n) * 0.9, 0.01, 0.85).round(3)
    logit = (0.4 + 2.0 * (credit_score - 680) / 60 - 1.6 * (debt_to_income - 0.25) / 0.12
             - 1.2 * (loan_amount / income - 0.5) / 0.23)
    approved = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    purpose = rng.choice(PURPOSES, size=n, p=[0.4, 0.3, 0.2, 0.1])
    return {"applicant_id": np.arange(1, n + 1), "age": age, "income": income,
            "loan_amount": loan_amount, "term_months": term_months,
            "credit_score": credit_score, "employment_years": employment_years,
            "debt_to_income": debt_to_income, "purpose": purpose, "approved": approved}


def requests_of(data: dict[str, np.ndarray]) -> list[dict]:
    n = len(data["age"])
    return [{**{f: float(data[f][i]) if data[f].dtype.kind == "f" else int(data[f][i])
                for f in FEATURES}, "purpose": str(data["purpose"][i])} for i in range(n)]


def reference_psi(reference: np.ndarray, live: np.ndarray) -> float:
    """PSI written from its definition: the reference's deciles as bin edges (np.histogram
    bins, open at both ends), shares floored at 1e-4, sum((live - ref) * ln(live / ref))."""
    if reference.dtype.kind in "fiu":
        inner = np.unique(np.percentile(reference, np.arange(10, 100, 10)))
        edges = np.concatenate([[-np.inf], inner, [np.inf]])
        ref = np.histogram(reference, edges)[0] / reference.size
        cur = np.histogram(live, edges)[0] / live.size
    else:
        labels = sorted(set(reference.tolist()) | set(live.tolist()))
        ref = np.array([np.sum(reference == k) for k in labels]) / reference.size
        cur = np.array([np.sum(live == k) for k in labels]) / live.size
    ref, cur = np.clip(ref, 1e-4, None), np.clip(cur, 1e-4, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))
