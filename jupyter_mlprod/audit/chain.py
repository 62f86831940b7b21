"""The hash chain of audit events. Each event's hash is the sha256 of a canonical JSON of its
fields, including the previous event's hash: editing a row changes its hash, deleting one
breaks the link of the next, and the chain head (kept beside the log) catches a deleted tail.
Pure functions: the store computes hashes with them, `verify` checks rows read back."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Iterable

# Hashed fields, in the canonical order; `id` is left out (the database assigns it after the
# hash is computed) and `seq` (the per-owner position) stands in for it.
HASHED = ("owner", "seq", "at", "actor", "action", "object_type", "object_id", "node",
          "bundle_id", "previous_bundle_id", "outcome", "reason", "before_summary", "after_summary", "details",
          "host", "prev_hash")
GENESIS = "0" * 64


def _value(value):
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # SQLite hands back naive UTC
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical(row: dict) -> str:
    return json.dumps({k: _value(row.get(k)) for k in HASHED}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True, default=str)


def event_hash(row: dict) -> str:
    return hashlib.sha256(canonical(row).encode()).hexdigest()


def verify(rows: Iterable[dict], head: dict | None) -> dict:
    """Walk one owner's rows in `seq` order. Returns {"ok", "checked", "problems": [...]},
    each problem naming the row id (or the missing seq) and what is wrong."""
    problems: list[dict] = []
    prev_hash, expected_seq, checked, last = GENESIS, 1, 0, None
    for row in rows:
        checked += 1
        if row["seq"] != expected_seq:
            gap = f"seq {expected_seq}" if row["seq"] == expected_seq + 1 else \
                f"seq {expected_seq}..{row['seq'] - 1}"
            problems.append({"id": row["id"], "seq": row["seq"], "problem": "deleted",
                             "message": f"the events at {gap} before row {row['id']} are missing "
                                        "(deleted)" if row["seq"] > expected_seq else
                                        f"row {row['id']} repeats seq {row['seq']}"})
        elif row["prev_hash"] != prev_hash:
            problems.append({"id": row["id"], "seq": row["seq"], "problem": "broken_link",
                             "message": f"row {row['id']} does not follow the event before it "
                                        "(that one was edited or deleted)"})
        if event_hash(row) != row["hash"]:
            problems.append({"id": row["id"], "seq": row["seq"], "problem": "edited",
                             "message": f"row {row['id']} was edited (its hash does not match "
                                        "its content)"})
        prev_hash, expected_seq, last = row["hash"], row["seq"] + 1, row
    if head is not None and head["seq"] > 0:
        if last is None or head["seq"] != last["seq"] or head["hash"] != last["hash"]:
            after = f" after row {last['id']}" if last else ""
            problems.append({"id": None, "seq": head["seq"], "problem": "deleted",
                             "message": f"the newest events up to seq {head['seq']} are "
                                        f"missing{after} (deleted)"})
    return {"ok": not problems, "checked": checked, "problems": problems}
