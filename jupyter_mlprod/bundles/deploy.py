"""The target side of a deployment: check, materialise and activate a bundle atomically.

A node's root holds `.mlprod/blobs/` (content-addressed), `.mlprod/deployments/<tree>/` (one
working tree per activation, copied from verified blobs) and a store whose `mlprod_node_state`
row points at the active deployment. Activation:

  1. every blob the manifest lists must be present (the source uploads the missing ones);
  2. the environment lock is compared with this machine (strict mode refuses a mismatch);
  3. a fresh tree is written under a temporary name, each file hashed while it is copied (so
     every hash is verified), fsynced, then renamed into place;
  4. ONE store transaction registers the bundle (if new), inserts the deployment, supersedes
     the previous one, moves the pointer and writes the audit events.

A crash (kill -9) or a full disk before step 4 commits leaves the previous deployment active
and its tree untouched; the leftovers (temporary or unreferenced trees) are removed by
`recover()` on the next start. A rollback is an activation of an earlier bundle, from its
blobs, so code, data, scenarios and endpoints all come back exactly as they were bundled."""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from ..errors import Conflict, InvalidInput, MlprodError, Unavailable
from .blobstore import fsync_dir, out_of_space
from .environment import compare, current_lock, requirements_text
from .environments import check_mode, ensure_environment
from ..words import counted, verb

log = logging.getLogger(__name__)

# Test-only: "phase=seconds,..." pauses activation at a phase (after writing a marker file
# `<state>/activation-<phase>.reached`) so a test can kill -9 the process right there.
PAUSE_ENV = "MLPROD_TEST_ACTIVATION_PAUSE"
PHASES = ("materialize", "renamed", "commit", "committed")


