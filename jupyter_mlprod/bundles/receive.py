"""The target side: what a production node (or a production folder) does when a bundle
arrives: report missing blobs, receive and verify blobs, register a manifest, activate, roll
back, and show its deployments."""
from __future__ import annotations

import logging
from typing import BinaryIO, Callable

from ..clock import isoformat
from ..errors import Conflict, InvalidInput, MlprodError, NotFound
from .audit import current_user
from .blobstore import check_sha
from .manifest import parse_manifest, summary
from ..words import counted, verb

log = logging.getLogger(__name__)
MAX_HASHES = 200_000


class ReceiveMixin:
    def missing_blobs(self, hashes) -> list[str]:
        if not isinstance(hashes, list) or len(hashes) > MAX_HASHES:
            raise InvalidInput(f"hashes must be a list of at most {MAX_HASHES} sha256 values",
                               field="hashes")
        return self.blobs.missing(hashes)

    def receive_blob(self, sha: str, stream: BinaryIO | Callable[[int], bytes],
                     size: int | None = None) -> dict:
        """Store one blob; refused (nothing kept) unless its bytes hash to `sha`."""
        check_sha(sha)
        stored = self.blobs.put_stream(sha, stream, size)
        return {"sha256": sha, "size": self.blobs.size(sha), "stored": stored}

    def register_received(self, bundle_id: str, manifest_raw: bytes,
                          actor: str | None = None) -> dict:
        """Register a manifest whose blobs are all here, without activating it."""
        bundle_id = check_sha(bundle_id)
        _, manifest = parse_manifest(manifest_raw, expected_id=bundle_id, foreign=True)
        lacking = sorted({f["sha256"] for f in manifest["files"] if not self.blobs.has(f["sha256"])})
        if lacking:
            raise InvalidInput(f"{counted(len(lacking), 'blob')} of bundle {bundle_id[:12]} "
                               f"{verb(len(lacking), 'is', 'are')} not here; "
                               "upload them first", field="blobs", code="missing_blobs",
                               details={"missing": lacking[:50]})
        new = self.repo.add_bundle(self.bundle_row(bundle_id, manifest_raw, manifest, "received"),
                                   self.file_rows(manifest), self.clock.now(),
                                   audit={"action": "bundle.register", "object_type": "bundle",
                                          "object_id": bundle_id, "bundle_id": bundle_id,
                                          "actor": actor or current_user(),
                                          "details": {"origin": "received"}})
        return dict(summary(bundle_id, manifest), already_present=not new)

    def receive_deployment(self, bundle_id: str, manifest_raw: bytes | None = None, *,
                           strict: bool = False, message: str = "", actor: str | None = None,
                           details: dict | None = None, env: str = "compare") -> dict:
        """Activate a bundle here: with its manifest (checked against `bundle_id`), or one
        already registered. Refusals are audited; nothing is registered or activated."""
        actor = actor or current_user()
        manifest = None
        try:
            foreign = manifest_raw is not None
            if manifest_raw is None:  # a bundle already registered here, by id or prefix
                bundle_id, manifest_raw = self.manifest_bytes(bundle_id)
            else:
                check_sha(bundle_id)
            bundle_id, manifest = parse_manifest(manifest_raw, expected_id=bundle_id,
                                                 foreign=foreign)
            deployment = self.activator.activate(
                bundle_id, manifest_raw, manifest, action="deploy", strict=bool(strict),
                actor=actor, message=message or "", origin="received", details=details, env=env)
        except MlprodError as exc:
            self._refused("bundle.deploy", exc, actor, bundle_id, details)
            if exc.code == "out_of_space" and manifest is not None:
                # give the space back: blobs only this refused bundle needed
                self._drop_unreferenced({f["sha256"] for f in manifest["files"]})
            raise
        return self.deployment_view(deployment)

    def rollback_here(self, to: str | None = None, *, message: str = "",
                      actor: str | None = None, strict: bool = False,
                      details: dict | None = None) -> dict:
        actor = actor or current_user()
        try:
            active = self.repo.active_deployment()
            if active is None:
                raise Conflict(f"nothing is deployed on {self.node_name}; there is nothing to roll "
                               "back", field="deployment", code="nothing_deployed")
            if to:
                bundle_id = self.resolve(to)
            elif active["previous_bundle_id"]:
                bundle_id = active["previous_bundle_id"]
            else:
                raise Conflict(f"bundle {active['bundle_id'][:12]} is the first one deployed on "
                               f"{self.node_name}; there is no earlier bundle to roll back to",
                               field="to", code="no_previous_bundle")
            if bundle_id == active["bundle_id"]:
                raise Conflict(f"bundle {bundle_id[:12]} is already active", field="to",
                               code="already_active")
            _, manifest_raw = self.manifest_bytes(bundle_id)
            _, manifest = parse_manifest(manifest_raw, expected_id=bundle_id)
            deployment = self.activator.activate(
                bundle_id, manifest_raw, manifest, action="rollback", strict=bool(strict),
                actor=actor, message=message or "", origin="received", details=details,
                env=self._env_of(bundle_id))
        except MlprodError as exc:
            self._refused("deployment.rollback", exc, actor, to, details)
            raise
        return self.deployment_view(deployment)

    def _env_of(self, bundle_id: str) -> str:
        """A rollback brings back the environment the bundle last ran in here."""
        offset = 0
        while True:
            rows, total = self.repo.list_deployments(200, offset)
            for row in rows:  # newest first
                if row["bundle_id"] == bundle_id:
                    return "recreate" if (row["environment"] or {}).get("kernel") else "compare"
            offset += len(rows)
            if not rows or offset >= total:
                return "compare"

    def _refused(self, action: str, exc: MlprodError, actor: str, bundle, details) -> None:
        try:
            self.audit_log.record(action, outcome="refused", actor=actor,
                                  object_type="deployment", node=self.node_name,
                                  bundle_id=bundle if isinstance(bundle, str) and
                                  len(bundle) == 64 else None,
                                  details=dict(details or {}, code=exc.code, error=exc.message))
        except Exception:  # the refusal itself must reach the caller even if the store is down
            log.exception("could not audit a refused %s", action)

    # -- reading --------------------------------------------------------------------------
    def active(self) -> dict | None:
        row = self.repo.active_deployment()
        return self.deployment_view(row) if row else None

    def history(self, limit: int = 50, offset: int = 0) -> dict:
        rows, total = self.repo.list_deployments(limit, offset)
        return {"node": self.node_name, "active": self.active(),
                "deployments": [self.deployment_view(r) for r in rows], "total": total}

    def deployment_view(self, row: dict) -> dict:
        bundle = self.repo.get_bundle(row["bundle_id"])
        return {"id": row["id"], "node": self.node_name, "bundle_id": row["bundle_id"],
                "short_id": row["bundle_id"][:12], "previous_bundle_id": row["previous_bundle_id"],
                "action": row["action"], "status": row["status"],
                "active": row["status"] == "active", "tree": row["tree"],
                "path": str(self.root / row["tree"]), "actor": row["actor"],
                "message": row["message"] or "", "environment": row["environment"],
                "created_at": isoformat(row["created_at"]),
                "superseded_at": isoformat(row["superseded_at"]),
                "bundle": None if bundle is None else {
                    "project": bundle["project"], "message": bundle["message"] or "",
                    "author": bundle["author"], "created_at": isoformat(bundle["created_at"])}}

    def verify_deployment(self, deployment_id: int | None = None) -> dict:
        row = self.repo.active_deployment() if deployment_id is None else \
            self.repo.get_deployment(int(deployment_id))
        if row is None:
            raise NotFound("no such deployment" if deployment_id is not None else
                           "nothing is deployed here", field="deployment")
        return self.activator.verify_tree(row)

    def recover(self) -> dict:
        return self.activator.recover()
