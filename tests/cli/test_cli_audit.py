"""The audit trail from `mlprod`: actions through the CLI are recorded as the OS user (here
MLPROD_USER, which stands for it), refusals too; `mlprod audit` filters, `audit export` writes
JSON lines and `audit verify` names an edited and a deleted row (exit 1)."""
from __future__ import annotations

import json
import sqlite3

from cli_helpers import mlprod, mlprod_json, one_error_line

USER = {"MLPROD_USER": "grace"}


def test_cli_actions_are_audited_as_the_os_user_and_tampering_is_named(tmp_path, make_step):
    root = tmp_path / "proj"
    root.mkdir()
    assert mlprod("init", str(root), "--name", "audited", cwd=tmp_path).returncode == 0
    make_step(root, "a", "x = 1")
    make_step(root, "b", "y = 2", path="b.ipynb")

    assert mlprod("step", "untag", "b.ipynb", cwd=root, env=USER).returncode == 0
    assert mlprod("step", "tag", "b.ipynb", "--name", "b", cwd=root, env=USER).returncode == 0
    ran = mlprod("run", "--steps", "a", cwd=root, env=USER)
    assert ran.returncode == 0, ran.stderr
    assert mlprod("scenario", "add", "--name", "hourly", "--manual", "--steps", "a",
                  cwd=root, env=USER).returncode == 0
    one_error_line(mlprod("nodes", "remove", "ghost", cwd=root, env=USER))

    events = mlprod_json("audit", cwd=root)["events"]
    assert [(e["action"], e["outcome"], e["actor"]) for e in reversed(events)] == [
        ("step.untag", "ok", "grace"), ("step.tag", "ok", "grace"), ("run.start", "ok", "grace"),
        ("scenario.create", "ok", "grace"), ("node.remove", "refused", "grace")]
    assert events[0]["reason"] == "no registered node named 'ghost'"

    only = mlprod_json("audit", "--object", "step:b.ipynb", "--actor", "grace", "--since", "1h",
                       cwd=root)["events"]
    assert [e["action"] for e in only] == ["step.tag", "step.untag"]

    out = tmp_path / "trail.jsonl"
    assert mlprod("audit", "export", "-o", str(out), cwd=root).returncode == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3, 4, 5]
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(lines, lines[1:]))

    intact = mlprod("audit", "verify", cwd=root)
    assert intact.returncode == 0 and "intact: 5 events" in intact.stdout

    ids = [e["id"] for e in lines]
    with sqlite3.connect(root / ".mlprod" / "mlprod.db") as db:
        db.execute("UPDATE mlprod_audit_events SET actor = 'mallory' WHERE id = ?", (ids[2],))
        db.execute("DELETE FROM mlprod_audit_events WHERE id = ?", (ids[0],))
    broken = mlprod("audit", "verify", cwd=root)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"row {ids[2]} was edited" in broken.stdout
    assert f"the events at seq 1 before row {ids[1]} are missing (deleted)" in broken.stdout
    as_json = mlprod("--json", "audit", "verify", cwd=root)
    assert as_json.returncode == 1
    assert {(p["id"], p["problem"]) for p in json.loads(as_json.stdout)["problems"]} == {
        (ids[1], "deleted"), (ids[2], "edited")}

    one_error_line(mlprod("audit", "--since", "last tuesday", cwd=root))
