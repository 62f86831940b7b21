"""Content-addressed storage under `.mlprod/blobs/`: a file's name is its sha256, so an
unchanged file costs no new bytes in the next bundle. Every write goes to a temporary file that
is hashed while it is written and renamed into place only when complete and verified."""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Callable

from ..errors import InvalidInput, MlprodError, NotFound, Unavailable
from .manifest import SHA256

CHUNK = 1 << 20
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def out_of_space(exc: OSError, what: str) -> MlprodError:
    if exc.errno in _NO_SPACE:
        return Unavailable(f"out of disk space while {what}; nothing was changed "
                           f"({exc.strerror})", code="out_of_space")
    return Unavailable(f"I/O error while {what}: {exc}", code="io_error")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_sha(sha: object) -> str:
    if not isinstance(sha, str) or not SHA256.match(sha):
        raise InvalidInput(f"{sha!r} is not a sha256 (64 lowercase hex digits)", field="sha256")
    return sha


class BlobStore:
    def __init__(self, root: Path, *, durable: bool = True):
        from ..hashing import FileHasher

        self.root = root
        self.tmp = root / "tmp"
        self.durable = durable  # fsync each blob before it becomes visible
        # blobs whose content was hashed here, keyed by (size, mtime): an unchanged verified
        # blob is copied by the kernel without being hashed again
        self.verified = FileHasher(root, root / "verified.json")

    @staticmethod
    def _rel(sha: str) -> str:
        return f"{sha[:2]}/{sha[2:]}"

    def _mark_verified(self, sha: str) -> None:
        try:
            self.verified.remember(self._rel(sha), self.path(sha).stat(), sha)
        except FileNotFoundError:
            pass

    def save(self) -> None:
        self.verified.save()

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha[2:]

    def has(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def size(self, sha: str) -> int:
        try:
            return self.path(sha).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"blob {sha[:12]} is not in the blob store", field="sha256") from None

    def missing(self, shas) -> list[str]:
        return sorted({check_sha(s) for s in shas if not self.has(check_sha(s))})

    def _tempfile(self) -> tuple[int, Path]:
        self.tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix=f"{os.getpid()}-", suffix=".part")
        return fd, Path(name)

    def _publish(self, tmp: Path, sha: str, durable: bool = True) -> bool:
        """Move a complete, verified temp file into place. False if the blob was there."""
        final = self.path(sha)
        if final.exists():
            tmp.unlink(missing_ok=True)
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        if self.durable and durable:
            fsync_dir(final.parent)
        self._mark_verified(sha)
        return True

    def sync(self, shas) -> None:
        """fsync blobs written with durable=False (and their folders), e.g. once at the end of a
        bundle, so the disk flushes in the background while the next files are hashed."""
        self.save()
        if not self.durable:
            return
        folders = set()
        for sha in shas:
            fd = os.open(self.path(sha), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            folders.add(self.path(sha).parent)
        for folder in folders:
            fsync_dir(folder)

    def _write(self, read: Callable[[int], bytes], limit: int | None, what: str,
               durable: bool = True) -> tuple[Path, str, int]:
        fd, tmp = self._tempfile()
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := read(CHUNK):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise InvalidInput(f"{what}: more bytes than announced ({limit})",
                                           field="sha256", code="tampered_blob")
                    digest.update(chunk)
                    out.write(chunk)
                if self.durable and durable:
                    out.flush()
                    os.fsync(out.fileno())
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise out_of_space(exc, what) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp, digest.hexdigest(), size

    def ingest_file(self, src: Path, *, durable: bool = True) -> tuple[str, int, bool]:
        """Copy a file in, hashing it on the way (one read). Returns (sha, size, new?). With
        durable=False the caller must `sync()` the new blobs before relying on them."""
        with open(src, "rb") as handle:
            tmp, sha, size = self._write(handle.read, None, f"storing {src.name}", durable)
        try:
            return sha, size, self._publish(tmp, sha, durable)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise out_of_space(exc, f"storing {src.name}") from None

    def put_stream(self, sha: str, stream: BinaryIO | Callable[[int], bytes],
                   size: int | None = None) -> bool:
        """Receive a blob from outside (upload, archive): refused unless its bytes hash to `sha`
        (and, when given, their count is `size`). True if the blob is new."""
        check_sha(sha)
        read = stream if callable(stream) else stream.read
        tmp, actual, got = self._write(read, size, f"receiving blob {sha[:12]}")
        if actual != sha or (size is not None and got != size):
            tmp.unlink(missing_ok=True)
            raise InvalidInput(f"blob {sha[:12]} was altered or damaged: its content hashes to "
                               f"{actual[:12]} ({got} bytes)", field="sha256", code="tampered_blob",
                               details={"expected": sha, "actual": actual, "size": got})
        try:
            new = self._publish(tmp, sha)
            self.save()
            return new
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise out_of_space(exc, f"receiving blob {sha[:12]}") from None

    def open(self, sha: str) -> BinaryIO:
        try:
            return open(self.path(check_sha(sha)), "rb")
        except FileNotFoundError:
            raise NotFound(f"blob {sha[:12]} is not in the blob store", field="sha256") from None

    def copy_out(self, sha: str, dest: Path, *, rehash: bool = False) -> int:
        """Copy a blob to `dest` (no fsync). A blob verified here and unchanged since (size,
        mtime) goes through the kernel (sendfile); any other is hashed while copied."""
        if not rehash and self.verified.cached(self._rel(sha), self.path(sha).stat()) == sha:
            try:
                shutil.copyfile(self.path(sha), dest)
            except OSError as exc:
                dest.unlink(missing_ok=True)
                raise out_of_space(exc, f"writing {dest.name}") from None
            return dest.stat().st_size
        size = self.copy_verified(sha, dest, fsync=False)
        self._mark_verified(sha)
        return size

    def copy_verified(self, sha: str, dest: Path, *, fsync: bool = True) -> int:
        """Copy a blob to `dest`, hashing on the way; a blob whose content no longer matches its
        name (bit rot, tampering) is refused and `dest` removed."""
        digest, size = hashlib.sha256(), 0
        try:
            with self.open(sha) as src, open(dest, "xb") as out:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                if fsync:
                    out.flush()
                    os.fsync(out.fileno())
        except OSError as exc:
            dest.unlink(missing_ok=True)
            raise out_of_space(exc, f"writing {dest.name}") from None
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        if digest.hexdigest() != sha:
            dest.unlink(missing_ok=True)
            raise InvalidInput(f"blob {sha[:12]} in the blob store is damaged: its content hashes "
                               f"to {digest.hexdigest()[:12]}", field="sha256",
                               code="tampered_blob")
        return size

    def verify(self, sha: str) -> bool:
        digest = hashlib.sha256()
        try:
            with open(self.path(sha), "rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            return False
        if digest.hexdigest() != sha:
            return False
        self._mark_verified(sha)
        return True

    def delete(self, sha: str) -> None:
        self.path(check_sha(sha)).unlink(missing_ok=True)

    def all(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(d.name + f.name for d in self.root.iterdir() if len(d.name) == 2
                      for f in d.iterdir() if SHA256.match(d.name + f.name))

    def clean_temp(self, older_than: float = 3600.0) -> int:
        """Remove temp files left by a process that died mid-write."""
        removed = 0
        if self.tmp.is_dir():
            cutoff = time.time() - older_than
            for part in self.tmp.iterdir():
                pid = part.name.split("-", 1)[0]
                dead = pid.isdigit() and not _alive(int(pid))
                if dead or part.stat().st_mtime < cutoff:
                    part.unlink(missing_ok=True)
                    removed += 1
        return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
