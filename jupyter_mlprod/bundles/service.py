"""BundleService: every bundle action, once. Reached through `project.bundles`.

Design side: preview, create, list, show, diff, verify, export, import, environment check,
registered nodes, deploy to a folder or a node URL, roll back a target, its history.
Target side (a production project folder, or the `mlprod node` daemon on top of one): missing
blobs, receive a blob, register a manifest, activate, roll back, history, audit."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import os
import re
import shutil
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..audit import audited
from ..clock import as_utc, isoformat
from ..errors import InvalidInput, NotFound
from ..masking import mask_scenario
from ..settings import CONFIG_FILE
from ..store.bundles import BundleRepository
from .audit import current_user
from .blobstore import BlobStore
from .collect import collect
from .deploy import Activator
from .diff import diff_manifests
from .receive import ReceiveMixin
from .remote import DeployMixin
from .environment import compare, current_lock, requirements_text
from .manifest import FORMAT, bundle_id_of, canonical_bytes, parse_manifest, summary
from ..words import counted, verb
from .manifest_contents import check_contents

log = logging.getLogger(__name__)


class BundleService(DeployMixin, ReceiveMixin):
    def __init__(self, project):
        self.project = project
        self.root: Path = project.root
        self.clock = project.clock
        settings = project.settings
        self.node_name = settings.name
        self.blobs = BlobStore(settings.state_dir / "blobs")
        self.repo = BundleRepository(project.engine, settings.name)
        self.audit_log = self.audit_trail = project.audit_trail
        self.activator = Activator(self)
        self.config = _node_config(self.root)

    @property
    def strict_environment(self) -> bool:
        return bool(self.config.get("strict_environment")) or \
            os.environ.get("MLPROD_NODE_STRICT", "") in ("1", "true", "yes")

    # -- creating -------------------------------------------------------------------------
    def preview(self) -> dict:
        """What `create` would put in, with sizes, without storing anything."""
        col = collect(self.project)
        hasher = self.project.runs.hasher
        files, total, maybe_new = [], 0, 0
        for rel, kind in col.files.items():
            if rel in col.replaced:  # bundled without its secrets
                size, sha = len(col.replaced[rel]), hashlib.sha256(col.replaced[rel]).hexdigest()
            else:
                stat = (self.root / rel).stat()
                size, sha = stat.st_size, hasher.cached(rel, stat)
            status = "stored" if sha and self.blobs.has(sha) else "new" if sha else "unknown"
            if status != "stored":
                maybe_new += size
            total += size
            files.append({"path": rel, "kind": kind, "size": size, "status": status})
        lock = current_lock()
        return {"project": self.project.settings.name, "files": files, "file_count": len(files),
                "total_size": total, "new_bytes_at_most": maybe_new,
                "steps": [s["name"] for s in col.pipeline.get("steps", [])],
                "scenario_count": len(col.scenarios), "endpoint_count": len(col.endpoints),
                "git": col.git, "notes": col.notes, "secrets_stripped": col.stripped,
                "environment": {"python": lock["python"], "platform": lock["platform"],
                                "package_count": len(lock["packages"])}}

    @audited("bundle.create", "bundle", lambda *a, **k: None)
    def create(self, message: str = "", author: str | None = None,
               metrics: dict | None = None) -> dict:
        """`metrics`: those of the run that produced the bundle's models ({"run_id", "values"}),
        kept in the manifest so a target running it has a champion's metrics to compare."""
        if not isinstance(message, str):
            raise InvalidInput("message must be text", field="message")
        col = collect(self.project)
        files, added = [], []
        try:
            new_bytes = self._store_files(col.files, files, added, col.replaced)
            manifest = {"format": FORMAT, "project": self.project.settings.name,
                        "created_at": isoformat(self.clock.now()),
                        "author": author or current_user(), "message": message.strip(),
                        "git": col.git, "parent": self.repo.latest_bundle_id(), "files": files,
                        "pipeline": col.pipeline, "scenarios": col.scenarios,
                        "endpoints": col.endpoints, "environment": current_lock(),
                        "notes": col.notes}
            if metrics:
                manifest["metrics"] = metrics
            check_contents(manifest)  # what a node would refuse is refused here, first
            raw = canonical_bytes(manifest)
            bundle_id = bundle_id_of(raw)
            self.repo.add_bundle(self.bundle_row(bundle_id, raw, manifest, "created"),
                                 self.file_rows(manifest), self.clock.now(),
                                 audit={"action": "bundle.create", "object_type": "bundle",
                                        "object_id": bundle_id, "bundle_id": bundle_id,
                                        "actor": manifest["author"],
                                        "details": {"message": manifest["message"],
                                                    "files": len(files), "new_bytes": new_bytes}})
        except BaseException:
            self._drop_unreferenced(added)
            raise
        view = self.show(bundle_id)
        view.update(new_bytes=new_bytes, new_blobs=len(added))
        return view

    def _store_files(self, wanted: dict[str, str], files: list, added: list,
                     replaced: dict[str, bytes] | None = None) -> int:
        """Fill `files` (manifest entries, in order) and `added` (new blobs). Unchanged files
        cost one stat (the hash cache); the others are hashed while being copied, in parallel,
        and made durable together at the end. `replaced` files are stored with the content
        given (their text without secrets), not the one on disk."""
        hasher = self.project.runs.hasher
        entries, todo, new_bytes = {}, [], 0
        for rel, data in (replaced or {}).items():
            sha = hashlib.sha256(data).hexdigest()
            entries[rel] = {"path": rel, "sha256": sha, "size": len(data), "kind": wanted[rel]}
            if self.blobs.put_stream(sha, io.BytesIO(data), len(data)):
                added.append(sha)
                new_bytes += len(data)
        for rel, kind in wanted.items():
            if rel in entries:
                continue
            stat = (self.root / rel).stat()
            sha = hasher.cached(rel, stat)
            entries[rel] = {"path": rel, "sha256": sha, "size": stat.st_size, "kind": kind}
            if not (sha and self.blobs.has(sha)):
                todo.append((rel, stat))

        def ingest(item):
            rel, stat = item
            path = self.root / rel
            sha, size, new = self.blobs.ingest_file(path, durable=False)
            after = path.stat()
            if (after.st_size, after.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                raise InvalidInput(f"{rel} changed while it was being bundled; try again when it "
                                   "is no longer being written", field="files", code="file_changed")
            return rel, after, sha, size, new

        with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
            for rel, after, sha, size, new in pool.map(ingest, todo):
                hasher.remember(rel, after, sha)
                entries[rel].update(sha256=sha, size=size)
                if new:
                    added.append(sha)
                    new_bytes += size
        self.blobs.sync(added)
        hasher.save()
        files.extend(entries[rel] for rel in wanted)
        return new_bytes

    def bundle_row(self, bundle_id: str, raw: bytes, manifest: dict, origin: str) -> dict:
        created = dt.datetime.fromisoformat(manifest["created_at"].replace("Z", "+00:00"))
        return {"bundle_id": bundle_id, "project": manifest["project"][:200],
                "created_at": as_utc(created), "registered_at": self.clock.now(),
                "author": (manifest.get("author") or "")[:200], "message": manifest.get("message"),
                "origin": origin, "file_count": len(manifest["files"]),
                "total_size": sum(f["size"] for f in manifest["files"]),
                "manifest": raw.decode("utf-8")}

    @staticmethod
    def file_rows(manifest: dict) -> list[dict]:
        return [{"path": f["path"], "sha256": f["sha256"], "size": f["size"], "kind": f["kind"]}
                for f in manifest["files"]]

    # -- reading --------------------------------------------------------------------------
    def resolve(self, ref: str) -> str:
        if not isinstance(ref, str) or not ref.strip():
            raise InvalidInput("give a bundle id (or a unique prefix of at least 4 characters)",
                               field="bundle")
        ref = ref.strip().lower()
        if ref == "latest":
            latest = self.repo.latest_bundle_id()
            if not latest:
                raise NotFound("there are no bundles yet", field="bundle", code="unknown_bundle")
            return latest
        if not re.fullmatch(r"[0-9a-f]{4,64}", ref):
            raise InvalidInput(f"{ref!r} is not a bundle id (hex digits)", field="bundle")
        matches = self.repo.find_bundle_ids(ref)
        if not matches:
            raise NotFound(f"unknown bundle {ref!r}", field="bundle", code="unknown_bundle")
        if len(matches) > 1:
            raise InvalidInput(f"bundle prefix {ref!r} is ambiguous; give more characters",
                               field="bundle", code="ambiguous_bundle")
        return matches[0]

    def manifest_bytes(self, ref: str) -> tuple[str, bytes]:
        bundle_id = self.resolve(ref)
        return bundle_id, self.repo.get_bundle(bundle_id)["manifest"].encode("utf-8")

    def manifest(self, ref: str) -> dict:
        bundle_id, raw = self.manifest_bytes(ref)
        return parse_manifest(raw, expected_id=bundle_id)[1]

    def list(self, limit: int = 50, offset: int = 0) -> dict:
        _page(limit, offset)
        rows, total = self.repo.list_bundles(limit, offset)
        return {"bundles": [_row_summary(r) for r in rows], "total": total}

    def show(self, ref: str) -> dict:
        bundle_id, raw = self.manifest_bytes(ref)
        manifest = parse_manifest(raw, expected_id=bundle_id)[1]
        row = self.repo.get_bundle(bundle_id)
        view = summary(bundle_id, manifest)
        env = manifest["environment"]
        view.update(origin=row["origin"], registered_at=isoformat(row["registered_at"]),
                    files=manifest["files"], pipeline=manifest["pipeline"],
                    scenarios=[mask_scenario(s) for s in manifest["scenarios"]],
                    endpoints=manifest["endpoints"],
                    notes=manifest.get("notes", []),
                    environment={"python": env.get("python"), "platform": env.get("platform"),
                                 "machine": env.get("machine"),
                                 "package_count": len(env.get("packages", {})),
                                 "packages": env.get("packages", {})})
        return view

    def diff(self, a: str, b: str) -> dict:
        ida, idb = self.resolve(a), self.resolve(b)
        ma, mb = self.manifest(ida), self.manifest(idb)

        def read(sha: str) -> bytes:
            with self.blobs.open(sha) as handle:
                return handle.read()

        result = diff_manifests(ma, mb, read)
        result["a"], result["b"] = summary(ida, ma), summary(idb, mb)
        return result

    def verify(self, ref: str) -> dict:
        """Re-hash the manifest and every blob of a bundle."""
        bundle_id, raw = self.manifest_bytes(ref)
        manifest_ok = bundle_id_of(raw) == bundle_id
        manifest = parse_manifest(raw)[1]
        bad, checked, seen = [], 0, {}
        for entry in manifest["files"]:
            sha = entry["sha256"]
            if sha not in seen:
                seen[sha] = "ok" if self.blobs.verify(sha) else (
                    "damaged" if self.blobs.has(sha) else "missing")
                checked += entry["size"] if seen[sha] == "ok" else 0
            if seen[sha] != "ok":
                bad.append({"path": entry["path"], "sha256": sha, "problem": seen[sha]})
        return {"bundle_id": bundle_id, "ok": manifest_ok and not bad, "manifest_ok": manifest_ok,
                "files_checked": len(manifest["files"]), "bytes_checked": checked, "bad": bad}

    def environment_lock(self, ref: str) -> str:
        return requirements_text(self.manifest(ref)["environment"])

    def check_environment(self, ref: str) -> dict:
        return compare(self.manifest(ref)["environment"], current_lock())

    def audit(self, limit: int = 100, offset: int = 0, *, action: str | None = None,
              bundle: str | None = None) -> dict:
        _page(limit, offset)
        return self.audit_log.list(limit, offset, action=action,
                                   bundle_id=self.resolve(bundle) if bundle else None)

    # -- archives -------------------------------------------------------------------------
    @audited("bundle.export", "bundle")
    def export(self, ref: str, dest: str | Path, *, compress: bool = False,
               overwrite: bool = False, actor: str | None = None) -> dict:
        from .archive import export_archive

        bundle_id, raw = self.manifest_bytes(ref)
        manifest = parse_manifest(raw, expected_id=bundle_id)[1]
        lacking = [f["path"] for f in manifest["files"] if not self.blobs.has(f["sha256"])]
        if lacking:
            raise NotFound(f"{counted(len(lacking), 'file')} of bundle {bundle_id[:12]} "
                           f"{verb(len(lacking), 'is', 'are')} missing from the "
                           f"blob store (e.g. {lacking[0]}); run verify", field="bundle")
        dest = Path(dest).expanduser()
        if dest.is_dir():
            dest = dest / f"{manifest['project']}-{bundle_id[:12]}.mlprod-bundle.tar" \
                          f"{'.gz' if compress else ''}"
        result = export_archive(self.blobs, bundle_id, raw, manifest, dest, compress=compress,
                                overwrite=overwrite)
        self.audit_log.record("bundle.export", actor=actor, object_id=bundle_id,
                              bundle_id=bundle_id, details={"path": result["path"],
                                                            "size": result["size"]})
        return result

    @audited("bundle.import", "bundle", lambda *a, **k: None)
    def import_archive(self, path: str | Path, *, expect_id: str | None = None,
                       actor: str | None = None) -> dict:
        """Import an exported archive. Refused entirely (nothing registered, no blob left
        behind) if anything in it is unsafe, tampered, truncated or not the expected bundle."""
        from .archive import import_limits, read_archive

        bundle_id, raw, manifest, added = read_archive(Path(path).expanduser(), self.blobs,
                                                       import_limits(self.config))
        try:
            if expect_id and not bundle_id.startswith(expect_id.lower()):
                raise InvalidInput(f"the archive holds bundle {bundle_id[:12]}, not {expect_id}",
                                   field="bundle", code="unexpected_bundle")
            new = self.repo.add_bundle(
                self.bundle_row(bundle_id, raw, manifest, "imported"), self.file_rows(manifest),
                self.clock.now(), audit={"action": "bundle.import", "object_type": "bundle",
                                         "object_id": bundle_id, "bundle_id": bundle_id,
                                         "actor": actor or current_user(),
                                         "details": {"path": str(path)}})
        except BaseException:
            self._drop_unreferenced(added)
            raise
        view = self.show(bundle_id)
        view.update(already_present=not new, new_blobs=len(added))
        return view

    # -- housekeeping ---------------------------------------------------------------------
    def _drop_unreferenced(self, shas) -> None:
        if not shas:
            return
        keep = self.repo.referenced_blobs()
        for sha in shas:
            if sha not in keep:
                self.blobs.delete(sha)

    def gc(self) -> dict:
        """Delete blobs that no registered bundle references (e.g. left by a failed deploy)."""
        with self.activator.locked():
            keep = self.repo.referenced_blobs()
            removed, freed = 0, 0
            for sha in self.blobs.all():
                if sha not in keep:
                    freed += self.blobs.size(sha)
                    self.blobs.delete(sha)
                    removed += 1
            self.blobs.clean_temp()
        return {"removed_blobs": removed, "freed_bytes": freed}

    def prune_trees(self, keep: int = 2) -> dict:
        """Remove the working trees of old superseded deployments (their bundles stay, so any of
        them can still be rolled back to); the active tree and the `keep` newest stay."""
        with self.activator.locked():
            rows, _ = self.repo.list_deployments(10_000)
            removed = []
            for row in rows[max(keep, 1):]:
                path = self.root / row["tree"]
                if row["status"] != "active" and path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(row["tree"])
        return {"removed_trees": removed}


def _page(limit, offset) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 500:
        raise InvalidInput("limit must be a whole number from 1 to 500", field="limit")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidInput("offset must be a whole number >= 0", field="offset")


def _row_summary(row: dict) -> dict:
    return {"id": row["bundle_id"], "short_id": row["bundle_id"][:12], "project": row["project"],
            "created_at": isoformat(row["created_at"]), "author": row["author"],
            "message": row["message"] or "", "origin": row["origin"],
            "file_count": row["file_count"], "total_size": row["total_size"],
            "registered_at": isoformat(row["registered_at"])}


def _node_config(root: Path) -> dict:
    path = root / CONFIG_FILE
    if not path.exists():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("node", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{CONFIG_FILE} is not valid TOML: {exc}", field=CONFIG_FILE) from None
    return table if isinstance(table, dict) else {}

