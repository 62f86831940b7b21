"""Where a bundle is deployed: a production project folder on this machine (LocalTarget) or a
node's URL with its token (RemoteTarget, through NodeClient). Both offer the same steps, so
`push()` is one flow: compare environments, upload only the missing blobs, activate."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ..errors import Conflict, InvalidInput
from .client import NodeClient
from .environment import compare


class LocalTarget:
    """A production project folder: its own `.mlprod/` blob store and store. If an `mlprod
    node` daemon serves that folder, it notices the new active deployment within seconds."""

    kind = "folder"

    def __init__(self, folder: Path, clock=None):
        from ..project import Project

        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise InvalidInput(f"target folder {folder} does not exist", field="target")
        self.project = Project(folder, **({"clock": clock} if clock else {}))
        self.service = self.project.bundles
        self.name = self.service.node_name
        self.address = str(self.project.root)

    def environment(self) -> dict:
        from .environment import current_lock

        return current_lock()

    def missing(self, hashes: list[str]) -> list[str]:
        return self.service.missing_blobs(hashes)

    def upload(self, sha: str, path: Path) -> None:
        with open(path, "rb") as handle:
            self.service.receive_blob(sha, handle, os.path.getsize(path))

    def deploy(self, bundle_id, manifest_raw, *, strict, message, actor, env="compare") -> dict:
        return self.service.receive_deployment(bundle_id, manifest_raw, strict=strict,
                                               message=message, actor=actor, env=env)

    def rollback(self, to, *, message, actor, strict=False) -> dict:
        return self.service.rollback_here(to, message=message, actor=actor, strict=strict)

    def deployments(self, limit: int = 50, offset: int = 0) -> dict:
        return self.service.history(limit, offset)

    def close(self) -> None:
        self.project.close()


class RemoteTarget:
    kind = "node"

    def __init__(self, url: str, token: str, name: str | None = None):
        self.client = NodeClient(url, token)
        self.address = self.client.url
        self.name = name or self.client.url

    def environment(self) -> dict:
        return self.client.environment()

    def missing(self, hashes):
        return self.client.missing(hashes)

    def upload(self, sha, path):
        self.client.upload(sha, path)

    def deploy(self, bundle_id, manifest_raw, *, strict, message, actor, env="compare"):
        return self.client.deploy(bundle_id, manifest_raw, strict=strict, message=message,
                                  actor=actor, env=env)

    def rollback(self, to, *, message, actor, strict=False):
        return self.client.rollback(to, message=message, actor=actor, strict=strict)

    def deployments(self, limit=50, offset=0):
        return self.client.deployments(limit, offset)

    def close(self) -> None:
        pass


def push(target, blobs, bundle_id: str, manifest_raw: bytes, manifest: dict, *, strict: bool,
         message: str, actor: str, progress: Callable[[dict], None] | None = None,
         env: str = "compare") -> dict:
    """Deploy to a target: 1) environment check (strict refuses before any upload), 2) upload
    only the missing blobs (the target verifies each hash on receipt), 3) activate (the target
    verifies every file again while writing its tree, then switches atomically)."""
    progress = progress or (lambda event: None)
    report = compare(manifest["environment"], target.environment())
    progress({"phase": "environment", "ok": report["ok"], "problems": report["problems"]})
    if strict and not report["ok"] and env != "recreate":
        raise Conflict("the target's environment does not match the bundle's lock (strict "
                       "mode): " + "; ".join(report["problems"]), field="environment",
                       code="environment_mismatch", details={"environment": report})
    sizes = {}
    for f in manifest["files"]:
        sizes[f["sha256"]] = f["size"]
    missing = target.missing(sorted(sizes))
    total = sum(sizes[s] for s in missing)
    sent = 0
    progress({"phase": "upload", "blobs": len(missing), "bytes": total, "sent": 0})
    for i, sha in enumerate(missing, 1):
        target.upload(sha, blobs.path(sha))
        sent += sizes[sha]
        progress({"phase": "upload", "blobs": len(missing), "done": i, "bytes": total,
                  "sent": sent})
    progress({"phase": "activate"})
    deployment = target.deploy(bundle_id, manifest_raw, strict=strict, message=message,
                               actor=actor, env=env)
    return {"deployment": deployment, "uploaded_blobs": len(missing), "uploaded_bytes": total,
            "reused_blobs": len(sizes) - len(missing), "environment": report}