class Activator:
    def __init__(self, service):
        self.service = service
        self.state = service.project.settings.state_dir
        self.trees = self.state / "deployments"
        self.blobs = service.blobs
        self.repo = service.repo
        self._lock_path = self.state / "deploy.lock"

    # -- locking and recovery -------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, wait: bool = True):
        """One activation at a time per node root, across processes (CLI + daemon)."""
        self.state.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def recover(self) -> dict:
        """Remove what an interrupted activation left: temporary trees, trees no deployment
        references, half-written blobs. Never touches a referenced tree."""
        removed = {"trees": [], "blob_parts": 0}
        with self.locked(wait=False) as got:
            if not got:
                return removed  # another process is activating right now
            removed["blob_parts"] = self.blobs.clean_temp(older_than=0)
            if self.trees.is_dir():
                known = self.repo.deployment_trees()
                for entry in self.trees.iterdir():
                    rel = f"{self.trees.name}/{entry.name}"
                    if entry.is_dir() and f".mlprod/{rel}" not in known:
                        shutil.rmtree(entry, ignore_errors=True)
                        removed["trees"].append(entry.name)
        if removed["trees"] or removed["blob_parts"]:
            log.info("recovered from an interrupted activation: %s", removed)
        return removed

    # -- activation -----------------------------------------------------------------------
    def environment_report(self, manifest: dict) -> dict:
        return compare(manifest["environment"], current_lock())

    def activate(self, bundle_id: str, manifest_raw: bytes, manifest: dict, *, action: str,
                 strict: bool, actor: str, message: str, origin: str,
                 details: dict | None = None, env: str = "compare") -> dict:
        with self.locked():
            return self._activate(bundle_id, manifest_raw, manifest, action=action, strict=strict,
                                  actor=actor, message=message, origin=origin,
                                  details=details or {}, env=check_mode(env))

    def _activate(self, bundle_id, manifest_raw, manifest, *, action, strict, actor, message,
                  origin, details, env="compare") -> dict:
        service = self.service
        lacking = sorted({f["sha256"] for f in manifest["files"] if not self.blobs.has(f["sha256"])})
        if lacking:
            raise InvalidInput(f"{counted(len(lacking), 'blob')} of bundle {bundle_id[:12]} "
                               f"{verb(len(lacking), 'is', 'are')} not on this "
                               "node; upload them first", field="blobs", code="missing_blobs",
                               details={"missing": lacking[:50]})
        report = self.environment_report(manifest)
        if env == "recreate":
            # The bundle runs in its own environment, built (once per lock) before anything is
            # activated: a lock that cannot be installed refuses the deploy, naming the package.
            built = ensure_environment(manifest["environment"], self.state,
                                       installer=service.config.get("installer", "auto"),
                                       only=service.config.get("environment_only"))
            _check_serving(built)
            report = dict(report, missing=[], mismatched=[],
                          ok=report["python"]["match"] and report["platform"]["match"],
                          problems=[p for p in report["problems"]
                                    if p.startswith(("Python", "platform"))],
                          kernel=built["kernel"], venv=built["venv"], created=built["created"],
                          seconds=built["seconds"])
        if (strict or service.strict_environment) and not report["ok"]:
            raise Conflict("the environment does not match the bundle's lock (strict mode): " +
                           "; ".join(report["problems"]), field="environment",
                           code="environment_mismatch", details={"environment": report})
        active = self.repo.active_deployment()
        if active and active["bundle_id"] == bundle_id and action == "deploy":
            raise Conflict(f"bundle {bundle_id[:12]} is already active on {service.node_name} "
                           f"(deployment {active['id']})", field="bundle", code="already_active")
        tree = self._materialize(bundle_id, manifest_raw, manifest)
        try:
            _pause("commit", self.state)
            known = service.repo.get_bundle(bundle_id) is not None
            events = []
            if not known:
                events.append({"action": "bundle.register", "object_type": "bundle",
                               "object_id": bundle_id, "bundle_id": bundle_id, "actor": actor,
                               "details": {"origin": origin, "project": manifest["project"]}})
            event = {"object_type": "deployment", "bundle_id": bundle_id, "actor": actor,
                     "node": service.node_name,
                     "previous_bundle_id": active["bundle_id"] if active else None,
                     "details": dict(details, tree=tree, environment_ok=report["ok"],
                                     message=message)}
            events.append(dict(event, action="bundle.deploy" if action == "deploy"
                               else "deployment.rollback"))
            events.append(dict(event, action="deployment.activate", details=dict(
                event["details"], trigger=action)))
            deployment = self.repo.activate(
                bundle_row=None if known else service.bundle_row(bundle_id, manifest_raw, manifest,
                                                                 origin),
                files=[] if known else service.file_rows(manifest),
                deployment={"bundle_id": bundle_id, "previous_bundle_id":
                            active["bundle_id"] if active else None, "action": action,
                            "tree": tree, "actor": actor, "message": message,
                            "environment": _compact(report)},
                at=service.clock.now(), audit=events)
        except BaseException as exc:
            shutil.rmtree(service.root / tree, ignore_errors=True)
            if isinstance(exc, SQLAlchemyError):
                raise Unavailable(f"the store refused the activation; the previous deployment "
                                  f"stays active ({exc.__class__.__name__}: {exc})",
                                  code="store_error") from None
            raise
        _pause("committed", self.state)
        return deployment

    def _materialize(self, bundle_id: str, manifest_raw: bytes, manifest: dict) -> str:
        """Write the bundle's files into a new tree; return its path relative to the root."""
        self.trees.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        name = f"{stamp}-{bundle_id[:12]}-{uuid.uuid4().hex[:6]}"
        tmp = self.trees / f".tmp-{os.getpid()}-{name}"
        try:
            tmp.mkdir()
            folders = {tmp}
            for entry in manifest["files"]:
                parent = (tmp / entry["path"]).parent
                if parent not in folders:
                    parent.mkdir(parents=True, exist_ok=True)
                    folders.add(parent)

            rehash = self.service.config.get("rehash_on_activate", False) is True

            def copy(entry):  # hashed on the way unless verified here and unchanged since
                self.blobs.copy_out(entry["sha256"], tmp / entry["path"], rehash=rehash)

            entries = manifest["files"]
            if entries:
                copy(entries[0])
                _pause("materialize", self.state)
            with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
                list(pool.map(copy, entries[1:]))
            if self.blobs.durable and self.service.config.get("fsync_trees") is True:
                for entry in entries:
                    _fsync_file(tmp / entry["path"])
            self.blobs.save()
            info = tmp / ".mlprod" / "bundle"
            info.mkdir(parents=True)
            (info / "manifest.json").write_bytes(manifest_raw)
            (info / "bundle_id").write_text(bundle_id + "\n")
            (info / "requirements.lock.txt").write_text(requirements_text(manifest["environment"]))
            if self.blobs.durable:
                for folder in folders | {info}:
                    fsync_dir(folder)
            final = self.trees / name
            os.rename(tmp, final)
            fsync_dir(self.trees)
        except MlprodError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise out_of_space(exc, f"writing the tree of bundle {bundle_id[:12]}; the previous "
                                    "deployment stays active") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _pause("renamed", self.state)
        return f".mlprod/deployments/{name}"

    def repair_active(self) -> list[str]:
        """After an unclean stop (power loss): the blobs and the store are durable, a tree is
        derived from them and written without fsync (unless `[node] fsync_trees = true`), so
        restore the active tree's files that are missing or came back empty from their
        verified blobs. Files the bundle's runs rewrote are left as they are."""
        active = self.repo.active_deployment()
        if active is None:
            return []
        tree = self.service.root / active["tree"]
        if not tree.is_dir():
            log.error("the active tree %s is gone; rolling it out again from its blobs", tree)
            tree.mkdir(parents=True)
        manifest = json.loads(self.service.repo.get_bundle(active["bundle_id"])["manifest"])
        repaired = []
        with self.locked():
            for entry in manifest["files"]:
                path = tree / entry["path"]
                try:
                    empty = path.stat().st_size == 0 and entry["size"] > 0
                except FileNotFoundError:
                    empty = True
                if empty:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.unlink(missing_ok=True)
                    self.blobs.copy_verified(entry["sha256"], path)
                    repaired.append(entry["path"])
        if repaired:
            log.warning("restored %s of the active tree after an unclean stop: %s",
                        counted(len(repaired), "file"), ", ".join(repaired[:10]))
        return repaired

    def verify_tree(self, deployment: dict) -> dict:
        """Re-hash the files of a deployment's tree against its manifest. Files the bundle's own
        runs rewrote show up as changed: that is what they did in production."""
        from ..hashing import sha256_file

        tree = self.service.root / deployment["tree"]
        manifest = json.loads((tree / ".mlprod" / "bundle" / "manifest.json").read_bytes())
        bad = []
        for entry in manifest["files"]:
            path = tree / entry["path"]
            if not path.is_file():
                bad.append({"path": entry["path"], "problem": "missing"})
            elif sha256_file(path) != entry["sha256"]:
                bad.append({"path": entry["path"], "problem": "changed"})
        return {"deployment_id": deployment["id"], "bundle_id": deployment["bundle_id"],
                "ok": not bad, "files_checked": len(manifest["files"]), "bad": bad}


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_serving(built: dict) -> None:
    """The deployment's endpoints are served from its environment too: one that cannot run our
    scoring worker refuses the deploy now, naming the library, not at the first request."""
    try:
        from ..serving.environments import check_environment, version_environment
    except ImportError:  # serving is not installed on this node: nothing will be served
        return
    check_environment(version_environment(built))


def _compact(report: dict) -> dict:
    compact = {"ok": report["ok"], "problems": report["problems"],
               "missing": report["missing"][:50], "mismatched": report["mismatched"][:50],
               "python": report["python"], "platform": report["platform"]}
    if report.get("kernel"):  # deployed with its own environment (env=recreate)
        compact.update({key: report[key] for key in ("kernel", "venv", "created", "seconds")})
    return compact


def _pause(phase: str, state: Path) -> None:
    spec = os.environ.get(PAUSE_ENV)
    if not spec:
        return
    for item in spec.split(","):
        name, _, seconds = item.partition("=")
        if name.strip() == phase:
            (state / f"activation-{phase}.reached").write_text(str(os.getpid()))
            time.sleep(float(seconds or 30))
