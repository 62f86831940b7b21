"""A bundle as one archive file (tar, optionally gzip): `bundle.json` (format + bundle id),
`manifest.json` (canonical bytes), then `blobs/<sha256>` for each distinct file content.

Import reads it as a stream and refuses, before anything is registered: entries that are not
regular files (symlinks, hard links, devices, fifos, folders), `..` or absolute names, names it
does not expect, a manifest whose hash is not the bundle id, a blob whose content does not hash
to its name, and a truncated archive. Blobs it added before the refusal are removed again."""
from __future__ import annotations

import io
import json
import os
import re
import tarfile
import tempfile
import time
from pathlib import Path

from ..errors import InvalidInput, MlprodError
from .blobstore import BlobStore, out_of_space
from .manifest import MAX_MANIFEST_BYTES, parse_manifest
from ..words import counted, verb

ARCHIVE_FORMAT = "mlprod-archive/1"
# what an import may expand to: [node] import_max_bytes / import_max_ratio in mlprod.toml
IMPORT_MAX_BYTES = 2 << 30
IMPORT_MAX_RATIO = 100
_RATIO_FLOOR = 64 << 20  # below this, any ratio is fine (a small file of zeros compresses 1000x)
_BLOB = re.compile(r"^blobs/([0-9a-f]{64})$")


