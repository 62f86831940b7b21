"""The manifest: every file of a bundle with its sha256 and size, plus the pipeline, scenarios,
endpoints, environment lock and provenance. Its canonical JSON's sha256 is the bundle id."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import PurePosixPath

from ..errors import InvalidInput

FORMAT = "mlprod-bundle/1"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
KINDS = ("notebook", "config", "data", "model", "file")
MAX_MANIFEST_BYTES = 64 << 20
_REQUIRED = {"format": str, "project": str, "created_at": str, "files": list,
             "environment": dict, "pipeline": dict, "scenarios": list, "endpoints": list}


def canonical_bytes(manifest: dict) -> bytes:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def bundle_id_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def safe_relative_path(value: object, *, what: str = "path") -> str:
    """A bundle path must be a plain relative POSIX path inside the project: no `..`, no
    absolute path, no drive, no backslash, no NUL, nothing under `.mlprod/` or `.git/`."""
    if not isinstance(value, str) or not value or len(value) > 1000:
        raise InvalidInput(f"{what} {value!r} is not a valid file path", field="path",
                           code="unsafe_path")
    if "\x00" in value or "\\" in value:
        raise InvalidInput(f"{what} {value!r} contains a backslash or NUL", field="path",
                           code="unsafe_path")
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        raise InvalidInput(f"{what} {value!r} is an absolute path", field="path",
                           code="unsafe_path")
    parts = value.split("/")
    if ".." in parts:
        raise InvalidInput(f"{what} {value!r} points outside the project (..)", field="path",
                           code="unsafe_path")
    if any(p in ("", ".") for p in parts) or str(PurePosixPath(value)) != value:
        raise InvalidInput(f"{what} {value!r} is not a normalised relative path", field="path",
                           code="unsafe_path")
    if parts[0] in (".mlprod", ".git"):
        raise InvalidInput(f"{what} {value!r} is inside {parts[0]}/, which a bundle never holds",
                           field="path", code="unsafe_path")
    return value


def validate_manifest(data: object) -> dict:
    """Check a manifest that came from outside (an archive, a node upload)."""
    if not isinstance(data, dict):
        raise InvalidInput("the manifest must be a JSON object", field="manifest",
                           code="bad_manifest")
    for key, kind in _REQUIRED.items():
        if not isinstance(data.get(key), kind):
            raise InvalidInput(f"the manifest's {key!r} is missing or not a {kind.__name__}",
                               field="manifest", code="bad_manifest")
    if data["format"] != FORMAT:
        raise InvalidInput(f"unsupported bundle format {data['format']!r} (this version reads "
                           f"{FORMAT})", field="manifest", code="bad_manifest")
    seen: set[str] = set()
    for i, entry in enumerate(data["files"]):
        if not isinstance(entry, dict):
            raise InvalidInput(f"manifest file entry {i} is not an object", field="manifest",
                               code="bad_manifest")
        path = safe_relative_path(entry.get("path"), what=f"manifest file {i}")
        if path in seen:
            raise InvalidInput(f"the manifest lists {path} twice", field="manifest",
                               code="bad_manifest")
        seen.add(path)
        sha, size = entry.get("sha256"), entry.get("size")
        if not isinstance(sha, str) or not SHA256.match(sha):
            raise InvalidInput(f"manifest file {path}: sha256 is not 64 hex digits",
                               field="manifest", code="bad_manifest")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInput(f"manifest file {path}: size must be a whole number >= 0",
                               field="manifest", code="bad_manifest")
        if entry.get("kind") not in KINDS:
            raise InvalidInput(f"manifest file {path}: kind must be one of {', '.join(KINDS)}",
                               field="manifest", code="bad_manifest")
    # a file and a folder of the same name cannot both exist in one tree
    for path in seen:
        parent = path.rpartition("/")[0]
        while parent:
            if parent in seen:
                raise InvalidInput(f"the manifest lists {parent} both as a file and as a folder",
                                   field="manifest", code="bad_manifest")
            parent = parent.rpartition("/")[0]
    packages = data["environment"].get("packages", {})
    if not isinstance(packages, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in packages.items()):
        raise InvalidInput("the manifest's environment.packages must map names to versions",
                           field="manifest", code="bad_manifest")
    return data


def parse_manifest(raw: bytes, expected_id: str | None = None, *, foreign: bool = False
                   ) -> tuple[str, dict]:
    """Bytes -> (bundle id, manifest). With `expected_id`, a manifest whose hash differs is
    refused as tampered. A `foreign` manifest (an archive, a node upload) also has its steps,
    scenarios and endpoints checked with the project's own rules."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise InvalidInput("the manifest is larger than 64 MB", field="manifest",
                           code="bad_manifest")
    actual = bundle_id_of(raw)
    if expected_id is not None and actual != expected_id:
        raise InvalidInput(f"the manifest does not match bundle {expected_id[:12]}: its sha256 is "
                           f"{actual[:12]}; it was altered or damaged", field="manifest",
                           code="tampered_manifest",
                           details={"expected": expected_id, "actual": actual})
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"the manifest is not valid JSON: {exc}", field="manifest",
                           code="bad_manifest") from None
    validate_manifest(data)
    if canonical_bytes(data) != raw:
        raise InvalidInput("the manifest is not in canonical form (sorted keys, compact); it was "
                           "altered after it was written", field="manifest",
                           code="tampered_manifest")
    if foreign:
        from .manifest_contents import check_contents

        check_contents(data)
    return actual, data


def summary(bundle_id: str, manifest: dict) -> dict:
    """The short view used by lists and doors."""
    files = manifest["files"]
    by_kind: dict[str, dict] = {}
    for f in files:
        slot = by_kind.setdefault(f["kind"], {"count": 0, "size": 0})
        slot["count"] += 1
        slot["size"] += f["size"]
    return {"id": bundle_id, "short_id": bundle_id[:12], "project": manifest["project"],
            "created_at": manifest["created_at"], "author": manifest.get("author"),
            "message": manifest.get("message", ""), "git": manifest.get("git"),
            "parent": manifest.get("parent"), "file_count": len(files),
            "total_size": sum(f["size"] for f in files), "by_kind": by_kind,
            "steps": [s.get("name") for s in manifest["pipeline"].get("steps", [])],
            "scenario_count": len(manifest["scenarios"]),
            "endpoint_count": len(manifest["endpoints"]),
            "python": manifest["environment"].get("python")}
