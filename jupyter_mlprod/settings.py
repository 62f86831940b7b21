"""Project settings: one object, read from `mlprod.toml`, the environment and explicit overrides.

Precedence (lowest to highest): defaults < mlprod.toml < MLPROD_* environment < overrides
(traitlets config of the server, CLI flags). Every door builds a `Settings` the same way.
"""
from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from pathlib import Path

from .errors import InvalidInput

CONFIG_FILE = "mlprod.toml"
STATE_DIR = ".mlprod"
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")

# setting name -> (toml section, toml key, environment variable, type)
_SOURCES: dict[str, tuple[str, str, str, type]] = {
    "name": ("project", "name", "MLPROD_PROJECT_NAME", str),
    "store_url": ("store", "url", "MLPROD_STORE_URL", str),
    "executor": ("runs", "executor", "MLPROD_EXECUTOR", str),
    "parallelism": ("runs", "parallelism", "MLPROD_PARALLELISM", int),
    "default_timeout": ("runs", "default_timeout", "MLPROD_DEFAULT_TIMEOUT", int),
    "default_retries": ("runs", "default_retries", "MLPROD_DEFAULT_RETRIES", int),
    "kernel_name": ("runs", "kernel_name", "MLPROD_KERNEL_NAME", str),
    "dask_address": ("executors.dask", "address", "MLPROD_DASK_ADDRESS", str),
    "prestart_kernels": ("runs", "prestart_kernels", "MLPROD_PRESTART_KERNELS", int),
    "preload": ("runs", "preload", "MLPROD_PRELOAD", tuple),
    # Set by a node for a bundle deployed with its own environment (`deploy --env recreate`):
    # the kernel of that environment runs the steps written for python3 / kernel_name.
    "environment_kernel": ("runs", "environment_kernel", "MLPROD_ENVIRONMENT_KERNEL", str),
}

# What the settings above mean, for help texts (README, `--help`, the server's traitlets).
HELP = {
    "prestart_kernels": "Idle pre-started kernels kept per kernel name (per process running "
                        "steps: the local executor's, each Dask worker), so a step skips kernel "
                        "start. Each step still gets a kernel that ran no user code. Default: "
                        "parallelism; 0 turns the pool off.",
    "preload": "Modules the pre-started kernels import before a step takes them, e.g. "
               "[\"pandas\", \"sklearn\"] (MLPROD_PRELOAD: comma-separated). Steps importing "
               "them start faster; every idle kernel holds their memory. Default: none.",
}


@dataclasses.dataclass(frozen=True)
class Settings:
    root: Path
    name: str = ""
    store_url: str = ""
    executor: str = "local"
    parallelism: int = 0
    default_timeout: int = 3600
    default_retries: int = 0
    kernel_name: str = "python3"
    dask_address: str = ""
    prestart_kernels: int = 0       # load() defaults it to parallelism
    preload: tuple = ()
    environment_kernel: str = ""

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def runs_dir(self) -> Path:
        return self.state_dir / "runs"

    @property
    def store_kind(self) -> str:
        return self.store_url.split(":", 1)[0].split("+", 1)[0]

    @classmethod
    def load(cls, root: str | os.PathLike, overrides: dict | None = None,
             environ: dict | None = None) -> "Settings":
        root_path = Path(root).expanduser().resolve()
        if not root_path.is_dir():
            raise InvalidInput(f"project folder {root_path} does not exist", field="project")
        environ = os.environ if environ is None else environ
        values: dict = {}
        toml = _read_toml(root_path / CONFIG_FILE)
        for key, (section, toml_key, env_name, kind) in _SOURCES.items():
            table = toml
            for part in section.split("."):
                table = table.get(part, {}) if isinstance(table, dict) else {}
            if isinstance(table, dict) and toml_key in table:
                values[key] = _typed(table[toml_key], kind, f"{CONFIG_FILE} [{section}] {toml_key}")
            if environ.get(env_name):
                values[key] = _typed(environ[env_name], kind, env_name)
        for key, value in (overrides or {}).items():
            if key not in _SOURCES:
                raise InvalidInput(f"unknown setting {key!r}", field=key)
            if value is not None and value != "":
                values[key] = _typed(value, _SOURCES[key][3], key)
        values.setdefault("name", root_path.name)
        values.setdefault("store_url", f"sqlite:///{root_path / STATE_DIR / 'mlprod.db'}")
        values["parallelism"] = values.get("parallelism") or os.cpu_count() or 1
        values.setdefault("prestart_kernels", values["parallelism"])
        settings = cls(root=root_path, **values)
        settings._validate()
        return settings

    def _validate(self) -> None:
        if self.parallelism < 1:
            raise InvalidInput("parallelism must be at least 1", field="parallelism")
        if self.default_timeout < 1:
            raise InvalidInput("default_timeout must be a positive number of seconds",
                               field="default_timeout")
        if self.default_retries < 0:
            raise InvalidInput("default_retries cannot be negative", field="default_retries")
        if self.prestart_kernels < 0:
            raise InvalidInput("prestart_kernels cannot be negative (0 turns the pool off)",
                               field="prestart_kernels")
        for module in self.preload:
            if not _MODULE.fullmatch(module):
                raise InvalidInput(f"preload: {module!r} is not a module name (e.g. pandas or "
                                   "sklearn.linear_model)", field="preload")
        if "://" not in self.store_url:
            raise InvalidInput(f"store url {self.store_url!r} is not a SQLAlchemy URL "
                               "(e.g. sqlite:///path.db or postgresql://host/db)", field="store_url")

    def describe(self) -> dict:
        return {"name": self.name, "root": str(self.root), "store": self.store_kind,
                "executor": self.executor, "parallelism": self.parallelism,
                "default_timeout": self.default_timeout}


def _read_toml(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{CONFIG_FILE} is not valid TOML: {exc}", field=CONFIG_FILE) from exc


def _typed(value, kind: type, where: str):
    if kind is int:
        if isinstance(value, bool):
            raise InvalidInput(f"{where} must be a whole number, not {value!r}", field=where)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{where} must be a whole number, not {value!r}", field=where) from None
    if kind is tuple:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"{where} must be a list of names, not {value!r}", field=where)
        return tuple(value)
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string, not {value!r}", field=where)
    return value
