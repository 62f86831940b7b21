"""File / dataset change: paths or globs under the project, fired when their CONTENT changes
(sha256 through the shared FileHasher; a touch that keeps the bytes is not a change)."""
from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath

from ...errors import InvalidInput
from .base import PollEnv, TriggerError, TriggerType

_MAX_LISTED = 1000   # per-file digests kept for "what changed" (the fingerprint covers all)


class FilesTrigger(TriggerType):
    kind = "files"
    keys = ("type", "paths", "poll")
    polled = True

    def normalize(self, raw, field, ctx):
        from ..scenarios import number

        problems = ctx.problems
        paths = raw.get("paths")
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not paths:
            problems.error(f"{field}.paths", "paths must list files, folders or globs under the "
                           "project, e.g. [\"data/raw.csv\", \"data/*.parquet\"]")
            paths = []
        clean = []
        for i, path in enumerate(paths):
            problem = path_problem(path)
            if problem:
                problems.error(f"{field}.paths[{i}]", problem)
            else:
                clean.append(PurePosixPath(path.replace("\\", "/")).as_posix())
        poll = number(raw, "poll", field, problems, 10, 1, 86400, integer=False)
        return {"type": "files", "paths": clean, "poll": poll}

    def describe(self, spec):
        return f"when {', '.join(spec['paths'])} change (checked every {spec['poll']:g} s)"

    def check(self, spec, field, ctx):
        from ...hashing import FileHasher

        env = PollEnv(ctx.root, FileHasher(ctx.root, None), ctx.environ)
        try:
            value, state = self.fingerprint(spec, env)
        except TriggerError as exc:
            ctx.problems.error(f"{field}.paths", exc.message)
            return None
        if not state["count"]:
            ctx.problems.warn(f"{field}.paths", "no file matches yet; the trigger fires when "
                              "one appears")
        return value, state

    def poll_seconds(self, spec):
        return float(spec["poll"])

    def fingerprint(self, spec, env: PollEnv):
        try:
            digests = env.hasher.digest_patterns(spec["paths"])
        except OSError as exc:   # a file vanished or became unreadable mid-scan
            raise TriggerError(f"cannot read {exc.filename or 'a file'}: {exc.strerror}",
                               "paths") from None
        except InvalidInput as exc:  # a symlink out of the project
            raise TriggerError(exc.message, "paths") from None
        value = hashlib.sha256(json.dumps(sorted(digests.items())).encode()).hexdigest()
        state = {"count": len(digests)}
        if len(digests) <= _MAX_LISTED:
            state["files"] = digests
        return value, state

    def changes(self, old_state, new_state):
        old = (old_state or {}).get("files")
        new = (new_state or {}).get("files")
        if old is None or new is None:
            return {"files": (new_state or {}).get("count")}
        return {"added": sorted(set(new) - set(old))[:50],
                "removed": sorted(set(old) - set(new))[:50],
                "changed": sorted(p for p in set(old) & set(new) if old[p] != new[p])[:50]}


def path_problem(path) -> str | None:
    if not isinstance(path, str) or not path.strip():
        return "a path must be a non-empty string"
    posix = path.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return f"{path!r} is absolute; give a path relative to the project folder"
    if ".." in PurePosixPath(posix).parts:
        return f"{path!r} leaves the project folder"
    return None
