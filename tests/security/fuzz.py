"""A bounded schemathesis run of the served OpenAPI document: every operation, a fixed number
of examples each, the token in a header. `python tests/security/fuzz.py [CODE_ROOT]` runs it
against the code in CODE_ROOT (default: this checkout) and prints the figures."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from served import REPO, ServedLab  # noqa: E402

CHECKS = "not_a_server_error,negative_data_rejection,response_schema_conformance"
EXAMPLES = 25


def run_fuzz(workdir: Path, *, code_root: Path = REPO, examples: int = EXAMPLES,
             seed: int = 1, max_time: int = 200) -> dict:
    """Serve, fuzz, and return the figures: {"requests", "failures": Counter by check,
    "server_errors", "accepted_violations", "details": [...], "returncode"}."""
    workdir = Path(workdir)
    report = workdir / "report.json"
    ndjson = workdir / "events.ndjson"
    with ServedLab(workdir, code_root=code_root) as lab:
        st = Path(sys.executable).with_name("st")
        args = [str(st), "run", lab.url("openapi.json"), "--url", lab.url(""),
                "-H", f"Authorization: token {lab.token}", "--checks", CHECKS,
                "--max-examples", str(examples), "--seed", str(seed), "--workers", "2",
                "--request-timeout", "20", "--no-shrink", "--max-time", str(max_time),
                "--phases", "examples,coverage,fuzzing",
                "--suppress-health-check", "all", "--continue-on-failure",
                "--report", "json,ndjson", "--report-json-path", str(report),
                "--report-ndjson-path", str(ndjson), "--output-truncate", "true"]
        env = dict(os.environ, SCHEMATHESIS_HOOKS="", NO_COLOR="1")
        done = subprocess.run(args, cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=max_time + 120)
        (workdir / "st.out").write_text(done.stdout + done.stderr)
    return summarise(report, ndjson, done.returncode)


def summarise(report: Path, ndjson: Path, returncode: int) -> dict:
    data = json.loads(report.read_text()) if report.exists() else {}
    failures: Counter = Counter()
    details: list[str] = []
    for failure in _failures(data):
        failures[failure["check"]] += 1
        details.append(f"{failure['check']}: {failure['label']} -> {failure.get('status')}")
    return {"requests": _requests(ndjson), "failures": failures,
            "server_errors": failures["not_a_server_error"],
            "accepted_violations": failures["negative_data_rejection"],
            "details": details, "returncode": returncode, "report": data}


def _failures(data: dict):
    # schemathesis' JSON report: operations with their failed checks
    for op in data.get("operations", []) if isinstance(data, dict) else []:
        if not isinstance(op, dict):
            continue
        for failure in op.get("failures", []):
            yield {"check": failure.get("check") or failure.get("name"),
                   "label": op.get("label"), "status": failure.get("status_code")}


def _requests(ndjson: Path) -> int:
    count = 0
    if ndjson.exists():
        for line in ndjson.read_text().splitlines():
            count += line.count('"request":')
    return count


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    figures = run_fuzz(work, code_root=root)
    print(json.dumps({k: v for k, v in figures.items() if k != "report"}, indent=1,
                     default=str))
    print("work folder:", work)