def export_archive(blobs: BlobStore, bundle_id: str, manifest_raw: bytes, manifest: dict,
                   dest: Path, *, compress: bool = False, overwrite: bool = False) -> dict:
    dest = Path(dest)
    if dest.exists() and not overwrite:
        raise InvalidInput(f"{dest} already exists (pass overwrite to replace it)", field="dest")
    if dest.is_dir():
        raise InvalidInput(f"{dest} is a folder; give a file name", field="dest")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(fd)
    header = json.dumps({"format": ARCHIVE_FORMAT, "bundle_id": bundle_id}).encode()
    seen: set[str] = set()
    try:
        with tarfile.open(tmp, "w:gz" if compress else "w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, "bundle.json", header)
            _add_bytes(tar, "manifest.json", manifest_raw)
            for entry in manifest["files"]:
                sha = entry["sha256"]
                if sha in seen:
                    continue
                seen.add(sha)
                info = tarfile.TarInfo(f"blobs/{sha}")
                info.size, info.mtime, info.mode = entry["size"], int(time.time()), 0o644
                with blobs.open(sha) as handle:
                    tar.addfile(info, handle)
        os.replace(tmp, dest)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise out_of_space(exc, f"writing {dest.name}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"path": str(dest), "size": dest.stat().st_size, "bundle_id": bundle_id,
            "blobs": len(seen)}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


def _refuse(message: str, code: str = "unsafe_archive", **details) -> InvalidInput:
    return InvalidInput(message, field="archive", code=code, details=details or None)


def check_member(member: tarfile.TarInfo) -> None:
    name = member.name
    kind = ("a symlink" if member.issym() else "a hard link" if member.islnk() else
            "a device file" if member.ischr() or member.isblk() else "a fifo" if member.isfifo()
            else "a folder" if member.isdir() else None if member.isfile() else "a special entry")
    if kind:
        raise _refuse(f"the archive entry {name!r} is {kind}; a bundle archive holds only regular "
                      "files", entry=name)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise _refuse(f"the archive entry {name!r} has an absolute path", entry=name)
    if ".." in name.replace("\\", "/").split("/"):
        raise _refuse(f"the archive entry {name!r} points outside its folder (..)", entry=name)
    if name not in ("bundle.json", "manifest.json") and not _BLOB.match(name):
        raise _refuse(f"the archive entry {name!r} is not part of a bundle archive", entry=name)


def import_limits(config: dict) -> tuple[int, float]:
    """(max expanded bytes, max expansion ratio) from the [node] table of mlprod.toml."""
    out = []
    for key, default in (("import_max_bytes", IMPORT_MAX_BYTES),
                         ("import_max_ratio", IMPORT_MAX_RATIO)):
        value = config.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise InvalidInput(f"mlprod.toml [node] {key} must be a positive number",
                               field=f"node.{key}")
        out.append(value)
    return int(out[0]), float(out[1])


def read_archive(path: Path, blobs: BlobStore, limits: tuple[int, float] | None = None
                 ) -> tuple[str, bytes, dict, set[str]]:
    """Stream an archive into the blob store. Returns (bundle id, manifest bytes, manifest,
    blobs newly added). On refusal, the newly added blobs are removed and the error raised.
    `limits` (max expanded bytes, max ratio to the archive's size) refuse a decompression bomb
    from its manifest, before any blob is written."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"archive {path} does not exist or is not a file", field="archive")
    added: set[str] = set()
    try:
        return _read(path, blobs, added, limits or (IMPORT_MAX_BYTES, IMPORT_MAX_RATIO)) + (added,)
    except BaseException:
        for sha in added:
            blobs.delete(sha)
        raise


def _check_expansion(manifest: dict, archive_size: int, limits: tuple[int, float]) -> None:
    max_bytes, max_ratio = limits
    expanded = sum({f["sha256"]: f["size"] for f in manifest["files"]}.values())
    if expanded > max_bytes:
        raise _refuse(f"the archive expands to {expanded:,} bytes, over the import limit of "
                      f"{max_bytes:,} (mlprod.toml [node] import_max_bytes)",
                      code="archive_too_large", limit="import_max_bytes", expanded=expanded)
    ratio = expanded / max(archive_size, 1)
    if expanded > _RATIO_FLOOR and ratio > max_ratio:
        raise _refuse(f"the archive expands {ratio:,.0f} times ({archive_size:,} bytes to "
                      f"{expanded:,}), over the import limit of {max_ratio:g} (mlprod.toml [node] "
                      "import_max_ratio)", code="archive_too_large", limit="import_max_ratio",
                      expanded=expanded)


def _read(path: Path, blobs: BlobStore, added: set[str], limits: tuple[int, float]
          ) -> tuple[str, bytes, dict]:
    bundle_id = manifest_raw = manifest = None
    sizes: dict[str, int] = {}
    received: set[str] = set()
    try:
        with open(path, "rb") as handle, tarfile.open(fileobj=handle, mode="r|*") as tar:
            for position, member in enumerate(tar):
                check_member(member)
                if position == 0:
                    if member.name != "bundle.json" or member.size > 4096:
                        raise _refuse("this is not a bundle archive (no bundle.json first)")
                    bundle_id = _header(tar.extractfile(member).read())
                    continue
                if position == 1:
                    if member.name != "manifest.json" or member.size > MAX_MANIFEST_BYTES:
                        raise _refuse("the archive has no manifest.json after bundle.json")
                    manifest_raw = _read_exact(tar.extractfile(member), member.size)
                    _, manifest = parse_manifest(manifest_raw, expected_id=bundle_id,
                                                 foreign=True)
                    _check_expansion(manifest, path.stat().st_size, limits)
                    sizes = {f["sha256"]: f["size"] for f in manifest["files"]}
                    continue
                sha = _BLOB.match(member.name)
                if not sha:
                    raise _refuse(f"unexpected entry {member.name!r} after the manifest")
                sha = sha.group(1)
                if sha not in sizes:
                    raise _refuse(f"blob {sha[:12]} is not listed in the manifest", entry=member.name)
                if sha in received:
                    raise _refuse(f"blob {sha[:12]} appears twice", entry=member.name)
                if member.size != sizes[sha]:
                    raise _refuse(f"blob {sha[:12]} has {member.size} bytes; the manifest says "
                                  f"{sizes[sha]}", code="tampered_blob", entry=member.name)
                stream = tar.extractfile(member)
                remaining = [member.size]

                def read(n: int, _s=stream, _r=remaining) -> bytes:
                    chunk = _s.read(min(n, _r[0])) if _r[0] else b""
                    if len(chunk) == 0 and _r[0]:
                        raise EOFError("unexpected end of data")
                    _r[0] -= len(chunk)
                    return chunk

                if blobs.put_stream(sha, read, member.size):
                    added.add(sha)
                received.add(sha)
    except (tarfile.ReadError, EOFError, tarfile.CompressionError, OSError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise out_of_space(exc, "importing the archive") from None
        if isinstance(exc, MlprodError):
            raise
        raise _refuse(f"the archive is truncated or damaged ({exc})", code="truncated_archive"
                      ) from None
    if manifest is None:
        raise _refuse("the archive is truncated or empty: it has no manifest",
                      code="truncated_archive")
    lacking = sorted(s for s in sizes if s not in received and not blobs.has(s))
    if lacking:
        raise _refuse(f"the archive is truncated or incomplete: {counted(len(lacking), 'blob')} "
                      f"listed in the manifest {verb(len(lacking), 'is', 'are')} missing", code="truncated_archive",
                      missing=[s[:12] for s in lacking[:10]])
    return bundle_id, manifest_raw, manifest


def _read_exact(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("unexpected end of data")
    return data


def _header(raw: bytes) -> str:
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _refuse("bundle.json is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != ARCHIVE_FORMAT or \
            not re.match(r"^[0-9a-f]{64}$", str(header.get("bundle_id", ""))):
        raise _refuse(f"bundle.json is not a {ARCHIVE_FORMAT} header")
    return header["bundle_id"]
