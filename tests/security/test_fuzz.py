"""The repeatable audit: a bounded schemathesis run of the served OpenAPI document, with the
token, every operation, 25 examples each (phases examples, coverage and fuzzing), against a real
Jupyter server on a throw-away one-step project. It must end with no 5xx and no request that
breaks the schema accepted."""
from __future__ import annotations

from fuzz import EXAMPLES, run_fuzz


def test_fuzzing_the_contract_finds_no_server_error_and_no_accepted_violation(tmp_path):
    figures = run_fuzz(tmp_path, examples=EXAMPLES)
    summary = "\n".join(figures["details"][:40])
    assert figures["operations"] and figures["operations"] >= 50, figures["report"]
    assert figures["requests"] > 1000, figures["requests"]  # the run really happened
    assert figures["server_errors"] == 0, summary
    assert figures["accepted_violations"] == 0, summary
    assert figures["failures"]["response_schema_conformance"] == 0, summary
