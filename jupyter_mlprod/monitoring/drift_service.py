"""DriftService: reference profiles of endpoint versions, drift reports over windows of the
prediction log, their recording as endpoint-version metrics, checks on them, and the batch
comparison of a table with the reference of a deployed version.

The scoring notebook declares its reference in its metadata (see README, "Monitoring"):

    "mlprod-monitoring": {"reference": "data/train.csv", "label": "approved",
                          "prediction": "probability", "exclude": ["applicant_id"],
                          "min_rows": 100, "reference_requests": 500}

Without `reference`, the first `reference_requests` logged requests become the reference."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from ..clock import Clock, isoformat
from ..errors import InvalidInput, NotFound
from .checks import evaluate, parse_checks, worst
from .drift_profile import as_column, build_profile, read_table
from .drift_stats import compare, empty
from .live_performance import performance
from .prediction_columns import FEATURE, OUTPUT, ColumnLog

METADATA_KEY = "mlprod-monitoring"
DEFAULTS = {"reference": None, "label": None, "prediction": None, "exclude": [],
            "min_rows": 100, "reference_requests": 500}
DEFAULT_WINDOW = "1000"
DATASET_THRESHOLD = 0.5   # Evidently: the dataset drifts when >= 50% of its columns do
_WINDOW = re.compile(r"^([1-9][0-9]{0,6})(h?)$")
COMPARED = ("ok", "warning", "error")


def parse_window(window) -> dict:
    text = DEFAULT_WINDOW if window is None else str(window).strip()
    found = _WINDOW.match(text)
    if not found:
        raise InvalidInput(f"window must be a number of requests (1000) or of hours (1h), got "
                           f"{window!r}", field="window")
    return {"kind": "hours" if found.group(2) else "requests", "size": int(found.group(1))}


def monitoring_config(notebook: Path) -> dict:
    """The notebook's `mlprod-monitoring` metadata, checked (field names it on error)."""
    try:
        meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        meta = {}
    raw = meta.get(METADATA_KEY) or {}
    if isinstance(raw, str):
        raw = {"reference": raw}
    if not isinstance(raw, dict):
        raise InvalidInput(f"notebook metadata {METADATA_KEY} must be an object",
                           field=METADATA_KEY)
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise InvalidInput(f"{METADATA_KEY}.{unknown[0]}: unknown key (known: "
                           f"{', '.join(DEFAULTS)})", field=f"{METADATA_KEY}.{unknown[0]}")
    config = dict(DEFAULTS, **raw)
    for key in ("reference", "label", "prediction"):
        if config[key] is not None and not isinstance(config[key], str):
            raise InvalidInput(f"{METADATA_KEY}.{key} must be a string", field=f"{METADATA_KEY}.{key}")
    for key in ("min_rows", "reference_requests"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput(f"{METADATA_KEY}.{key} must be a whole number >= 1",
                               field=f"{METADATA_KEY}.{key}")
    return config


class DriftService:
    def __init__(self, repo, endpoint_repo, root: Path, log_dir: Path, clock: Clock):
        self.repo = repo
        self.endpoint_repo = endpoint_repo
        self.root = Path(root)
        self.log = ColumnLog(log_dir)
        self.clock = clock

    # -- reference profiles -----------------------------------------------------------------
    def make_reference(self, endpoint: str, version: str, notebook: Path, workdir: Path) -> dict:
        """Called when a version is created: profile its declared dataset, or remember to
        profile its first logged requests."""
        from ..paths import resolve_inside

        row = self._endpoint(endpoint)
        config = monitoring_config(notebook)
        profile = {"source": "pending", "n": 0, "columns": {}, "prediction": None}
        if config["reference"]:
            path = resolve_inside(workdir, config["reference"], f"{METADATA_KEY}.reference")
            if not path.is_file():   # not written yet: the first logged requests stand in
                profile["detail"] = f"{config['reference']} did not exist when {version} was made"
                profile["config"] = config
                self.repo.save_profile(row["id"], version, profile, self.clock.now())
                return profile
            try:
                table = read_table(path)
            except (OSError, ValueError) as exc:   # pandas' parser errors are ValueErrors
                raise InvalidInput(f"{METADATA_KEY}.reference: {config['reference']} cannot be "
                                   f"read as a table: {exc}", field=f"{METADATA_KEY}.reference") \
                    from None
            prediction = table.pop(config["prediction"], None) if config["prediction"] else None
            for name in [config["label"], *config["exclude"]]:
                table.pop(name, None)
            profile = build_profile(table, prediction=prediction, source="dataset",
                                    detail=config["reference"])
        profile["config"] = config
        self.repo.save_profile(row["id"], version, profile, self.clock.now())
        return profile

    def _profile(self, row: dict, version: str) -> dict | None:
        profile = self.repo.profile(row["id"], version)
        if profile is None:   # a version made before drift monitoring existed
            profile = {"source": "pending", "n": 0, "columns": {}, "prediction": None}
        config = profile.get("config") or dict(DEFAULTS)
        wanted = config["reference_requests"]
        if profile["source"] == "pending" or profile.get("prediction") is None:
            first = self.log.first(row["name"], version, wanted)
            if first and first["__id"].size >= wanted:
                field = self._prediction_field(config, first)
                prediction = first.get(OUTPUT + field) if field is not None else None
                if profile["source"] == "pending":
                    columns = {k[len(FEATURE):]: v for k, v in first.items()
                               if k.startswith(FEATURE) and k[len(FEATURE):] not in
                               [config["label"], *config["exclude"]]}
                    profile = dict(build_profile(columns, prediction=prediction,
                                                 source="requests",
                                                 detail=f"first {wanted} logged requests"),
                                   config=config)
                elif prediction is not None:
                    from .drift_profile import profile_column

                    profile = dict(profile, prediction=profile_column(prediction),
                                   prediction_source=f"first {wanted} logged requests")
                self.repo.save_profile(row["id"], version, profile, self.clock.now())
        return profile

    @staticmethod
    def _prediction_field(config: dict, table: dict) -> str | None:
        if config.get("prediction"):
            return config["prediction"]
        numeric = [k[len(OUTPUT):] for k, v in table.items()
                   if k.startswith(OUTPUT) and v.dtype.kind == "f"]
        return numeric[0] if numeric else None

    # -- reports ----------------------------------------------------------------------------
    def report(self, endpoint: str, *, version: str | None = None, window=None) -> dict:
        row = self._endpoint(endpoint)
        version = self._version(row, version)
        spec = parse_window(window)
        profile = self._profile(row, version)
        if spec["kind"] == "hours":
            table = self.log.window(endpoint, version, hours=spec["size"],
                                    now=self.clock.now().timestamp())
        else:
            table = self.log.window(endpoint, version, last=spec["size"])
        config = (profile or {}).get("config") or dict(DEFAULTS)
        out = self.compare_table(profile, {k[len(FEATURE):]: v for k, v in table.items()
                                           if k.startswith(FEATURE)}, config)
        field = self._prediction_field(config, table)
        prediction = None
        if field is not None and profile and profile.get("prediction") and \
                OUTPUT + field in table:
            prediction = compare(field, profile["prediction"], table[OUTPUT + field],
                                 config["min_rows"])
        perf = None
        labels = self.repo.labels(row["id"], version) if table else {}
        if labels and field is not None and OUTPUT + field in table:
            ids = table["__id"]
            known = np.array([labels.get(i, np.nan) for i in ids.tolist()])
            has = ~np.isnan(known)
            if has.any():
                perf = performance(table[OUTPUT + field][has], known[has])
        return dict(out, endpoint=endpoint, version=version, window=spec,
                    prediction=prediction, performance=perf)

    def compare_table(self, profile: dict | None, columns: dict[str, np.ndarray],
                      config: dict) -> dict:
        """The drift part of a report: `columns` (name -> array) against `profile`."""
        min_rows = config["min_rows"]
        n_live = max((c.size for c in columns.values()), default=0)
        skip = {config.get("label"), *config.get("exclude", [])}
        reference = (profile or {}).get("columns", {})
        live_names = [n for n in columns if n not in skip]
        names = [n for n in reference if n in columns or not columns] + \
                [n for n in live_names if n not in reference]
        features = []
        for name in names:
            if name not in reference:
                kind = "numeric" if columns[name].dtype.kind == "f" else "categorical"
                features.append(empty(name, kind, "missing_in_reference"))
                continue
            live = columns.get(name)
            if live is None:
                live = np.array([], dtype=np.float64 if reference[name]["type"] == "numeric" else str)
            features.append(compare(name, reference[name], live, min_rows))
        compared = [f for f in features if f["status"] in COMPARED]
        share = sum(f["drift"] for f in compared) / len(compared) if compared else 0.0
        message = None
        if profile is None or not reference:
            message = "no reference profile yet (it is made from the first " \
                      f"{config['reference_requests']} logged requests)"
        elif n_live < min_rows:
            message = f"not enough data (n < {min_rows})"
        return {"n_reference": int((profile or {}).get("n", 0)), "n_live": int(n_live),
                "min_rows": min_rows, "message": message,
                "dataset": {"drift": bool(compared) and share >= DATASET_THRESHOLD,
                            "share": share, "threshold": DATASET_THRESHOLD},
                "features": features}

    # -- recording and checks ---------------------------------------------------------------
    def evaluate(self, endpoint: str, *, version: str | None = None, window=None,
                 checks=None, alarm: str | None = None) -> dict:
        """Compute a report, record its figures as metrics of the version, judge `checks` on
        them; `alarm` names a metric recording 1 when a check fails (a trigger's onsets)."""
        checks = parse_checks(checks, "checks") if checks is not None else ()
        report = self.report(endpoint, version=version, window=window)
        values = report_metrics(report)
        results = [evaluate(i, c, values.get(c["metric"]),
                            missing_reason=None if c["metric"] in values else
                            "was not computed (unknown feature, or not enough data)",
                            previous=None).to_dict() for i, c in enumerate(checks)]
        outcome = worst(r["outcome"] for r in results)
        if alarm:
            values[alarm] = 1.0 if outcome == "ERROR" else 0.0
        row = self._endpoint(endpoint)
        self.repo.record_metrics(row["id"], report["version"], values, self.clock.now())
        return {"report": report, "checks": results, "outcome": outcome}

    def history(self, endpoint: str, *, version: str | None = None,
                feature: str | None = None) -> dict:
        row = self._endpoint(endpoint)
        version = self._version(row, version)
        if feature is not None and (not isinstance(feature, str) or not 0 < len(feature) <= 200):
            raise InvalidInput("feature must be a feature name", field="feature")
        prefix = f"drift:{feature}:" if feature else "drift:"
        points: dict = {}
        for m in self.repo.metrics(row["id"], version, prefix):
            _, name, stat = m["name"].rsplit(":", 2) if m["name"].count(":") >= 2 else ("", "", "")
            if not name or name == "dataset":
                continue
            key = (m["at"], name)
            point = points.setdefault(key, {"at": isoformat(m["at"]), "feature": name,
                                            "psi": None, "statistic": None, "drift": False})
            if stat in ("psi", "statistic"):
                point[stat] = m["value"]
            elif stat == "drift":
                point["drift"] = bool(m["value"])
        return {"endpoint": endpoint, "version": version, "points": list(points.values())}

    def alarm_onset(self, endpoint: str, version: str | None, alarm: str) -> str:
        """When the alarm metric last went from 0 (or nothing) to 1: a drift trigger's
        fingerprint, unchanged while drift lasts or after it ends."""
        row = self._endpoint(endpoint)
        version = self._version(row, version)
        onset, before = "none", 0.0
        for m in self.repo.metrics(row["id"], version, alarm):
            if m["name"] != alarm:
                continue
            if m["value"] and not before:
                onset = isoformat(m["at"])
            before = m["value"] or 0.0
        return onset

    # -- batch ------------------------------------------------------------------------------
    def check_table(self, endpoint: str, table_path: Path, *, version: str | None = None) -> dict:
        """A table (e.g. a batch step's input) against the reference of a version (default:
        the primary one of the endpoint)."""
        row = self._endpoint(endpoint)
        version = self._version(row, version)
        profile = self._profile(row, version)
        config = (profile or {}).get("config") or dict(DEFAULTS)
        columns = read_table(table_path)
        out = self.compare_table(profile, columns, config)
        return dict(out, endpoint=endpoint, version=version)

    def before_step(self, run_id: int, step) -> str | None:
        """The run service asks before a step with a `drift` check starts."""
        from .drift_batch import refusal

        return refusal(self, self.root, step)

    # -- helpers ----------------------------------------------------------------------------
    def _endpoint(self, name) -> dict:
        row = self.endpoint_repo.get_endpoint(name) if isinstance(name, str) else None
        if row is None:
            raise NotFound(f"endpoint {name!r} does not exist", field="name")
        return row

    def _version(self, row: dict, version: str | None) -> str:
        versions = [v["version"] for v in self.endpoint_repo.list_versions(row["id"])]
        if version is None:
            from ..serving.traffic import primary_version

            if not row["traffic"]:
                raise NotFound(f"endpoint {row['name']!r} has no version taking traffic",
                               field="version")
            return primary_version(row["traffic"])
        if version not in versions:
            raise NotFound(f"endpoint {row['name']!r} has no version {version!r}",
                           field="version")
        return version


def report_metrics(report: dict) -> dict[str, float | None]:
    """A report's figures as metric names: drift:<feature>:psi|statistic|drift|p_value,
    drift:prediction:..., drift:dataset:share|drift, perf:accuracy|auc|labels."""
    values: dict[str, float | None] = {}
    features = list(report["features"])
    if report.get("prediction"):
        features.append(dict(report["prediction"], name="prediction"))
    for f in features:
        if f["status"] not in COMPARED:
            continue
        base = f"drift:{f['name']}:"
        values[base + "psi"] = f["psi"]
        values[base + "statistic"] = f["statistic"] if f["statistic"] is None or \
            math.isfinite(f["statistic"]) else None
        values[base + "drift"] = 1.0 if f["drift"] else 0.0
        if f["p_value"] is not None:
            values[base + "p_value"] = f["p_value"]
    if report["message"] is None:
        values["drift:dataset:share"] = report["dataset"]["share"]
        values["drift:dataset:drift"] = 1.0 if report["dataset"]["drift"] else 0.0
    perf = report.get("performance")
    if perf:
        values["perf:labels"] = float(perf["labels"])
        for key in ("accuracy", "auc"):
            if perf[key] is not None:
                values[f"perf:{key}"] = perf[key]
    return values


def columns_from_records(records: list[dict]) -> dict[str, np.ndarray]:
    names = list(dict.fromkeys(k for r in records for k in r))
    return {n: as_column([r.get(n) for r in records]) for n in names}
