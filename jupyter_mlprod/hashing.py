"""Streaming sha256 of project files with a cache keyed by (path, size, mtime_ns), so unchanged
data is never re-read. Pipelines use it for fingerprints; bundles for manifests."""
from __future__ import annotations

import glob as _glob
import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path

from .paths import is_inside, outside

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class FileHasher:
    def __init__(self, root: Path, cache_file: Path | None):
        self.root = root
        self.cache_file = cache_file
        self._lock = threading.Lock()
        self._cache: dict[str, list] = {}
        self._dirty = False
        if cache_file and cache_file.exists():
            try:
                self._cache = json.loads(cache_file.read_text())
            except (ValueError, OSError):
                self._cache = {}  # a corrupt cache only costs a re-hash

    def hash(self, rel: str) -> str:
        path = self.root / rel
        stat = path.stat()
        key = [stat.st_size, stat.st_mtime_ns]
        with self._lock:
            hit = self._cache.get(rel)
            if hit and hit[:2] == key:
                return hit[2]
        value = sha256_file(path)
        with self._lock:
            self._cache[rel] = key + [value]
            self._dirty = True
        return value

    def cached(self, rel: str, stat: os.stat_result | None = None) -> str | None:
        """The cached sha256 of a file if its size and mtime are unchanged, else None (no I/O
        beyond one stat)."""
        stat = stat or (self.root / rel).stat()
        with self._lock:
            hit = self._cache.get(rel)
        if hit and hit[:2] == [stat.st_size, stat.st_mtime_ns]:
            return hit[2]
        return None

    def remember(self, rel: str, stat: os.stat_result, sha: str) -> None:
        """Record a hash computed elsewhere (e.g. while copying the file into the blob store)."""
        with self._lock:
            self._cache[rel] = [stat.st_size, stat.st_mtime_ns, sha]
            self._dirty = True

    def expand(self, pattern: str) -> list[str]:
        """Files named by a project-relative path, folder or glob, sorted."""
        if any(ch in pattern for ch in "*?["):
            matches = _glob.glob(pattern, root_dir=self.root, recursive=True)
        else:
            matches = [pattern] if (self.root / pattern).exists() else []
        files: list[str] = []
        for match in matches:
            full = self.root / match
            if full.is_dir():
                if not is_inside(self.root, full):
                    raise outside(match, pattern)
                for dirpath, _, names in os.walk(full):
                    files.extend(Path(dirpath, n).relative_to(self.root).as_posix() for n in names)
            elif full.is_file():
                files.append(Path(match).as_posix())
        for rel in files:  # symlinked files (or folders) that lead out of the project
            if not is_inside(self.root, rel):
                raise outside(rel, pattern)
        return sorted(set(files))

    def digest_patterns(self, patterns: list[str] | tuple[str, ...]) -> dict[str, str]:
        return {rel: self.hash(rel) for pattern in patterns for rel in self.expand(pattern)}

    def save(self) -> None:
        if not self.cache_file or not self._dirty:
            return
        with self._lock:
            data = json.dumps(self._cache)
            self._dirty = False
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cache_file.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            handle.write(data)
        os.replace(tmp, self.cache_file)
