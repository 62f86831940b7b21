"""Project settings: one object, read from `mlprod.toml`, the environment and explicit overrides.

Precedence (lowest to highest): defaults < mlprod.toml < MLPROD_* environment < overrides
(traitlets config of the server, CLI flags). Every door builds a `Settings` the same way.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path

from .errors import InvalidInput

CONFIG_FILE = "mlprod.toml"
STATE_DIR = ".mlprod"

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
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string, not {value!r}", field=where)
    return value
