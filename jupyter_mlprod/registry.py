"""Small named registries for pluggable backends (executors, triggers, reporters), in the
manner of papermill's engines: a name maps to a factory or a lazy "module:attr" string, so a
backend's imports are paid only when it is used."""
from __future__ import annotations

import importlib
import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str, entries: dict[str, str | Callable[..., T]]):
        self.what = what
        self._entries = dict(entries)
        self._instances: dict[str, T] = {}
        self._lock = threading.Lock()

    def register(self, name: str, factory: str | Callable[..., T]) -> None:
        with self._lock:
            self._entries[name] = factory
            self._instances.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entries  # JSON may send {} or []

    def factory(self, name: str) -> Callable[..., T]:
        factory = self._entries[name]  # KeyError: callers check `name in registry` first
        if isinstance(factory, str):
            module, _, attr = factory.partition(":")
            factory = getattr(importlib.import_module(module), attr)
        return factory

    def create(self, name: str, *args, **kwargs) -> T:
        return self.factory(name)(*args, **kwargs)

    def shared(self, name: str) -> T:
        """One instance per name, for stateless backends."""
        with self._lock:
            if name not in self._instances:
                self._instances[name] = self.factory(name)()
            return self._instances[name]
