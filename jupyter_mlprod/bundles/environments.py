"""A bundle's own environment on a node (`deploy --env recreate`).

The node builds a virtual environment from the bundle's lock once per distinct lock, under
`<node>/.mlprod/envs/<digest>/venv` (uv when available, else venv + pip; see
environment.create_venv), and registers a kernel for it, `mlprod-env-<digest>`, under
`<node>/.mlprod/envs/share/jupyter/kernels/`. That folder is on JUPYTER_PATH of the node's
process (`use_environments`), so the deployment's steps, and the pre-started kernels of its
pool, start in the bundle's environment. A lock that cannot be installed fails the deploy
before anything is activated, naming the package the installer could not provide.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path

from ..errors import InvalidInput, Unavailable
from .environment import create_venv, install_kernel

MODES = ("compare", "recreate")
# The packages every environment needs beyond the lock to run steps as kernels.
_KERNEL_PACKAGES = ("ipykernel",)


def lock_digest(lock: dict, only: list[str] | None = None) -> str:
    """Same lock (Python, platform, pinned packages) -> same environment."""
    pinned = {n: v for n, v in (lock.get("packages") or {}).items()
              if n not in (lock.get("local") or {})}
    if only is not None:
        wanted = {*only, *_KERNEL_PACKAGES}
        pinned = {n: v for n, v in pinned.items() if n in wanted}
    key = {"python": lock.get("python"), "platform": lock.get("platform"),
           "machine": lock.get("machine"), "packages": pinned}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def envs_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "envs"


def kernels_share(state_dir: Path) -> Path:
    return envs_dir(state_dir) / "share" / "jupyter"


def use_environments(state_dir: Path) -> None:
    """Put the node's environment kernels on JUPYTER_PATH of this process (and so of the
    processes it starts from now on). Idempotent."""
    share = str(kernels_share(state_dir))
    parts = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if share not in parts:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([share, *parts])


def ensure_environment(lock: dict, state_dir: Path, *, installer: str = "auto",
                       only: list[str] | None = None, timeout: float = 1800) -> dict:
    """The environment of `lock` on this node, built if it is not there yet. Returns
    {"kernel", "venv", "digest", "created", "seconds"}. Raises InvalidInput naming the
    package when the lock cannot be installed (nothing is left behind)."""
    digest = lock_digest(lock, only)
    home = envs_dir(state_dir) / digest
    venv = home / "venv"
    kernel = f"mlprod-env-{digest}"
    use_environments(state_dir)
    started = time.monotonic()
    created = False
    if not (venv / "bin" / "python").exists():
        home.parent.mkdir(parents=True, exist_ok=True)
        scratch = home.parent / f".tmp-{digest}-{uuid.uuid4().hex[:6]}"
        try:
            create_venv(lock, scratch / "venv", installer=installer,
                        only=None if only is None else [*only, *_KERNEL_PACKAGES],
                        timeout=timeout)
            _fix_venv_paths(scratch / "venv", venv)
            scratch.rename(home)  # atomic: a half-built environment is never used
        except Unavailable as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            package = failing_package(exc.message, lock)
            raise InvalidInput(
                f"the bundle's environment cannot be installed on this node"
                f"{f': package {package} failed' if package else ''} ({exc.message}); "
                "nothing was activated", field="environment", code="environment_install_failed",
                details={"package": package}) from None
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        created = True
    install_kernel(venv, kernel, envs_dir(state_dir),
                   display_name=f"mlprod bundle environment {digest}")
    return {"kernel": kernel, "venv": str(venv), "digest": digest, "created": created,
            "seconds": round(time.monotonic() - started, 3)}


def _fix_venv_paths(built: Path, final: Path) -> None:
    """A venv records its own path in its scripts and pyvenv.cfg; it was built under a
    temporary name and is renamed into place."""
    old, new = str(built), str(final)
    for path in [built / "pyvenv.cfg", *(built / "bin").iterdir()]:
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > 1 << 20:
                continue
            text = path.read_bytes()
        except OSError:
            continue
        if old.encode() in text:
            path.write_bytes(text.replace(old.encode(), new.encode()))


_PACKAGE_PATTERNS = (
    re.compile(r"Because (?:there is no version of |)([A-Za-z0-9_.\-]+)(?:==| was not found)"),
    re.compile(r"No solution found when resolving dependencies:.*?\b([A-Za-z0-9_.\-]+)==", re.S),
    re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-]+)"),
    re.compile(r"Could not find a version that satisfies the requirement ([A-Za-z0-9_.\-]+)"),
    re.compile(r"Failed to (?:build|download|fetch) `?([A-Za-z0-9_.\-]+)"),
)


def failing_package(message: str, lock: dict) -> str | None:
    """The package an installer's error names, as `name==version` of the lock when it is one."""
    for pattern in _PACKAGE_PATTERNS:
        match = pattern.search(message or "")
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            version = (lock.get("packages") or {}).get(name)
            return f"{name}=={version}" if version else name
    return None


def check_mode(mode: str | None) -> str:
    mode = mode or "compare"
    if mode not in MODES:
        raise InvalidInput(f"env must be one of {', '.join(MODES)}, not {mode!r}", field="env")
    return mode
