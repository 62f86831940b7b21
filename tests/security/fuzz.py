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
# Starting a serving server is a process with a warm-up each: a few are enough to prove the
# route answers well, and dozens would only eat the run's time budget.
# The coverage phase enumerates every boundary case of a schema, unbounded by max-examples:
# for the three scenario-spec operations that is ~540 cases each, two thirds of the run, so
# those get the examples and the 25 fuzzed cases only.
CONFIG = """
[[operations]]
include-name = "POST /servers"
generation.max-examples = 4
phases.coverage.enabled = false

[[operations]]
include-name-regex = '^(POST /scenarios|POST /scenarios/validate|PUT /scenarios/[{]id[}])$'
phases.coverage.enabled = false
"""


def run_fuzz(workdir: Path, *, code_root: Path = REPO, examples: int = EXAMPLES,
             seed: int = 1, max_time: int = 600) -> dict:
    """Serve, fuzz, and return the figures: {"requests", "failures": Counter by check,
    "server_errors", "accepted_violations", "details": [...], "returncode"}."""
    workdir = Path(workdir)
    report = workdir / "report.json"
    ndjson = workdir / "events.ndjson"
    with ServedLab(workdir, code_root=code_root) as lab:
        st = Path(sys.executable).with_name("st")
        config = workdir / "schemathesis.toml"
        config.write_text(CONFIG)
        args = [str(st), "--config-file", str(config), "run", lab.url("openapi.json"), "--url", lab.url(""),
                "-H", f"Authorization: token {lab.token}", "--checks", CHECKS,
                "--max-examples", str(examples), "--seed", str(seed), "--workers", "2",
                "--request-timeout", "20", "--no-shrink",
                "--phases", "examples,coverage,fuzzing",
                "--suppress-health-check", "all", "--continue-on-failure",
                "--report", "json,ndjson", "--report-json-path", str(report),
                "--report-ndjson-path", str(ndjson), "--output-truncate", "true"]
        env = dict(os.environ, SCHEMATHESIS_HOOKS="", NO_COLOR="1")
        done = subprocess.run(args, cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=max_time)
        (workdir / "st.out").write_text(done.stdout + done.stderr)
    return summarise(report, ndjson, done.returncode)


def summarise(report: Path, ndjson: Path, returncode: int) -> dict:
    """Figures from the run's event stream: requests sent, and each failed check with the
    request that failed it (operation, status, first bytes of the answer)."""
    failures: Counter = Counter()
    details: list[str] = []
    requests = 0
    for line in ndjson.read_text().splitlines() if ndjson.exists() else []:
        try:
            event = json.loads(line)
        except ValueError:  # a last line cut short (the run was stopped while writing)
            continue
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished.get("recorder") or {}
        requests += sum(1 for i in (recorder.get("interactions") or {}).values()
                        if i.get("response") is not None)
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check.get("status") != "failure":
                    continue
                failures[check["name"]] += 1
                case = (recorder.get("cases") or {}).get(case_id, {}).get("value", {})
                response = (recorder.get("interactions") or {}).get(case_id, {}).get("response")
                details.append(f"{check['name']}: {case.get('method')} {case.get('path')} "
                               f"path={case.get('path_parameters')} query={case.get('query')} "
                               f"body={str(case.get('body'))[:120]} -> "
                               f"{(response or {}).get('status_code')}")
    data = json.loads(report.read_text()) if report.exists() and report.stat().st_size else {}
    return {"requests": requests, "failures": failures,
            "server_errors": failures["not_a_server_error"],
            "accepted_violations": failures["negative_data_rejection"],
            "details": details, "returncode": returncode,
            "complete": data.get("complete"), "stop_reason": data.get("stop_reason"),
            "operations": (data.get("operations") or {}).get("tested"), "report": data}


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    figures = run_fuzz(work, code_root=root)
    print(json.dumps({k: v for k, v in figures.items() if k != "report"}, indent=1,
                     default=str))
    print("work folder:", work)
